"""From a resolved config to finished runs: resume and init, torchrun, ``init=self``, sweeps.

``start`` turns overrides into a run (resume from a folder, adopt a pretrained
generator's architecture, relaunch under torchrun); ``torchrun`` builds that command for
one machine or several and checks the rendezvous endpoint; ``self_pretrain`` runs ``init=self``
as a pretext stage then fine-tuning in one folder; ``sweep`` runs the Cartesian product of
comma-separated overrides, resumably.
"""
