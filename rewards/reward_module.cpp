#include "rewards/reward_module.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "core/parallel.h"

namespace vecrl::rewards {

RewardRegistry& reward_registry() {
  static RewardRegistry registry("reward module");
  return registry;
}

ScoreBatch ScoreBatch::whole_responses(const core::Rollouts& rollouts, int workers) {
  ScoreBatch batch{rollouts, {}, 1, workers, true, nullptr};
  for (const auto& response : rollouts.responses) batch.answers.push_back({response});
  return batch;
}

AnswerLikelihoodTerm RewardModule::loss_term(const ScoreBatch&, const std::vector<double>&) const {
  VECRL_CHECK(false, "this reward module adds no loss term");
  return {};
}

core::RewardMatrix TextRewardModule::score(const ScoreBatch& batch) const {
  const auto& rollouts = batch.rollouts;
  const int64_t n = rollouts.size(), m = batch.answers_per_rollout;
  const int64_t k = static_cast<int64_t>(dims().size());
  std::vector<std::string> names;
  for (const auto& d : dims()) names.push_back(d.name);
  auto matrix = core::RewardMatrix::zeros(n, m, names);
  auto values = matrix.values.accessor<float, 3>();
  auto valid = matrix.valid.accessor<bool, 3>();
  auto truncated = rollouts.truncated.to(at::kCPU).to(at::kBool).contiguous();
  const bool* truncated_ptr = truncated.data_ptr<bool>();
  auto lengths = rollouts.response_mask.to(at::kCPU).sum(1).to(at::kLong).contiguous();
  const int64_t* length_ptr = lengths.data_ptr<int64_t>();
  std::atomic<int64_t> failed{0};
  std::string first_error;
  std::mutex error_mutex;
  core::parallel_for(n * m, batch.workers, [&](int64_t cell) {
    const int64_t i = cell / m, j = cell % m;
    if (j >= static_cast<int64_t>(batch.answers[i].size())) {
      for (int64_t d = 0; d < k; ++d) valid[i][j][d] = false;
      return;
    }
    try {
      const auto row = score_text({rollouts.prompts[i], batch.answers[i][j], rollouts.samples[i],
                                   truncated_ptr[i], batch.token_counts ? length_ptr[i] : -1, i, j,
                                   batch.models});
      VECRL_CHECK(static_cast<int64_t>(row.size()) == k, "returned ", row.size(), " values for ", k, " dimensions");
      for (int64_t d = 0; d < k; ++d) {
        valid[i][j][d] = !std::isnan(row[d]);
        values[i][j][d] = std::isnan(row[d]) ? 0.0f : static_cast<float>(row[d]);
      }
    } catch (const std::exception& e) {
      for (int64_t d = 0; d < k; ++d) valid[i][j][d] = false;
      if (failed++ == 0) {
        std::lock_guard<std::mutex> lock(error_mutex);
        first_error = "rollout " + std::to_string(i) + ": " + e.what();
      }
    }
  });
  failed_texts_ += failed;
  if (failed > 0)
    spdlog::warn("{} of {} texts could not be scored and are marked not-valid; first: {}", failed.load(), n * m,
                 first_error);
  return matrix;
}

int64_t require_token_count(const TextItem& item, const char* module) {
  VECRL_CHECK(item.response_tokens >= 0, module,
              ": needs the response's token count; give `vecrl reward` a --tokenizer or a `response_tokens` field");
  return item.response_tokens;
}

const nlohmann::json& record_field(const nlohmann::json& record, const std::string& field, const std::string& module) {
  VECRL_CHECK(record.is_object() && record.contains(field), module, ": the dataset record has no field '", field,
              "' (record: ", record.dump().substr(0, 200), ")");
  return record[field];
}

std::string record_string(const nlohmann::json& record, const std::string& field, const std::string& module) {
  const auto& value = record_field(record, field, module);
  if (value.is_number() || value.is_boolean()) return value.dump();
  VECRL_CHECK(value.is_string(), module, ": dataset field '", field, "' should be a string, found ", value.type_name(),
              " (record: ", record.dump().substr(0, 200), ")");
  return value.get<std::string>();
}

}  // namespace vecrl::rewards
