// AVX2 warp of the CPU degradation kernel: 8-pixel bilinear/nearest sampling of a row run.
//
// Coordinates: one double base per run (split into integer and fraction) plus float lane
// offsets k * d (|k * d| < ~100, error < 1e-5 pixel, no accumulation). Borders: the
// continuous coordinate is reflected at most once (rows reaching further out go to the
// scalar path of degrade_math.h) and folded onto an in-image pixel pair, which is exact for
// bilinear interpolation of the half-sample symmetric extension. Fetches: two pair gathers
// on the plane, or one quad gather on the plane's row-pair copy (half the elements).
// Only for degrade_cpu_avx2.cpp, which includes it inside its AVX2 target region and the
// emkit::degrade anonymous namespace (internal linkage, compiled with AVX2 + FMA).
#pragma once

// Each loader returns raw (unscaled) values as float. 8/16-bit gathers read the aligned-
// to-the-left 32-bit word that ends at the wanted element (or starts at the plane's first
// byte), so they never read outside the plane; the plane must hold >= 4 bytes.
struct LoadU8 {
  static __m256 one(const void* base, __m256i idx) {
    const __m256i addr = _mm256_max_epi32(_mm256_sub_epi32(idx, _mm256_set1_epi32(3)),
                                          _mm256_setzero_si256());
    const __m256i word = _mm256_i32gather_epi32(static_cast<const int*>(base), addr, 1);
    const __m256i sh = _mm256_slli_epi32(_mm256_sub_epi32(idx, addr), 3);
    return _mm256_cvtepi32_ps(
        _mm256_and_si256(_mm256_srlv_epi32(word, sh), _mm256_set1_epi32(0xff)));
  }
  // Elements idx and idx + 1 (idx + 1 inside the plane).
  static void pair(const void* base, __m256i idx, __m256& lo, __m256& hi) {
    const __m256i addr = _mm256_max_epi32(_mm256_sub_epi32(idx, _mm256_set1_epi32(2)),
                                          _mm256_setzero_si256());
    const __m256i word = _mm256_i32gather_epi32(static_cast<const int*>(base), addr, 1);
    const __m256i sh = _mm256_slli_epi32(_mm256_sub_epi32(idx, addr), 3);
    const __m256i mask = _mm256_set1_epi32(0xff);
    const __m256i shifted = _mm256_srlv_epi32(word, sh);
    lo = _mm256_cvtepi32_ps(_mm256_and_si256(shifted, mask));
    hi = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(shifted, 8), mask));
  }
};

struct LoadU16 {
  static __m256 one(const void* base, __m256i idx) {
    const __m256i addr = _mm256_max_epi32(_mm256_sub_epi32(idx, _mm256_set1_epi32(1)),
                                          _mm256_setzero_si256());
    const __m256i word = _mm256_i32gather_epi32(static_cast<const int*>(base), addr, 2);
    const __m256i sh = _mm256_slli_epi32(_mm256_sub_epi32(idx, addr), 4);
    return _mm256_cvtepi32_ps(
        _mm256_and_si256(_mm256_srlv_epi32(word, sh), _mm256_set1_epi32(0xffff)));
  }
  static void pair(const void* base, __m256i idx, __m256& lo, __m256& hi) {
    const __m256i word = _mm256_i32gather_epi32(static_cast<const int*>(base), idx, 2);
    lo = _mm256_cvtepi32_ps(_mm256_and_si256(word, _mm256_set1_epi32(0xffff)));
    hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(word, 16));
  }
};

struct LoadF32 {
  static __m256 one(const void* base, __m256i idx) {
    return _mm256_i32gather_ps(static_cast<const float*>(base), idx, 4);
  }
  static void pair(const void* base, __m256i idx, __m256& lo, __m256& hi) {
    lo = _mm256_i32gather_ps(static_cast<const float*>(base), idx, 4);
    hi = _mm256_i32gather_ps(static_cast<const float*>(base), _mm256_add_epi32(idx, _mm256_set1_epi32(1)), 4);
  }
};

