"""What every room of the engine uses: devices, processes, sampling, stopping.

``devices`` (CUDA or CPU, bf16 autocast, channels_last), ``distributed`` (the torchrun
process group; world size 1 without it; ``any_rank`` for decisions every rank must
share; a lost peer as one error line), ``rendezvous`` (the store the group forms through,
safe across elastic restarts), ``agreement`` (the ranks' configs compared at start),
``elastic`` (a restarted worker group finds its run folder), ``sampling`` (the global
epoch plan, its sharding across ranks and per-step seeds) and ``stop`` (Ctrl-C / SIGTERM
finish the step and checkpoint). The progress line itself is ``emkit.console``'s, driven
by the loop's ``progress_line`` callback.
"""
