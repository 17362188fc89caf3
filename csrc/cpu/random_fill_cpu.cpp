// CPU Philox fill over blocks of four words; output independent of thread count.
// Runs on emkit's work pool (not OpenMP) so it stays usable in forked DataLoader workers.
#include <algorithm>

#include "emkit/philox.h"
#include "emkit/random_fill.h"
#include "emkit/threads.h"
#include "emkit/work_pool.h"

namespace emkit {

void philox_fill_cpu(uint32_t* out, int64_t n, uint64_t seed, uint32_t stream, uint64_t offset,
                     int num_threads) {
  const int64_t blocks = (n + 3) / 4;
  constexpr int64_t kChunk = 1 << 14;  // blocks per work item
  const int64_t items = (blocks + kChunk - 1) / kChunk;
  const int threads = std::max(1, resolve_threads(num_threads));
  parallel_items(items, threads, [&](int64_t item, int) {
    const int64_t first = item * kChunk;
    const int64_t last = std::min(blocks, first + kChunk);
    for (int64_t b = first; b < last; ++b) {
      const Philox4x32 r = philox_at(seed, stream, offset + static_cast<uint64_t>(b));
      for (int w = 0; w < 4; ++w) {
        const int64_t i = b * 4 + w;
        if (i < n) out[i] = r.v[w];
      }
    }
  });
}

}  // namespace emkit
