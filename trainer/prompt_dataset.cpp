#include "trainer/prompt_dataset.h"

#include <ATen/ATen.h>

#include "core/batch.h"
#include "models/chat/chat_format.h"
#include "models/generation.h"
#include "models/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "core/jsonl.h"

namespace vecrl::trainer {

std::string render_template(const std::string& tmpl, const nlohmann::json& record) {
  std::string out;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl.compare(i, 2, "{{") == 0 || tmpl.compare(i, 2, "}}") == 0) {
      out.push_back(tmpl[i]);
      ++i;
      continue;
    }
    if (tmpl[i] != '{') {
      out.push_back(tmpl[i]);
      continue;
    }
    const auto close = tmpl.find('}', i);
    VECRL_CHECK(close != std::string::npos, "prompt_template: unclosed '{' at position ", i);
    const std::string field = tmpl.substr(i + 1, close - i - 1);
    VECRL_CHECK(record.contains(field), "prompt_template: the record has no field '", field, "'");
    const auto& value = record[field];
    if (value.is_array()) {  // a list (MBPP's test_list) renders one item per line
      for (std::size_t k = 0; k < value.size(); ++k)
        out += (k ? "\n" : "") + (value[k].is_string() ? value[k].get<std::string>() : value[k].dump());
    } else {
      VECRL_CHECK(value.is_string() || value.is_number(), "prompt_template: field '", field,
                  "' is neither a string, a number nor a list");
      out += value.is_string() ? value.get<std::string>() : value.dump();
    }
    i = close;
  }
  return out;
}

std::string render_few_shot(const FewShotOptions& options) {
  if (options.path.empty()) return "";
  auto file = core::read_records(options.path);
  VECRL_CHECK(static_cast<int64_t>(file.records.size()) >= options.count, options.path, ": ", file.records.size(),
              " records, but few_shot.count is ", options.count);
  std::string out;
  for (int64_t i = 0; i < options.count; ++i) {
    try {
      out += render_template(options.template_text, file.records[i]) + options.separator;
    } catch (const core::Error& e) {
      throw core::Error(core::str_cat(options.path, ":", file.lines[i], ": ", e.what(), " (config key few_shot.template)"));
    }
  }
  return out;
}

PromptDataset::~PromptDataset() = default;

PromptDataset::PromptDataset(const DataOptions& options, uint64_t seed, const std::string& model_dir,
                             const std::function<void(const PromptDataset&, const nlohmann::json&)>& check)
    : options_(options),
      few_shot_prefix_(render_few_shot(options.few_shot)),
      chat_format_(models::make_chat_format(options.chat.chat_template, model_dir)),
      rng_(seed) {
  core::RecordReadOptions read;
  read.skip_bad = options.skip_bad_records;
  auto file = core::read_records(options.path, read);
  skipped_ = file.skipped;
  for (std::size_t i = 0; i < file.records.size(); ++i) {
    std::string problem;
    try {
      model_input_of(file.records[i]);  // every record must render
    } catch (const core::Error& e) {
      problem = e.what() + std::string(options.prompt_template.empty() ? " (config key data.prompt_field)"
                                                                       : " (config key data.prompt_template)");
    }
    try {
      if (problem.empty() && check) check(*this, file.records[i]);
    } catch (const core::Error& e) {
      problem = e.what();
    }
    if (!problem.empty()) {
      VECRL_CHECK(options.skip_bad_records, options.path, ":", file.lines[i], ": ", problem);
      ++skipped_;
      continue;
    }
    records_.push_back(std::move(file.records[i]));
  }
  VECRL_CHECK(!records_.empty(), options.path, ": no usable records (", skipped_, " skipped)");
  // FNV-1a over the records as read: a resume notices a dataset that changed under the same size.
  uint64_t hash = 1469598103934665603ull;
  for (const auto& record : records_)
    for (const unsigned char c : record.dump() + '\n') hash = (hash ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  fingerprint_ = hex;
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
  return {{"epoch", epoch_}, {"cursor", cursor_},   {"order", order_},
          {"rng", rng.str()}, {"size", size()}, {"fingerprint", fingerprint_}};
}

void PromptDataset::restore(const nlohmann::json& state) {
  try {
    VECRL_CHECK(state.at("size").get<int64_t>() == size(), options_.path, ": the checkpoint's data cursor is for ",
                state.at("size").get<int64_t>(), " records, the dataset has ", size());
    const std::string fingerprint = state.value("fingerprint", fingerprint_);  // absent in older checkpoints
    VECRL_CHECK(fingerprint == fingerprint_, options_.path, ": the dataset changed since the checkpoint (the same ",
                size(), " records, other contents); resuming would continue over other prompts");
    epoch_ = state.at("epoch").get<int64_t>();
    cursor_ = state.at("cursor").get<int64_t>();
    order_ = state.at("order").get<std::vector<int64_t>>();
    std::istringstream rng(state.at("rng").get<std::string>());
    rng >> rng_;
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat("checkpoint data cursor is malformed: ", e.what()));
  }
  VECRL_CHECK(cursor_ >= 0 && cursor_ <= size() && epoch_ >= 0 && static_cast<int64_t>(order_.size()) == size(),
              "checkpoint data cursor is inconsistent (epoch ", epoch_, ", cursor ", cursor_, ", order of ", order_.size(),
              " for ", size(), " records)");
  // The order must be a permutation of the records: an index out of range would read past them.
  std::vector<bool> seen(order_.size(), false);
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const int64_t index = order_[i];
    VECRL_CHECK(index >= 0 && index < size() && !seen[index], "checkpoint data cursor is inconsistent: order[", i,
                "] = ", index, " is ", index >= 0 && index < size() ? "repeated" : "out of range", " for ", size(),
                " records");
    seen[index] = true;
  }
}

