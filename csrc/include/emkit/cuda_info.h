// Queries of the statically linked CUDA runtime (only compiled with EMKIT_WITH_CUDA).
#pragma once

#include <string>

namespace emkit {

struct CudaInfo {
  int runtime_version = 0;  // e.g. 13000
  int driver_version = 0;   // 0 when no driver is installed
  int device_count = 0;     // 0 when no usable device
  std::string error;        // why no device is usable, empty otherwise
  std::string device_name;  // name of device 0
  int capability_major = 0;
  int capability_minor = 0;
};

CudaInfo query_cuda();

// Synchronize the given stream; returns an empty string or the CUDA error.
std::string cuda_stream_synchronize(void* stream);

}  // namespace emkit
