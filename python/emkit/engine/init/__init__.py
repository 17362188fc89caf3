"""How a generator starts a downstream run: the initialisation and fine-tuning policy.

``generator_init`` (random weights or a pretrained body, ``init=<run|weights|self>``,
head replacement), ``output_prior`` (``task.head_init``: the head starts at the task's best
constant prediction) and ``norm_stats`` (``train.norm_stats``: keep or update a pretrained
generator's BatchNorm statistics).
"""
