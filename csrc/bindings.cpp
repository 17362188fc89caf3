// pybind11 bindings of emkit._C. Thin by design: every function takes raw pointers (as
// integers), sizes and, for CUDA, a stream handle, so no torch headers are needed here.
// Argument validation (dtype, device, contiguity) happens in python/emkit/ops.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <stdexcept>
#include <string>

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

// Registered by other translation units (see csrc/*/ *_bindings.cpp); keeps this file small.
void emkit_register_extra(py::module_& m);

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

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "emkit native kernels (framework-free; called from emkit.ops)";

  m.def("build_info", &build_info, "What this extension was built with and what it can see.");

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

#if defined(EMKIT_WITH_CUDA)
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
#endif

  emkit_register_extra(m);
}