// Row-pair copies: element (y, x) of a plane's pair copy packs in[y][x] and in[y + 1][x]
// (y < h - 1), so a single gather element at (y0, x0) .. (y0, x0 + 1) holds the whole 2x2
// neighbourhood: half the gathered elements of two pair gathers on the plane itself.
// Each quad loader returns a = in[y0][x0], b = in[y0][x0 + 1], c = in[y0 + 1][x0],
// d = in[y0 + 1][x0 + 1] (raw values as float) for x0 <= w - 2, y0 <= h - 2.
struct QuadU8 {  // pair element: uint16 (top | bottom << 8)
  static void quad(const void* pairs, __m256i idx, __m256& a, __m256& b, __m256& c, __m256& d) {
    const __m256i w = _mm256_i32gather_epi32(static_cast<const int*>(pairs), idx, 2);
    const __m256i m = _mm256_set1_epi32(0xff);
    a = _mm256_cvtepi32_ps(_mm256_and_si256(w, m));
    c = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(w, 8), m));
    b = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(w, 16), m));
    d = _mm256_cvtepi32_ps(_mm256_srli_epi32(w, 24));
  }
};

// Two 4-lane 64-bit gathers -> the low and high 32-bit halves of 8 lanes, in lane order.
inline void gather64x8(const void* base, __m256i idx, int scale_is_8, __m256i& lo32, __m256i& hi32) {
  const long long* p = static_cast<const long long*>(base);
  const __m128i i0 = _mm256_castsi256_si128(idx), i1 = _mm256_extracti128_si256(idx, 1);
  const __m256i q0 = scale_is_8 ? _mm256_i32gather_epi64(p, i0, 8) : _mm256_i32gather_epi64(p, i0, 4);
  const __m256i q1 = scale_is_8 ? _mm256_i32gather_epi64(p, i1, 8) : _mm256_i32gather_epi64(p, i1, 4);
  const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m256i e0 = _mm256_permutevar8x32_epi32(q0, order);  // [lo0..lo3, hi0..hi3]
  const __m256i e1 = _mm256_permutevar8x32_epi32(q1, order);
  lo32 = _mm256_permute2x128_si256(e0, e1, 0x20);
  hi32 = _mm256_permute2x128_si256(e0, e1, 0x31);
}

struct QuadU16 {  // pair element: uint32 (top | bottom << 16); one 64-bit gather = 2 columns
  static void quad(const void* pairs, __m256i idx, __m256& a, __m256& b, __m256& c, __m256& d) {
    __m256i ac, bd;
    gather64x8(pairs, idx, 0, ac, bd);
    const __m256i m = _mm256_set1_epi32(0xffff);
    a = _mm256_cvtepi32_ps(_mm256_and_si256(ac, m));
    c = _mm256_cvtepi32_ps(_mm256_srli_epi32(ac, 16));
    b = _mm256_cvtepi32_ps(_mm256_and_si256(bd, m));
    d = _mm256_cvtepi32_ps(_mm256_srli_epi32(bd, 16));
  }
};

struct QuadF32 {  // pair element: two floats (top, bottom)
  static void quad(const void* pairs, __m256i idx, __m256& a, __m256& b, __m256& c, __m256& d) {
    __m256i ai, ci, bi, di;
    gather64x8(pairs, idx, 1, ai, ci);
    gather64x8(pairs, _mm256_add_epi32(idx, _mm256_set1_epi32(1)), 1, bi, di);
    a = _mm256_castsi256_ps(ai);
    c = _mm256_castsi256_ps(ci);
    b = _mm256_castsi256_ps(bi);
    d = _mm256_castsi256_ps(di);
  }
};

// Builds the row-pair copy of an h x w plane (h >= 2) into `out`.
inline void build_pairs_u8(const uint8_t* in, int64_t h, int64_t w, uint16_t* out) {
  for (int64_t y = 0; y + 1 < h; ++y) {
    const uint8_t* t = in + y * w;
    const uint8_t* u = t + w;
    uint16_t* o = out + y * w;
    int64_t x = 0;
    for (; x + 32 <= w; x += 32) {
      const __m256i vt = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + x));
      const __m256i vu = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + x));
      const __m256i lo = _mm256_unpacklo_epi8(vt, vu), hi = _mm256_unpackhi_epi8(vt, vu);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + x), _mm256_permute2x128_si256(lo, hi, 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + x + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    for (; x < w; ++x) o[x] = static_cast<uint16_t>(t[x] | (u[x] << 8));
  }
}

