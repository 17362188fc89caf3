"""One training run: the trainer and what it steps.

``trainer`` (named steps from set-up to export), ``objective_setup`` (build the objective
and put it on the device with optimizers and a ``StepContext``), ``task_adapter`` (a
``Task`` plugin as an ``Objective``), ``schedule`` (learning rate as a pure function of
the step), ``callbacks`` (observers of a run), ``run_datasets`` (a run's datasets, checked
against its objective), ``data_settings`` (settings the data decides, the short-run note)
and ``position`` (where a checkpoint stands in the epoch's items; resuming at another
number of processes).
"""
