"""What every room of the engine uses: devices, processes, sampling, stopping, progress.

``devices`` (CUDA or CPU, bf16 autocast, channels_last), ``distributed`` (the torchrun
process group; world size 1 without it), ``sampling`` (the resumable distributed sampler
and per-step seeds), ``stop`` (Ctrl-C / SIGTERM finish the step and checkpoint) and
``progress`` (the live line with position, ETA and the key metric).
"""