core::Rollouts rollouts_from_generation(const models::Generation& gen, int64_t group_size,
                                        const std::vector<nlohmann::json>& batch, const PromptDataset& data,
                                        const models::Tokenizer& tok) {
  // Rollouts live on the host, whatever the model's device: rewards, advantages and batch logic
  // run there, and the trainer moves each micro-batch to the model.
  core::Rollouts r;
  r.group_size = group_size;
  r.prompt_ids = gen.prompt_ids.to(at::kCPU);
  r.prompt_mask = gen.prompt_mask.to(at::kCPU);
  r.response_ids = gen.tokens.to(at::kCPU);
  r.response_mask = gen.mask.to(at::kCPU);
  r.behaviour_logprobs = gen.logprobs.to(at::kCPU);
  r.truncated = gen.truncated.to(at::kCPU);
  auto tokens = r.response_ids.contiguous();
  auto mask = r.response_mask.contiguous();
  auto token_rows = tokens.accessor<int64_t, 2>();
  auto mask_rows = mask.accessor<bool, 2>();
  for (int64_t i = 0; i < tokens.size(0); ++i) {
    const auto& record = batch[i / group_size];
    std::vector<int64_t> ids;
    for (int64_t t = 0; t < tokens.size(1) && mask_rows[i][t]; ++t)
      if (token_rows[i][t] != tok.eos_id()) ids.push_back(token_rows[i][t]);
    r.prompts.push_back(data.prompt_of(record));
    r.responses.push_back(tok.decode(ids));
    r.samples.push_back(record);
  }
  r.check();
  return r;
}

std::vector<models::ChatMessage> PromptDataset::messages_of(const nlohmann::json& record) const {
  std::vector<models::ChatMessage> messages;
  if (!options_.chat.system_prompt.empty()) messages.push_back({"system", options_.chat.system_prompt});
  if (!options_.prompt_template.empty()) {
    messages.push_back({"user", few_shot_prefix_ + render_template(options_.prompt_template, record)});
    return messages;
  }
  VECRL_CHECK(record.contains(options_.prompt_field), "the record has no string field '", options_.prompt_field, "'");
  const auto& prompt = record[options_.prompt_field];
  if (prompt.is_string()) {
    messages.push_back({"user", few_shot_prefix_ + prompt.get<std::string>()});
    return messages;
  }
  // A conversation (verl's and TRL's conversational format): its own system message wins.
  VECRL_CHECK(prompt.is_array() && !prompt.empty(), "field '", options_.prompt_field,
              "' is neither a string nor a non-empty list of {role, content} messages");
  if (prompt[0].is_object() && prompt[0].value("role", std::string()) == "system") messages.clear();
  int64_t last_user = -1;
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    const auto& m = prompt[i];
    VECRL_CHECK(m.is_object() && m.contains("role") && m["role"].is_string() && m.contains("content") &&
                    m["content"].is_string(),
                "field '", options_.prompt_field, "' message ", i, " is not an object with string role and content");
    if (m["role"] == "user") last_user = static_cast<int64_t>(messages.size());
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  VECRL_CHECK(last_user >= 0, "field '", options_.prompt_field, "' has no user message");
  messages[static_cast<std::size_t>(last_user)].content.insert(0, few_shot_prefix_);
  return messages;
}

