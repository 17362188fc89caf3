// Internal interface of the CPU degradation kernel: the driver (degrade_cpu.cpp) splits a
// call into items (sample, channel, row tile) and hands each to an item kernel compiled
// once per instruction set (degrade_cpu_generic.cpp, degrade_cpu_avx2.cpp).
#pragma once

#include <cstdint>

#include "emkit/degrade.h"
#include "emkit/degrade_math.h"

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define EMKIT_DEGRADE_AVX2 1
#else
#define EMKIT_DEGRADE_AVX2 0
#endif

namespace emkit {
namespace degrade {

constexpr int kMaxTaps = 2 * kMaxBlurRadius + 1;

// Read-only state shared by all items of one call.
struct CpuCall {
  DegradeArgs args;
  const SampleSetup* setups;  // one per sample
  const float* weights;       // kMaxTaps blur taps per sample
  int64_t tile_rows;          // output rows per item (results do not depend on it)
  int64_t tiles_per_plane;
  bool stream_out;            // outputs far larger than the caches: non-temporal stores
  bool plane_mode;            // items are whole planes (row-pair copy built once per plane)
  int64_t band_scratch_floats;  // scratch of one band; the row-pair copy follows it
};

// Bytes of a plane's row-pair copy: (h - 1) x w elements of two input values.
inline int64_t pair_plane_bytes(int64_t h, int64_t w, InDType dt) {
  const int64_t elem = dt == InDType::kUInt8 ? 1 : (dt == InDType::kUInt16 ? 2 : 4);
  return h >= 2 ? (h - 1) * w * 2 * elem : 0;
}

// Per-thread scratch of one item: the warped canvas (tile + halo), the row-blurred
// canvas and one output line. Strides are padded so vector loops may overrun a row.
struct ScratchShape {
  int64_t canvas_rows, canvas_stride, tmp_stride;
};

inline int64_t round_up8(int64_t x) { return (x + 7) & ~static_cast<int64_t>(7); }

inline ScratchShape scratch_shape(int64_t out_w, int64_t rows, int radius) {
  return ScratchShape{rows + 2 * radius, round_up8(out_w + 2 * radius) + 16,
                      round_up8(out_w) + 32};
}

inline int64_t scratch_floats(int64_t out_w, int64_t rows, int radius) {
  const ScratchShape s = scratch_shape(out_w, rows, radius);
  return s.canvas_rows * (s.canvas_stride + s.tmp_stride) + s.tmp_stride + 64;
}

// Processes item `item` of `call`; `scratch` holds scratch_floats(...) floats for the
// call's largest radius.
using CpuItemFn = void (*)(const CpuCall& call, int64_t item, float* scratch);

void degrade_item_generic(const CpuCall& call, int64_t item, float* scratch);
#if EMKIT_DEGRADE_AVX2
void degrade_item_avx2(const CpuCall& call, int64_t item, float* scratch);
#endif

}  // namespace degrade
}  // namespace emkit
