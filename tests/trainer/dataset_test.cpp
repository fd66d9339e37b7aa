#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "models/tokenizer.h"
#include "trainer/prompt_dataset.h"

using namespace vecrl;

TEST(PromptDataset, TemplatesRenderFieldsOfRealRecords) {
  trainer::DataOptions o;
  o.path = std::string(VECRL_SHARED_DATA) + "/datasets/gsm8k/test.jsonl";
  o.prompt_template = "Question: {question}\nAnswer:";
  o.shuffle = false;
  trainer::PromptDataset data(o, 1);
  EXPECT_EQ(data.size(), 1319);
  auto first = data.next_batch(1)[0];
  const auto prompt = data.prompt_of(first);
  EXPECT_EQ(prompt.rfind("Question: Janet", 0), 0u) << prompt;
  EXPECT_EQ(prompt.substr(prompt.size() - 8), "\nAnswer:");
  EXPECT_EQ(trainer::render_template("{{literal}} {n}", {{"n", 3}}), "{literal} 3");
  EXPECT_THROW(trainer::render_template("{missing}", nlohmann::json::object()), core::Error);
  EXPECT_THROW(trainer::render_template("{open", nlohmann::json::object()), core::Error);
}

TEST(PromptDataset, ShuffledEpochsCoverEveryRecordAndTheCursorResumes) {
  trainer::DataOptions o;
  o.path = std::string(VECRL_SOURCE_DIR) + "/configs/data/story_prompts.jsonl";
  trainer::PromptDataset a(o, 7);
  std::set<std::string> seen;
  for (const auto& r : a.next_batch(a.size())) seen.insert(r["prompt"].get<std::string>());
  EXPECT_EQ(static_cast<int64_t>(seen.size()), a.size());  // one epoch = every record once
  a.next_batch(5);
  trainer::PromptDataset b(o, 99);
  b.restore(a.state());
  EXPECT_EQ(a.next_batch(30), b.next_batch(30));  // crosses into the next epoch identically
}

TEST(PromptDataset, FewShotExemplarsPrecedeEveryPrompt) {
  trainer::DataOptions o;
  o.path = std::string(VECRL_SHARED_DATA) + "/datasets/gsm8k/test.jsonl";
  o.prompt_template = "Question: {question}\nAnswer:";
  o.shuffle = false;
  o.few_shot.path = std::string(VECRL_SHARED_DATA) + "/datasets/gsm8k/train.jsonl";
  o.few_shot.count = 2;
  o.few_shot.template_text = "Question: {question}\nAnswer: {answer}";
  trainer::PromptDataset data(o, 1);
  const auto prompt = data.prompt_of(data.next_batch(1)[0]);
  EXPECT_EQ(prompt.rfind("Question: Natalia sold clips", 0), 0u) << prompt.substr(0, 80);  // train record 1
  const auto second = prompt.find("\n\nQuestion: Weng earns");                           // train record 2
  ASSERT_NE(second, std::string::npos);
  const auto target = prompt.find("\n\nQuestion: Janet");                                // the test prompt itself
  ASSERT_NE(target, std::string::npos);
  EXPECT_LT(second, target);
  EXPECT_EQ(prompt.substr(prompt.size() - 8), "\nAnswer:");
  EXPECT_NE(prompt.find("#### 72\n\n"), std::string::npos);  // the first exemplar's full solution

  o.few_shot.template_text = "Q: {nope}";
  try {
    trainer::PromptDataset bad(o, 1);
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.jsonl:1: prompt_template: the record has no field 'nope' (config key few_shot.template)"),
              std::string::npos) << e.what();
  }
}

namespace {

std::string write_records(const std::string& name, const std::string& lines) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << lines;
  return path.string();
}

}  // namespace

TEST(PromptDataset, ChatFormatWrapsThePromptAndConversationsKeepTheirOwnSystem) {
  trainer::DataOptions o;
  o.path = write_records("vecrl-chat-records.jsonl",
                         R"({"prompt": "What is 2+2?"})" "\n"
                         R"({"prompt": [{"role": "system", "content": "Own system."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Sum 1+1"}]})" "\n");
  o.shuffle = false;
  o.chat.chat_template = "chatml";
  o.chat.system_prompt = "Be brief.";
  trainer::PromptDataset data(o, 1);
  const auto records = data.next_batch(2);
  EXPECT_EQ(data.prompt_of(records[0]), "What is 2+2?");  // rewards and logs see the bare prompt
  EXPECT_EQ(data.model_input_of(records[0]),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(data.prompt_of(records[1]), "Sum 1+1");  // the last user message
  EXPECT_EQ(data.model_input_of(records[1]),
            "<|im_start|>system\nOwn system.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nSum 1+1<|im_end|>\n<|im_start|>assistant\n");
  auto qwen3 = models::load_tokenizer(std::string(VECRL_SHARED_DATA) + "/tokenizers/qwen3");
  EXPECT_EQ(data.stop_token_ids(*qwen3), (std::vector<int64_t>{151645, 151643}));  // EOS is <|im_end|> already

  // The default ("auto") against a base model is plain text: the prompt as it is.
  o.chat = trainer::ChatPromptOptions{};
  trainer::PromptDataset plain(o, 1, std::string(VECRL_SHARED_DATA) + "/models/stories260K");
  EXPECT_EQ(plain.model_input_of(records[0]), "What is 2+2?");
}

TEST(PromptDataset, MalformedConversationsNameTheLine) {
  trainer::DataOptions o;
  o.path = write_records("vecrl-bad-chat.jsonl",
                         R"({"prompt": "fine"})" "\n" R"({"prompt": [{"role": "user", "content": 3}]})" "\n");
  try {
    trainer::PromptDataset data(o, 1);
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("vecrl-bad-chat.jsonl:2: field 'prompt' message 0"), std::string::npos) << message;
  }
}

TEST(PromptDataset, TrainingPairsFromFieldsTemplatesAndConversations) {
  trainer::DataOptions o;
  o.path = write_records("vecrl-sft-pairs.jsonl",
                         R"({"prompt": "Q1", "response": "A1", "solution": "S1"})" "\n"
                         R"({"prompt": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]})" "\n");
  o.shuffle = false;
  o.chat.chat_template = "chatml";
  trainer::PromptDataset data(o, 1);
  const auto records = data.next_batch(2);
  EXPECT_EQ(data.training_pair(records[0], "response", ""),
            std::make_pair(std::string("<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n"), std::string("A1")));
  EXPECT_EQ(data.training_pair(records[0], "response", "Work: {solution}").second, "Work: S1");
  // A conversation trains its final assistant message; the model reads everything before it.
  EXPECT_EQ(data.training_pair(records[1], "response", ""),
            std::make_pair(std::string("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"), std::string("4")));
  EXPECT_THROW(data.training_pair(records[0], "missing", ""), core::Error);
}
