"""Writing files safely: atomic writes with fsync, and OS failures as one-line errors.

``atomic`` is the one way emkit writes a file that must never be seen half-written
(checkpoints, weights, metrics, shards, predictions, results); ``oserrors`` turns disk
full, read-only and permission failures into one ``StorageError`` line naming the path;
``json_files`` reads back the small JSON files emkit wrote (checkpoint pointers, input
statistics) with one error line when one is unreadable.
"""
