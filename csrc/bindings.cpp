// pybind11 bindings of emkit._C: the one binding table of the extension (CPU and CUDA).
// Thin by design: every function takes raw pointers (as integers), sizes and, for CUDA,
// a stream handle, so no torch headers are needed here. Argument validation (dtype,
// device, contiguity) happens in python/emkit/ops; these functions only unpack and
// release the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "emkit/degrade.h"
#include "emkit/philox.h"
#include "emkit/random_fill.h"
#include "emkit/threads.h"
#if defined(EMKIT_WITH_CUDA)
#include "emkit/cuda_info.h"
#endif

namespace py = pybind11;

#ifndef EMKIT_VERSION_INFO
#define EMKIT_VERSION_INFO "dev"
#endif

namespace {

py::dict build_info() {
  py::dict d;
  d["version"] = EMKIT_VERSION_INFO;
  d["cxx_standard"] = static_cast<long>(__cplusplus);
#if defined(__VERSION__)
  d["compiler"] = std::string(__VERSION__);
#else
  d["compiler"] = std::string("unknown");
#endif
#if defined(EMKIT_WITH_OPENMP)
  d["openmp"] = true;
  d["openmp_version"] = static_cast<long>(_OPENMP);
  d["openmp_max_threads"] = omp_get_max_threads();
#else
  d["openmp"] = false;
  d["openmp_version"] = 0L;
  d["openmp_max_threads"] = 1;
#endif
#if defined(EMKIT_WITH_CUDA)
  d["cuda_compiled"] = true;
  const emkit::CudaInfo ci = emkit::query_cuda();
  d["cuda_runtime_version"] = ci.runtime_version;
  d["cuda_driver_version"] = ci.driver_version;
  d["cuda_device_count"] = ci.device_count;
  d["cuda_error"] = ci.error;
  d["cuda_device_name"] = ci.device_name;
  d["cuda_capability"] = py::make_tuple(ci.capability_major, ci.capability_minor);
#else
  d["cuda_compiled"] = false;
  d["cuda_runtime_version"] = 0;
  d["cuda_driver_version"] = 0;
  d["cuda_device_count"] = 0;
  d["cuda_error"] = std::string("emkit was built without CUDA");
  d["cuda_device_name"] = std::string();
  d["cuda_capability"] = py::make_tuple(0, 0);
#endif
  return d;
}

emkit::DegradeArgs make_args(uintptr_t input, int in_dtype, int64_t batch, int64_t channels,
                             int64_t in_h, int64_t in_w, uintptr_t params, int64_t out_h,
                             int64_t out_w, uintptr_t out_clean, uintptr_t out_degraded,
                             int out_dtype, uint64_t seed, const std::vector<uint8_t>& degrade,
                             const std::vector<uint8_t>& nearest) {
  if (in_dtype < 0 || in_dtype > 2) throw std::invalid_argument("in_dtype must be 0, 1 or 2");
  if (out_dtype < 0 || out_dtype > 1) throw std::invalid_argument("out_dtype must be 0 or 1");
  if ((!degrade.empty() && static_cast<int64_t>(degrade.size()) != channels) ||
      (!nearest.empty() && static_cast<int64_t>(nearest.size()) != channels))
    throw std::invalid_argument("channel flag lists must be empty or have one entry per channel");
  if (channels > emkit::kMaxChannels) throw std::invalid_argument("too many channels");
  emkit::DegradeArgs a;
  a.input = reinterpret_cast<const void*>(input);
  a.in_dtype = static_cast<emkit::InDType>(in_dtype);
  a.batch = batch;
  a.channels = channels;
  a.in_h = in_h;
  a.in_w = in_w;
  a.params = reinterpret_cast<const float*>(params);
  a.out_h = out_h;
  a.out_w = out_w;
  a.out_clean = reinterpret_cast<void*>(out_clean);
  a.out_degraded = reinterpret_cast<void*>(out_degraded);
  a.out_dtype = static_cast<emkit::OutDType>(out_dtype);
  a.seed = seed;
  a.degrade_channels = degrade.empty() ? nullptr : degrade.data();
  a.nearest_channels = nearest.empty() ? nullptr : nearest.data();
  return a;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "emkit native kernels (framework-free; called from emkit.ops)";

  m.def("build_info", &build_info, "What this extension was built with and what it can see.");

  // ------------------------------------------------------------------ random fill ------
  m.def(
      "philox4x32_10",
      [](std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
        const emkit::Philox4x32 r =
            emkit::philox4x32_10(ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]);
        return std::array<uint32_t, 4>{r.v[0], r.v[1], r.v[2], r.v[3]};
      },
      py::arg("counter"), py::arg("key"), "One Philox4x32-10 block (for known-answer tests).");

