// Llama-3: <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>, contents stripped of
// surrounding whitespace as Meta's template does; tool results are "ipython" turns.
#include "models/chat/chat_format.h"

namespace vecrl::models {
namespace {

std::string strip(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\n\r") - first + 1);
}

std::string turn(const std::string& role, const std::string& content) {
  return "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + strip(content) + "<|eot_id|>";
}

class Llama3 : public ChatFormat {
 public:
  std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& options) const override {
    check_roles(messages, "llama3");
    std::string text;
    for (const auto& m : messages) text += m.role == "tool" ? tool_response(m.content) : turn(m.role, m.content);
    if (options.add_generation_prompt) text += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return text;
  }
  std::vector<std::string> end_of_turn_tokens() const override { return {"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"}; }
  std::string tool_response(const std::string& content) const override { return turn("ipython", content); }
  std::string assistant_turn_end() const override { return "<|eot_id|>"; }
};

}  // namespace

VECRL_REGISTER(chat_format_registry(), "llama3", [] { return std::make_unique<Llama3>(); });

}  // namespace vecrl::models
