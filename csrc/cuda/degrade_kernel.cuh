// Device code of the CUDA degradation op (launched by degrade_launch.cuh). Kept apart from
// the launcher so it stays a plain function of its arguments -- and so that
// tests/ops/cuda_emulation can compile it, unmodified, as host C++ and run it on the CPU.
//
// Two kernels per call:
//   0. setup_kernel: one thread per sample derives the sample's geometry (double) and
//      blur taps once into a small global workspace (SampleGeom), and marks the samples
//      that get Poisson noise;
//   1. degrade_kernel, one block per (sample, channel, 32x64 output tile):
//      a. warp the tile plus a halo of `radius` pixels into shared memory (bilinear or
//         nearest; the canvas centre in double, split into an integer and a fraction,
//         per-pixel offsets in float). Tiles whose footprint lies inside the image take a
//         path without reflection; only border tiles reflect. Planes hold < 2^31 pixels
//         (the launcher refuses larger ones), so all input indices are 32-bit;
//      b. clean output straight from the canvas centre (coalesced rows);
//      c. horizontal blur canvas -> rows, vertical blur rows -> canvas; each thread
//         computes 4 outputs per tap, so every tap weight is loaded once per 4 FMAs;
//      d. one thread per 4 pixels (one Philox block): Poisson (only in the kPoisson
//         variant), Gaussian, vector store.
//   The kPoisson variant (more registers) runs the tiles of the Poisson samples, looping
//   over them with a grid of at most one wave that exits at once when there are none; the
//   plain variant runs every other tile. A call without a degraded output has no Poisson
//   work and no Poisson launch.
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
constexpr int kBlurRows = 4;  // outputs per thread and tap in the blur passes
static_assert(kTileW % 4 == 0, "tiles must hold whole Philox blocks");
static_assert(kTileH % kBlurRows == 0, "vertical blur groups must tile the output rows");

// One sample's setup, written by setup_kernel (degrade_math.h: make_sample_setup and
// blur_weights, the same double-precision code as the CPU kernel, clamps included).
struct SampleGeom {
  degrade::SampleSetup s;
  float w[kTaps];
  int poisson;  // Poisson noise on the degraded output: the sample's tiles are the kPoisson variant's
};
static_assert(sizeof(SampleGeom) % 16 == 0, "keep SampleGeom 16-byte aligned");

struct ChannelFlags {
  uint32_t degrade[kMaxChannels / 32];
  uint32_t nearest[kMaxChannels / 32];
};

struct KernelArgs {
  int channels, tiles_x, tiles_y;
  int64_t in_h, in_w, out_h, out_w;
  void* out_clean;
  void* out_degraded;
  const SampleGeom* geoms;
  int64_t batch;
  uint64_t seed;
  const int64_t* seed_device;  // non-null: read the seed here (CUDA graphs replay new noise)
  bool vec4_ok;                // out_w % 4 == 0 and outputs aligned: 4-pixel vector stores
};

__global__ void setup_kernel(const float* __restrict__ params, int64_t batch, int64_t out_h,
                             int64_t out_w, bool has_degraded, SampleGeom* __restrict__ geoms) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= batch) return;
  SampleGeom& g = geoms[b];  // written in place: no local-memory copy of the taps
  g.s = degrade::make_sample_setup(params + b * kParamCount, out_h, out_w);
  for (int k = 0; k < kTaps; ++k) g.w[k] = 0.0f;
  if (g.s.radius > 0) degrade::blur_weights(g.s.sigma, g.s.radius, g.w);
  g.poisson = has_degraded && g.s.dose > 0.0f;
}

