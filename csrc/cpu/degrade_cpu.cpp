// CPU driver of the fused degradation op: derives each sample's geometry and blur taps
// once, picks the instruction-set path, and runs items -- (sample, channel, row band), or
// whole planes when there are enough of them -- on the blocking work pool
// (emkit/work_pool.h) with one scratch buffer per worker. Every output row is computed the
// same way whatever item it falls in, so results do not depend on the thread count.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "degrade_cpu_internal.h"
#include "emkit/degrade.h"
#include "emkit/degrade_math.h"
#include "emkit/work_pool.h"

namespace emkit {
namespace {

bool cpu_has_avx2() {
#if EMKIT_DEGRADE_AVX2
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
#else
  return false;
#endif
}

bool generic_forced() {
  const char* env = std::getenv("EMKIT_CPU_ISA");
  return env != nullptr && std::strcmp(env, "generic") == 0;
}

// Outputs of at least this many bytes bypass the caches (they would not stay there anyway;
// streaming stores save the read-for-ownership traffic).
constexpr int64_t kStreamOutputBytes = int64_t(16) << 20;
// Largest row-pair copy of a plane kept per thread (plane mode).
constexpr int64_t kMaxPairBytes = int64_t(4) << 20;

// Output rows per band: 64 (short halo overhead) unless that leaves too few items to
// keep every thread busy.
int64_t choose_tile_rows(int64_t planes, int64_t out_h, int threads) {
  int64_t t = 64;
  while (t > 8 && planes * ((out_h + t - 1) / t) < 4 * static_cast<int64_t>(threads)) t /= 2;
  return t;
}

}  // namespace

const char* degrade_cpu_isa() {
  return (cpu_has_avx2() && !generic_forced()) ? "avx2" : "generic";
}

const char* degrade_cpu(const DegradeArgs& a, int num_threads) {
  using degrade::CpuCall;
  using degrade::kMaxTaps;
  using degrade::SampleSetup;
  if (a.input == nullptr || a.params == nullptr) return "degrade_cpu: null input or params";
  if (a.batch <= 0 || a.channels <= 0 || a.in_h <= 0 || a.in_w <= 0 || a.out_h <= 0 ||
      a.out_w <= 0)
    return "degrade_cpu: sizes must be positive";
  if (a.out_clean == nullptr && a.out_degraded == nullptr) return nullptr;
  try {
    std::vector<SampleSetup> setups(static_cast<size_t>(a.batch));
    std::vector<float> weights(static_cast<size_t>(a.batch) * kMaxTaps, 0.0f);
    int max_radius = 0;
    for (int64_t b = 0; b < a.batch; ++b) {
      SampleSetup& s = setups[static_cast<size_t>(b)];
      s = degrade::make_sample_setup(a.params + b * kParamCount, a.out_h, a.out_w);
      if (s.radius > 0) degrade::blur_weights(s.sigma, s.radius, &weights[b * kMaxTaps]);
      if (s.radius > max_radius) max_radius = s.radius;
    }
    if (a.out_degraded == nullptr) max_radius = 0;

    const int threads =
        num_threads > 0 ? num_threads
                        : static_cast<int>(std::thread::hardware_concurrency() > 0
                                               ? std::thread::hardware_concurrency()
                                               : 1);
    const int64_t planes = a.batch * a.channels;
    const int64_t tile_rows = choose_tile_rows(planes, a.out_h, threads);
    const int64_t tiles = (a.out_h + tile_rows - 1) / tile_rows;
    const int64_t out_bytes = a.batch * a.channels * a.out_h * a.out_w *
                              (a.out_dtype == OutDType::kFloat32 ? 4 : 2) *
                              ((a.out_clean ? 1 : 0) + (a.out_degraded ? 1 : 0));
    degrade::CpuItemFn fn = degrade::degrade_item_generic;
    bool simd = false;
#if EMKIT_DEGRADE_AVX2
    if (cpu_has_avx2() && !generic_forced()) {
      fn = degrade::degrade_item_avx2;
      simd = true;
    }
#endif
    // Plane mode when there are planes enough to keep every thread busy: each item is a
    // whole plane whose row-pair copy (half the gathered elements) is built once and stays
    // in L2 for all its bands. The values computed are the same either way.
    const int64_t pair_bytes = degrade::pair_plane_bytes(a.in_h, a.in_w, a.in_dtype);
    const bool plane_mode = simd && a.in_w >= 2 && pair_bytes > 0 &&
                            pair_bytes <= kMaxPairBytes &&
                            planes >= 4 * static_cast<int64_t>(threads);
    const int64_t band_floats = degrade::scratch_floats(a.out_w, tile_rows, max_radius);
    const CpuCall call{a,     setups.data(), weights.data(), tile_rows,
                       tiles, out_bytes >= kStreamOutputBytes, plane_mode, band_floats};
    const int64_t items = plane_mode ? planes : planes * tiles;
    const int64_t per_thread = band_floats + (plane_mode ? pair_bytes / 4 + 16 : 0);
    const int nthreads = static_cast<int>(items < threads ? items : threads);
    std::unique_ptr<float[]> scratch(new float[static_cast<size_t>(per_thread * nthreads)]);
    float* base = scratch.get();

    parallel_items(items, nthreads, [&](int64_t item, int worker) {
      fn(call, item, base + static_cast<int64_t>(worker) * per_thread);
    });
  } catch (const std::bad_alloc&) {
    return "degrade_cpu: out of memory for setup or scratch buffers";
  }
  return nullptr;
}

}  // namespace emkit
