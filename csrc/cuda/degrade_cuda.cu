// CUDA launcher of the fused degradation op: packs the per-channel flags and sizes into
// kernel arguments and starts, on the caller's stream, the per-sample setup pass and the
// tile kernel in its two variants (without / with Poisson noise; each block of a variant
// whose sample belongs to the other one exits at once), see degrade_kernel.cuh.
#include <cuda_runtime.h>

#include <cstdint>

#include "degrade_kernel.cuh"
#include "emkit/degrade.h"

namespace emkit {
namespace {

using degrade_dev::ChannelFlags;
using degrade_dev::degrade_kernel;
using degrade_dev::KernelArgs;
using degrade_dev::SampleGeom;
using degrade_dev::setup_kernel;
using degrade_dev::kThreads;
using degrade_dev::kTileH;
using degrade_dev::kTileW;

template <typename T, bool kBF16>
cudaError_t launch(const DegradeArgs& a, const KernelArgs& ka, const ChannelFlags& flags,
                   unsigned grid, cudaStream_t stream) {
  const T* input = static_cast<const T*>(a.input);
  degrade_kernel<T, kBF16, false><<<grid, kThreads, 0, stream>>>(input, ka, flags);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess || a.out_degraded == nullptr) return err;  // Poisson needs degraded
  degrade_kernel<T, kBF16, true><<<grid, kThreads, 0, stream>>>(input, ka, flags);
  return cudaGetLastError();
}

template <bool kBF16>
cudaError_t launch_dtype(const DegradeArgs& a, const KernelArgs& ka, const ChannelFlags& flags,
                         unsigned grid, cudaStream_t stream) {
  switch (a.in_dtype) {
    case InDType::kUInt8:
      return launch<uint8_t, kBF16>(a, ka, flags, grid, stream);
    case InDType::kUInt16:
      return launch<uint16_t, kBF16>(a, ka, flags, grid, stream);
    default:
      return launch<float, kBF16>(a, ka, flags, grid, stream);
  }
}

}  // namespace

int64_t degrade_cuda_workspace_bytes(int64_t batch) {
  return batch * static_cast<int64_t>(sizeof(SampleGeom));
}

const char* degrade_cuda(const DegradeArgs& a, void* cuda_stream) {
  if (a.input == nullptr || a.params == nullptr) return "null input or params";
  if (a.workspace == nullptr) return "null workspace (see degrade_cuda_workspace_bytes)";
  if (reinterpret_cast<uintptr_t>(a.workspace) % 16 != 0) return "workspace must be 16-byte aligned";
  if (a.batch <= 0 || a.channels <= 0 || a.in_h <= 0 || a.in_w <= 0 || a.out_h <= 0 ||
      a.out_w <= 0)
    return "sizes must be positive";
  if (a.channels > kMaxChannels) return "too many channels";
  if (a.out_clean == nullptr && a.out_degraded == nullptr) return nullptr;
  cudaGetLastError();  // a stale error of an earlier failed call is not this launch's

  ChannelFlags flags;
  for (int k = 0; k < kMaxChannels / 32; ++k) {
    flags.degrade[k] = 0u;
    flags.nearest[k] = 0u;
  }
  for (int64_t c = 0; c < a.channels; ++c) {
    const bool deg = a.degrade_channels == nullptr || a.degrade_channels[c] != 0;
    const bool near = a.nearest_channels != nullptr && a.nearest_channels[c] != 0;
    if (deg) flags.degrade[c >> 5] |= 1u << (c & 31);
    if (near) flags.nearest[c >> 5] |= 1u << (c & 31);
  }

  const int64_t tiles_x = (a.out_w + kTileW - 1) / kTileW;
  const int64_t tiles_y = (a.out_h + kTileH - 1) / kTileH;
  const int64_t blocks = tiles_x * tiles_y * a.batch * a.channels;
  if (blocks > 0x7fffffffLL) return "too many output tiles for one launch";

  KernelArgs ka;
  ka.channels = static_cast<int>(a.channels);
  ka.tiles_x = static_cast<int>(tiles_x);
  ka.tiles_y = static_cast<int>(tiles_y);
  ka.in_h = a.in_h;
  ka.in_w = a.in_w;
  ka.out_h = a.out_h;
  ka.out_w = a.out_w;
  ka.out_clean = a.out_clean;
  ka.out_degraded = a.out_degraded;
  ka.geoms = static_cast<const SampleGeom*>(a.workspace);
  ka.seed = a.seed;
  ka.seed_device = a.seed_device;
  const int64_t align = a.out_dtype == OutDType::kBFloat16 ? 8 : 16;
  ka.vec4_ok = (a.out_w % 4 == 0) &&
               reinterpret_cast<uintptr_t>(a.out_degraded) % static_cast<uintptr_t>(align) == 0;

  const unsigned grid = static_cast<unsigned>(blocks);
  cudaStream_t stream = static_cast<cudaStream_t>(cuda_stream);
  const unsigned setup_threads = 64;
  setup_kernel<<<static_cast<unsigned>((a.batch + setup_threads - 1) / setup_threads),
                 setup_threads, 0, stream>>>(a.params, a.batch, a.out_h, a.out_w,
                                             static_cast<SampleGeom*>(a.workspace));
  const cudaError_t serr = cudaGetLastError();
  if (serr != cudaSuccess) return cudaGetErrorString(serr);
  const cudaError_t err = a.out_dtype == OutDType::kBFloat16
                              ? launch_dtype<true>(a, ka, flags, grid, stream)
                              : launch_dtype<false>(a, ka, flags, grid, stream);
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace emkit
