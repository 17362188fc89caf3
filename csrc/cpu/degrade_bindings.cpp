// pybind11 bindings of the fused degradation op. Pointers arrive as integers and the
// Python wrapper (python/emkit/ops/degrade.py) has already validated dtypes, shapes,
// devices and contiguity; these functions only unpack and release the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "emkit/degrade.h"

namespace py = pybind11;

namespace {

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

void emkit_register_degrade(py::module_& m) {
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
  m.def(
      "degrade_cuda",
      [](uintptr_t input, int in_dtype, int64_t batch, int64_t channels, int64_t in_h,
         int64_t in_w, uintptr_t params, int64_t out_h, int64_t out_w, uintptr_t out_clean,
         uintptr_t out_degraded, int out_dtype, uint64_t seed, std::vector<uint8_t> degrade,
         std::vector<uint8_t> nearest, uintptr_t cuda_stream) {
        const emkit::DegradeArgs a =
            make_args(input, in_dtype, batch, channels, in_h, in_w, params, out_h, out_w,
                      out_clean, out_degraded, out_dtype, seed, degrade, nearest);
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
      py::arg("degrade_channels"), py::arg("nearest_channels"), py::arg("cuda_stream"),
      "Fused warp + blur + noise on CUDA, asynchronous on `cuda_stream`.");
#endif
}
