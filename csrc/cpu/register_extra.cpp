// Hook for kernels added by later modules (degradation op, ...). Each module adds its own
// `register_*` function here so bindings.cpp stays unchanged.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void emkit_register_degrade(py::module_& m);  // csrc/cpu/degrade_bindings.cpp

void emkit_register_extra(py::module_& m) { emkit_register_degrade(m); }
