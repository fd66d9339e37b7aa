// Checkpoints: exact resume, atomic writes, keep-last, stop requests.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tests/trainer/test_support.h"
#include "trainer/checkpoint.h"
#include "trainer/rl_trainer.h"

using namespace vecrl;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> small(const std::string& name, std::vector<std::string> extra) {
  std::vector<std::string> base = {"run.threads=2", "rollout.prompts_per_step=2", "rollout.group_size=4",
                                   "rollout.max_new_tokens=8", "train.mini_batches=2"};
  base.insert(base.end(), extra.begin(), extra.end());
  return test::with_temp_run(base, name);
}

std::unique_ptr<trainer::RlTrainer> make(const std::string& name, std::vector<std::string> extra) {
  return std::make_unique<trainer::RlTrainer>(trainer::load_run_config(test::quickstart_config(), small(name, extra)));
}

std::vector<nlohmann::json> metrics_of(const trainer::RlTrainer& t) {
  std::ifstream in(fs::path(t.run_dir()) / "metrics.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

void quiet(const std::string&) {}

}  // namespace

TEST(Checkpoints, ResumedRunEqualsAnUninterruptedOne) {
  auto straight = make("straight", {"train.steps=6", "checkpoint.every=3"});
  straight->run(quiet);
  auto first = make("resumed", {"train.steps=3"});
  first->run(quiet);
  auto second = make("resumed", {"train.steps=6", "checkpoint.resume=required"});
  EXPECT_EQ(second->completed_steps(), 3);
  auto summary = second->run(quiet);
  EXPECT_EQ(summary.first_step, 4);
  EXPECT_EQ(straight->parameter_vector(), second->parameter_vector());
  auto a = metrics_of(*straight), b = metrics_of(*second);
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  for (std::size_t s = 0; s < a.size(); ++s)
    for (const auto& [key, value] : a[s].items())
      if (key.rfind("timing_s/", 0) != 0 && key.rfind("perf/", 0) != 0) {
        EXPECT_EQ(value, b[s][key]) << key << " at step " << s + 1;
      }
  // Nothing left: an error, not a pretend run.
  auto third = make("resumed", {"train.steps=6", "checkpoint.resume=required"});
  try {
    third->run(quiet);
    FAIL() << "expected nothing left to train";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing left to train: the checkpoint is at step 6"), std::string::npos);
  }
}

TEST(Checkpoints, RequiredResumeWithoutACheckpointFails) {
  try {
    make("never_trained", {"train.steps=2", "checkpoint.resume=required"});
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot resume: no checkpoint in"), std::string::npos) << e.what();
  }
}

TEST(Checkpoints, PartialWritesAreIgnoredAndOldOnesPruned) {
  auto t = make("pruned", {"train.steps=4", "checkpoint.every=1", "checkpoint.keep_last=2"});
  t->run(quiet);
  auto all = trainer::list_checkpoints(t->run_dir());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].step, 3);
  EXPECT_EQ(all[1].step, 4);
  // What a writer killed mid-way leaves behind: a temporary folder and a folder without state.json.
  const fs::path root = fs::path(t->run_dir()) / "checkpoints";
  fs::create_directories(root / ".tmp_step_00000005_999");
  std::ofstream(root / ".tmp_step_00000005_999" / "model.safetensors") << "partial";
  fs::create_directories(root / "step_00000009");
  std::ofstream(root / "step_00000009" / "model.safetensors") << "partial";
  auto latest = trainer::latest_checkpoint(t->run_dir());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 4);
  auto resumed = make("pruned", {"train.steps=5", "checkpoint.resume=auto"});
  EXPECT_EQ(resumed->completed_steps(), 4);
  EXPECT_EQ(resumed->run(quiet).steps, 5);
}

TEST(Checkpoints, AStopRequestCheckpointsAndReturnsEarly) {
  auto t = make("stopped", {"train.steps=10"});
  int64_t seen = 0;
  auto summary = t->run(quiet, [&](int64_t step, int64_t) { seen = step; }, [&] { return seen >= 2; });
  EXPECT_TRUE(summary.stopped_early);
  EXPECT_EQ(summary.steps, 2);
  ASSERT_TRUE(trainer::latest_checkpoint(t->run_dir()).has_value());
  EXPECT_EQ(trainer::latest_checkpoint(t->run_dir())->step, 2);
  auto resumed = make("stopped", {"train.steps=3", "checkpoint.resume=auto"});
  EXPECT_EQ(resumed->run(quiet).first_step, 3);
}

TEST(Checkpoints, FreshRunsStartOverAndAutoResumeStartsFreshWhenEmpty) {
  make("fresh", {"train.steps=2"})->run(quiet);
  auto again = make("fresh", {"train.steps=1"});  // resume: never (the default) starts over
  EXPECT_EQ(again->completed_steps(), 0);
  EXPECT_FALSE(trainer::latest_checkpoint(again->run_dir()).has_value());
  auto auto_empty = make("auto_empty", {"train.steps=1", "checkpoint.resume=auto"});
  EXPECT_EQ(auto_empty->completed_steps(), 0);
}

TEST(Checkpoints, VpoResumesWithItsWeightGenerator) {
  auto straight = make("vpo_straight", {"train.steps=4", "checkpoint.every=2", "advantage={type: vpo, seed: 5}"});
  straight->run(quiet);
  auto first = make("vpo_resumed", {"train.steps=2", "advantage={type: vpo, seed: 5}"});
  first->run(quiet);
  auto second = make("vpo_resumed", {"train.steps=4", "checkpoint.resume=required", "advantage={type: vpo, seed: 5}"});
  second->run(quiet);
  EXPECT_EQ(straight->parameter_vector(), second->parameter_vector());
}
