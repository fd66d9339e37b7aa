#include "rewards/reward_module.h"

#include <ATen/ATen.h>

namespace vecrl::rewards {

RewardRegistry& reward_registry() {
  static RewardRegistry registry("reward module");
  return registry;
}

core::RewardMatrix score_each(const core::Rollouts& rollouts, const std::function<double(int64_t)>& score) {
  auto matrix = core::RewardMatrix::zeros(rollouts.size(), 1, {"score"});
  auto values = matrix.values.accessor<float, 3>();
  for (int64_t i = 0; i < rollouts.size(); ++i) values[i][0][0] = static_cast<float>(score(i));
  return matrix;
}

std::string record_string(const nlohmann::json& record, const std::string& field, const std::string& module) {
  VECRL_CHECK(record.contains(field) && record[field].is_string(), module, ": the dataset record has no string field '",
              field, "' (record: ", record.dump().substr(0, 200), ")");
  return record[field].get<std::string>();
}

}  // namespace vecrl::rewards
