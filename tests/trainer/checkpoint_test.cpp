// Checkpoints: exact resume, atomic writes, keep-last, stop requests.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "algorithms/advantage.h"
#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "tests/test_paths.h"
#include "models/lora.h"
#include "core/safetensors.h"
#include "tests/trainer/test_support.h"
#include "trainer/checkpoint.h"
#include "trainer/rl_trainer.h"
#include "trainer/run_folder.h"

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

// GRPO that fails on its `fail_at`-th call (counted per process), as a reward or estimator might on
// a bad batch in the middle of a run.
struct FailingOptions {
  int64_t fail_at = 2;
  template <class V>
  void visit(V& v) {
    v.field("fail_at", fail_at);
  }
};
class FailingEstimator : public algorithms::AdvantageEstimator {
 public:
  explicit FailingEstimator(FailingOptions o) : o_(o) {
    core::ConfigNode node(YAML::Load("{}"), "test");
    grpo_ = algorithms::advantage_registry().create("grpo", node);
  }
  core::Advantages compute(const algorithms::AdvantageInput& input) const override {
    static int64_t calls = 0;
    VECRL_CHECK(++calls != o_.fail_at, "injected failure on call ", calls);
    return grpo_->compute(input);
  }

 private:
  FailingOptions o_;
  std::unique_ptr<algorithms::AdvantageEstimator> grpo_;
};
VECRL_REGISTER(algorithms::advantage_registry(), "test_failing",
               (core::make_configured<algorithms::AdvantageEstimator, FailingOptions, FailingEstimator>));

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

TEST(Checkpoints, ADataOrderThatIsNotAPermutationIsRefusedOnResume) {
  // state.json's data.order indexes the dataset: an index past it (or a repeated one) would read
  // past the records. Each is an error naming the entry.
  auto t = make("bad_order", {"train.steps=1"});
  t->run(quiet);
  const auto dir = trainer::latest_checkpoint(t->run_dir())->dir;
  const auto state_path = fs::path(dir) / "state.json";
  std::ifstream in(state_path);
  const auto original = nlohmann::json::parse(in);
  for (const int64_t bad : {int64_t{1} << 40, int64_t{-3}, int64_t{-1}}) {
    auto state = original;
    auto& order = state["data"]["order"];
    order[1] = bad == -1 ? order[0] : nlohmann::json(bad);  // -1: repeat the first index
    std::ofstream(state_path) << state.dump();
    try {
      make("bad_order", {"train.steps=2", "checkpoint.resume=required"});
      FAIL() << "resumed from an order with " << bad;
    } catch (const core::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("order[1]"), std::string::npos) << what;
      EXPECT_NE(what.find(bad == -1 ? "repeated" : "out of range"), std::string::npos) << what;
    }
  }
  // A state.json nested 100,000 deep is refused before it is parsed.
  std::ofstream(state_path) << std::string(100000, '[') << std::string(100000, ']');
  try {
    make("bad_order", {"train.steps=2", "checkpoint.resume=required"});
    FAIL() << "resumed from a deeply nested state.json";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("state.json: JSON nested deeper than 256"), std::string::npos) << e.what();
  }
}

