#include <gtest/gtest.h>

#include "core/error.h"
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
