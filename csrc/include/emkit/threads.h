// OpenMP helpers that degrade gracefully when the compiler has no OpenMP.
#pragma once

#if defined(EMKIT_WITH_OPENMP)
#include <omp.h>
#endif

namespace emkit {

// Threads to use for a CPU kernel: `requested` if > 0, else the OpenMP default.
inline int resolve_threads(int requested) {
#if defined(EMKIT_WITH_OPENMP)
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

}  // namespace emkit
