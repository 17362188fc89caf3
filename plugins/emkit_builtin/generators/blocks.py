"""Convolutional building blocks shared by the built-in generators.

``ResidualBlock`` is Sytwu et al.'s U-Net block; ``BasicBlock`` and ``Bottleneck`` are
the ResNet blocks HRNet is made of. Convolutions followed by batch norm have no bias
(the norm's shift replaces it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv3x3(cin: int, cout: int, *, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    """3×3 convolution, zero-padded to keep the size (at stride 1), no bias."""
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)


def conv_bn_relu(cin: int, cout: int, *, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    """Conv (same padding) → BN → ReLU, the unit of HRNet's stem, transitions and decoder."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """Sytwu et al.'s block: conv3–BN–ReLU–conv3–BN plus a 1×1-conv skip, then ReLU.

    ``dilation`` widens both 3×3 convolutions; it is how the U-Net presets reach the
    paper's larger receptive fields without adding parameters.
    """

    def __init__(self, cin: int, cout: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(cin, cout, dilation=dilation)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.skip(x), inplace=True)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3×3 convs, identity or 1×1 projection shortcut)."""

    expansion = 1

    def __init__(self, cin: int, planes: int) -> None:
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = conv3x3(cin, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = _projection(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x), inplace=True)


class Bottleneck(nn.Module):
    """ResNet bottleneck (1×1 reduce, 3×3, 1×1 expand ×4), HRNet's stage-1 block."""

    expansion = 4

    def __init__(self, cin: int, planes: int) -> None:
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.shortcut = _projection(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = F.relu(self.bn2(self.conv2(y)), inplace=True)
        y = self.bn3(self.conv3(y))
        return F.relu(y + self.shortcut(x), inplace=True)


def _projection(cin: int, cout: int) -> nn.Module:
    """Identity when the widths match, else 1×1 conv + BN (ResNet option B)."""
    if cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
