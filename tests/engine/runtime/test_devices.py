"""Automatic device-side choices: the memory format ``train.channels_last=None`` means."""

from __future__ import annotations

import torch

from emkit.engine.runtime.devices import channels_last_default


def test_channels_last_auto_is_nhwc_on_cpu_and_cuda_only():
    assert channels_last_default(torch.device("cpu")) is True
    assert channels_last_default(torch.device("cuda", 0)) is True
    assert channels_last_default(torch.device("meta")) is False
