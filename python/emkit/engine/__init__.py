"""The training engine shared by pretexts and downstream tasks.

``launch`` (from the CLI) → ``trainer.train``: devices, data, the objective (a pretext
or a task adapter), the loop with AMP/DDP, validation, atomic checkpoints, resume,
metrics and the exported ``generator.safetensors``.
"""
