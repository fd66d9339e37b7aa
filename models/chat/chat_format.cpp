#include "models/chat/chat_format.h"
#include "core/json_input.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/tokenizer.h"

namespace vecrl::models {

ChatFormatRegistry& chat_format_registry() {
  static ChatFormatRegistry registry("chat format");
  return registry;
}

std::string recognise_chat_template(const std::string& jinja) {
  // Markers unique to each family's template.
  if (jinja.find("<|im_start|>") != std::string::npos) return "chatml";
  if (jinja.find("<|start_header_id|>") != std::string::npos) return "llama3";
  if (jinja.find("[INST]") != std::string::npos && jinja.find("<<SYS>>") != std::string::npos) return "llama2";
  return "";
}

std::unique_ptr<ChatFormat> make_chat_format(const std::string& name, const std::string& model_dir) {
  if (name != "auto") return chat_format_registry().create(name);
  const auto config_path = std::filesystem::path(model_dir) / "tokenizer_config.json";
  if (!std::filesystem::is_regular_file(config_path)) return chat_format_registry().create("plain");
  const nlohmann::json config = core::read_json_file(config_path.string());
  if (!config.contains("chat_template") || config["chat_template"].is_null())
    return chat_format_registry().create("plain");
  // Some configs hold a list of named templates: the "default" one is the chat template.
  std::string jinja;
  if (config["chat_template"].is_string()) {
    jinja = config["chat_template"].get<std::string>();
  } else if (config["chat_template"].is_array()) {
    for (const auto& entry : config["chat_template"])
      if (entry.value("name", std::string()) == "default") jinja = entry.value("template", std::string());
  }
  const auto recognised = recognise_chat_template(jinja);
  VECRL_CHECK(!recognised.empty(), config_path.string(),
              ": the chat_template is not one of the built-in formats; set data.chat_template to one of ",
              chat_format_registry().joined_names());
  return chat_format_registry().create(recognised);
}

std::vector<int64_t> stop_token_ids(const ChatFormat& format, const Tokenizer& tokenizer) {
  std::vector<int64_t> ids{tokenizer.eos_id()};
  for (const auto& token : format.end_of_turn_tokens()) {
    const auto id = tokenizer.token_id(token);
    if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

std::string tool_exchange(const ChatFormat& format, const std::string& tool_output, bool turn_closed,
                          const ChatRenderOptions& options) {
  ChatRenderOptions next = options;
  next.add_generation_prompt = true;
  return (turn_closed ? std::string() : format.assistant_turn_end()) + format.tool_response(tool_output) +
         format.render({}, next);
}

void check_roles(const std::vector<ChatMessage>& messages, const char* format) {
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& role = messages[i].role;
    VECRL_CHECK(role == "system" || role == "user" || role == "assistant" || role == "tool", format,
                " chat format: message ", i, " has role '", role, "' (expected system, user, assistant or tool)");
  }
}

}  // namespace vecrl::models