TEST(Checkpoints, AResumeRefusesConfigChangesThatBreakExactness) {
  auto t = make("changed", {"train.steps=1"});
  t->run(quiet);
  auto resume_error = [&](std::vector<std::string> extra) {
    extra.push_back("checkpoint.resume=required");
    try {
      make("changed", extra);
    } catch (const core::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::string lr = resume_error({"train.steps=2", "optim.lr=0.5"});
  EXPECT_NE(lr.find("the config changed since its checkpoints"), std::string::npos) << lr;
  EXPECT_NE(lr.find("optim.lr: "), std::string::npos) << lr;
  EXPECT_NE(lr.find("-> 0.5"), std::string::npos) << lr;
  EXPECT_NE(lr.find("checkpoint.allow_changes"), std::string::npos) << lr;
  EXPECT_NE(resume_error({"rollout.group_size=2"}).find("rollout.group_size: 4 -> 2"), std::string::npos);
  EXPECT_NE(resume_error({"run.seed=7"}).find("run.seed: 1 -> 7"), std::string::npos);
  EXPECT_NE(resume_error({"advantage.std=population"}).find("advantage.std: unbiased -> population"), std::string::npos);
  // Safe keys (more steps, checkpointing, threads) and keys the user accepts are not refused.
  EXPECT_EQ(resume_error({"train.steps=2", "checkpoint.every=1", "run.threads=1"}), "(no error)");
  EXPECT_EQ(resume_error({"train.steps=2", "optim.lr=0.5", "checkpoint.allow_changes=[optim.lr]"}), "(no error)");
}

TEST(Checkpoints, ADatasetThatChangedUnderTheSameSizeIsRefusedOnResume) {
  const fs::path data = fs::path(::testing::TempDir()) / ("vecrl_changed_data_" + std::to_string(getpid()) + ".jsonl");
  fs::copy_file(fs::path(VECRL_SOURCE_DIR) / "configs/data/story_prompts.jsonl", data, fs::copy_options::overwrite_existing);
  auto t = make("changed_data", {"train.steps=1", "data.path=" + data.string()});
  t->run(quiet);
  std::ifstream in(data);
  std::string first, rest, line;
  std::getline(in, first);
  while (std::getline(in, line)) rest += line + "\n";
  in.close();
  auto record = nlohmann::json::parse(first);
  record["prompt"] = record["prompt"].get<std::string>() + " Then";
  std::ofstream(data) << record.dump() << "\n" << rest;
  try {
    make("changed_data", {"train.steps=2", "data.path=" + data.string(), "checkpoint.resume=required"});
    FAIL() << "resumed over a changed dataset";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the dataset changed since the checkpoint"), std::string::npos) << e.what();
  }
}

TEST(Checkpoints, ASecondRunIntoAFolderInUseIsRefused) {
  auto t = make("locked", {"train.steps=1"});
  const std::string dir = t->run_dir();
  // A second run into the same folder (flock is per open file: a second open conflicts even in
  // this process), whether through the lock itself or a whole trainer.
  try {
    trainer::RunFolderLock again(dir);
    FAIL() << "took the lock of a run folder in use";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is in use by another run (pid " + std::to_string(getpid()) + ")"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(make("locked", {"train.steps=1"}), core::Error);
  t.reset();  // the first run ends: the folder is free again
  EXPECT_NO_THROW(trainer::RunFolderLock free_again(dir));
}

TEST(Checkpoints, AStepThatFailsLeavesACheckpointOfTheCompletedOnes) {
  // checkpoint.every 0: without the failure's checkpoint, two completed steps would be lost.
  auto t = make("failed_step", {"train.steps=5", "advantage={type: test_failing, fail_at: 3}"});
  try {
    t->run(quiet);
    FAIL() << "the injected failure did not stop the run";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 3, stage 'advantages': injected failure"), std::string::npos) << e.what();
  }
  const auto latest = trainer::latest_checkpoint(t->run_dir());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 2);
  t.reset();
  // It resumes where the completed steps ended, with the data cursor of the end of step 2.
  auto resumed = make("failed_step", {"train.steps=3", "advantage={type: test_failing, fail_at: 0}",
                                      "checkpoint.resume=required", "checkpoint.allow_changes=[advantage.fail_at]"});
  EXPECT_EQ(resumed->completed_steps(), 2);
  EXPECT_EQ(resumed->run(quiet).steps, 3);
}

// Issue 25: a 60 MB prompt took 10 GB (it was tokenized whole at the first step). Now it is a bad
// record found at load, before tokenizing; the peak memory of reading it stays far below that.
TEST(Checkpoints, ASixtyMegabytePromptIsSkippedWithinBoundedMemory) {
  const fs::path data = fs::path(::testing::TempDir()) / ("vecrl_huge_prompt_" + std::to_string(getpid()) + ".jsonl");
  std::ofstream(data) << R"({"prompt": "Once upon a time"})" << "\n"
                      << nlohmann::json{{"prompt", std::string(60 << 20, 'a')}}.dump() << "\n";
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  auto skipping = make("huge_prompt", {"data.path=" + data.string(), "data.skip_bad_records=true", "train.steps=1"});
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 1024 * 1024) << "KB of peak memory grew while loading";  // < 1 GiB
  EXPECT_EQ(skipping->run(quiet).steps, 1);
  fs::remove(data);
}

TEST(Checkpoints, AnOverLongPromptIsABadRecordNamedByItsLine) {
  const fs::path data = fs::path(::testing::TempDir()) / ("vecrl_long_prompt_" + std::to_string(getpid()) + ".jsonl");
  std::string long_prompt;
  for (int i = 0; i < 400; ++i) long_prompt += "Once upon a time ";
  std::ofstream(data) << R"({"prompt": "Once upon a time"})" << "\n"
                      << nlohmann::json{{"prompt", long_prompt}}.dump() << "\n"
                      << R"({"prompt": "There was a cat"})" << "\n"
                      << nlohmann::json{{"prompt", std::string(8 << 20, 'a')}}.dump() << "\n";  // 8 MB: not even tokenized
  try {
    make("long_prompt", {"data.path=" + data.string()});
    FAIL() << "an over-long prompt was accepted";
  } catch (const core::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(data.filename().string() + ":2: the prompt is "), std::string::npos) << what;
    EXPECT_NE(what.find("with 8 new tokens (rollout.max_new_tokens) it does not fit the model's context of 512"),
              std::string::npos)
        << what;
  }
  auto skipping = make("long_prompt", {"data.path=" + data.string(), "data.skip_bad_records=true", "train.steps=1"});
  EXPECT_EQ(skipping->run(quiet).steps, 1);
}

