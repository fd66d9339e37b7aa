// Plain text for base models: the messages' contents separated by blank lines, no markers.
#include "models/chat/chat_format.h"

namespace vecrl::models {
namespace {

class Plain : public ChatFormat {
 public:
  std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions&) const override {
    check_roles(messages, "plain");
    std::string text;
    for (const auto& m : messages) text += (text.empty() ? "" : "\n\n") + m.content;
    return text;
  }
  std::vector<std::string> end_of_turn_tokens() const override { return {}; }
  std::string tool_response(const std::string& content) const override { return "\n\n" + content + "\n\n"; }
  std::string assistant_turn_end() const override { return ""; }
};

}  // namespace

VECRL_REGISTER(chat_format_registry(), "plain", [] { return std::make_unique<Plain>(); });

}  // namespace vecrl::models
