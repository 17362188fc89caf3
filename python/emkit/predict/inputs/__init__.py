"""What ``emkit predict`` reads: the input files, their pixels as strips, their values checked.

``files`` (command-line files, folders and globs → input files and output names),
``sources`` (an image as an ``(N, C, H, W)`` source handing out strips of rows, never
whole in memory when the file allows) and ``checks`` (NaN/Inf, constant and tiny images;
the skip report).
"""
