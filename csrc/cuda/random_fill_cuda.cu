// CUDA Philox fill: one thread per block of four words, same layout as the CPU kernel.
#include <cuda_runtime.h>

#include "emkit/philox.h"
#include "emkit/random_fill.h"

namespace emkit {
namespace {

__global__ void philox_fill_kernel(uint32_t* __restrict__ out, int64_t n, uint64_t seed,
                                   uint32_t stream, uint64_t offset) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t first = b * 4;
  if (first >= n) return;
  const Philox4x32 r = philox_at(seed, stream, offset + static_cast<uint64_t>(b));
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    if (first + w < n) out[first + w] = r.v[w];
  }
}

}  // namespace

const char* philox_fill_cuda(uint32_t* out, int64_t n, uint64_t seed, uint32_t stream_id,
                             uint64_t offset, void* cuda_stream) {
  if (n <= 0) return nullptr;
  cudaGetLastError();  // a stale error of an earlier failed call is not this launch's
  const int64_t blocks4 = (n + 3) / 4;
  const int threads = 256;
  const int64_t grid = (blocks4 + threads - 1) / threads;
  philox_fill_kernel<<<static_cast<unsigned>(grid), threads, 0,
                       static_cast<cudaStream_t>(cuda_stream)>>>(out, n, seed, stream_id, offset);
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace emkit
