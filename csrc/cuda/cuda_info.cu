// Device discovery through the static CUDA runtime; never throws, so importing emkit._C
// on a machine without a driver works and simply reports "no device".
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

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
    const cudaError_t perr = cudaGetDeviceProperties(&prop, 0);
    if (perr == cudaSuccess) {
      info.device_name = prop.name;
      info.capability_major = prop.major;
      info.capability_minor = prop.minor;
    } else {
      info.error = cudaGetErrorString(perr);
      info.device_count = 0;
      cudaGetLastError();  // do not leave the failed query for the next launch check
    }
  }
  return info;
}

std::pair<int, int> cuda_device_capability(int device) {
  int major = 0, minor = 0;
  cudaError_t err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  if (err == cudaSuccess)
    err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  if (err != cudaSuccess) {
    cudaGetLastError();  // a failed query must not surface as the next kernel's error
    throw std::runtime_error(std::string("emkit's CUDA runtime cannot use device ") +
                             std::to_string(device) + ": " + cudaGetErrorString(err));
  }
  return {major, minor};
}

std::string cuda_clear_error() {
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
}

std::string cuda_stream_synchronize(void* stream) {
  const cudaError_t err = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  return err == cudaSuccess ? std::string() : std::string(cudaGetErrorString(err));
}

}  // namespace emkit
