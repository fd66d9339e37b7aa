// Every preset in configs/presets loads and runs two small steps on stories260K, with its reward wiring.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/trainer/test_support.h"
#include "trainer/rl_trainer.h"

using namespace vecrl;

TEST(Presets, EveryPresetRunsTwoSteps) {
  const auto dir = std::filesystem::path(VECRL_SOURCE_DIR) / "configs" / "presets";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    std::vector<std::string> overrides = {"run.output_dir=" + ::testing::TempDir() + "/vecrl_presets", "run.name=" + name,
                                          "run.threads=1", "rollout.prompts_per_step=1", "rollout.group_size=2",
                                          "rollout.max_new_tokens=8", "train.steps=2", "train.mini_batches=1",
                                          "checkpoint.resume=never",
                                          // stories260K has 512 positions: a few long GSM8K/MATH prompts do not fit it
                                          "data.skip_bad_records=true"};
    trainer::RlTrainer t(trainer::load_run_config(entry.path().string(), overrides));
    for (int64_t step = 1; step <= 2; ++step) {
      auto m = t.step(step);
      EXPECT_TRUE(m.count("critic/score/mean"));
      EXPECT_EQ(m.at("rewards/module_failures"), 0.0);
    }
  }
  EXPECT_EQ(count, 6);
}
