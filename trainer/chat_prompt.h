#pragma once
// How prompts are put to the model and where answers end (`data.chat_template`,
// `data.system_prompt`, `data.enable_thinking`, `data.stop`); evaluation uses the training run's.
#include <string>
#include <vector>

#include "core/config.h"
#include "models/chat/chat_format.h"

namespace vecrl::trainer {

struct ChatPromptOptions {
  // auto (from the model's tokenizer_config.json; plain when it has no chat_template), chatml,
  // llama3, llama2 or plain.
  std::string chat_template = "auto";
  std::string system_prompt;    // a system message before the prompt
  bool enable_thinking = true;  // false: Qwen3's empty <think></think> block opens the answer
  std::vector<std::string> stop;  // an answer ends once its text holds one of these (kept in it)

  // Flat keys of the enclosing section.
  template <class V>
  void visit(V& v) {
    v.field("chat_template", chat_template);
    v.field("system_prompt", system_prompt);
    v.field("enable_thinking", enable_thinking);
    v.field("stop", stop);
    for (const auto& s : stop) v.require(!s.empty(), "stop", "holds an empty string");
    v.require(chat_template == "auto" || models::chat_format_registry().contains(chat_template), "chat_template",
              "must be auto or one of " + models::chat_format_registry().joined_names() + ", got '" + chat_template + "'");
  }
};

}  // namespace vecrl::trainer
