// CUDA entry points of the fused degradation op: the launch logic lives in
// degrade_launch.cuh (shared with the CPU emulation the tests run), the device code in
// degrade_kernel.cuh; this file only supplies the real `<<<...>>>` launch.
#include <cuda_runtime.h>

#include <cstdint>

#define EMKIT_LAUNCH(kernel, grid, block, stream, ...) \
  kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)

#include "degrade_launch.cuh"
#include "emkit/degrade.h"

namespace emkit {

int64_t degrade_cuda_workspace_bytes(int64_t batch) { return degrade_dev::workspace_bytes(batch); }

const char* degrade_cuda(const DegradeArgs& a, void* cuda_stream) {
  return degrade_dev::run(a, cuda_stream);
}

}  // namespace emkit
