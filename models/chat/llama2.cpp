// Llama-2 chat: "[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST]". Turns after the first need
// EOS and BOS tokens between them, which a sentencepiece tokenizer cannot read from text, so only
// one exchange (an optional system message and one user message) is supported.
#include "models/chat/chat_format.h"

#include "core/error.h"

namespace vecrl::models {
namespace {

class Llama2 : public ChatFormat {
 public:
  std::string render(const std::vector<ChatMessage>& messages, const ChatRenderOptions& options) const override {
    check_roles(messages, "llama2");
    std::size_t next = 0;
    std::string system;
    if (next < messages.size() && messages[next].role == "system") system = messages[next++].content;
    VECRL_CHECK(next + 1 == messages.size() && messages[next].role == "user",
                "llama2 chat format: expected an optional system message then one user message, got ", messages.size(),
                " messages (multi-turn Llama-2 prompts need BOS/EOS tokens between turns)");
    std::string text = "[INST] ";
    if (!system.empty()) text += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
    text += messages[next].content + " [/INST]";
    (void)options;  // the model's answer follows [/INST] directly: no header to add
    return text;
  }
  std::vector<std::string> end_of_turn_tokens() const override { return {"</s>"}; }
  std::string tool_response(const std::string&) const override {
    VECRL_CHECK(false, "llama2 chat format: no tool-response turn (use chatml or llama3 for tool use)");
    return "";
  }
  std::string assistant_turn_end() const override { return " </s>"; }
};

}  // namespace

VECRL_REGISTER(chat_format_registry(), "llama2", [] { return std::make_unique<Llama2>(); });

}  // namespace vecrl::models
