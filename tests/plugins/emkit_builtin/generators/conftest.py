"""Run the generator tests single-threaded.

Their tensors are small, so a second intra-op thread gains little, while on a busy
2-core machine OpenMP threads waiting for each other made the suite several times
slower. The previous setting is restored after each test.
"""

from emkit.testing.fixtures import one_thread  # noqa: F401  (autouse)
