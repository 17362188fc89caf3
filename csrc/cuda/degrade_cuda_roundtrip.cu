// degrade_cuda on host buffers, for the first-use self-check (python/emkit/ops/self_check.py):
// it runs in a child process that has no torch, so this allocates the device copies itself,
// launches on a private stream, waits and copies the outputs back. A kernel that faults
// leaves a sticky error in that child's context only.
#include <cuda_runtime.h>

#include <cstdint>

#include "emkit/degrade.h"

namespace emkit {
namespace {

// Device buffers of one round trip, freed on every exit path.
struct DeviceBuffers {
  void* ptr[6] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  ~DeviceBuffers() {
    for (void* p : ptr)
      if (p != nullptr) cudaFree(p);
  }
};

int64_t elem_bytes(InDType t) { return t == InDType::kUInt8 ? 1 : (t == InDType::kUInt16 ? 2 : 4); }

}  // namespace

const char* degrade_cuda_host_roundtrip(const DegradeArgs& host, int device,
                                        bool seed_in_device_memory) {
  if (host.input == nullptr || host.params == nullptr) return "null input or params";
  if (host.batch <= 0 || host.channels <= 0 || host.out_h <= 0 || host.out_w <= 0)
    return "sizes must be positive";
  cudaError_t err = cudaSetDevice(device);
  if (err != cudaSuccess) return cudaGetErrorString(err);
  const int64_t planes = host.batch * host.channels;
  const size_t in_bytes = static_cast<size_t>(planes * host.in_h * host.in_w * elem_bytes(host.in_dtype));
  const size_t out_bytes = static_cast<size_t>(planes * host.out_h * host.out_w *
                                               (host.out_dtype == OutDType::kBFloat16 ? 2 : 4));
  const size_t param_bytes = static_cast<size_t>(host.batch * kParamCount) * sizeof(float);
  const size_t sizes[6] = {in_bytes, param_bytes, host.out_clean ? out_bytes : 0,
                           host.out_degraded ? out_bytes : 0,
                           static_cast<size_t>(degrade_cuda_workspace_bytes(host.batch)), sizeof(int64_t)};
  DeviceBuffers d;
  for (int k = 0; k < 6; ++k)
    if (sizes[k] > 0 && (err = cudaMalloc(&d.ptr[k], sizes[k])) != cudaSuccess)
      return cudaGetErrorString(err);
  const int64_t seed = static_cast<int64_t>(host.seed);
  if ((err = cudaMemcpy(d.ptr[0], host.input, in_bytes, cudaMemcpyHostToDevice)) != cudaSuccess ||
      (err = cudaMemcpy(d.ptr[1], host.params, param_bytes, cudaMemcpyHostToDevice)) != cudaSuccess ||
      (err = cudaMemcpy(d.ptr[5], &seed, sizeof(seed), cudaMemcpyHostToDevice)) != cudaSuccess)
    return cudaGetErrorString(err);
  DegradeArgs a = host;
  a.input = d.ptr[0];
  a.params = static_cast<const float*>(d.ptr[1]);
  a.out_clean = d.ptr[2];
  a.out_degraded = d.ptr[3];
  a.workspace = d.ptr[4];
  a.seed = seed_in_device_memory ? 0 : host.seed;  // a wrong seed path would show in the noise
  a.seed_device = seed_in_device_memory ? static_cast<const int64_t*>(d.ptr[5]) : nullptr;
  cudaStream_t stream = nullptr;
  if ((err = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)) != cudaSuccess)
    return cudaGetErrorString(err);
  const char* launch_error = degrade_cuda(a, stream);
  err = cudaStreamSynchronize(stream);
  cudaStreamDestroy(stream);
  if (launch_error != nullptr) return launch_error;
  if (err != cudaSuccess) return cudaGetErrorString(err);
  if (host.out_clean != nullptr &&
      (err = cudaMemcpy(host.out_clean, d.ptr[2], out_bytes, cudaMemcpyDeviceToHost)) != cudaSuccess)
    return cudaGetErrorString(err);
  if (host.out_degraded != nullptr &&
      (err = cudaMemcpy(host.out_degraded, d.ptr[3], out_bytes, cudaMemcpyDeviceToHost)) != cudaSuccess)
    return cudaGetErrorString(err);
  return nullptr;
}

}  // namespace emkit
