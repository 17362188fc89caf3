"""What a run leaves on disk, written atomically so a killed run resumes.

``run_dir`` (the folder, its name rules and config.yaml, the ``init=self`` stage folder),
``checkpoint`` (safetensors weights + weights-only state + pointer, newest complete one on
resume), ``weights`` (exported ``generator.safetensors`` + ``generator.json`` and loading
them), ``metrics_log`` (metrics.csv) and ``keep_best`` (the best-by-validation generator).
"""
