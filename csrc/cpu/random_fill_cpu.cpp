// CPU Philox fill: OpenMP over blocks of four words; output independent of thread count.
#include "emkit/philox.h"
#include "emkit/random_fill.h"
#include "emkit/threads.h"

namespace emkit {

void philox_fill_cpu(uint32_t* out, int64_t n, uint64_t seed, uint32_t stream, uint64_t offset,
                     int num_threads) {
  const int64_t blocks = (n + 3) / 4;
  const int threads = resolve_threads(num_threads);
#if defined(EMKIT_WITH_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
  for (int64_t b = 0; b < blocks; ++b) {
    const Philox4x32 r = philox_at(seed, stream, offset + static_cast<uint64_t>(b));
    for (int w = 0; w < 4; ++w) {
      const int64_t i = b * 4 + w;
      if (i < n) out[i] = r.v[w];
    }
  }
  (void)threads;
}

}  // namespace emkit
