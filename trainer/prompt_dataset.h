#pragma once
// Prompts for RL: records of a .jsonl / .jsonl.gz / .json file, each turned into a prompt by the
// template (or the prompt field), reshuffled every epoch from the run seed, served in batches.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <utility>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "trainer/run_config.h"

namespace vecrl::core {
struct Rollouts;
}
namespace vecrl::models {
struct Generation;
struct GenerationOptions;
struct SamplerOptions;
class Tokenizer;
class ChatFormat;
struct ChatMessage;
}  // namespace vecrl::models

namespace vecrl::trainer {

// Renders "{field}" placeholders of `tmpl` from a record ("{{" and "}}" are literal braces).
// Throws naming the field when it is missing.
std::string render_template(const std::string& tmpl, const nlohmann::json& record);

class PromptDataset;

// The rollouts of `gen`, G = group_size rows per record of `batch` (contiguous): tensors from the
// generation, prompts rendered by `data`, responses decoded without the stop token.
core::Rollouts rollouts_from_generation(const models::Generation& gen, int64_t group_size,
                                        const std::vector<nlohmann::json>& batch, const PromptDataset& data,
                                        const models::Tokenizer& tokenizer);

class PromptDataset {
 public:
  // `model_dir` resolves data.chat_template "auto" (from its tokenizer_config.json).
  // `check` (optional) runs on every record at load, its errors reported with file and line like
  // the dataset's own (or the record skipped with skip_bad_records).
  PromptDataset(const DataOptions& options, uint64_t seed, const std::string& model_dir = "",
                const std::function<void(const PromptDataset&, const nlohmann::json&)>& check = {});
  ~PromptDataset();

  // The next `count` records, wrapping into a new (reshuffled) epoch as needed.
  std::vector<nlohmann::json> next_batch(int64_t count);
  // The prompt text of a record, as rewards and logs see it: the rendered template, or the prompt
  // field (its last user message when the field is a list of {role, content} messages).
  std::string prompt_of(const nlohmann::json& record) const;
  // What the model reads: the record's conversation (system prompt, few-shot, prompt) in the
  // chat format, ending with the assistant's header.
  std::string model_input_of(const nlohmann::json& record) const;
  // A supervised example: what the model reads and the answer it should give. A conversation whose
  // last message is the assistant's trains on that message; otherwise the answer is the record's
  // `response_field`, or `response_template` rendered from it.
  std::pair<std::string, std::string> training_pair(const nlohmann::json& record, const std::string& response_field,
                                                    const std::string& response_template) const;
  // The same as a sequence of pieces, for conversations that go on after the last user message
  // with assistant turns and tool responses (agent traces): assistant turns are trained on, tool
  // responses are context, rendered between the turns exactly as the agent loop renders them.
  struct TrainingPiece {
    std::string text;
    bool trained = true;
  };
  std::pair<std::string, std::vector<TrainingPiece>> training_pieces(const nlohmann::json& record,
                                                                      const std::string& response_field,
                                                                      const std::string& response_template) const;
  // The tokenizer's EOS and the chat format's end-of-turn tokens it knows.
  std::vector<int64_t> stop_token_ids(const models::Tokenizer& tokenizer) const;
  const models::ChatFormat& chat_format() const { return *chat_format_; }
  // Generation options for this data's prompts: the format's and data.stop's stop ids and strings
  // (decoded with `tokenizer`), EOS padding; the caller sets the seeds.
  models::GenerationOptions generation_options(const models::SamplerOptions& sampler, int64_t max_new_tokens,
                                               const models::Tokenizer& tokenizer) const;
  int64_t size() const { return static_cast<int64_t>(records_.size()); }
  int64_t epoch() const { return epoch_; }
  int64_t skipped() const { return skipped_; }  // malformed records skipped at load

  // The resumable cursor: epoch, position, order and shuffling generator.
  nlohmann::json state() const;
  // Restores a state() from a dataset of the same size; throws naming what does not match.
  void restore(const nlohmann::json& state);

 private:
  void start_epoch();
  std::vector<models::ChatMessage> messages_of(const nlohmann::json& record) const;
  // The messages in the chat format, ending with the assistant's header.
  std::string render(const std::vector<models::ChatMessage>& messages) const;

  DataOptions options_;
  std::string few_shot_prefix_;
  std::unique_ptr<models::ChatFormat> chat_format_;
  std::vector<nlohmann::json> records_;
  std::string fingerprint_;  // of the records' contents, kept in checkpoints
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;
  int64_t epoch_ = -1;
  int64_t skipped_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace vecrl::trainer
