// A table of bad configs: each must fail before any training with a message naming the key.
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include <cctype>

#include "core/error.h"
#include "tests/trainer/test_support.h"
#include "trainer/rl_trainer.h"

using namespace vecrl;

namespace {

struct BadConfig {
  std::string override_;
  std::string expected;
};

std::string failure(const std::string& override_) {
  try {
    trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(),
                                                  test::with_temp_run({override_}, "bad_config")));
  } catch (const core::Error& e) {
    return e.what();
  }
  return "(no error)";
}

void PrintTo(const BadConfig& b, std::ostream* os) { *os << b.override_; }

class BadConfigs : public ::testing::TestWithParam<BadConfig> {};

}  // namespace

TEST_P(BadConfigs, FailWithAMessageNamingTheKey) {
  const auto& p = GetParam();
  const std::string message = failure(p.override_);
  EXPECT_NE(message.find(p.expected), std::string::npos) << "override " << p.override_ << " gave: " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadConfigs,
    ::testing::Values(
        BadConfig{"model.device=tpu", "config key 'model.device': expected auto, cpu, cuda or cuda:N, found 'tpu'"},
        BadConfig{"model.device=cuda:x", "config key 'model.device': expected auto, cpu, cuda or cuda:N"},
        BadConfig{"model.compute_dtype=float16", "config key 'model.compute_dtype': expected one of {float32, bfloat16}"},
        BadConfig{"distributed.bucket_mb=0", "config key 'distributed.bucket_mb': must be > 0"},
        BadConfig{"rollout.group_size=0",
                  "quickstart.yaml (override rollout.group_size=0): config key 'rollout.group_size': must be in [1, 65536]"},
        BadConfig{"optim.lr=-1", "config key 'optim.lr': must be > 0"},
        BadConfig{"optim.lr=abc", "config key 'optim.lr': expected a number, found 'abc'"},
        BadConfig{"train.stepz=3", "unknown config key 'train.stepz'"},
        BadConfig{"extra_section.a=1", "unknown config key 'extra_section'"},
        BadConfig{"advantage.type=nope", "config key 'advantage.type': unknown advantage estimator 'nope'; registered: "},
        BadConfig{"advantage.std=sample", "config key 'advantage.std': expected one of {unbiased, population}"},
        BadConfig{"advantage.epsilon=1", "unknown config key 'advantage.epsilon'"},
        BadConfig{"loss.clip_low=1.5", "config key 'loss.clip_low': must be in (0, 1)"},
        BadConfig{"loss.aggregation=mean", "config key 'loss.aggregation': expected one of"},
        BadConfig{"loss.type=dpo", "config key 'loss.type': unknown policy loss 'dpo'"},
        BadConfig{"rewards.0.weight=x", "config key 'rewards[0].weight': expected a number"},
        BadConfig{"rewards.1.type=bogus", "config key 'rewards[1].type': unknown reward module 'bogus'"},
        BadConfig{"rewards.2.reward_absense=true", "unknown config key 'rewards[2].reward_absense'"},
        BadConfig{"rewards=[]", "at least one reward module"},
        BadConfig{"rollout.top_p=0", "config key 'rollout.top_p': must be in (0, 1]"},
        BadConfig{"rollout.temperature=0", "config key 'rollout.temperature': must be > 0"},
        BadConfig{"data.chat_template=vicuna", "config key 'data.chat_template': must be auto or one of chatml, llama2, llama3, plain, got 'vicuna'"},
        BadConfig{"rollout=5", "config key 'rollout': expected a mapping"},
        BadConfig{"train.mini_batches=7", "mini_batches (7) must divide the 64 rollouts"},
        BadConfig{"run.threads=-1", "config key 'run.threads': must be in [0, 1024]"},
        BadConfig{"run.threads=100000", "config key 'run.threads': must be in [0, 1024] (0: all cores), got 100000"},
        BadConfig{"rollout.group_size=4294967298", "config key 'rollout.group_size': must be within +-2147483647"},
        BadConfig{"rollout.max_new_tokens=9223372036854775807", "config key 'rollout.max_new_tokens': must be within"},
        BadConfig{"rollout.prompts_per_step=9223372036854775807", "config key 'rollout.prompts_per_step': must be within"},
        BadConfig{"rollout.group_size=70000", "config key 'rollout.group_size': must be in [1, 65536]"},
        BadConfig{"rollout.prompts_per_step=300000", "rollouts per step; the limit is 1048576"},
        BadConfig{"rollout.max_new_tokens=600",
                  "config key 'rollout.max_new_tokens': 600 new tokens leave no room for a prompt in the model's context of 512"},
        BadConfig{"rollout.group_size=~", "config key 'rollout.group_size': has no value (null); remove the key to use the default"},
        BadConfig{"run.name=a/b", "config key 'run.name'"},
        BadConfig{"model.path=/nonexistent", "/nonexistent: not a model folder"},
        BadConfig{"data.path=/nonexistent.jsonl", "/nonexistent.jsonl: cannot open"},
        BadConfig{"data.prompt_field=question", "story_prompts.jsonl:1: the record has no string field 'question' (config key data.prompt_field)"},
        BadConfig{"data.prompt_template='Q: {question}'", "story_prompts.jsonl:1: prompt_template: the record has no field 'question'"}),
    [](const ::testing::TestParamInfo<BadConfig>& info) {
      std::string name;
      for (char c : info.param.override_) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

TEST(DeviceConfig, AGpuThatIsNotThereIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU";
  EXPECT_NE(failure("model.device=cuda").find("config key 'model.device': 'cuda' needs GPU 0 but this build or "
                                              "machine has no CUDA device"),
            std::string::npos);
  EXPECT_NE(failure("model.device=cuda:1").find("needs GPU 1"), std::string::npos);
  // auto falls back to the CPU: the quickstart runs as before.
  EXPECT_EQ(failure("model.device=auto"), "(no error)");
}
