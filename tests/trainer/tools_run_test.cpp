// The shipped tool-use configs (HDPO and the coupled GRPO baseline) run multi-turn rollouts end to
// end: tool metrics in every step, two advantage channels for HDPO, the agent's counts in the eval
// report. stories260K untrained stands in for the demo's warm-started model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "trainer/rl_trainer.h"

using namespace vecrl;

namespace {

std::string questions() {
  const auto path = std::filesystem::path(::testing::TempDir()) / "vecrl_tool_questions.jsonl";
  std::ofstream out(path);
  for (const char* q : {R"({"prompt": "Q: 3+4=?", "answer": "7"})", R"({"prompt": "Q: 347*86=?", "answer": "29842"})",
                        R"({"prompt": "Q: 5+5=?", "answer": "10"})", R"({"prompt": "Q: 120*11=?", "answer": "1320"})"})
    out << q << "\n";
  return path.string();
}

}  // namespace

TEST(ToolsRun, ShippedConfigsRunMultiTurnRollouts) {
  for (const char* config : {"tools-hdpo", "tools-grpo-coupled"}) {
    SCOPED_TRACE(config);
    const auto data = questions();
    const std::string out = ::testing::TempDir() + "/vecrl_tools_runs";
    trainer::RlTrainer t(trainer::load_run_config(
        std::string(VECRL_SOURCE_DIR) + "/configs/" + config + ".yaml",
        {"run.output_dir=" + out, std::string("run.name=") + config, "run.threads=1",
         "model.path=" + std::string(VECRL_SHARED_DATA) + "/models/stories260K", "data.path=" + data,
         "eval.path=" + data, "eval.before_train=false", "eval.every=2", "rollout.prompts_per_step=2",
         "rollout.group_size=4", "rollout.max_new_tokens=24", "train.steps=2", "checkpoint.resume=never"}));
    const auto summary = t.run([](const std::string&) {});
    EXPECT_EQ(summary.steps, 2);
    std::ifstream metrics(out + "/" + config + "/metrics.jsonl");
    int steps = 0;
    for (std::string line; std::getline(metrics, line);) {
      auto m = nlohmann::json::parse(line);
      if (!m.contains("critic/score/mean")) {  // the evaluation's line
        EXPECT_TRUE(m.contains("eval/vecrl_tool_questions/tools/call_frequency")) << line;
        continue;
      }
      ++steps;
      for (const char* key : {"tools/call_frequency", "tools/failure_frequency", "num_turns/mean", "rewards/tools/efficiency/mean",
                              "rewards/answer/correct/mean"})
        EXPECT_TRUE(m.contains(key)) << key;
      EXPECT_GE(m["num_turns/mean"].get<double>(), 1.0);
      EXPECT_EQ(m.contains("critic/advantages/conditional/mean"), std::string(config) == "tools-hdpo") << line;
    }
    EXPECT_EQ(steps, 2);
    std::ifstream report_file(out + "/" + config + "/eval/vecrl_tool_questions_step_2.json");
    ASSERT_TRUE(report_file.good());
    auto report = nlohmann::json::parse(report_file);
    EXPECT_TRUE(report["prompts"][0]["completions"][0].contains("tool_calls"));
  }
}
