"""What every room of the engine uses: devices, processes, sampling, stopping.

``devices`` (CUDA or CPU, bf16 autocast, channels_last), ``distributed`` (the torchrun
process group; world size 1 without it; ``any_rank`` for decisions every rank must
share), ``sampling`` (the resumable distributed sampler and per-step seeds) and ``stop``
(Ctrl-C / SIGTERM finish the step and checkpoint). The progress line itself is
``emkit.console``'s, driven by the loop's ``progress_line`` callback.
"""
