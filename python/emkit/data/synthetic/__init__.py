"""Synthetic EM data generated on the fly, deterministic per (seed, split, index).

``cem`` (cellular EM for pretraining), ``stem`` (TEMImageNet-like ADF-STEM with
restoration targets and atom masks), ``hrtem`` (Au-like nanoparticles with particle
masks). ``export`` writes any of them in the layout of the real published dataset so the
real readers can be exercised end to end.
"""
