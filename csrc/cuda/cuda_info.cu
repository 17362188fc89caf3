// Device discovery through the static CUDA runtime; never throws, so importing emkit._C
// on a machine without a driver works and simply reports "no device".
#include <cuda_runtime.h>

#include "emkit/cuda_info.h"

namespace emkit {

CudaInfo query_cuda() {
  CudaInfo info;
  cudaRuntimeGetVersion(&info.runtime_version);
  if (cudaDriverGetVersion(&info.driver_version) != cudaSuccess) info.driver_version = 0;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    info.error = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return info;
  }
  info.device_count = count;
  if (count > 0) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      info.device_name = prop.name;
      info.capability_major = prop.major;
      info.capability_minor = prop.minor;
    }
  }
  return info;
}

std::string cuda_stream_synchronize(void* stream) {
  const cudaError_t err = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
}

}  // namespace emkit
