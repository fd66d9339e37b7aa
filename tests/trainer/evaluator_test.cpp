#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/trainer/test_support.h"
#include "rewards/reward_set.h"
#include "trainer/evaluator.h"
#include "trainer/rl_trainer.h"

using namespace vecrl;

TEST(Evaluator, UnbiasedPassAtK) {
  EXPECT_DOUBLE_EQ(trainer::pass_at_k(10, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(trainer::pass_at_k(10, 10, 5), 1.0);
  EXPECT_NEAR(trainer::pass_at_k(10, 3, 1), 0.3, 1e-12);               // = c / n
  EXPECT_NEAR(trainer::pass_at_k(5, 2, 2), 1.0 - 3.0 / 10.0, 1e-12);   // 1 - C(3,2)/C(5,2)
  EXPECT_NEAR(trainer::pass_at_k(200, 1, 100), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(trainer::pass_at_k(4, 2, 3), 1.0);                  // n - c < k
}

TEST(Evaluator, PeriodicEvalWritesMetricsAndAReport) {
  // Held-out prompts whose "answer" is a word the completions may contain: exact counts are
  // checked against the report's own per-completion verdicts.
  const std::string held_out = ::testing::TempDir() + "/vecrl_eval_prompts.jsonl";
  {
    std::ofstream out(held_out);
    for (const char* p : {"Once upon a time, there was a little", "Tom had a big red", "The sun was shining and the"})
      out << nlohmann::json{{"prompt", p}, {"word", "the"}}.dump() << "\n";
  }
  auto overrides = test::with_temp_run({"run.threads=1", "rollout.prompts_per_step=2", "rollout.group_size=2",
                                        "rollout.max_new_tokens=8", "train.steps=2", "train.mini_batches=1",
                                        "eval.path=" + held_out, "eval.name=held", "eval.n=4", "eval.temperature=1.0",
                                        "eval.k=[1, 2, 4]", "eval.every=2", "eval.before_train=true",
                                        "eval.success=animal/score", "eval.max_new_tokens=12"},
                                       "eval_run");
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), overrides));
  std::vector<std::string> lines;
  t.run([&](const std::string& line) { lines.push_back(line); });
  const auto dir = std::filesystem::path(t.run_dir()) / "eval";
  ASSERT_TRUE(std::filesystem::exists(dir / "held_step_0.json"));
  ASSERT_TRUE(std::filesystem::exists(dir / "held_step_2.json"));
  auto report = nlohmann::json::parse(std::ifstream(dir / "held_step_2.json"));
  ASSERT_EQ(report["prompts"].size(), 3u);
  // pass@k recomputed from the report's verdicts.
  for (int64_t k : {1, 2, 4}) {
    double expected = 0;
    for (const auto& p : report["prompts"]) {
      int64_t c = 0;
      for (const auto& completion : p["completions"]) c += completion["correct"].get<bool>();
      expected += trainer::pass_at_k(4, c, k);
    }
    EXPECT_NEAR(report["metrics"]["eval/held/pass@" + std::to_string(k)].get<double>(), expected / 3, 1e-12);
  }
  EXPECT_TRUE(report["metrics"].contains("eval/held/mean@4"));
  EXPECT_TRUE(report["metrics"].contains("eval/held/reward/animal/score/mean"));
  // The same metrics went to metrics.jsonl at steps 0 and 2.
  std::ifstream metrics(std::filesystem::path(t.run_dir()) / "metrics.jsonl");
  int eval_lines = 0;
  for (std::string line; std::getline(metrics, line);)
    if (line.find("eval/held/pass@1") != std::string::npos) ++eval_lines;
  EXPECT_EQ(eval_lines, 2);
  bool printed = false;
  for (const auto& l : lines) printed = printed || l.rfind("eval held at step 2:", 0) == 0;
  EXPECT_TRUE(printed);
}

TEST(Evaluator, WithSplitAnswersTheReportHoldsEveryAnswersVector) {
  const std::string held_out = ::testing::TempDir() + "/vecrl_eval_split_prompts.jsonl";
  {
    std::ofstream out(held_out);
    for (const char* p : {"Once upon a time, there was a little", "The dog and the cat"})
      out << nlohmann::json{{"prompt", p}}.dump() << "\n";
  }
  auto overrides = test::with_temp_run({"run.threads=1", "rollout.prompts_per_step=2", "rollout.group_size=2",
                                        "rollout.max_new_tokens=40", "train.steps=1", "train.mini_batches=1",
                                        "scoring.split.separator=.", "scoring.split.max_answers=2",
                                        "eval.path=" + held_out, "eval.name=held", "eval.n=4", "eval.temperature=1.0",
                                        "eval.before_train=true"},
                                       "eval_split_run");
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), overrides));
  t.run([](const std::string&) {});
  auto report = nlohmann::json::parse(std::ifstream(std::filesystem::path(t.run_dir()) / "eval" / "held_step_0.json"));
  rewards::SplitOptions split;
  split.separator = ".";
  split.max_answers = 2;
  const std::vector<std::string> animals = {"dog", "cat", "bird", "fish", "duck", "bunny", "bear", "frog"};
  int answers_seen = 0;
  for (const auto& p : report["prompts"])
    for (const auto& c : p["completions"]) {
      ASSERT_EQ(c["answers"].size(), 2u);
      EXPECT_EQ(c["answers"][0], c["rewards"]);
      const auto pieces = rewards::split_answers(c["response"].get<std::string>(), split);
      for (std::size_t a = 0; a < 2; ++a) {
        const auto& entry = c["answers"][a]["animal/score"];
        if (a >= pieces.size()) {
          EXPECT_TRUE(entry.is_null()) << c["response"];
          continue;
        }
        ++answers_seen;
        bool mentions = false;
        for (const auto& w : animals) mentions = mentions || (" " + pieces[a] + " ").find(" " + w + " ") != std::string::npos;
        if (mentions) EXPECT_EQ(entry.get<double>(), 1.0) << pieces[a];  // (a capitalised or punctuated animal may count too)
      }
    }
  EXPECT_GT(answers_seen, 4);
}
