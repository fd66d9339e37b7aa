#pragma once
// The machine's physical ceilings, measured in-process so that a benchmark's figures can be given as
// fractions of them: dense matmul rate and memory read bandwidth.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace vecrl::core {

struct HardwareLimits {
  double matmul_flops_per_s = 0;    // GEMM in matmul_dtype, square n x n
  double read_bytes_per_s = 0;      // streaming reduction over a buffer far larger than the caches
  int64_t matmul_size = 0;
  int64_t bandwidth_buffer_bytes = 0;
  c10::ScalarType matmul_dtype = c10::ScalarType::Float;
};

// The CPU BLAS LibTorch's matmuls run on and its kernel family, e.g. "OpenBLAS 0.3.21, Haswell
// kernels". Debian's OpenBLAS picks its kernels from the CPU model when it loads and falls back to
// generic ones on CPUs it does not know (OPENBLAS_CORETYPE overrides the choice), so a CPU figure
// means little without it.
std::string cpu_blas_description();

// Waits for the device's queued work (a no-op on the CPU), so that timings cover it.
void synchronize_device(c10::Device device);

// Best of several timed repetitions (each at least min_seconds / repeats) of
// C = A·B (2·n³ FLOPs) in `matmul_dtype` (the dtype the measured model computes in) and of sum(x)
// over a buffer of `buffer_bytes`.
HardwareLimits measure_hardware_limits(c10::Device device, c10::ScalarType matmul_dtype = c10::ScalarType::Float,
                                       int64_t matmul_size = 1024,
                                       int64_t buffer_bytes = int64_t{256} << 20, double min_seconds = 1.0);

}  // namespace vecrl::core
