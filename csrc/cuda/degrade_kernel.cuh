// Device code of the CUDA degradation kernel (launched by degrade_cuda.cu). Kept apart
// from the launcher so it stays a plain function of its arguments.
//
// One block per (sample, channel, 32x64 output tile):
//   1. thread 0 derives the sample's geometry and blur taps into shared memory;
//   2. the block warps the tile plus a halo of `radius` pixels into shared memory
//      (bilinear/nearest with reflection; the canvas centre in double, per-pixel offsets
//      in float; input read through the read-only cache);
//   3. clean output straight from the canvas centre (coalesced rows);
//   4. horizontal blur pass canvas -> rows, vertical pass rows -> canvas (in place of
//      the no-longer-needed canvas), one pixel per thread, no bank conflicts;
//   5. one thread per 4 pixels (one Philox block): Poisson, Gaussian noise, vector store.
// Semantics and random-number layout are those of degrade_math.h / _reference.py, so the
// result matches the CPU kernel to float rounding.
#pragma once

#include <cstdint>

#include "emkit/degrade.h"
#include "emkit/degrade_math.h"
#include "emkit/philox.h"

namespace emkit {
namespace degrade_dev {

constexpr int kTileW = 64;
constexpr int kTileH = 32;
constexpr int kThreads = 256;
constexpr int kR = kMaxBlurRadius;
constexpr int kCanvasW = kTileW + 2 * kR;
constexpr int kCanvasH = kTileH + 2 * kR;
constexpr int kCanvasStride = kCanvasW + 1;
constexpr int kTaps = 2 * kR + 1;

static_assert(kTileW % 4 == 0, "tiles must hold whole Philox blocks");

struct ChannelFlags {
  uint32_t degrade[kMaxChannels / 32];
  uint32_t nearest[kMaxChannels / 32];
};

struct KernelArgs {
  int64_t channels, in_h, in_w, out_h, out_w;
  int64_t tiles_x, tiles_y;
  void* out_clean;
  void* out_degraded;
  uint64_t seed;
  bool vec4_ok;  // out_w % 4 == 0 and outputs aligned: 4-pixel vector stores
};

__device__ __forceinline__ bool flag_set(const uint32_t* bits, int64_t c) {
  return (bits[c >> 5] >> (c & 31)) & 1u;
}

// Integer part and fraction of the canvas centre's input coordinate.
struct Origin {
  int64_t iu, iv;
  float fu, fv;
};

template <typename T>
__device__ __forceinline__ float fetch(const T* __restrict__ plane, int idx) {
  return static_cast<float>(__ldg(plane + idx));
}

// Bilinear sample at index coordinate (o.iu + tu, o.iv + tv), reflected at the borders
// (degrade_math.h: sample_bilinear); planes hold < 2^31 pixels, so indices are int.
// Keeps absurd offsets (huge scale, inf, NaN -> -1e9) finite before conversion to integers.
__device__ __forceinline__ float clamp_offset(float t) { return fminf(fmaxf(t, -1e9f), 1e9f); }

template <typename T>
__device__ __forceinline__ float fetch_bilinear(const T* __restrict__ plane, int h, int w,
                                                const Origin& o, float tu, float tv, float scale) {
  tu = clamp_offset(tu);
  tv = clamp_offset(tv);
  const float ftu = floorf(tu), ftv = floorf(tv);
  const int64_t x0 = o.iu + static_cast<int64_t>(ftu), y0 = o.iv + static_cast<int64_t>(ftv);
  const int xa = static_cast<int>(degrade::reflect_index(x0, w));
  const int xb = static_cast<int>(degrade::reflect_index(x0 + 1, w));
  const int ya = static_cast<int>(degrade::reflect_index(y0, h)) * w;
  const int yb = static_cast<int>(degrade::reflect_index(y0 + 1, h)) * w;
  return degrade::lerp2d(fetch(plane, ya + xa), fetch(plane, ya + xb), fetch(plane, yb + xa),
                         fetch(plane, yb + xb), tu - ftu, tv - ftv) *
         scale;
}

template <typename T>
__device__ __forceinline__ float fetch_nearest(const T* __restrict__ plane, int h, int w,
                                               const Origin& o, float tu, float tv, float scale) {
  const int64_t ku = static_cast<int64_t>(floorf(clamp_offset(tu) + 0.5f));
  const int64_t kv = static_cast<int64_t>(floorf(clamp_offset(tv) + 0.5f));
  const int x = static_cast<int>(degrade::reflect_index(o.iu + ku, w));
  const int y = static_cast<int>(degrade::reflect_index(o.iv + kv, h));
  return fetch(plane, y * w + x) * scale;
}

template <bool kBF16>
__device__ __forceinline__ void store1(void* base, int64_t idx, float v) {
  if (kBF16)
    static_cast<uint16_t*>(base)[idx] = degrade::float_to_bf16_rne(v);
  else
    static_cast<float*>(base)[idx] = v;
}

template <bool kBF16>
__device__ __forceinline__ void store4(void* base, int64_t idx, const float v[4], int count,
                                       bool vec) {
  if (vec && count == 4) {
    if (kBF16) {
      const uint32_t lo = degrade::float_to_bf16_rne(v[0]) |
                          (static_cast<uint32_t>(degrade::float_to_bf16_rne(v[1])) << 16);
      const uint32_t hi = degrade::float_to_bf16_rne(v[2]) |
                          (static_cast<uint32_t>(degrade::float_to_bf16_rne(v[3])) << 16);
      *reinterpret_cast<uint2*>(static_cast<uint16_t*>(base) + idx) = make_uint2(lo, hi);
    } else {
      *reinterpret_cast<float4*>(static_cast<float*>(base) + idx) =
          make_float4(v[0], v[1], v[2], v[3]);
    }
    return;
  }
#pragma unroll
  for (int l = 0; l < 4; ++l)
    if (l < count) store1<kBF16>(base, idx + l, v[l]);
}

template <typename T, bool kBF16>
__global__ void __launch_bounds__(kThreads)
    degrade_kernel(const T* __restrict__ input, const float* __restrict__ params, KernelArgs ka,
                   ChannelFlags flags) {
  __shared__ float canvas[kCanvasH * kCanvasStride];
  __shared__ float rows[kCanvasH * kTileW];
  __shared__ float wts[kTaps];
  __shared__ degrade::SampleSetup setup;

  const int tid = threadIdx.x;
  const int64_t bid = blockIdx.x;
  const int64_t tx = bid % ka.tiles_x;
  const int64_t ty = (bid / ka.tiles_x) % ka.tiles_y;
  const int64_t plane = bid / (ka.tiles_x * ka.tiles_y);
  const int64_t b = plane / ka.channels;
  const int64_t c = plane - b * ka.channels;
  const bool nearest = flag_set(flags.nearest, c);
  const bool degrade = ka.out_degraded != nullptr && !nearest && flag_set(flags.degrade, c);

  if (tid == 0) {
    setup = degrade::make_sample_setup(params + b * kParamCount, ka.out_h, ka.out_w);
    if (degrade && setup.radius > 0) degrade::blur_weights(setup.sigma, setup.radius, wts);
  }
  __syncthreads();
  const degrade::SampleSetup s = setup;
  const int r = degrade ? s.radius : 0;
  const int64_t y0 = ty * kTileH, x0 = tx * kTileW;
  const int64_t H = ka.out_h, W = ka.out_w;
  const float scale = degrade::unit_scale(sizeof(T) == 1   ? InDType::kUInt8
                                          : sizeof(T) == 2 ? InDType::kUInt16
                                                           : InDType::kFloat32);
  const T* in_plane = input + plane * ka.in_h * ka.in_w;

  // 2. warp tile + halo. Coordinates: the canvas centre in double (split into an integer
  // and a fraction), plus float offsets of at most ~80 x scale pixels (error ~1e-5 pixel),
  // so the per-pixel work is single precision (FP64 is slow on consumer GPUs).
  const int cw = kTileW + 2 * r, ch = kTileH + 2 * r;
  const int mi = ch / 2, mj = cw / 2;
  const double ou = degrade::sanitize_coord(s.u0 + static_cast<double>(y0 - r + mi) * s.du_di +
                                            static_cast<double>(x0 - r + mj) * s.du_dj);
  const double ov = degrade::sanitize_coord(s.v0 + static_cast<double>(y0 - r + mi) * s.dv_di +
                                            static_cast<double>(x0 - r + mj) * s.dv_dj);
  const double fou = ::floor(ou), fov = ::floor(ov);
  const Origin o{static_cast<int64_t>(fou), static_cast<int64_t>(fov), static_cast<float>(ou - fou),
                 static_cast<float>(ov - fov)};
  const float dui = static_cast<float>(s.du_di), duj = static_cast<float>(s.du_dj);
  const float dvi = static_cast<float>(s.dv_di), dvj = static_cast<float>(s.dv_dj);
  const int in_h = static_cast<int>(ka.in_h), in_w = static_cast<int>(ka.in_w);
  // One warp per canvas row (no division by the runtime width), lanes along the row.
  for (int ci = tid >> 5; ci < ch; ci += kThreads / 32) {
    const float di = static_cast<float>(ci - mi);
    const float ru = fmaf(di, dui, o.fu), rv = fmaf(di, dvi, o.fv);
    for (int cj = tid & 31; cj < cw; cj += 32) {
      const float dj = static_cast<float>(cj - mj);
      const float tu = fmaf(dj, duj, ru), tv = fmaf(dj, dvj, rv);
      canvas[ci * kCanvasStride + cj] =
          nearest ? fetch_nearest(in_plane, in_h, in_w, o, tu, tv, scale)
                  : fetch_bilinear(in_plane, in_h, in_w, o, tu, tv, scale);
    }
  }
  __syncthreads();

  // 3. clean output
  const int64_t out_plane = plane * H * W;
  const bool plain = !degrade || (r == 0 && s.noise == 0.0f && s.dose == 0.0f);
  for (int idx = tid; idx < kTileH * kTileW; idx += kThreads) {
    const int y = idx / kTileW, x = idx - y * kTileW;
    const int64_t gi = y0 + y, gj = x0 + x;
    if (gi >= H || gj >= W) continue;
    const float v = canvas[(y + r) * kCanvasStride + x + r];
    if (ka.out_clean != nullptr) store1<kBF16>(ka.out_clean, out_plane + gi * W + gj, v);
    if (ka.out_degraded != nullptr && plain)
      store1<kBF16>(ka.out_degraded, out_plane + gi * W + gj, v);
  }
  if (ka.out_degraded == nullptr || plain) return;

  // 4. separable blur; the result goes back into the canvas (rows 0..kTileH-1)
  if (r > 0) {
    const int taps = 2 * r + 1;
    for (int idx = tid; idx < ch * kTileW; idx += kThreads) {
      const int ci = idx / kTileW, x = idx - ci * kTileW;
      const float* src = canvas + ci * kCanvasStride + x;
      float acc = 0.0f;
      for (int k = 0; k < taps; ++k) acc += wts[k] * src[k];
      rows[ci * kTileW + x] = acc;
    }
    __syncthreads();
    for (int idx = tid; idx < kTileH * kTileW; idx += kThreads) {
      const int y = idx / kTileW, x = idx - y * kTileW;
      const float* src = rows + y * kTileW + x;
      float acc = 0.0f;
      for (int k = 0; k < taps; ++k) acc += wts[k] * src[k * kTileW];
      canvas[y * kCanvasStride + x] = acc;
    }
    __syncthreads();
  }

  // 5. noise, one Philox block (4 pixels) per thread
  const uint64_t blocks_per_row = static_cast<uint64_t>((W + 3) / 4);
  for (int idx = tid; idx < kTileH * (kTileW / 4); idx += kThreads) {
    const int y = idx / (kTileW / 4), q = idx - y * (kTileW / 4);
    const int64_t gi = y0 + y, gj = x0 + 4 * q;
    if (gi >= H || gj >= W) continue;
    const int count = W - gj < 4 ? static_cast<int>(W - gj) : 4;
    float v[4];
    for (int l = 0; l < 4; ++l) v[l] = canvas[y * kCanvasStride + 4 * q + l];
    const uint64_t row_id = static_cast<uint64_t>(plane * H + gi);
    if (s.dose > 0.0f) {
#pragma unroll
      for (int l = 0; l < 4; ++l)
        if (l < count)
          v[l] = degrade::apply_shot_noise(v[l], s.dose, ka.seed,
                                           row_id * static_cast<uint64_t>(W) +
                                               static_cast<uint64_t>(gj + l));
    }
    if (s.noise > 0.0f) {
      float z[4];
      degrade::gaussian4(ka.seed, row_id * blocks_per_row + static_cast<uint64_t>(gj / 4), z);
      for (int l = 0; l < 4; ++l) v[l] += s.noise * z[l];
    }
    store4<kBF16>(ka.out_degraded, out_plane + gi * W + gj, v, count, ka.vec4_ok);
  }
}

}  // namespace degrade_dev
}  // namespace emkit
