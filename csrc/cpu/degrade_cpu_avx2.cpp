// AVX2 + FMA row policy of the CPU degradation kernel (chosen at run time when the CPU
// has both). Same semantics as the generic path, float rounding aside: the warp is in
// degrade_avx2_warp.inc, the noise in degrade_avx2_noise.inc, the blur passes and stores here.
#include "degrade_cpu_internal.h"

#if EMKIT_DEGRADE_AVX2

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "emkit/degrade_math.h"
#include "emkit/philox.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

// The shared item kernel and the AVX2 building blocks, compiled here with AVX2 + FMA.
#include "degrade_cpu_item.h"

namespace emkit {
namespace degrade {
namespace {

// Fragments (*.inc): they rely on this translation unit's includes, target attributes and
// namespace, so they are textually included here and nowhere else.
#include "degrade_avx2_warp.inc"  // NOLINT(build/include)
#include "degrade_avx2_noise.inc"  // NOLINT(build/include)

struct Avx2Isa {
  // Row-pair copy of a plane for the quad gathers (see QuadU8); false when not applicable.
  static bool build_pairs(const void* plane, InDType dt, int64_t h, int64_t w, void* out) {
    if (h < 2 || w < 2) return false;
    switch (dt) {
      case InDType::kUInt8:
        build_pairs_u8(static_cast<const uint8_t*>(plane), h, w, static_cast<uint16_t*>(out));
        break;
      case InDType::kUInt16:
        build_pairs_u16(static_cast<const uint16_t*>(plane), h, w, static_cast<uint32_t*>(out));
        break;
      default:
        build_pairs_f32(static_cast<const float*>(plane), h, w, static_cast<float*>(out));
    }
    return true;
  }

  static void warp_row(const void* plane, const void* pairs, InDType dt, int64_t h, int64_t w,
                       const SampleSetup& s, int64_t i, int64_t j0, int64_t n, bool nearest,
                       float* dst) {
    const float scale = unit_scale(dt);
    const bool simd_ok = w >= 2 && h >= 2 && 2 * w < (int64_t(1) << 30) &&
                         2 * h < (int64_t(1) << 30) && h * w < (int64_t(1) << 31);
    int64_t done = 0;
    while (simd_ok && done + 8 <= n) {
      const int64_t m = n - done < kMaxSimdRun ? (n - done) & ~int64_t(7) : kMaxSimdRun;
      const double j = static_cast<double>(j0 + done);
      const double ru = s.u0 + static_cast<double>(i) * s.du_di + j * s.du_dj;
      const double rv = s.v0 + static_cast<double>(i) * s.dv_di + j * s.dv_dj;
      const double ue = ru + static_cast<double>(m - 1) * s.du_dj;
      const double ve = rv + static_cast<double>(m - 1) * s.dv_dj;
      const int ku = footprint_kind(ru < ue ? ru : ue, ru < ue ? ue : ru, w, nearest);
      const int kv = footprint_kind(rv < ve ? rv : ve, rv < ve ? ve : rv, h, nearest);
      if (ku == 0 || kv == 0) break;
      const bool interior = ku == 2 && kv == 2;
      float* out = dst + done;
      switch (dt) {
        case InDType::kUInt8:
          warp_row_simd<LoadU8, QuadU8>(plane, pairs, h, w, ru, rv, s.du_dj, s.dv_dj, m, nearest, interior, scale, out);
          break;
        case InDType::kUInt16:
          warp_row_simd<LoadU16, QuadU16>(plane, pairs, h, w, ru, rv, s.du_dj, s.dv_dj, m, nearest, interior, scale, out);
          break;
        default:
          warp_row_simd<LoadF32, QuadF32>(plane, pairs, h, w, ru, rv, s.du_dj, s.dv_dj, m, nearest, interior, scale, out);
      }
      done += m;
    }
    switch (dt) {
      case InDType::kUInt8:
        warp_row_scalar(static_cast<const uint8_t*>(plane), h, w, s, i, j0, done, n, nearest,
                        scale, dst);
        break;
      case InDType::kUInt16:
        warp_row_scalar(static_cast<const uint16_t*>(plane), h, w, s, i, j0, done, n, nearest,
                        scale, dst);
        break;
      default:
        warp_row_scalar(static_cast<const float*>(plane), h, w, s, i, j0, done, n, nearest, scale,
                        dst);
    }
  }

