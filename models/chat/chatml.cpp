// ChatML, as Qwen2/Qwen2.5/Qwen3 use it: <|im_start|>role\ncontent<|im_end|>\n per message; tool
// results go in a user turn wrapped in <tool_response> tags (Qwen's convention).
#include "models/chat/chat_format.h"

namespace vecrl::models {
namespace {

class ChatMl : public ChatFormat {
 public:
  std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& options) const override {
    check_roles(messages, "chatml");
    std::string text;
    for (const auto& m : messages) {
      text += m.role == "tool" ? tool_response(m.content) : "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    }
    if (options.add_generation_prompt) {
      text += "<|im_start|>assistant\n";
      if (!options.enable_thinking) text += "<think>\n\n</think>\n\n";
    }
    return text;
  }
  std::vector<std::string> end_of_turn_tokens() const override { return {"<|im_end|>", "<|endoftext|>"}; }
  std::string tool_response(const std::string& content) const override {
    return "<|im_start|>user\n<tool_response>\n" + content + "\n</tool_response><|im_end|>\n";
  }
  std::string assistant_turn_end() const override { return "<|im_end|>\n"; }
};

}  // namespace

VECRL_REGISTER(chat_format_registry(), "chatml", [] { return std::make_unique<ChatMl>(); });

}  // namespace vecrl::models