TEST(Checkpoints, ALoraRunCheckpointsOnlyItsAdaptersAndResumesExactly) {
  const std::vector<std::string> lora = {"model.lora.rank=4", "optim.lr=1.0e-3"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), lora.begin(), lora.end());
    return extra;
  };
  auto straight = make("lora_straight", with({"train.steps=4"}));
  straight->run(quiet);
  auto first = make("lora_resumed", with({"train.steps=2"}));
  first->run(quiet);
  auto second = make("lora_resumed", with({"train.steps=4", "checkpoint.resume=required"}));
  EXPECT_EQ(second->completed_steps(), 2);
  second->run(quiet);
  EXPECT_EQ(straight->parameter_vector(), second->parameter_vector());
  const auto latest = trainer::latest_checkpoint(second->run_dir());
  ASSERT_TRUE(latest.has_value());
  const auto saved = core::read_safetensors(latest->dir + "/model.safetensors");
  EXPECT_EQ(saved.size(), 70u);  // 5 layers x 7 layers' A and B: no base weight
  for (const auto& [name, t] : saved) EXPECT_TRUE(models::is_lora_parameter(name)) << name;
  double b_norm = 0;
  for (const auto& [name, t] : saved)
    if (name.find("lora_B") != std::string::npos) b_norm += t.abs().sum().item<double>();
  EXPECT_GT(b_norm, 0.0);  // the adapters trained
  std::ifstream state_file(latest->dir + "/state.json");
  const auto state = nlohmann::json::parse(state_file);
  EXPECT_EQ(state["lora_base"]["fingerprint"].get<std::string>().rfind("fnv64:", 0), 0u);
}

TEST(Checkpoints, ALoraResumeOntoAChangedBaseIsRefused) {
  const fs::path base = fs::path(::testing::TempDir()) / ("vecrl_lora_base_" + std::to_string(getpid()));
  fs::remove_all(base);
  fs::copy(test::stories260k(), base);
  for (const auto& f : fs::directory_iterator(base)) fs::permissions(f.path(), fs::perms::owner_all, fs::perm_options::add);
  auto first = make("lora_base_changed", {"model.path=" + base.string(), "model.lora.rank=2", "train.steps=1"});
  first->run(quiet);
  first.reset();
  {
    std::fstream weights(base / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    weights.seekp(-16, std::ios::end);
    weights.write("changed weights!", 16);
  }
  try {
    make("lora_base_changed", {"model.path=" + base.string(), "model.lora.rank=2", "train.steps=2",
                               "checkpoint.resume=required"})
        ->run(quiet);
    FAIL() << "adapters were resumed onto a different base";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("(a different or changed base)"), std::string::npos) << e.what();
  }
  fs::remove_all(base);
}
