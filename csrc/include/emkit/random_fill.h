// Reference "prove the chain" kernel: fill a buffer with Philox4x32-10 output.
// Element i of the output is word (i % 4) of philox_at(seed, stream, offset + i / 4),
// identical on CPU (any thread count) and CUDA.
#pragma once

#include <cstdint>

namespace emkit {

void philox_fill_cpu(uint32_t* out, int64_t n, uint64_t seed, uint32_t stream, uint64_t offset,
                     int num_threads);

#if defined(EMKIT_WITH_CUDA)
// Asynchronous on `stream` (a cudaStream_t passed as an integer handle). Returns a CUDA error
// string or nullptr on success.
const char* philox_fill_cuda(uint32_t* out, int64_t n, uint64_t seed, uint32_t stream_id,
                             uint64_t offset, void* cuda_stream);
#endif

}  // namespace emkit