  // dst[j] = sum_k w[k] * src[k * stride + j]: the vertical pass, and with stride 1 the
  // horizontal one.
  static void blur(const float* __restrict src, int64_t stride, int64_t n,
                     const float* __restrict w, int taps, float* __restrict dst) {
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      const float* p = src + j;
      for (int k = 0; k < taps; ++k, p += stride) {
        const __m256 wk = _mm256_broadcast_ss(w + k);
        a0 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(p), a0);
        a1 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(p + 8), a1);
        a2 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(p + 16), a2);
        a3 = _mm256_fmadd_ps(wk, _mm256_loadu_ps(p + 24), a3);
      }
      _mm256_storeu_ps(dst + j, a0);
      _mm256_storeu_ps(dst + j + 8, a1);
      _mm256_storeu_ps(dst + j + 16, a2);
      _mm256_storeu_ps(dst + j + 24, a3);
    }
    for (; j < n; j += 8) {
      __m256 a0 = _mm256_setzero_ps();
      for (int k = 0; k < taps; ++k)
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(w + k), _mm256_loadu_ps(src + k * stride + j), a0);
      _mm256_storeu_ps(dst + j, a0);
    }
  }

  // v[j] += std * z[j] for the row's normals (gaussian4 layout), 64 pixels per step.
  static void add_gaussian(float* v, int64_t n, uint64_t seed, uint64_t block0, float std) {
    const __m256 sd = _mm256_set1_ps(std);
    for (int64_t p = 0; p < n; p += 64) {
      __m256i w[2][4];
      const uint64_t first = block0 + static_cast<uint64_t>(p / 4);
      const int states = n - p > 32 ? 2 : 1;
      if (states == 2)
        philox_x8<2>(seed, kGaussianNoiseStream, first, w);
      else
        philox_x8<1>(seed, kGaussianNoiseStream, first, w);
      for (int t = 0; t < states; ++t) {
        const int64_t q0 = p + 32 * t;
        __m256 z[4];
        normals32(w[t], z);
        if (q0 + 32 <= n) {
          for (int q = 0; q < 4; ++q)
            _mm256_storeu_ps(v + q0 + 8 * q, _mm256_fmadd_ps(sd, z[q], _mm256_loadu_ps(v + q0 + 8 * q)));
        } else {
          alignas(32) float tmp[32];
          for (int q = 0; q < 4; ++q) _mm256_store_ps(tmp + 8 * q, z[q]);
          for (int64_t k = 0; q0 + k < n; ++k) v[q0 + k] += std * tmp[k];
        }
      }
    }
  }

  static void store_row(const float* src, int64_t n, void* dst, OutDType dt, int64_t offset,
                        bool stream) {
    if (dt == OutDType::kFloat32) {
      float* o = static_cast<float*>(dst) + offset;
      if (!stream) {
        std::memcpy(o, src, static_cast<size_t>(n) * sizeof(float));
        return;
      }
      int64_t j = 0;
      for (; j < n && (reinterpret_cast<uintptr_t>(o + j) & 31) != 0; ++j) o[j] = src[j];
      for (; j + 8 <= n; j += 8) _mm256_stream_ps(o + j, _mm256_loadu_ps(src + j));
      for (; j < n; ++j) o[j] = src[j];
      return;
    }
    uint16_t* o = static_cast<uint16_t*>(dst) + offset;
    int64_t j = 0;
    if (stream) {
      for (; j < n && (reinterpret_cast<uintptr_t>(o + j) & 15) != 0; ++j) o[j] = float_to_bf16_rne(src[j]);
      for (; j + 8 <= n; j += 8)
        _mm_stream_si128(reinterpret_cast<__m128i*>(o + j), bf16x8(_mm256_loadu_ps(src + j)));
    }
    for (; j + 8 <= n; j += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + j), bf16x8(_mm256_loadu_ps(src + j)));
    for (; j < n; ++j) o[j] = float_to_bf16_rne(src[j]);
  }
};

}  // namespace

void degrade_item_avx2(const CpuCall& call, int64_t item, float* scratch) {
  degrade_item<Avx2Isa>(call, item, scratch);
  if (call.stream_out) _mm_sfence();  // order the streaming stores before the caller reads
}

}  // namespace degrade
}  // namespace emkit

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // EMKIT_DEGRADE_AVX2
