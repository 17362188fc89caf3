// Fused warp + degradation op: public C++ interface of the CPU and CUDA kernels.
//
// One call turns a batch of input images into warped crops ("clean") and/or their
// blurred + noised versions ("degraded"), reading every input pixel it needs once.
// The semantics (geometry, reflection, blur, Poisson and Gaussian noise, random
// number layout) are written down in python/emkit/ops/_reference.py, which is the
// pure-torch definition both kernels are tested against. The per-pixel maths shared
// by both kernels lives in degrade_math.h.
#pragma once

#include <cstdint>

namespace emkit {

// Columns of the (batch, 8) float32 parameter tensor.
enum DegradeParam : int {
  kParamCx = 0,     // crop centre x, input pixels (pixel k spans [k, k + 1])
  kParamCy = 1,     // crop centre y
  kParamAngle = 2,  // rotation, radians
  kParamScale = 3,  // input pixels per output pixel
  kParamFlip = 4,   // >= 0.5: mirror the output horizontally (x -> -x before rotation)
  kParamSigma = 5,  // Gaussian blur sigma in output pixels; <= 0: no blur
  kParamNoise = 6,  // additive Gaussian noise std; <= 0: none
  kParamDose = 7,   // Poisson shot noise, electrons per unit intensity; <= 0: off
  kParamCount = 8,
};

// Blur limits: sigma is clamped to kMaxBlurSigma, so the radius ceil(3 sigma) never
// exceeds kMaxBlurRadius (fixed shared-memory halo on CUDA).
constexpr float kMaxBlurSigma = 5.0f;
constexpr int kMaxBlurRadius = 15;
// Most channels a call may have (per-channel flags travel as kernel arguments on CUDA).
constexpr int kMaxChannels = 1024;

// Philox stream ids (counter word 2) of the two noise sources.
constexpr uint32_t kGaussianNoiseStream = 1u;
constexpr uint32_t kPoissonNoiseStream = 2u;

enum class InDType : int { kUInt8 = 0, kUInt16 = 1, kFloat32 = 2 };
enum class OutDType : int { kFloat32 = 0, kBFloat16 = 1 };

struct DegradeArgs {
  const void* input = nullptr;  // (batch, channels, in_h, in_w), contiguous
  InDType in_dtype = InDType::kFloat32;
  int64_t batch = 0, channels = 0, in_h = 0, in_w = 0;
  const float* params = nullptr;  // (batch, kParamCount), same device as input
  int64_t out_h = 0, out_w = 0;
  // Either output may be null. `out_clean` receives the warped image; `out_degraded`
  // receives blur + noise of it on degrade channels and the warped image elsewhere.
  void* out_clean = nullptr;
  void* out_degraded = nullptr;
  OutDType out_dtype = OutDType::kFloat32;
  uint64_t seed = 0;
  // CUDA only: when non-null, the seed is read by the kernel from this device word
  // instead of `seed`, so a captured CUDA graph draws new noise when the word changes.
  const int64_t* seed_device = nullptr;
  // CUDA only: degrade_cuda_workspace_bytes(batch) bytes of device memory for the
  // per-sample setup pass (geometry and blur taps, computed once per sample).
  void* workspace = nullptr;
  // Host arrays of `channels` flags (null = all degrade / none nearest). A nearest
  // channel is never blurred or noised.
  const uint8_t* degrade_channels = nullptr;
  const uint8_t* nearest_channels = nullptr;
};

// CPU kernel: a blocking thread pool over (sample, channel, row band); `num_threads` <= 0
// uses every hardware thread. Results do not depend on the thread count. Returns nullptr or an error message.
// The environment variable EMKIT_CPU_ISA=generic forces the portable (non-AVX2) code path.
const char* degrade_cpu(const DegradeArgs& args, int num_threads);

// Name of the CPU code path degrade_cpu would use now ("avx2" or "generic").
const char* degrade_cpu_isa();

#if defined(EMKIT_WITH_CUDA)
// CUDA kernel: a per-sample setup pass and the tile kernel on `cuda_stream`
// (asynchronous). Returns nullptr, a CUDA error, or -- before launching anything -- why
// the arguments cannot run (e.g. input planes of 2^31 pixels or more: 32-bit indices).
const char* degrade_cuda(const DegradeArgs& args, void* cuda_stream);

// Bytes of device workspace degrade_cuda needs for `batch` samples.
int64_t degrade_cuda_workspace_bytes(int64_t batch);

// degrade_cuda on HOST buffers (`host`'s pointers; workspace and seed_device ignored) on
// CUDA device `device`: copies in, launches on a private stream, waits, copies the outputs
// back. With `seed_in_device_memory` the seed is passed through device memory. For the
// first-use self-check, which runs it in a child process. Returns nullptr or an error.
const char* degrade_cuda_host_roundtrip(const DegradeArgs& host, int device, bool seed_in_device_memory);
#endif

}  // namespace emkit
