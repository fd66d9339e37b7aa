#include "trainer/prompt_dataset.h"

#include <algorithm>
#include <numeric>
#include <sstream>

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

nlohmann::json PromptDataset::state() const {
  std::ostringstream rng;
  rng << rng_;
  return {{"epoch", epoch_}, {"cursor", cursor_}, {"order", order_}, {"rng", rng.str()}, {"size", size()}};
}

void PromptDataset::restore(const nlohmann::json& state) {
  try {
    VECRL_CHECK(state.at("size").get<int64_t>() == size(), options_.path, ": the checkpoint's data cursor is for ",
                state.at("size").get<int64_t>(), " records, the dataset has ", size());
    epoch_ = state.at("epoch").get<int64_t>();
    cursor_ = state.at("cursor").get<int64_t>();
    order_ = state.at("order").get<std::vector<int64_t>>();
    std::istringstream rng(state.at("rng").get<std::string>());
    rng >> rng_;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat("checkpoint data cursor is malformed: ", e.what()));
  }
  VECRL_CHECK(cursor_ >= 0 && cursor_ <= size() && static_cast<int64_t>(order_.size()) == size(),
              "checkpoint data cursor is inconsistent (cursor ", cursor_, ", order of ", order_.size(), ")");
}

std::string PromptDataset::prompt_of(const nlohmann::json& record) const {
  return record[options_.prompt_field].get<std::string>();
}

}  // namespace vecrl::trainer
