#include "rewards/transforms/transform.h"

#include <ATen/ATen.h>

#include <cmath>

namespace vecrl::rewards {

TransformRegistry& transform_registry() {
  static TransformRegistry registry("reward transform");
  return registry;
}

at::Tensor reference_rewards(const core::Rollouts& rollouts, const std::vector<double>& fixed, const std::string& field,
                             const char* transform) {
  const int64_t n = rollouts.size();
  std::vector<std::vector<double>> rows(n);
  for (int64_t i = 0; i < n; ++i) {
    if (field.empty()) {
      rows[i] = fixed;
      continue;
    }
    const auto& value = record_field(rollouts.samples[i], field, transform);
    if (value.is_number()) {
      rows[i] = {value.get<double>()};
    } else {
      VECRL_CHECK(value.is_array(), transform, ": dataset field '", field,
                  "' should hold a number or a list of numbers, found ", value.type_name());
      for (const auto& x : value) {
        VECRL_CHECK(x.is_number(), transform, ": dataset field '", field, "' holds a non-number ", x.dump());
        rows[i].push_back(x.get<double>());
      }
    }
  }
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.size());
  auto out = at::full({n, static_cast<int64_t>(width)}, NAN, at::kDouble);
  auto a = out.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) a[i][j] = rows[i][j];
  return out;
}

}  // namespace vecrl::rewards