inline void build_pairs_u16(const uint16_t* in, int64_t h, int64_t w, uint32_t* out) {
  for (int64_t y = 0; y + 1 < h; ++y) {
    const uint16_t* t = in + y * w;
    const uint16_t* u = t + w;
    uint32_t* o = out + y * w;
    int64_t x = 0;
    for (; x + 16 <= w; x += 16) {
      const __m256i vt = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + x));
      const __m256i vu = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + x));
      const __m256i lo = _mm256_unpacklo_epi16(vt, vu), hi = _mm256_unpackhi_epi16(vt, vu);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + x), _mm256_permute2x128_si256(lo, hi, 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + x + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    for (; x < w; ++x) o[x] = static_cast<uint32_t>(t[x]) | (static_cast<uint32_t>(u[x]) << 16);
  }
}

inline void build_pairs_f32(const float* in, int64_t h, int64_t w, float* out) {
  for (int64_t y = 0; y + 1 < h; ++y) {
    const float* t = in + y * w;
    const float* u = t + w;
    float* o = out + 2 * y * w;
    int64_t x = 0;
    for (; x + 8 <= w; x += 8) {
      const __m256 vt = _mm256_loadu_ps(t + x), vu = _mm256_loadu_ps(u + x);
      const __m256 lo = _mm256_unpacklo_ps(vt, vu), hi = _mm256_unpackhi_ps(vt, vu);
      _mm256_storeu_ps(o + 2 * x, _mm256_permute2f128_ps(lo, hi, 0x20));
      _mm256_storeu_ps(o + 2 * x + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
    for (; x < w; ++x) {
      o[2 * x] = t[x];
      o[2 * x + 1] = u[x];
    }
  }
}

// 2x2 neighbourhood fetchers used by bilinear8: two pair gathers on the plane itself, or
// one quad gather on the plane's row-pair copy.
template <class L>
struct PlaneFetch {
  const void* plane;
  __m256i wv;
  void operator()(__m256i idx, __m256& a, __m256& b, __m256& c, __m256& d) const {
    L::pair(plane, idx, a, b);
    L::pair(plane, _mm256_add_epi32(idx, wv), c, d);
  }
};

template <class Q>
struct PairsFetch {
  const void* pairs;
  void operator()(__m256i idx, __m256& a, __m256& b, __m256& c, __m256& d) const {
    Q::quad(pairs, idx, a, b, c, d);
  }
};

// Half-sample symmetric reflection of integer indices, valid for k in [-n, 2n - 1].
inline __m256i reflect_once(__m256i k, __m256i two_n_minus_1) {
  const __m256i m = _mm256_xor_si256(k, _mm256_srai_epi32(k, 31));  // k < 0: -1 - k
  return _mm256_min_epi32(m, _mm256_sub_epi32(two_n_minus_1, m));
}

// Reflects the continuous index coordinate k + f (f in [0, 1)) about the image edges -0.5
// and n - 0.5 (exact for bilinear interpolation of the symmetric extension), then moves
// the edge cells onto an in-image pair: cell -1 (pixels 0, 0) becomes (0, f = 0) and cell
// n - 1 (pixels n-1, n-1) becomes (n - 2, f = 1). Afterwards k is in [0, n - 2] and the
// pair (k, k + 1) is inside the image. Valid for k in [-n - 1, 2n - 1], n >= 2.
inline void fold_cell(__m256i& k, __m256& f, __m256i n_minus_1, __m256i two_n_minus_2) {
  const __m256i minus1 = _mm256_set1_epi32(-1);
  const __m256i lo = _mm256_cmpgt_epi32(minus1, k);     // k < -1
  const __m256i hi = _mm256_cmpgt_epi32(k, n_minus_1);  // k > n - 1
  const __m256i kr = _mm256_blendv_epi8(
      k, _mm256_sub_epi32(_mm256_blendv_epi8(_mm256_set1_epi32(-2), two_n_minus_2, hi), k),
      _mm256_or_si256(lo, hi));
  const __m256 flip = _mm256_castsi256_ps(_mm256_or_si256(lo, hi));
  f = _mm256_blendv_ps(f, _mm256_sub_ps(_mm256_set1_ps(1.0f), f), flip);
  const __m256 at_lo = _mm256_castsi256_ps(_mm256_cmpeq_epi32(kr, minus1));
  const __m256 at_hi = _mm256_castsi256_ps(_mm256_cmpeq_epi32(kr, n_minus_1));
  f = _mm256_blendv_ps(_mm256_blendv_ps(f, _mm256_setzero_ps(), at_lo), _mm256_set1_ps(1.0f), at_hi);
  k = _mm256_min_epi32(_mm256_max_epi32(kr, _mm256_setzero_si256()),
                       _mm256_add_epi32(n_minus_1, minus1));
}

// Where a row segment's footprint [lo, hi] (index coordinates along an axis of n pixels)
// lies: 2 = inside the image with its right/bottom neighbour (no reflection needed),
// 1 = within one reflection (SIMD fold), 0 = further out (scalar path). A margin absorbs
// the float lane offsets.
inline int footprint_kind(double lo, double hi, int64_t n, bool nearest) {
  const double eps = 1.0 / 64.0;
  if (!(lo == lo) || !(hi == hi)) return 0;
  const double nd = static_cast<double>(n);
  if (nearest) return (lo + 0.5 >= -nd + eps && hi + 0.5 <= 2.0 * nd - 1.0 - eps) ? 1 : 0;
  if (lo >= eps && hi <= nd - 1.0 - eps) return 2;
  return (lo >= -nd - 1.0 + eps && hi <= 2.0 * nd - eps) ? 1 : 0;
}

// Bilinear value of 8 pixels whose index coordinates are (iu + tu, iv + tv).
template <bool kFold, class F>
inline __m256 bilinear8(const F& fetch, __m256i iu, __m256i iv, __m256 tu, __m256 tv, __m256i wv,
                        __m256i w1, __m256i h1, __m256i w2, __m256i h2) {
  const __m256 flu = _mm256_floor_ps(tu), flv = _mm256_floor_ps(tv);
  __m256 fx = _mm256_sub_ps(tu, flu), fy = _mm256_sub_ps(tv, flv);
  __m256i x0 = _mm256_add_epi32(iu, _mm256_cvttps_epi32(flu));
  __m256i y0 = _mm256_add_epi32(iv, _mm256_cvttps_epi32(flv));
  if (kFold) {
    fold_cell(x0, fx, w1, w2);
    fold_cell(y0, fy, h1, h2);
  }
  __m256 a, b, c, d;
  fetch(_mm256_add_epi32(_mm256_mullo_epi32(y0, wv), x0), a, b, c, d);
  const __m256 top = _mm256_fmadd_ps(fx, _mm256_sub_ps(b, a), a);
  const __m256 bot = _mm256_fmadd_ps(fx, _mm256_sub_ps(d, c), c);
  return _mm256_fmadd_ps(fy, _mm256_sub_ps(bot, top), top);
}

template <bool kFold, class F>
inline int64_t bilinear_run(const F& fetch, int64_t n, __m256i iu, __m256i iv, __m256 fru,
                            __m256 frv, __m256 duf, __m256 dvf, __m256i wv, __m256i w1,
                            __m256i h1, __m256i w2, __m256i h2, __m256 vscale, float* dst) {
  const __m256 eight = _mm256_set1_ps(8.0f);
  __m256 k = _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f);
  int64_t g = 0;
  for (; g + 8 <= n; g += 8, k = _mm256_add_ps(k, eight)) {
    const __m256 v = bilinear8<kFold>(fetch, iu, iv, _mm256_fmadd_ps(k, duf, fru),
                                      _mm256_fmadd_ps(k, dvf, frv), wv, w1, h1, w2, h2);
    _mm256_storeu_ps(dst + g, _mm256_mul_ps(v, vscale));
  }
  return g;
}

// Warps pixels [0, n) of a row segment (n <= kMaxSimdRun); coordinates are the double
// start split into an integer and a fraction plus float offsets k * d (|k * d| < ~100,
// error < 1e-5 pixel). Returns how many pixels it wrote (a multiple of 8).
constexpr int64_t kMaxSimdRun = 64;

template <class L, class Q>
int64_t warp_row_simd(const void* plane, const void* pairs, int64_t h, int64_t w, double ru,
                      double rv, double du, double dv, int64_t n, bool nearest, bool interior,
                      float scale, float* dst) {
  const double fbu = std::floor(ru), fbv = std::floor(rv);
  const __m256i iu = _mm256_set1_epi32(static_cast<int>(fbu));
  const __m256i iv = _mm256_set1_epi32(static_cast<int>(fbv));
  const __m256 fru = _mm256_set1_ps(static_cast<float>(ru - fbu));
  const __m256 frv = _mm256_set1_ps(static_cast<float>(rv - fbv));
  const __m256 duf = _mm256_set1_ps(static_cast<float>(du));
  const __m256 dvf = _mm256_set1_ps(static_cast<float>(dv));
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256i wv = _mm256_set1_epi32(static_cast<int>(w));
  const __m256i w1 = _mm256_set1_epi32(static_cast<int>(w - 1));
  const __m256i h1 = _mm256_set1_epi32(static_cast<int>(h - 1));
  const __m256i w2 = _mm256_set1_epi32(static_cast<int>(2 * w - 2));
  const __m256i h2 = _mm256_set1_epi32(static_cast<int>(2 * h - 2));
  if (nearest) {
    const __m256i rw = _mm256_set1_epi32(static_cast<int>(2 * w - 1));
    const __m256i rh = _mm256_set1_epi32(static_cast<int>(2 * h - 1));
    const __m256 half = _mm256_set1_ps(0.5f), eight = _mm256_set1_ps(8.0f);
    __m256 k = _mm256_setr_ps(0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f);
    int64_t g = 0;
    for (; g + 8 <= n; g += 8, k = _mm256_add_ps(k, eight)) {
      const __m256 tu = _mm256_fmadd_ps(k, duf, _mm256_add_ps(fru, half));
      const __m256 tv = _mm256_fmadd_ps(k, dvf, _mm256_add_ps(frv, half));
      const __m256i x = reflect_once(_mm256_add_epi32(iu, _mm256_cvttps_epi32(_mm256_floor_ps(tu))), rw);
      const __m256i y = reflect_once(_mm256_add_epi32(iv, _mm256_cvttps_epi32(_mm256_floor_ps(tv))), rh);
      const __m256 out = L::one(plane, _mm256_add_epi32(_mm256_mullo_epi32(y, wv), x));
      _mm256_storeu_ps(dst + g, _mm256_mul_ps(out, vscale));
    }
    return g;
  }
  if (pairs != nullptr) {
    const PairsFetch<Q> f{pairs};
    return interior ? bilinear_run<false>(f, n, iu, iv, fru, frv, duf, dvf, wv, w1, h1, w2, h2, vscale, dst)
                    : bilinear_run<true>(f, n, iu, iv, fru, frv, duf, dvf, wv, w1, h1, w2, h2, vscale, dst);
  }
  const PlaneFetch<L> f{plane, wv};
  return interior ? bilinear_run<false>(f, n, iu, iv, fru, frv, duf, dvf, wv, w1, h1, w2, h2, vscale, dst)
                  : bilinear_run<true>(f, n, iu, iv, fru, frv, duf, dvf, wv, w1, h1, w2, h2, vscale, dst);
}

template <typename T>
void warp_row_scalar(const T* plane, int64_t h, int64_t w, const SampleSetup& s, int64_t i,
                     int64_t j0, int64_t from, int64_t n, bool nearest, float scale, float* dst) {
  const double ru = s.u0 + static_cast<double>(i) * s.du_di;
  const double rv = s.v0 + static_cast<double>(i) * s.dv_di;
  for (int64_t k = from; k < n; ++k) {
    const double j = static_cast<double>(j0 + k);
    const double fu = ru + j * s.du_dj, fv = rv + j * s.dv_dj;
    dst[k] = nearest ? sample_nearest(plane, h, w, fu, fv, scale)
                     : sample_bilinear(plane, h, w, fu, fv, scale);
  }
}