__device__ __forceinline__ bool flag_set(const uint32_t* bits, int c) {
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

// Keeps absurd offsets finite before conversion to integers (make_sample_setup's clamps
// bound them already; this is the last line of defence). NaN coordinates never get here: a
// sample whose origin is NaN along an axis samples index coordinate 0 on that axis, as
// degrade_math.h: sanitize_coord does on the CPU.
__device__ __forceinline__ float clamp_offset(float t) { return fminf(fmaxf(t, -1e9f), 1e9f); }

// Border path: bilinear sample at index coordinate (o.iu + tu, o.iv + tv), reflected at
// the borders (degrade_math.h: sample_bilinear). Planes hold < 2^31 pixels (checked by
// the launcher), so every reflected index fits an int.
template <typename T>
__device__ __forceinline__ float fetch_bilinear(const T* __restrict__ plane, int h, int w,
                                                const Origin& o, float tu, float tv) {
  tu = clamp_offset(tu);
  tv = clamp_offset(tv);
  const float ftu = floorf(tu), ftv = floorf(tv);
  const int64_t x0 = o.iu + static_cast<int64_t>(ftu), y0 = o.iv + static_cast<int64_t>(ftv);
  const int xa = static_cast<int>(degrade::reflect_index(x0, w));
  const int xb = static_cast<int>(degrade::reflect_index(x0 + 1, w));
  const int ya = static_cast<int>(degrade::reflect_index(y0, h)) * w;
  const int yb = static_cast<int>(degrade::reflect_index(y0 + 1, h)) * w;
  return degrade::lerp2d(fetch(plane, ya + xa), fetch(plane, ya + xb), fetch(plane, yb + xa),
                         fetch(plane, yb + xb), tu - ftu, tv - ftv);
}

template <typename T>
__device__ __forceinline__ float fetch_nearest(const T* __restrict__ plane, int h, int w,
                                               const Origin& o, float tu, float tv) {
  const int64_t ku = static_cast<int64_t>(floorf(clamp_offset(tu) + 0.5f));
  const int64_t kv = static_cast<int64_t>(floorf(clamp_offset(tv) + 0.5f));
  const int x = static_cast<int>(degrade::reflect_index(o.iu + ku, w));
  const int y = static_cast<int>(degrade::reflect_index(o.iv + kv, h));
  return fetch(plane, y * w + x);
}

// Interior path (the whole footprint inside the image): no reflection.
template <typename T>
__device__ __forceinline__ float fetch_bilinear_interior(const T* __restrict__ plane, int w,
                                                         int iu, int iv, float tu, float tv) {
  const float ftu = floorf(tu), ftv = floorf(tv);
  const int idx = (iv + static_cast<int>(ftv)) * w + iu + static_cast<int>(ftu);
  return degrade::lerp2d(fetch(plane, idx), fetch(plane, idx + 1), fetch(plane, idx + w),
                         fetch(plane, idx + w + 1), tu - ftu, tv - ftv);
}

template <typename T>
__device__ __forceinline__ float fetch_nearest_interior(const T* __restrict__ plane, int w,
                                                        int iu, int iv, float tu, float tv) {
  const int x = iu + static_cast<int>(floorf(tu + 0.5f));
  const int y = iv + static_cast<int>(floorf(tv + 0.5f));
  return fetch(plane, y * w + x);
}

// Whether offsets in [lo, hi] from integer origin `i` stay at least one pixel inside
// [0, n - 1) (bilinear needs the right/bottom neighbour too); the pixel of margin
// absorbs the float rounding of the offsets.
__device__ __forceinline__ bool inside(int64_t i, float lo, float hi, int64_t n) {
  if (!(lo >= -1e6f) || !(hi <= 1e6f)) return false;
  return i + static_cast<int64_t>(floorf(lo)) >= 1 && i + static_cast<int64_t>(floorf(hi)) + 2 <= n - 1;
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

// kBlurRows outputs of a 1-D blur: out[m] = sum_k w[k] * src[m * m_step + k * k_step]
// (rows m < valid only). Taps in order k = 0 .. taps-1 from 0, as on the CPU.
__device__ __forceinline__ void blur4(const float* src, int m_step, int k_step, int taps,
                                      const float* wts, int valid, float out[kBlurRows]) {
  float acc[kBlurRows];
#pragma unroll
  for (int m = 0; m < kBlurRows; ++m) acc[m] = 0.0f;
  for (int k = 0; k < taps; ++k) {
    const float wk = wts[k];
    const float* s = src + k * k_step;
#pragma unroll
    for (int m = 0; m < kBlurRows; ++m)
      if (m < valid) acc[m] = fmaf(wk, s[m * m_step], acc[m]);
  }
#pragma unroll
  for (int m = 0; m < kBlurRows; ++m) out[m] = acc[m];
}

// Warps canvas rows into shared memory; kInterior: the path without reflection.
template <typename T, bool kInterior>
__device__ __forceinline__ void warp_canvas(const T* __restrict__ in_plane, int in_h, int in_w,
                                            const Origin& o, float dui, float duj, float dvi,
                                            float dvj, int ch, int cw, int mi, int mj,
                                            bool nearest, float scale, float* canvas) {
  const int tid = threadIdx.x;
  const int iu = static_cast<int>(o.iu), iv = static_cast<int>(o.iv);
  // One warp per canvas row (no division by the runtime width), lanes along the row.
  for (int ci = tid >> 5; ci < ch; ci += kThreads / 32) {
    const float di = static_cast<float>(ci - mi);
    const float ru = fmaf(di, dui, o.fu), rv = fmaf(di, dvi, o.fv);
    for (int cj = tid & 31; cj < cw; cj += 32) {
      const float dj = static_cast<float>(cj - mj);
      const float tu = fmaf(dj, duj, ru), tv = fmaf(dj, dvj, rv);
      float v;
      if (kInterior)
        v = nearest ? fetch_nearest_interior(in_plane, in_w, iu, iv, tu, tv)
                    : fetch_bilinear_interior(in_plane, in_w, iu, iv, tu, tv);
      else
        v = nearest ? fetch_nearest(in_plane, in_h, in_w, o, tu, tv)
                    : fetch_bilinear(in_plane, in_h, in_w, o, tu, tv);
      canvas[ci * kCanvasStride + cj] = v * scale;
    }
  }
}

// Stage a: warps tile (ty, tx) of `plane` plus a halo of r pixels into the canvas
// ((kTileH + 2r) x (kTileW + 2r) of kCanvasStride).
template <typename T>
__device__ __forceinline__ void warp_tile(const T* __restrict__ in_plane, const KernelArgs& ka,
                                          const SampleGeom* g, int64_t y0, int64_t x0, int r,
                                          bool nearest, float scale, float* canvas) {
  const int cw = kTileW + 2 * r, ch = kTileH + 2 * r;
  const int mi = ch / 2, mj = cw / 2;
  const double du_di = g->s.du_di, du_dj = g->s.du_dj, dv_di = g->s.dv_di, dv_dj = g->s.dv_dj;
  // The canvas centre in double (split into an integer and a fraction), plus float offsets
  // of at most ~80 x scale pixels (error ~1e-5 x scale pixel), so the per-pixel work is
  // single precision (FP64 is slow on consumer GPUs).
  const double ou_raw = g->s.u0 + static_cast<double>(y0 - r + mi) * du_di +
                        static_cast<double>(x0 - r + mj) * du_dj;
  const double ov_raw = g->s.v0 + static_cast<double>(y0 - r + mi) * dv_di +
                        static_cast<double>(x0 - r + mj) * dv_dj;
  // A NaN coordinate samples index 0 on its axis (sanitize_coord): zero origin and slopes.
  const bool nan_u = !(ou_raw == ou_raw), nan_v = !(ov_raw == ov_raw);
  const double ou = degrade::sanitize_coord(ou_raw), ov = degrade::sanitize_coord(ov_raw);
  const double fou = ::floor(ou), fov = ::floor(ov);
  const Origin o{static_cast<int64_t>(fou), static_cast<int64_t>(fov), static_cast<float>(ou - fou),
                 static_cast<float>(ov - fov)};
  const float dui = nan_u ? 0.0f : static_cast<float>(du_di);
  const float duj = nan_u ? 0.0f : static_cast<float>(du_dj);
  const float dvi = nan_v ? 0.0f : static_cast<float>(dv_di);
  const float dvj = nan_v ? 0.0f : static_cast<float>(dv_dj);
  const int in_h = static_cast<int>(ka.in_h), in_w = static_cast<int>(ka.in_w);
  // Footprint of the canvas: offsets at its four corners (the map is affine).
  const float ai = static_cast<float>(-mi), bi = static_cast<float>(ch - 1 - mi);
  const float aj = static_cast<float>(-mj), bj = static_cast<float>(cw - 1 - mj);
  const float u00 = o.fu + ai * dui + aj * duj, u01 = o.fu + ai * dui + bj * duj;
  const float u10 = o.fu + bi * dui + aj * duj, u11 = o.fu + bi * dui + bj * duj;
  const float v00 = o.fv + ai * dvi + aj * dvj, v01 = o.fv + ai * dvi + bj * dvj;
  const float v10 = o.fv + bi * dvi + aj * dvj, v11 = o.fv + bi * dvi + bj * dvj;
  const bool interior =
      inside(o.iu, fminf(fminf(u00, u01), fminf(u10, u11)), fmaxf(fmaxf(u00, u01), fmaxf(u10, u11)),
             ka.in_w) &&
      inside(o.iv, fminf(fminf(v00, v01), fminf(v10, v11)), fmaxf(fmaxf(v00, v01), fmaxf(v10, v11)),
             ka.in_h);
  if (interior)
    warp_canvas<T, true>(in_plane, in_h, in_w, o, dui, duj, dvi, dvj, ch, cw, mi, mj, nearest,
                         scale, canvas);
  else
    warp_canvas<T, false>(in_plane, in_h, in_w, o, dui, duj, dvi, dvj, ch, cw, mi, mj, nearest,
                          scale, canvas);
}

// Stage c: separable blur of the canvas ((kTileH + 2r) x (kTileW + 2r)) through `rows`;
// the result goes back into canvas rows 0 .. kTileH - 1.
__device__ __forceinline__ void blur_tile(int r, const float* wts, float* canvas, float* rows) {
  const int tid = threadIdx.x;
  const int taps = 2 * r + 1, ch = kTileH + 2 * r;
  const int groups = (ch + kBlurRows - 1) / kBlurRows;
  for (int idx = tid; idx < groups * kTileW; idx += kThreads) {
    const int gy = idx / kTileW, x = idx - gy * kTileW;
    const int ci = gy * kBlurRows;
    float out[kBlurRows];
    blur4(canvas + ci * kCanvasStride + x, kCanvasStride, 1, taps, wts, ch - ci, out);
#pragma unroll
    for (int m = 0; m < kBlurRows; ++m)
      if (ci + m < ch) rows[(ci + m) * kTileW + x] = out[m];
  }
  __syncthreads();
  for (int idx = tid; idx < (kTileH / kBlurRows) * kTileW; idx += kThreads) {
    const int gy = idx / kTileW, x = idx - gy * kTileW;
    const int y = gy * kBlurRows;
    float out[kBlurRows];
    blur4(rows + y * kTileW + x, kTileW, kTileW, taps, wts, kBlurRows, out);
#pragma unroll
    for (int m = 0; m < kBlurRows; ++m) canvas[(y + m) * kCanvasStride + x] = out[m];
  }
  __syncthreads();
}

// One (plane, tile): stages a-d. Every early return is uniform across the block.
template <typename T, bool kBF16, bool kPoisson>
__device__ __forceinline__ void degrade_tile(const T* __restrict__ input, const KernelArgs& ka,
                                             const ChannelFlags& flags, int plane, int tile,
                                             float* canvas, float* rows, float* wts) {
  const int tid = threadIdx.x;
  const int b = plane / ka.channels;
  const int c = plane - b * ka.channels;
  const int tx = tile % ka.tiles_x, ty = tile / ka.tiles_x;
  const SampleGeom* g = ka.geoms + b;
  const bool nearest = flag_set(flags.nearest, c);
  const bool degrade = ka.out_degraded != nullptr && !nearest && flag_set(flags.degrade, c);
  const int r = degrade ? g->s.radius : 0;
  const float noise = g->s.noise, dose = g->s.dose;
  if (tid < 2 * r + 1) wts[tid] = g->w[tid];

  const int64_t y0 = static_cast<int64_t>(ty) * kTileH, x0 = static_cast<int64_t>(tx) * kTileW;
  const int64_t H = ka.out_h, W = ka.out_w;
  const float scale = degrade::unit_scale(sizeof(T) == 1   ? InDType::kUInt8
                                          : sizeof(T) == 2 ? InDType::kUInt16
                                                           : InDType::kFloat32);
  const T* in_plane = input + static_cast<int64_t>(plane) * ka.in_h * ka.in_w;
  warp_tile(in_plane, ka, g, y0, x0, r, nearest, scale, canvas);
  __syncthreads();

  // b. clean output
  const int64_t out_plane = static_cast<int64_t>(plane) * H * W;
  const bool plain = !degrade || (r == 0 && noise == 0.0f && dose == 0.0f);
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

  // c. separable blur (its barriers also separate stage b's canvas reads from d's)
  if (r > 0) blur_tile(r, wts, canvas, rows);

  // d. noise, one Philox block (4 pixels) per thread
  const uint64_t seed =
      ka.seed_device != nullptr ? static_cast<uint64_t>(*ka.seed_device) : ka.seed;
  const uint64_t blocks_per_row = static_cast<uint64_t>((W + 3) / 4);
  for (int idx = tid; idx < kTileH * (kTileW / 4); idx += kThreads) {
    const int y = idx / (kTileW / 4), q = idx - y * (kTileW / 4);
    const int64_t gi = y0 + y, gj = x0 + 4 * q;
    if (gi >= H || gj >= W) continue;
    const int count = W - gj < 4 ? static_cast<int>(W - gj) : 4;
    float v[4];
#pragma unroll
    for (int l = 0; l < 4; ++l) v[l] = canvas[y * kCanvasStride + 4 * q + l];
    const uint64_t row_id = static_cast<uint64_t>(static_cast<int64_t>(plane) * H + gi);
    if (kPoisson) {  // every sample of this variant has dose > 0
#pragma unroll
      for (int l = 0; l < 4; ++l)
        if (l < count)
          v[l] = degrade::apply_shot_noise(v[l], dose, seed,
                                           row_id * static_cast<uint64_t>(W) +
                                               static_cast<uint64_t>(gj + l));
    }
    if (noise > 0.0f) {
      float z[4];
      degrade::gaussian4(seed, row_id * blocks_per_row + static_cast<uint64_t>(gj / 4), z);
#pragma unroll
      for (int l = 0; l < 4; ++l) v[l] += noise * z[l];
    }
    store4<kBF16>(ka.out_degraded, out_plane + gi * W + gj, v, count, ka.vec4_ok);
  }
}

// Resident blocks of 256 threads per SM the register budget is cut for, where shared
// memory (~40 KB per block) allows that many: sm_90/sm_100 5 blocks = 48 registers (the
// Poisson variant keeps 4 = 64 registers, spilling a few bytes only inside its rarely
// taken rejection loop), sm_80 4 blocks; other GPUs are limited by shared memory or
// threads per SM, so the compiler chooses freely.
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ == 900 || __CUDA_ARCH__ == 1000)
constexpr int kMinBlocksPerSM = 5;
constexpr int kMinBlocksPerSMPoisson = 4;
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 800
constexpr int kMinBlocksPerSM = 4;
constexpr int kMinBlocksPerSMPoisson = 4;
#else
constexpr int kMinBlocksPerSM = 1;
constexpr int kMinBlocksPerSMPoisson = 1;
#endif
// Blocks per SM of the Poisson variant's grid (one wave on the GPUs tuned for above).
constexpr int kPoissonBlocksPerSM = 4;

// kPoisson = false: block i is tile i % tiles of plane i / tiles (tiles = tiles_x *
// tiles_y), unless its sample is a Poisson sample. kPoisson = true: a grid of at most one
// wave; all blocks exit at once when no sample is a Poisson sample, else they loop over
// the Poisson samples' tiles.
template <typename T, bool kBF16, bool kPoisson>
__global__ void __launch_bounds__(kThreads, kPoisson ? kMinBlocksPerSMPoisson : kMinBlocksPerSM)
    degrade_kernel(const T* __restrict__ input, KernelArgs ka, ChannelFlags flags) {
  __shared__ float canvas[kCanvasH * kCanvasStride];
  __shared__ float rows[kCanvasH * kTileW];
  __shared__ float wts[kTaps];
  const int tiles = ka.tiles_x * ka.tiles_y;
  if (!kPoisson) {
    const int bid = static_cast<int>(blockIdx.x);
    const int plane = bid / tiles;
    if (ka.geoms[plane / ka.channels].poisson) return;
    degrade_tile<T, kBF16, false>(input, ka, flags, plane, bid - plane * tiles, canvas, rows, wts);
    return;
  }
  int any = 0;
  for (int64_t b = threadIdx.x; b < ka.batch && !any; b += kThreads) any = ka.geoms[b].poisson;
  if (!__syncthreads_or(any)) return;
  const int64_t total = ka.batch * ka.channels * tiles;
  for (int64_t v = blockIdx.x; v < total; v += gridDim.x) {
    const int plane = static_cast<int>(v / tiles);
    if (!ka.geoms[plane / ka.channels].poisson) continue;
    const int tile = static_cast<int>(v - static_cast<int64_t>(plane) * tiles);
    degrade_tile<T, kBF16, true>(input, ka, flags, plane, tile, canvas, rows, wts);
    __syncthreads();  // the next tile reuses the shared buffers
  }
}

}  // namespace degrade_dev
}  // namespace emkit
