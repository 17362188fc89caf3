// Queries of the statically linked CUDA runtime (only compiled with EMKIT_WITH_CUDA).
#pragma once

#include <string>
#include <utility>

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

// (major, minor) compute capability of `device` as emkit's own (static) runtime sees it;
// throws std::runtime_error naming the CUDA error when the runtime cannot use the device
// (e.g. a driver older than the runtime). Never leaves a stale error behind.
std::pair<int, int> cuda_device_capability(int device);

// Clears the runtime's last (non-sticky) error; returns its text, empty when none.
std::string cuda_clear_error();

// Synchronize the given stream; returns an empty string or the CUDA error.
std::string cuda_stream_synchronize(void* stream);

}  // namespace emkit
