#include "models/device.h"

#include <torch/cuda.h>

#include "core/error.h"

namespace vecrl::models {

bool is_device_spec(const std::string& spec) {
  if (spec == "auto" || spec == "cpu" || spec == "cuda") return true;
  return spec.size() > 5 && spec.rfind("cuda:", 0) == 0 && spec.find_first_not_of("0123456789", 5) == std::string::npos;
}

c10::Device resolve_device(const std::string& spec, int64_t local_rank, const std::string& what) {
  VECRL_CHECK(is_device_spec(spec), what, ": expected cpu, cuda, cuda:N or auto, found '", spec, "'");
  const int64_t gpus = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (spec == "cpu" || (spec == "auto" && gpus == 0)) return c10::Device(c10::kCPU);
  int64_t index = local_rank;
  if (spec.rfind("cuda:", 0) == 0) {
    try {
      index = std::stoll(spec.substr(5));
    } catch (const std::out_of_range&) {
      throw core::Error(core::str_cat(what, ": the GPU index in '", spec, "' is out of range"));
    }
  }
  VECRL_CHECK(index < gpus, what, ": '", spec, "' needs GPU ", index, " but this ",
              gpus == 0 ? "build or machine has no CUDA device" : core::str_cat("machine has ", gpus, " GPU(s)"));
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

const std::vector<std::pair<std::string, c10::ScalarType>>& compute_dtype_names() {
  static const std::vector<std::pair<std::string, c10::ScalarType>> names{{"float32", c10::ScalarType::Float},
                                                                          {"bfloat16", c10::ScalarType::BFloat16}};
  return names;
}

c10::ScalarType compute_dtype_named(const std::string& name, const std::string& what) {
  for (const auto& [n, dtype] : compute_dtype_names())
    if (n == name) return dtype;
  throw core::Error(core::str_cat(what, ": expected float32 or bfloat16, found '", name, "'"));
}

}  // namespace vecrl::models
