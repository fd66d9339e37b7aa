#include "trainer/prompt_dataset.h"

#include <algorithm>
#include <numeric>

#include "core/jsonl.h"

namespace vecrl::trainer {

PromptDataset::PromptDataset(const DataOptions& options, uint64_t seed)
    : options_(options), records_(core::read_jsonl(options.path)), rng_(seed) {
  for (std::size_t i = 0; i < records_.size(); ++i)
    VECRL_CHECK(records_[i].contains(options_.prompt_field) && records_[i][options_.prompt_field].is_string(),
                options_.path, ": record ", i + 1, " has no string field '", options_.prompt_field,
                "' (config key data.prompt_field)");
  start_epoch();
}

void PromptDataset::start_epoch() {
  ++epoch_;
  cursor_ = 0;
  order_.resize(records_.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (options_.shuffle) std::shuffle(order_.begin(), order_.end(), rng_);
}

std::vector<nlohmann::json> PromptDataset::next_batch(int64_t count) {
  std::vector<nlohmann::json> batch;
  while (static_cast<int64_t>(batch.size()) < count) {
    if (cursor_ == size()) start_epoch();
    batch.push_back(records_[order_[cursor_++]]);
  }
  return batch;
}

std::string PromptDataset::prompt_of(const nlohmann::json& record) const {
  return record[options_.prompt_field].get<std::string>();
}

}  // namespace vecrl::trainer
