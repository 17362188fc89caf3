// Host C++ stand-ins for the CUDA features degrade_kernel.cuh and degrade_launch.cuh use, so
// that both compile unmodified as ordinary C++ and run on the CPU (cuda_emulator.cpp).
//
// * Each CUDA thread of a block is a fiber; blocks run one after another. __syncthreads()
//   switches back to the scheduler, which resumes the block's fibers in the chosen order
//   once all of them have arrived (a barrier some threads skip, or reach at a different
//   call site, is reported as an error).
// * `__shared__` becomes `extern`: a block-scope extern declaration names a namespace-scope
//   variable, which cuda_emulator.cpp defines -- one buffer, the running block's, between
//   guard zones, refilled with NaN before each block.
// * __ldg checks that the address lies inside the input buffer; vector stores check their
//   alignment and bounds; the scalar stores are caught by the outputs' guard zones.
#pragma once

#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ extern

namespace emu {

struct Dim3 {
  unsigned x = 0, y = 0, z = 0;
};
extern Dim3 thread_idx, block_idx, block_dim, grid_dim;

void syncthreads();
int syncthreads_or(int value);
// Records a violation (the first one is reported by the launch that made it).
void fail(const char* what, const void* where);
bool readable(const void* p, size_t bytes);   // inside the call's input buffer
bool writable(const void* p, size_t bytes);   // inside one of the call's output buffers

}  // namespace emu

#define threadIdx ::emu::thread_idx
#define blockIdx ::emu::block_idx
#define blockDim ::emu::block_dim
#define gridDim ::emu::grid_dim

inline void __syncthreads() { ::emu::syncthreads(); }
inline int __syncthreads_or(int value) { return ::emu::syncthreads_or(value); }

template <typename T>
inline T __ldg(const T* p) {
  if (!::emu::readable(p, sizeof(T))) {
    ::emu::fail("out-of-bounds input read (__ldg)", p);
    return T();
  }
  return *p;
}

inline int atomicAdd(int* p, int v) {  // fibers never interleave between barriers
  const int old = *p;
  *p = v + old;
  return old;
}

struct float4 {
  float x, y, z, w;
  float4() = default;
  float4(const float4&) = default;
  float4& operator=(const float4& o) {
    if (reinterpret_cast<uintptr_t>(this) % 16 != 0 || !::emu::writable(this, sizeof(float4))) {
      ::emu::fail("misaligned or out-of-bounds float4 store", this);
      return *this;
    }
    x = o.x, y = o.y, z = o.z, w = o.w;
    return *this;
  }
};
struct uint2 {
  uint32_t x, y;
  uint2() = default;
  uint2(const uint2&) = default;
  uint2& operator=(const uint2& o) {
    if (reinterpret_cast<uintptr_t>(this) % 8 != 0 || !::emu::writable(this, sizeof(uint2))) {
      ::emu::fail("misaligned or out-of-bounds uint2 store", this);
      return *this;
    }
    x = o.x, y = o.y;
    return *this;
  }
};
inline float4 make_float4(float x, float y, float z, float w) {
  float4 r;
  r.x = x, r.y = y, r.z = z, r.w = w;
  return r;
}
inline uint2 make_uint2(uint32_t x, uint32_t y) {
  uint2 r;
  r.x = x, r.y = y;
  return r;
}

// floorf, fminf, fmaxf, fmaf, ::floor ...: the C library's (IEEE-exact like the GPU's).

// ------------------------------------------------------------ runtime API subset ------
enum cudaError_t { cudaSuccess = 0, cudaErrorLaunchFailure = 719 };
using cudaStream_t = void*;
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16 };
cudaError_t cudaGetLastError();
const char* cudaGetErrorString(cudaError_t err);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);

namespace emu {
// Runs `kernel(args...)` over `grid` blocks of `block` threads (cuda_emulator.cpp).
template <typename... P, typename... A>
void launch(void (*kernel)(P...), unsigned grid, unsigned block, A... args);
}  // namespace emu

#define EMKIT_LAUNCH(kernel, grid, block, stream, ...) \
  ::emu::launch(kernel, (grid), (block), __VA_ARGS__)
