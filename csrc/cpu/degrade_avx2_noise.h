// AVX2 noise of the CPU degradation kernel: Philox4x32-10 for 8 counters per state (several
// states interleaved), Box-Muller with the polynomials of degrade_math.h (log_unit,
// sincos_turns) and a 4x8 transpose to pixel order; plus the bf16 rounding of stores.
// Only for degrade_cpu_avx2.cpp, which includes it inside its AVX2 target region and the
// emkit::degrade anonymous namespace (internal linkage, compiled with AVX2 + FMA).
#pragma once

inline void mulhilo8(__m256i m, __m256i x, __m256i& hi, __m256i& lo) {
  const __m256i even = _mm256_mul_epu32(x, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
  lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Counters first + l (l = 0..7) as (lo, hi) words, built in registers.
inline void counters8(uint64_t first, __m256i& lo, __m256i& hi) {
  const uint32_t base_lo = static_cast<uint32_t>(first);
  lo = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(base_lo)),
                        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i carry = _mm256_cmpgt_epi32(  // lo < base_lo (unsigned): the low word wrapped
      _mm256_xor_si256(_mm256_set1_epi32(static_cast<int>(base_lo)), sign), _mm256_xor_si256(lo, sign));
  hi = _mm256_sub_epi32(_mm256_set1_epi32(static_cast<int>(first >> 32)), carry);
}

// Blocks philox_at(seed, stream, first + l) for l < 8 * S, as S interleaved 8-lane states
// (independent work for the out-of-order core); word q of block l is lane l % 8 of
// out[l / 8][q].
template <int S>
inline void philox_x8(uint64_t seed, uint32_t stream, uint64_t first, __m256i out[][4]) {
  __m256i c0[S], c1[S], c2[S], c3[S];
  for (int t = 0; t < S; ++t) {
    counters8(first + 8 * static_cast<uint64_t>(t), c0[t], c1[t]);
    c2[t] = _mm256_set1_epi32(static_cast<int>(stream));
    c3[t] = _mm256_setzero_si256();
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(philox_detail::kM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(philox_detail::kM1));
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += philox_detail::kW0;
      k1 += philox_detail::kW1;
    }
    const __m256i vk0 = _mm256_set1_epi32(static_cast<int>(k0));
    const __m256i vk1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int t = 0; t < S; ++t) {
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(m0, c0[t], hi0, lo0);
      mulhilo8(m1, c2[t], hi1, lo1);
      c0[t] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[t]), vk0);
      c2[t] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[t]), vk1);
      c1[t] = lo1;
      c3[t] = lo0;
    }
  }
  for (int t = 0; t < S; ++t) {
    out[t][0] = c0[t];
    out[t][1] = c1[t];
    out[t][2] = c2[t];
    out[t][3] = c3[t];
  }
}

// ------------------------------------------------------------ Box-Muller x8 -----------
inline __m256 open_unit8(__m256i x) {
  return _mm256_mul_ps(
      _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(x, 8)), _mm256_set1_ps(0.5f)),
      _mm256_set1_ps(1.0f / 16777216.0f));
}

// Vector log_unit (degrade_math.h).
inline __m256 log_unit8(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  __m256i e = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(u, 23), _mm256_set1_epi32(0xff)),
                               _mm256_set1_epi32(126));
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
      _mm256_and_si256(u, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  const __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.70710678118654752f), _CMP_LT_OQ);
  e = _mm256_add_epi32(e, _mm256_castps_si256(small));  // -1 where small
  const __m256 onef = _mm256_set1_ps(1.0f);
  m = _mm256_blendv_ps(_mm256_sub_ps(m, onef), _mm256_sub_ps(_mm256_add_ps(m, m), onef), small);
  const __m256 z = _mm256_mul_ps(m, m);
  __m256 y = _mm256_set1_ps(7.0376836292e-2f);
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.1514610310e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.1676998740e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.2420140846e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.4249322787e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.6668057665e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(2.0000714765e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-2.4999993993e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(3.3333331174e-1f));
  y = _mm256_mul_ps(_mm256_mul_ps(y, m), z);
  const __m256 ef = _mm256_cvtepi32_ps(e);
  y = _mm256_fmadd_ps(_mm256_set1_ps(-2.12194440e-4f), ef, y);
  y = _mm256_fmadd_ps(_mm256_set1_ps(-0.5f), z, y);
  return _mm256_fmadd_ps(_mm256_set1_ps(0.693359375f), ef, _mm256_add_ps(m, y));
}

