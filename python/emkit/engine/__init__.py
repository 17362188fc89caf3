"""The training engine shared by pretexts and downstream tasks, in six rooms.

* ``launch``: from a resolved config to finished runs -- resume/init handling, the
  torchrun relaunch, ``init=self``'s two stages, sweeps.
* ``loop``: one training run -- the trainer's named steps, the objective it trains (a
  pretext, or a task through its adapter), the learning-rate schedule, callbacks, the
  run's datasets and the settings the data decides.
* ``init``: how a generator starts a downstream run -- random or pretrained weights,
  the output head's prior, BatchNorm statistics while fine-tuning.
* ``evaluation``: metrics over a split, ``emkit eval``'s per-image evidence, labelled
  sample grids.
* ``runs``: what a run leaves on disk -- its folder and config.yaml, atomic checkpoints,
  exported weights, metrics.csv, the best-by-validation copy.
* ``runtime``: what every room uses -- devices and precision, the process group, samplers
  and per-step seeds, graceful stop, the progress line.

Rooms import ``runtime`` and ``runs`` freely; ``loop`` builds on ``init`` and
``evaluation``; only ``launch`` starts the loop.
"""
