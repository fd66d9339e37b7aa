#pragma once
// Chat formats: how a conversation becomes the text a chat model was trained on. Built in: ChatML
// (Qwen), Llama-3, Llama-2 and plain text for base models, one file each, registered by name.
// The rendered text never contains BOS: the prompt encoder adds it (data.add_bos) when the
// tokenizer has one, so sentencepiece and byte-level tokenizers behave alike.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/registry.h"

namespace vecrl::models {

struct ChatMessage {
  std::string role;  // system, user, assistant or tool
  std::string content;
};

struct ChatRenderOptions {
  bool add_generation_prompt = true;  // end with the header of an assistant turn
  bool enable_thinking = true;        // false: Qwen3's empty <think></think> block opens the answer
};

class ChatFormat {
 public:
  virtual ~ChatFormat() = default;
  virtual std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& options) const = 0;
  // Tokens that end an assistant turn (generation stops at them besides the tokenizer's EOS).
  virtual std::vector<std::string> end_of_turn_tokens() const = 0;
  // The tool-response turn appended after a tool call (agent loops).
  virtual std::string tool_response(const std::string& content) const = 0;
  // The text that closes an assistant turn (after its content).
  virtual std::string assistant_turn_end() const = 0;
};

// What follows an assistant turn that called a tool, up to where the model continues: the turn's
// end (unless the model already emitted it: `turn_closed`), the tool's response turn, and the
// header of the next assistant turn.
std::string tool_exchange(const ChatFormat& format, const std::string& tool_output, bool turn_closed,
                          const ChatRenderOptions& options);

using ChatFormatRegistry = core::Registry<ChatFormat>;
ChatFormatRegistry& chat_format_registry();

// The format registered under `name`; "auto" recognises the chat_template of the model folder's
// tokenizer_config.json, and is "plain" when there is none. An unrecognised template is an error
// asking for data.chat_template.
std::unique_ptr<ChatFormat> make_chat_format(const std::string& name, const std::string& model_dir);

// The built-in format a Jinja chat template implements, or "" when it is none of them.
std::string recognise_chat_template(const std::string& jinja);

class Tokenizer;
// The tokenizer's EOS followed by the format's end-of-turn tokens the tokenizer has.
std::vector<int64_t> stop_token_ids(const ChatFormat& format, const Tokenizer& tokenizer);

// Shared check: every message has a known role.
void check_roles(const std::vector<ChatMessage>& messages, const char* format);

}  // namespace vecrl::models
