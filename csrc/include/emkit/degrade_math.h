// Per-pixel maths of the fused degradation op, written once for host and device.
//
// Everything here is a pure function of its arguments, so the CPU kernel (scalar and
// AVX2 paths) and the CUDA kernel agree to float rounding. The definitions mirror
// python/emkit/ops/_reference.py; change both together.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "emkit/degrade.h"
#include "emkit/philox.h"
#include "emkit/platform.h"

namespace emkit {
namespace degrade {

// ---------------------------------------------------------------- bit casts -----------
EMKIT_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
#endif
}

EMKIT_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
#endif
}

// float -> bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
EMKIT_HD uint16_t float_to_bf16_rne(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// ------------------------------------------------------------- per sample -------------
// Everything the kernels need about one sample, derived once from its 8 parameters.
//
// Output (or canvas) pixel (i, j) has centred coordinates x = j + 0.5 - W/2,
// y = i + 0.5 - H/2; x is negated when flipped; (x, y) is rotated by `angle`, scaled by
// `scale` and moved to the crop centre (cx, cy). The input *index* coordinate
// (pixel k has its centre at k + 0.5, i.e. index coordinate k) is therefore affine:
//   fu(i, j) = u0 + i * du_di + j * du_dj,   fv(i, j) = v0 + i * dv_di + j * dv_dj.
struct SampleSetup {
  double u0, v0, du_di, du_dj, dv_di, dv_dj;
  float sigma;  // clamped to [0, kMaxBlurSigma]; 0 = no blur
  int radius;   // ceil(3 sigma), 0 when no blur
  float noise;  // Gaussian std, 0 = none
  float dose;   // Poisson dose, 0 = off
};

EMKIT_HD int blur_radius(float sigma) {
  return sigma > 0.0f ? static_cast<int>(::ceil(3.0 * static_cast<double>(sigma))) : 0;
}

// Geometry limits applied once per sample, before anything else, by every kernel (and the
// reference): the crop centre is clamped to [-kMaxCentre, kMaxCentre] and the scale to
// [-kMaxScale, kMaxScale], infinite values included; NaN stays NaN (see sanitize_coord).
// Far beyond any real crop, they keep all coordinates finite, so the CPU kernel, the CUDA
// kernel and the reference compute the same pixel positions for absurd parameters too.
constexpr double kMaxCentre = 1073741824.0;  // 2^30 input pixels
constexpr double kMaxScale = 1024.0;         // input pixels per output pixel

// x clamped to [-limit, limit]; NaN stays NaN.
EMKIT_HD double clamp_keep_nan(double x, double limit) {
  return x < -limit ? -limit : (x > limit ? limit : x);
}

EMKIT_HD SampleSetup make_sample_setup(const float* p, int64_t out_h, int64_t out_w) {
  SampleSetup s;
  const double scale = clamp_keep_nan(p[kParamScale], kMaxScale);
  const double c = ::cos(static_cast<double>(p[kParamAngle])) * scale;
  const double sn = ::sin(static_cast<double>(p[kParamAngle])) * scale;
  const double f = p[kParamFlip] >= 0.5f ? -1.0 : 1.0;
  s.du_dj = f * c;
  s.dv_dj = f * sn;
  s.du_di = -sn;
  s.dv_di = c;
  const double x0 = 0.5 - 0.5 * static_cast<double>(out_w);
  const double y0 = 0.5 - 0.5 * static_cast<double>(out_h);
  const double cx = clamp_keep_nan(p[kParamCx], kMaxCentre);
  const double cy = clamp_keep_nan(p[kParamCy], kMaxCentre);
  s.u0 = cx - 0.5 + s.du_dj * x0 + s.du_di * y0;
  s.v0 = cy - 0.5 + s.dv_dj * x0 + s.dv_di * y0;
  const float sigma = p[kParamSigma];
  s.sigma = sigma > 0.0f ? (sigma < kMaxBlurSigma ? sigma : kMaxBlurSigma) : 0.0f;
  s.radius = blur_radius(s.sigma);
  s.noise = p[kParamNoise] > 0.0f ? p[kParamNoise] : 0.0f;
  s.dose = p[kParamDose] > 0.0f ? p[kParamDose] : 0.0f;
  return s;
}

// Normalised Gaussian taps w[0 .. 2r] (w[r] is the centre), computed in double and
// rounded once so that CPU and CUDA use identical weights.
EMKIT_HD void blur_weights(float sigma, int radius, float* w) {
  const double inv = 1.0 / (2.0 * static_cast<double>(sigma) * static_cast<double>(sigma));
  double sum = 0.0;
  for (int k = -radius; k <= radius; ++k) sum += ::exp(-static_cast<double>(k * k) * inv);
  for (int k = -radius; k <= radius; ++k)
    w[k + radius] = static_cast<float>(::exp(-static_cast<double>(k * k) * inv) / sum);
}

// ---------------------------------------------------------- reflection ----------------
// Half-sample symmetric extension of a row of n pixels (period 2n): index -1 -> 0,
// -2 -> 1, n -> n - 1, ... Bilinear interpolation of this extension equals
// grid_sample(padding_mode="reflection", align_corners=False).
EMKIT_HD int64_t reflect_index(int64_t k, int64_t n) {
  if (k >= 0 && k < n) return k;
  if (k >= -n && k < 2 * n) return k < 0 ? -1 - k : 2 * n - 1 - k;
  const int64_t period = 2 * n;
  int64_t m = k % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

// Keeps absurd coordinates (huge scale, NaN) finite before they are floored to integers.
EMKIT_HD double sanitize_coord(double x) {
  if (!(x == x)) return 0.0;  // NaN
  return x < -1e12 ? -1e12 : (x > 1e12 ? 1e12 : x);
}

// Input value at flat index `idx`, scaled to [0, 1] for integer dtypes.
EMKIT_HD float load_unit(const void* base, InDType dt, int64_t idx) {
  switch (dt) {
    case InDType::kUInt8:
      return static_cast<float>(static_cast<const uint8_t*>(base)[idx]) * (1.0f / 255.0f);
    case InDType::kUInt16:
      return static_cast<float>(static_cast<const uint16_t*>(base)[idx]) * (1.0f / 65535.0f);
    default:
      return static_cast<const float*>(base)[idx];
  }
}

// Integer dtypes are converted to float and multiplied by this (1 for float32).
EMKIT_HD float unit_scale(InDType dt) {
  return dt == InDType::kUInt8 ? 1.0f / 255.0f : (dt == InDType::kUInt16 ? 1.0f / 65535.0f : 1.0f);
}

EMKIT_HD float lerp2d(float a, float b, float c, float d, float fx, float fy) {
  const float top = a + fx * (b - a);
  const float bot = c + fx * (d - c);
  return top + fy * (bot - top);
}

// Bilinear sample of one plane at index coordinate (fu, fv) with reflection; `raw` loads
// the raw value (before scaling) so integer inputs are scaled once after interpolation.
template <typename T>
EMKIT_HD float sample_bilinear(const T* plane, int64_t h, int64_t w, double fu, double fv,
                               float scale) {
  fu = sanitize_coord(fu);
  fv = sanitize_coord(fv);
  const double xf = ::floor(fu), yf = ::floor(fv);
  const float fx = static_cast<float>(fu - xf), fy = static_cast<float>(fv - yf);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  const int64_t xa = reflect_index(x0, w), xb = reflect_index(x0 + 1, w);
  const int64_t ya = reflect_index(y0, h) * w, yb = reflect_index(y0 + 1, h) * w;
  const float v = lerp2d(static_cast<float>(plane[ya + xa]), static_cast<float>(plane[ya + xb]),
                         static_cast<float>(plane[yb + xa]), static_cast<float>(plane[yb + xb]),
                         fx, fy);
  return v * scale;
}

// Nearest sample: index floor(f + 0.5) in each axis (ties round up), then reflection.
template <typename T>
EMKIT_HD float sample_nearest(const T* plane, int64_t h, int64_t w, double fu, double fv,
                              float scale) {
  fu = sanitize_coord(fu);
  fv = sanitize_coord(fv);
  const int64_t x = reflect_index(static_cast<int64_t>(::floor(fu + 0.5)), w);
  const int64_t y = reflect_index(static_cast<int64_t>(::floor(fv + 0.5)), h);
  return static_cast<float>(plane[y * w + x]) * scale;
}

// The exact warp of canvas pixel (i, j) (output row/column indices, negative or >= H/W in a
// blur halo): double-precision coordinates u0 + i * du_di + j * du_dj, then the sampling
// above. The CPU kernel's scalar paths and the CUDA kernel's exact path both call it.
template <typename T>
EMKIT_HD float warp_pixel(const T* plane, int64_t h, int64_t w, const SampleSetup& s, int64_t i,
                          int64_t j, bool nearest, float scale) {
  const double ru = s.u0 + static_cast<double>(i) * s.du_di;
  const double rv = s.v0 + static_cast<double>(i) * s.dv_di;
  const double fu = ru + static_cast<double>(j) * s.du_dj, fv = rv + static_cast<double>(j) * s.dv_dj;
  return nearest ? sample_nearest(plane, h, w, fu, fv, scale) : sample_bilinear(plane, h, w, fu, fv, scale);
}

// ------------------------------------------------------- Gaussian noise ---------------
// log(x) for x in (0, 1] (normal floats): Cephes-style range reduction to
// [sqrt(1/2), sqrt(2)) and a degree-9 polynomial; relative error ~1e-7.
EMKIT_HD float log_unit(float x) {
  const uint32_t u = float_bits(x);
  int e = static_cast<int>((u >> 23) & 0xffu) - 126;
  float m = bits_float((u & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  if (m < 0.70710678118654752f) {
    e -= 1;
    m = m + m - 1.0f;
  } else {
    m = m - 1.0f;
  }
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float ef = static_cast<float>(e);
  y += -2.12194440e-4f * ef;
  y += -0.5f * z;
  return m + y + 0.693359375f * ef;
}

// sin(2 pi t), cos(2 pi t) for t in [0, 1]: exact reduction to a quarter turn
// q = floor(4t + 0.5), f = t - q/4 in [-1/8, 1/8], then minimax polynomials on
// [-pi/4, pi/4]; absolute error ~1e-7.
EMKIT_HD void sincos_turns(float t, float& s, float& c) {
  const float q = ::floorf(4.0f * t + 0.5f);
  const float a = (t - 0.25f * q) * 6.28318530717958648f;
  const float z = a * a;
  const float sp = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * a + a;
  const float cp =
      ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
      0.5f * z + 1.0f;
  const int quadrant = static_cast<int>(q) & 3;
  s = quadrant == 0 ? sp : (quadrant == 1 ? cp : (quadrant == 2 ? -sp : -cp));
  c = quadrant == 0 ? cp : (quadrant == 1 ? -sp : (quadrant == 2 ? -cp : sp));
}

// Box-Muller: two independent N(0, 1) from two 32-bit words.
EMKIT_HD void box_muller(uint32_t a, uint32_t b, float& z0, float& z1) {
  const float r = ::sqrtf(-2.0f * log_unit(uint32_to_open_unit(a)));
  float s, c;
  sincos_turns(uint32_to_open_unit(b), s, c);
  z0 = r * c;
  z1 = r * s;
}

// Gaussian noise layout: row i of plane (b, c) uses Philox blocks
// ((b * C + c) * H + i) * ceil(W / 4) + j / 4; block words (0, 1) give pixels 4k, 4k + 1
// (cos, sin) and words (2, 3) give pixels 4k + 2, 4k + 3.
EMKIT_HD void gaussian4(uint64_t seed, uint64_t block, float z[4]) {
  const Philox4x32 r = philox_at(seed, kGaussianNoiseStream, block);
  box_muller(r.v[0], r.v[1], z[0], z[1]);
  box_muller(r.v[2], r.v[3], z[2], z[3]);
}

// -------------------------------------------------------- Poisson noise ---------------
EMKIT_HD double uint32_to_open_unit_double(uint32_t x) {
  return (static_cast<double>(x) + 0.5) * 2.3283064365386962890625e-10;  // 2^-32
}

// log(k!) : exact values below 10, Stirling series above (error < 1e-10). A switch, not
// an array, so the CUDA kernel keeps it out of local memory (no stack frame).
EMKIT_HD double log_factorial(int64_t k) {
  if (k < 10) {
    switch (k) {
      case 2: return 0.69314718055994531;
      case 3: return 1.79175946922805500;
      case 4: return 3.17805383034794562;
      case 5: return 4.78749174278204599;
      case 6: return 6.57925121201010100;
      case 7: return 8.52516136106541430;
      case 8: return 10.60460290274525023;
      case 9: return 12.80182748008146961;
      default: return 0.0;  // 0! = 1! = 1
    }
  }
  const double x = static_cast<double>(k) + 1.0;
  const double ix = 1.0 / x, ix2 = ix * ix;
  return (x - 0.5) * ::log(x) - x + 0.91893853320467274178 +
         ix * (1.0 / 12.0 - ix2 * (1.0 / 360.0 - ix2 * (1.0 / 1260.0)));
}

constexpr double kPoissonInversionBelow = 10.0;
constexpr int kPoissonMaxGroups = 16;  // 2 PTRS attempts per Philox block

// Poisson(lam) for the element with flat index `index` (< 2^40). Philox blocks
// philox_at(seed, kPoissonNoiseStream, (g << 40) + index), g = 0, 1, ... supply the
// uniforms. lam < 10: inversion by sequential search with word 0 of block 0 (exact up to
// double rounding). lam >= 10: Hormann's transformed rejection with squeeze (PTRS, 1993),
// an exact sampler with acceptance > 0.9 per attempt; each block gives two attempts
// (U from words 0/2, V from words 1/3). After 32 rejections (probability < 1e-30) the
// mode floor(lam) is returned. lam <= 0 or NaN gives 0; lam >= 1e15 gives floor(lam).
EMKIT_HD int64_t poisson_sample(double lam, uint64_t seed, uint64_t index) {
  if (!(lam > 0.0)) return 0;
  // Far beyond any dose of interest the relative noise is below float resolution.
  if (!(lam < 1e15)) return lam < 9.0e18 ? static_cast<int64_t>(lam) : INT64_C(9000000000000000000);
  if (lam < kPoissonInversionBelow) {
    const double u = uint32_to_open_unit_double(philox_at(seed, kPoissonNoiseStream, index).v[0]);
    double p = ::exp(-lam);
    double s = p;
    int64_t k = 0;
    while (u > s && k < 200) {
      ++k;
      p *= lam / static_cast<double>(k);
      s += p;
    }
    return k;
  }
  const double slam = ::sqrt(lam);
  const double loglam = ::log(lam);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (int g = 0; g < kPoissonMaxGroups; ++g) {
    const Philox4x32 r =
        philox_at(seed, kPoissonNoiseStream, (static_cast<uint64_t>(g) << 40) + index);
    for (int t = 0; t < 2; ++t) {
      const double U = uint32_to_open_unit_double(r.v[2 * t]) - 0.5;
      const double V = uint32_to_open_unit_double(r.v[2 * t + 1]);
      const double us = 0.5 - ::fabs(U);
      const double kf = ::floor((2.0 * a / us + b) * U + lam + 0.43);
      if (us >= 0.07 && V <= vr) return static_cast<int64_t>(kf);
      if (kf < 0.0 || (us < 0.013 && V > us)) continue;
      const int64_t k = static_cast<int64_t>(kf);
      if (::log(V) + ::log(invalpha) - ::log(a / (us * us) + b) <=
          -lam + kf * loglam - log_factorial(k))
        return k;
    }
  }
  return static_cast<int64_t>(::floor(lam));
}

// Shot noise at `dose` electrons per unit intensity: Poisson(dose * v) / dose, negative
// intensities counting as 0.
EMKIT_HD float apply_shot_noise(float v, float dose, uint64_t seed, uint64_t index) {
  const double lam = static_cast<double>(dose) * static_cast<double>(v > 0.0f ? v : 0.0f);
  return static_cast<float>(static_cast<double>(poisson_sample(lam, seed, index)) /
                            static_cast<double>(dose));
}

}  // namespace degrade
}  // namespace emkit
