// Launcher of the CUDA degradation op: checks the arguments, packs the per-channel flags and
// sizes into kernel arguments and starts, on the caller's stream, the per-sample setup pass
// and the tile kernel's variants (see degrade_kernel.cuh).
//
// The includer defines EMKIT_LAUNCH(kernel, grid, block, stream, args...) and provides the
// CUDA runtime calls used here: degrade_cuda.cu with `<<<...>>>` and <cuda_runtime.h>, the
// CPU emulation in tests/ops/cuda_emulation with its own shim, so the same launch logic is
// what the tests run.
#pragma once

#include <cstdint>

#include "degrade_kernel.cuh"
#include "emkit/degrade.h"

namespace emkit {
namespace degrade_dev {

// Device workspace of a call: one SampleGeom per sample.
inline int64_t workspace_bytes(int64_t batch) { return batch * static_cast<int64_t>(sizeof(SampleGeom)); }

inline ChannelFlags pack_flags(const DegradeArgs& a) {
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
  return flags;
}

// Blocks of the Poisson variant's grid: one wave of the current device (its blocks loop
// over the Poisson samples' tiles), never more than there are tiles.
inline unsigned poisson_grid(int64_t blocks) {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0)
    sms = 1;
  const int64_t wave = static_cast<int64_t>(sms) * kPoissonBlocksPerSM;
  return static_cast<unsigned>(blocks < wave ? blocks : wave);
}

template <typename T, bool kBF16>
cudaError_t launch_tiles(const DegradeArgs& a, const KernelArgs& ka, const ChannelFlags& flags,
                         unsigned grid, cudaStream_t stream) {
  const T* input = static_cast<const T*>(a.input);
  const auto plain = degrade_kernel<T, kBF16, false>;
  EMKIT_LAUNCH(plain, grid, kThreads, stream, input, ka, flags);
  cudaError_t err = cudaGetLastError();
  // Without a degraded output no sample gets Poisson noise: the variant would have no work.
  if (err != cudaSuccess || a.out_degraded == nullptr) return err;
  const auto poisson = degrade_kernel<T, kBF16, true>;
  EMKIT_LAUNCH(poisson, poisson_grid(grid), kThreads, stream, input, ka, flags);
  return cudaGetLastError();
}

template <bool kBF16>
cudaError_t launch_dtype(const DegradeArgs& a, const KernelArgs& ka, const ChannelFlags& flags,
                         unsigned grid, cudaStream_t stream) {
  switch (a.in_dtype) {
    case InDType::kUInt8:
      return launch_tiles<uint8_t, kBF16>(a, ka, flags, grid, stream);
    case InDType::kUInt16:
      return launch_tiles<uint16_t, kBF16>(a, ka, flags, grid, stream);
    default:
      return launch_tiles<float, kBF16>(a, ka, flags, grid, stream);
  }
}

// nullptr or why the call cannot run (checked before anything is launched).
inline const char* check_args(const DegradeArgs& a) {
  if (a.input == nullptr || a.params == nullptr) return "null input or params";
  if (a.workspace == nullptr) return "null workspace (see degrade_cuda_workspace_bytes)";
  if (reinterpret_cast<uintptr_t>(a.workspace) % 16 != 0) return "workspace must be 16-byte aligned";
  if (a.batch <= 0 || a.channels <= 0 || a.in_h <= 0 || a.in_w <= 0 || a.out_h <= 0 ||
      a.out_w <= 0)
    return "sizes must be positive";
  if (a.channels > kMaxChannels) return "too many channels";
  // 32-bit input indices (degrade_kernel.cuh); the Python wrapper checks this too.
  if (a.in_h * a.in_w >= (int64_t(1) << 31)) return "input planes must hold fewer than 2^31 pixels";
  return nullptr;
}

inline KernelArgs kernel_args(const DegradeArgs& a, int64_t tiles_x, int64_t tiles_y) {
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
  ka.batch = a.batch;
  ka.seed = a.seed;
  ka.seed_device = a.seed_device;
  const int64_t align = a.out_dtype == OutDType::kBFloat16 ? 8 : 16;
  ka.vec4_ok = (a.out_w % 4 == 0) &&
               reinterpret_cast<uintptr_t>(a.out_degraded) % static_cast<uintptr_t>(align) == 0;
  return ka;
}

// The whole call: setup pass, then the tile kernel's variants. nullptr or an error message
// (argument errors before anything is launched).
inline const char* run(const DegradeArgs& a, void* cuda_stream) {
  if (const char* bad = check_args(a)) return bad;
  if (a.out_clean == nullptr && a.out_degraded == nullptr) return nullptr;
  cudaGetLastError();  // a stale error of an earlier failed call is not this launch's

  const int64_t tiles_x = (a.out_w + kTileW - 1) / kTileW;
  const int64_t tiles_y = (a.out_h + kTileH - 1) / kTileH;
  if (tiles_x * tiles_y > 0x7fffffffLL / (a.batch * a.channels))
    return "too many output tiles for one launch";
  const int64_t blocks = tiles_x * tiles_y * a.batch * a.channels;
  const KernelArgs ka = kernel_args(a, tiles_x, tiles_y);
  const ChannelFlags flags = pack_flags(a);
  cudaStream_t stream = static_cast<cudaStream_t>(cuda_stream);

  const unsigned setup_threads = 64;
  const unsigned setup_blocks = static_cast<unsigned>((a.batch + setup_threads - 1) / setup_threads);
  EMKIT_LAUNCH(setup_kernel, setup_blocks, setup_threads, stream, a.params, a.batch, a.out_h,
               a.out_w, a.out_degraded != nullptr, static_cast<SampleGeom*>(a.workspace));
  const cudaError_t serr = cudaGetLastError();
  if (serr != cudaSuccess) return cudaGetErrorString(serr);
  const unsigned grid = static_cast<unsigned>(blocks);
  const cudaError_t err = a.out_dtype == OutDType::kBFloat16
                              ? launch_dtype<true>(a, ka, flags, grid, stream)
                              : launch_dtype<false>(a, ka, flags, grid, stream);
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace degrade_dev
}  // namespace emkit
