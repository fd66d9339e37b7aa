#include "core/hardware_limits.h"

#include <dlfcn.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <functional>

namespace vecrl::core {
void synchronize_device(c10::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
}

namespace {

// The best rate (work units per second) of `repeats` timed rounds of `op`, after one warm-up.
double best_rate(c10::Device device, double work_per_call, double min_seconds, const std::function<void()>& op) {
  op();
  synchronize_device(device);
  constexpr int kRounds = 5;
  double best = 0;
  for (int round = 0; round < kRounds; ++round) {
    int64_t calls = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      op();
      ++calls;
      synchronize_device(device);
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < min_seconds / kRounds);
    best = std::max(best, work_per_call * static_cast<double>(calls) / elapsed);
  }
  return best;
}

}  // namespace

HardwareLimits measure_hardware_limits(c10::Device device, c10::ScalarType matmul_dtype, int64_t matmul_size,
                                       int64_t buffer_bytes, double min_seconds) {
  torch::NoGradGuard no_grad;
  HardwareLimits limits;
  limits.matmul_size = matmul_size;
  limits.bandwidth_buffer_bytes = buffer_bytes;
  limits.matmul_dtype = matmul_dtype;
  const auto options = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const auto matmul_options = options.dtype(matmul_dtype);
  auto a = torch::randn({matmul_size, matmul_size}, matmul_options);
  auto b = torch::randn({matmul_size, matmul_size}, matmul_options);
  auto c = torch::empty({matmul_size, matmul_size}, matmul_options);
  const double n = static_cast<double>(matmul_size);
  limits.matmul_flops_per_s = best_rate(device, 2 * n * n * n, min_seconds, [&] { torch::mm_out(c, a, b); });
  auto buffer = torch::ones({buffer_bytes / 4}, options);
  auto total = torch::empty({}, options);
  limits.read_bytes_per_s =
      best_rate(device, static_cast<double>(buffer_bytes), min_seconds, [&] { torch::sum_out(total, buffer); });
  return limits;
}

std::string cpu_blas_description() {
  // OpenBLAS's own entry points, looked up rather than linked: LibTorch may use another BLAS.
  using Getter = char* (*)();
  const auto config = reinterpret_cast<Getter>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  const auto core = reinterpret_cast<Getter>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (config == nullptr || core == nullptr) return "not OpenBLAS (kernels unknown)";
  std::string name(config());  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..."
  const auto second_space = name.find(' ', name.find(' ') + 1);
  return name.substr(0, second_space) + ", " + core() + " kernels";
}

}  // namespace vecrl::core
