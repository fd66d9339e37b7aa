#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "tests/trainer/test_support.h"
#include "trainer/rl_trainer.h"

using namespace vecrl;

namespace {

std::vector<core::MetricMap> train(const std::string& name) {
  // A small, fast version of the quickstart: 4 prompts x 8 samples, 16 tokens, 8 steps.
  auto overrides = test::with_temp_run({"run.seed=3", "run.threads=2", "rollout.prompts_per_step=4",
                                        "rollout.max_new_tokens=16", "train.steps=8", "train.mini_batches=1",
                                        "optim.lr=2e-3"},
                                       name);
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), overrides));
  std::vector<core::MetricMap> out;
  for (int64_t s = 1; s <= 8; ++s) out.push_back(t.step(s));
  return out;
}

}  // namespace

TEST(RlSmoke, RewardRisesAndRunsAreDeterministic) {
  auto a = train("smoke_a");
  const double before = (a[0].at("critic/score/mean") + a[1].at("critic/score/mean")) / 2;
  const double after = (a[6].at("critic/score/mean") + a[7].at("critic/score/mean")) / 2;
  EXPECT_GT(after, before + 0.1) << "before " << before << " after " << after;

  auto b = train("smoke_b");
  for (std::size_t s = 0; s < a.size(); ++s)
    for (const auto& [key, value] : a[s])
      if (key.rfind("timing_s/", 0) != 0 && key.rfind("perf/", 0) != 0) {
        EXPECT_EQ(value, b[s].at(key)) << key << " at step " << s + 1;
      }
}

TEST(RlSmoke, WritesResolvedConfigAndMetrics) {
  auto overrides = test::with_temp_run({"train.steps=2", "rollout.prompts_per_step=2", "rollout.group_size=2",
                                        "rollout.max_new_tokens=4", "train.mini_batches=1"},
                                       "files");
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), overrides));
  auto summary = t.run([](const std::string&) {});
  namespace fs = std::filesystem;
  const fs::path dir(summary.run_dir);
  auto resolved = core::load_yaml_file((dir / "config.yaml").string());
  EXPECT_EQ(resolved["rollout"]["group_size"].as<int>(), 2);
  EXPECT_EQ(resolved["advantage"]["eps"].as<double>(), 1e-6);  // estimator defaults are recorded too
  EXPECT_EQ(resolved["loss"]["clip_ratio_c"].as<double>(), 3.0);
  std::ifstream metrics(dir / "metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) ++lines;
  EXPECT_EQ(lines, 2);
  EXPECT_TRUE(fs::exists(dir / "final" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "final" / "config.json"));
}
