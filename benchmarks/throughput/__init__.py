"""Throughput benchmarks: how fast emkit's parts run, as ratios measured side by side.

Each script times emkit against what it replaces (kornia or plain torch pipelines, NCHW
vs NHWC, file-by-file vs packed loading, ...) interleaved in one run, so background load
hits every column alike; the ratios are the result, absolute times are context.
"""