  m.def(
      "philox_fill_cpu",
      [](uintptr_t out, int64_t n, uint64_t seed, uint32_t stream, uint64_t offset, int threads) {
        py::gil_scoped_release nogil;
        emkit::philox_fill_cpu(reinterpret_cast<uint32_t*>(out), n, seed, stream, offset, threads);
      },
      py::arg("out"), py::arg("n"), py::arg("seed"), py::arg("stream"), py::arg("offset"),
      py::arg("threads") = 0);

  // ----------------------------------------------------------- fused degradation -------
  m.def(
      "degrade_cpu",
      [](uintptr_t input, int in_dtype, int64_t batch, int64_t channels, int64_t in_h,
         int64_t in_w, uintptr_t params, int64_t out_h, int64_t out_w, uintptr_t out_clean,
         uintptr_t out_degraded, int out_dtype, uint64_t seed, std::vector<uint8_t> degrade,
         std::vector<uint8_t> nearest, int threads) {
        const emkit::DegradeArgs a =
            make_args(input, in_dtype, batch, channels, in_h, in_w, params, out_h, out_w,
                      out_clean, out_degraded, out_dtype, seed, degrade, nearest);
        const char* err = nullptr;
        {
          py::gil_scoped_release nogil;
          err = emkit::degrade_cpu(a, threads);
        }
        if (err) throw std::runtime_error(err);
      },
      py::arg("input"), py::arg("in_dtype"), py::arg("batch"), py::arg("channels"),
      py::arg("in_h"), py::arg("in_w"), py::arg("params"), py::arg("out_h"), py::arg("out_w"),
      py::arg("out_clean"), py::arg("out_degraded"), py::arg("out_dtype"), py::arg("seed"),
      py::arg("degrade_channels"), py::arg("nearest_channels"), py::arg("threads") = 0,
      "Fused warp + blur + noise on CPU (see emkit.ops.degrade).");

  m.def("degrade_cpu_isa", []() { return std::string(emkit::degrade_cpu_isa()); },
        "CPU code path of degrade_cpu: 'avx2' or 'generic' (EMKIT_CPU_ISA=generic forces it).");

#if defined(EMKIT_WITH_CUDA)
  // ------------------------------------------------------------------------ CUDA -------
  m.def(
      "philox_fill_cuda",
      [](uintptr_t out, int64_t n, uint64_t seed, uint32_t stream, uint64_t offset,
         uintptr_t cuda_stream) {
        const char* err = nullptr;
        {
          py::gil_scoped_release nogil;
          err = emkit::philox_fill_cuda(reinterpret_cast<uint32_t*>(out), n, seed, stream, offset,
                                        reinterpret_cast<void*>(cuda_stream));
        }
        if (err) throw std::runtime_error(std::string("philox_fill_cuda: ") + err);
      },
      py::arg("out"), py::arg("n"), py::arg("seed"), py::arg("stream"), py::arg("offset"),
      py::arg("cuda_stream"));

  m.def("degrade_cuda_workspace_bytes", &emkit::degrade_cuda_workspace_bytes, py::arg("batch"),
        "Device workspace (bytes) degrade_cuda needs for `batch` samples.");

