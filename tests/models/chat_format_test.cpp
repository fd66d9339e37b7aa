// Chat formats: exact rendered text (as the families' own Jinja templates write it), recognition
// from tokenizer_config.json, and the Qwen3 token ids of a rendered conversation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "models/chat/chat_format.h"
#include "models/tokenizer.h"

using namespace vecrl;

namespace {

const std::vector<models::ChatMessage> kConversation{{"system", "You are terse."}, {"user", "What is 2+2?"}};

std::string render(const std::string& name, const std::vector<models::ChatMessage>& messages,
                   models::ChatRenderOptions options = {}) {
  return models::chat_format_registry().create(name)->render(messages, options);
}

}  // namespace

TEST(ChatFormat, ChatMlAsQwenWritesIt) {
  EXPECT_EQ(render("chatml", kConversation),
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
            "<|im_start|>assistant\n");
  models::ChatRenderOptions no_thinking;
  no_thinking.enable_thinking = false;
  EXPECT_EQ(render("chatml", {{"user", "Hi"}}, no_thinking),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  models::ChatRenderOptions no_prompt;
  no_prompt.add_generation_prompt = false;
  EXPECT_EQ(render("chatml", {{"user", "Hi"}, {"assistant", "Hello"}, {"tool", "42"}}, no_prompt),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n");
}

TEST(ChatFormat, Llama3StripsContentsAndEndsWithTheAssistantHeader) {
  EXPECT_EQ(render("llama3", {{"system", " You are terse.\n"}, {"user", "What is 2+2?"}}),
            "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatFormat, Llama2SingleExchangeOnly) {
  EXPECT_EQ(render("llama2", kConversation), "[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nWhat is 2+2? [/INST]");
  EXPECT_EQ(render("llama2", {{"user", "Hi"}}), "[INST] Hi [/INST]");
  EXPECT_THROW(render("llama2", {{"user", "Hi"}, {"assistant", "Hello"}, {"user", "Again"}}), core::Error);
}

TEST(ChatFormat, PlainJoinsContents) {
  EXPECT_EQ(render("plain", {{"user", "Question: 2+2?\nAnswer:"}}), "Question: 2+2?\nAnswer:");
  EXPECT_EQ(render("plain", kConversation), "You are terse.\n\nWhat is 2+2?");
  EXPECT_THROW(render("plain", {{"narrator", "x"}}), core::Error);
}

TEST(ChatFormat, AutoRecognisesTheModelsTemplate) {
  const std::string shared = VECRL_SHARED_DATA;
  // Qwen3's real tokenizer_config.json carries its Jinja ChatML template.
  EXPECT_EQ(models::make_chat_format("auto", shared + "/tokenizers/qwen3")->render({{"user", "Hi"}}, {}),
            render("chatml", {{"user", "Hi"}}));
  // stories260K has no tokenizer_config.json: a base model, plain text.
  EXPECT_EQ(models::make_chat_format("auto", shared + "/models/stories260K")->render({{"user", "Once"}}, {}), "Once");
  EXPECT_EQ(models::recognise_chat_template("{{ '<|start_header_id|>' + message['role'] }}"), "llama3");
  EXPECT_EQ(models::recognise_chat_template("[INST] <<SYS>>\\n"), "llama2");
  EXPECT_EQ(models::recognise_chat_template("{{ message.content }}"), "");

  const auto dir = std::filesystem::temp_directory_path() / "vecrl-chat-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer_config.json") << R"({"chat_template": "{{ messages[0].content }}"})";
  try {
    models::make_chat_format("auto", dir.string());
    ADD_FAILURE() << "an unknown template was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.chat_template"), std::string::npos) << e.what();
  }
  EXPECT_THROW(models::make_chat_format("vicuna", dir.string()), core::Error);
}

TEST(ChatFormat, Qwen3TokensOfARenderedConversation) {
  auto tok = models::load_tokenizer(std::string(VECRL_SHARED_DATA) + "/tokenizers/qwen3");
  const auto ids = tok->encode(render("chatml", {{"user", "Hello"}}));
  // <|im_start|> user \n Hello <|im_end|> \n <|im_start|> assistant \n
  EXPECT_EQ(ids, (std::vector<int64_t>{151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198}));
  const auto end_of_turn = models::chat_format_registry().create("chatml")->end_of_turn_tokens();
  EXPECT_EQ(tok->token_id(end_of_turn.at(0)), 151645);
  EXPECT_EQ(tok->token_id(end_of_turn.at(1)), 151643);
}
