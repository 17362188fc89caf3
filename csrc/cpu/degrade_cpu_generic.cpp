// Portable (scalar, compiler-vectorised) row policy of the CPU degradation kernel. It is
// the reference CPU path: every pixel goes through the shared per-pixel maths of
// degrade_math.h with double-precision coordinates (the AVX2 path and the CUDA kernel
// use a double origin plus float offsets instead, which agrees to ~1e-5 pixel).
#include <cstdint>
#include <cstring>

#include "degrade_cpu_internal.h"
#include "emkit/degrade_math.h"

#include "degrade_cpu_item.h"

namespace emkit {
namespace degrade {
namespace {

struct GenericIsa {
  template <typename T>
  static void warp_row_t(const T* plane, int64_t h, int64_t w, const SampleSetup& s, int64_t i,
                         int64_t j0, int64_t n, bool nearest, float scale, float* dst) {
    for (int64_t k = 0; k < n; ++k) dst[k] = warp_pixel(plane, h, w, s, i, j0 + k, nearest, scale);
  }

  // The scalar path samples the plane directly; it has no use for row pairs.
  static bool build_pairs(const void*, InDType, int64_t, int64_t, void*) { return false; }

  static void warp_row(const void* plane, const void* /*pairs*/, InDType dt, int64_t h,
                       int64_t w, const SampleSetup& s, int64_t i, int64_t j0, int64_t n,
                       bool nearest, float* dst) {
    const float scale = unit_scale(dt);
    switch (dt) {
      case InDType::kUInt8:
        warp_row_t(static_cast<const uint8_t*>(plane), h, w, s, i, j0, n, nearest, scale, dst);
        break;
      case InDType::kUInt16:
        warp_row_t(static_cast<const uint16_t*>(plane), h, w, s, i, j0, n, nearest, scale, dst);
        break;
      default:
        warp_row_t(static_cast<const float*>(plane), h, w, s, i, j0, n, nearest, scale, dst);
    }
  }

  // dst[j] = sum_k w[k] * src[k * stride + j]: the vertical pass, and with stride 1 the
  // horizontal one.
  static void blur(const float* __restrict src, int64_t stride, int64_t n,
                     const float* __restrict w, int taps, float* __restrict dst) {
    for (int64_t j = 0; j < n; ++j) dst[j] = 0.0f;
    for (int k = 0; k < taps; ++k) {
      const float wk = w[k];
      const float* s = src + k * stride;
      for (int64_t j = 0; j < n; ++j) dst[j] += wk * s[j];
    }
  }

  static void add_gaussian(float* v, int64_t n, uint64_t seed, uint64_t block0, float std) {
    for (int64_t k = 0; 4 * k < n; ++k) {
      float z[4];
      gaussian4(seed, block0 + static_cast<uint64_t>(k), z);
      for (int l = 0; l < 4 && 4 * k + l < n; ++l) v[4 * k + l] += std * z[l];
    }
  }

  static void store_row(const float* src, int64_t n, void* dst, OutDType dt, int64_t offset,
                        bool /*stream*/) {
    if (dt == OutDType::kFloat32) {
      std::memcpy(static_cast<float*>(dst) + offset, src, static_cast<size_t>(n) * sizeof(float));
    } else {
      uint16_t* o = static_cast<uint16_t*>(dst) + offset;
      for (int64_t j = 0; j < n; ++j) o[j] = float_to_bf16_rne(src[j]);
    }
  }
};

}  // namespace

void degrade_item_generic(const CpuCall& call, int64_t item, float* scratch) {
  degrade_item<GenericIsa>(call, item, scratch);
}

}  // namespace degrade
}  // namespace emkit
