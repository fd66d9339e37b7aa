#pragma once
// Prompts for RL: JSONL records, reshuffled every epoch from the run seed, served in batches.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "trainer/run_config.h"

namespace vecrl::trainer {

class PromptDataset {
 public:
  PromptDataset(const DataOptions& options, uint64_t seed);

  // The next `count` records, wrapping into a new (reshuffled) epoch as needed.
  std::vector<nlohmann::json> next_batch(int64_t count);
  // The prompt text of a record.
  std::string prompt_of(const nlohmann::json& record) const;
  int64_t size() const { return static_cast<int64_t>(records_.size()); }
  int64_t epoch() const { return epoch_; }

  // The resumable cursor: epoch, position, order and shuffling generator.
  nlohmann::json state() const;
  // Restores a state() from a dataset of the same size; throws naming what does not match.
  void restore(const nlohmann::json& state);

 private:
  void start_epoch();

  DataOptions options_;
  std::vector<nlohmann::json> records_;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;
  int64_t epoch_ = -1;
  std::mt19937_64 rng_;
};

}  // namespace vecrl::trainer
