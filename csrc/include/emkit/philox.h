// Philox4x32-10 counter-based random number generator (Salmon et al., SC'11),
// written once for host and device code.
//
// Why counter-based: every random number is a pure function of (key, counter),
// so a kernel can give pixel p of sample b its own counter and get identical
// noise whatever the thread count, tile shape or device.
#pragma once

#include <cstdint>

#include "emkit/platform.h"

namespace emkit {

struct Philox4x32 {
  uint32_t v[4];
};

namespace philox_detail {
constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kW1 = 0xBB67AE85u;  // sqrt(3) - 1

EMKIT_HD void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

EMKIT_HD void round(uint32_t c[4], const uint32_t k[2]) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo(kM0, c[0], hi0, lo0);
  mulhilo(kM1, c[2], hi1, lo1);
  const uint32_t n0 = hi1 ^ c[1] ^ k[0];
  const uint32_t n2 = hi0 ^ c[3] ^ k[1];
  c[0] = n0;
  c[1] = lo1;
  c[2] = n2;
  c[3] = lo0;
}
}  // namespace philox_detail

// The 10-round Philox4x32 bijection of `counter` under `key`.
EMKIT_HD Philox4x32 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3,
                                  uint32_t k0, uint32_t k1) {
  uint32_t c[4] = {c0, c1, c2, c3};
  uint32_t k[2] = {k0, k1};
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k[0] += philox_detail::kW0;
      k[1] += philox_detail::kW1;
    }
    philox_detail::round(c, k);
  }
  return Philox4x32{{c[0], c[1], c[2], c[3]}};
}

// Uniform float in the open interval (0, 1) from 32 random bits (never 0, so log() is safe).
EMKIT_HD float uint32_to_open_unit(uint32_t x) {
  return (static_cast<float>(x >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

// Stream layout used by all emkit kernels: 64-bit seed -> key, (stream, index) -> counter.
// `stream` separates independent uses inside one call (e.g. noise vs. Poisson);
// `index` is a 64-bit element index (sample * pixels + pixel).
EMKIT_HD Philox4x32 philox_at(uint64_t seed, uint32_t stream, uint64_t index) {
  return philox4x32_10(static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), stream,
                       0u, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

}  // namespace emkit
