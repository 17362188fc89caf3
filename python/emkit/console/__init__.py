"""What emkit shows a person while it works: the progress line of long jobs.

``progress.Progress`` draws one line with position, ETA and the key metric -- redrawn in
place on a terminal, one plain line per interval in a log file -- and, inside a Jupyter
notebook, one output cell updated in place (``make_progress`` picks the display). It
serves training, ``data synth``/``pack``, ``plugins validate`` and ``predict``.
"""