  m.def(
      "degrade_cuda",
      [](uintptr_t input, int in_dtype, int64_t batch, int64_t channels, int64_t in_h,
         int64_t in_w, uintptr_t params, int64_t out_h, int64_t out_w, uintptr_t out_clean,
         uintptr_t out_degraded, int out_dtype, uint64_t seed, std::vector<uint8_t> degrade,
         std::vector<uint8_t> nearest, uintptr_t seed_device, uintptr_t workspace,
         uintptr_t cuda_stream) {
        emkit::DegradeArgs a =
            make_args(input, in_dtype, batch, channels, in_h, in_w, params, out_h, out_w,
                      out_clean, out_degraded, out_dtype, seed, degrade, nearest);
        a.seed_device = reinterpret_cast<const int64_t*>(seed_device);
        a.workspace = reinterpret_cast<void*>(workspace);
        const char* err = nullptr;
        {
          py::gil_scoped_release nogil;
          err = emkit::degrade_cuda(a, reinterpret_cast<void*>(cuda_stream));
        }
        if (err) throw std::runtime_error(std::string("degrade_cuda: ") + err);
      },
      py::arg("input"), py::arg("in_dtype"), py::arg("batch"), py::arg("channels"),
      py::arg("in_h"), py::arg("in_w"), py::arg("params"), py::arg("out_h"), py::arg("out_w"),
      py::arg("out_clean"), py::arg("out_degraded"), py::arg("out_dtype"), py::arg("seed"),
      py::arg("degrade_channels"), py::arg("nearest_channels"), py::arg("seed_device"),
      py::arg("workspace"), py::arg("cuda_stream"),
      "Fused warp + blur + noise on CUDA, asynchronous on `cuda_stream`; `seed_device` (0 or a "
      "device int64 pointer) overrides `seed`.");

  m.def(
      "degrade_cuda_host_roundtrip",
      [](py::bytes input, int in_dtype, int64_t batch, int64_t channels, int64_t in_h, int64_t in_w,
         py::bytes params, int64_t out_h, int64_t out_w, bool want_clean, bool want_degraded,
         int out_dtype, uint64_t seed, std::vector<uint8_t> degrade, std::vector<uint8_t> nearest,
         bool seed_in_device_memory, int device) {
        const std::string in = input, par = params;
        const int64_t elem = in_dtype == 0 ? 1 : (in_dtype == 1 ? 2 : 4);
        if (static_cast<int64_t>(in.size()) != batch * channels * in_h * in_w * elem ||
            static_cast<int64_t>(par.size()) != batch * emkit::kParamCount * 4)
          throw std::invalid_argument("input/params byte counts do not match the sizes");
        const size_t out_bytes = static_cast<size_t>(batch * channels * out_h * out_w * (out_dtype == 1 ? 2 : 4));
        std::string clean(want_clean ? out_bytes : 0, '\0'), degraded(want_degraded ? out_bytes : 0, '\0');
        emkit::DegradeArgs a =
            make_args(reinterpret_cast<uintptr_t>(in.data()), in_dtype, batch, channels, in_h, in_w,
                      reinterpret_cast<uintptr_t>(par.data()), out_h, out_w,
                      want_clean ? reinterpret_cast<uintptr_t>(&clean[0]) : 0,
                      want_degraded ? reinterpret_cast<uintptr_t>(&degraded[0]) : 0, out_dtype, seed,
                      degrade, nearest);
        const char* err = nullptr;
        {
          py::gil_scoped_release nogil;
          err = emkit::degrade_cuda_host_roundtrip(a, device, seed_in_device_memory);
        }
        if (err) throw std::runtime_error(std::string("degrade_cuda: ") + err);
        return py::make_tuple(want_clean ? py::object(py::bytes(clean)) : py::object(py::none()),
                              want_degraded ? py::object(py::bytes(degraded)) : py::object(py::none()));
      },
      py::arg("input"), py::arg("in_dtype"), py::arg("batch"), py::arg("channels"),
      py::arg("in_h"), py::arg("in_w"), py::arg("params"), py::arg("out_h"), py::arg("out_w"),
      py::arg("want_clean"), py::arg("want_degraded"), py::arg("out_dtype"), py::arg("seed"),
      py::arg("degrade_channels"), py::arg("nearest_channels"), py::arg("seed_in_device_memory"),
      py::arg("device"),
      "degrade_cuda on host bytes (copies in, runs, waits, copies out): the self-check child's "
      "entry, usable without torch. Returns (clean bytes or None, degraded bytes or None).");

  m.def("cuda_clear_error", &emkit::cuda_clear_error,
        "Clear (and return) the runtime's last non-sticky CUDA error ('' when none).");
  m.def("cuda_device_capability", &emkit::cuda_device_capability, py::arg("device"),
        "(major, minor) of `device` through emkit's own runtime; raises when it cannot run.");
#endif
}