std::pair<std::string, std::string> PromptDataset::training_pair(const nlohmann::json& record,
                                                                 const std::string& response_field,
                                                                 const std::string& response_template) const {
  auto messages = messages_of(record);
  if (messages.size() > 1 && messages.back().role == "assistant") {
    auto answer = messages.back().content;
    messages.pop_back();
    return {render(messages), answer};
  }
  if (!response_template.empty()) return {render(messages), render_template(response_template, record)};
  VECRL_CHECK(record.contains(response_field) && record[response_field].is_string(), "the record has no string field '",
              response_field, "' (the answer to train on; or end a conversation with an assistant message)");
  return {render(messages), record[response_field].get<std::string>()};
}

std::pair<std::string, std::vector<PromptDataset::TrainingPiece>> PromptDataset::training_pieces(
    const nlohmann::json& record, const std::string& response_field, const std::string& response_template) const {
  auto messages = messages_of(record);
  std::size_t first_reply = messages.size();
  while (first_reply > 0 && messages[first_reply - 1].role != "user") --first_reply;
  const bool trace = first_reply + 1 < messages.size();  // more than one message after the last user one
  if (!trace) {
    auto [input, answer] = training_pair(record, response_field, response_template);
    return {input, {{answer, true}}};
  }
  models::ChatRenderOptions options;
  options.enable_thinking = options_.chat.enable_thinking;
  std::vector<TrainingPiece> pieces;
  for (std::size_t i = first_reply; i < messages.size(); ++i) {
    const auto& m = messages[i];
    const bool last = i + 1 == messages.size();
    VECRL_CHECK(m.role == "assistant" || m.role == "tool", "message ", i, " has role '", m.role,
                "': after the last user message a conversation may hold only assistant and tool messages");
    VECRL_CHECK((m.role == "assistant") == (last || messages[i + 1].role == "tool") &&
                    (m.role == "tool" ? messages[i - 1].role == "assistant" : true),
                "message ", i, " ('", m.role, "'): an agent trace alternates assistant and tool messages and ends with "
                "the assistant's answer");
    if (m.role == "assistant") pieces.push_back({m.content, true});
    else pieces.push_back({models::tool_exchange(*chat_format_, m.content, false, options), false});
  }
  messages.resize(first_reply);
  return {render(messages), pieces};
}

std::string PromptDataset::prompt_of(const nlohmann::json& record) const {
  const auto messages = messages_of(record);
  for (auto m = messages.rbegin(); m != messages.rend(); ++m)
    if (m->role == "user") return m->content;
  return messages.back().content;
}

std::string PromptDataset::render(const std::vector<models::ChatMessage>& messages) const {
  models::ChatRenderOptions options;
  options.enable_thinking = options_.chat.enable_thinking;
  return chat_format_->render(messages, options);
}

std::string PromptDataset::model_input_of(const nlohmann::json& record) const { return render(messages_of(record)); }

models::GenerationOptions PromptDataset::generation_options(const models::SamplerOptions& sampler,
                                                            int64_t max_new_tokens,
                                                            const models::Tokenizer& tokenizer) const {
  return models::generation_options(sampler, max_new_tokens, tokenizer, stop_token_ids(tokenizer), options_.chat.stop);
}

std::vector<int64_t> PromptDataset::stop_token_ids(const models::Tokenizer& tokenizer) const {
  return models::stop_token_ids(*chat_format_, tokenizer);
}

}  // namespace vecrl::trainer