// Vector sincos_turns (degrade_math.h).
inline void sincos_turns8(__m256 t, __m256& s, __m256& c) {
  const __m256 q = _mm256_floor_ps(_mm256_fmadd_ps(_mm256_set1_ps(4.0f), t, _mm256_set1_ps(0.5f)));
  const __m256 a = _mm256_mul_ps(_mm256_fnmadd_ps(_mm256_set1_ps(0.25f), q, t),
                                 _mm256_set1_ps(6.28318530717958648f));
  const __m256 z = _mm256_mul_ps(a, a);
  __m256 sp = _mm256_fmadd_ps(_mm256_set1_ps(-1.9515295891e-4f), z, _mm256_set1_ps(8.3321608736e-3f));
  sp = _mm256_fmadd_ps(sp, z, _mm256_set1_ps(-1.6666654611e-1f));
  sp = _mm256_fmadd_ps(_mm256_mul_ps(sp, z), a, a);
  __m256 cp = _mm256_fmadd_ps(_mm256_set1_ps(2.443315711809948e-5f), z, _mm256_set1_ps(-1.388731625493765e-3f));
  cp = _mm256_fmadd_ps(cp, z, _mm256_set1_ps(4.166664568298827e-2f));
  cp = _mm256_fmadd_ps(_mm256_mul_ps(cp, z), z, _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, _mm256_set1_ps(1.0f)));
  const __m256i quad = _mm256_and_si256(_mm256_cvttps_epi32(q), _mm256_set1_epi32(3));
  const __m256 swap = _mm256_castsi256_ps(
      _mm256_cmpeq_epi32(_mm256_and_si256(quad, _mm256_set1_epi32(1)), _mm256_set1_epi32(1)));
  const __m256 bs = _mm256_blendv_ps(sp, cp, swap);
  const __m256 bc = _mm256_blendv_ps(cp, sp, swap);
  const __m256i two = _mm256_set1_epi32(2);
  const __m256i sign_s = _mm256_slli_epi32(_mm256_and_si256(quad, two), 30);
  const __m256i sign_c =
      _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(quad, _mm256_set1_epi32(1)), two), 30);
  s = _mm256_xor_ps(bs, _mm256_castsi256_ps(sign_s));
  c = _mm256_xor_ps(bc, _mm256_castsi256_ps(sign_c));
}

inline void box_muller8(__m256i a, __m256i b, __m256& z0, __m256& z1) {
  const __m256 r = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), log_unit8(open_unit8(a))));
  __m256 s, c;
  sincos_turns8(open_unit8(b), s, c);
  z0 = _mm256_mul_ps(r, c);
  z1 = _mm256_mul_ps(r, s);
}

// 32 normals in pixel order from the four words of 8 blocks (see gaussian4).
inline void normals32(const __m256i w[4], __m256 out[4]) {
  __m256 z0, z1, z2, z3;
  box_muller8(w[0], w[1], z0, z1);
  box_muller8(w[2], w[3], z2, z3);
  // transpose: lane l of z_m is pixel 4l + m
  const __m256 t0 = _mm256_unpacklo_ps(z0, z1), t1 = _mm256_unpackhi_ps(z0, z1);
  const __m256 t2 = _mm256_unpacklo_ps(z2, z3), t3 = _mm256_unpackhi_ps(z2, z3);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  out[0] = _mm256_permute2f128_ps(u0, u1, 0x20);
  out[1] = _mm256_permute2f128_ps(u2, u3, 0x20);
  out[2] = _mm256_permute2f128_ps(u0, u1, 0x31);
  out[3] = _mm256_permute2f128_ps(u2, u3, 0x31);
}

inline __m128i bf16x8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                         _mm256_set1_epi32(0x7f800000));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(
      _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
  return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

