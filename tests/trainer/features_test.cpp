// Trainer features beyond the plain GRPO loop, each run for a step or two on stories260K.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "tests/trainer/test_support.h"
#include "trainer/rl_trainer.h"

using namespace vecrl;

namespace {

std::vector<core::MetricMap> run_steps(std::vector<std::string> overrides, const std::string& name, int64_t steps) {
  std::vector<std::string> base = {"run.threads=2", "rollout.prompts_per_step=2", "rollout.group_size=4",
                                   "rollout.max_new_tokens=8", "train.mini_batches=1", "train.steps=" + std::to_string(steps)};
  base.insert(base.end(), overrides.begin(), overrides.end());
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(base, name)));
  std::vector<core::MetricMap> out;
  for (int64_t s = 1; s <= steps; ++s) out.push_back(t.step(s));
  return out;
}

}  // namespace

TEST(TrainerFeatures, MicroBatchSizeDoesNotChangeTheUpdate) {
  auto whole = run_steps({"train.micro_batch_size=8"}, "micro_8", 1)[0];
  auto split = run_steps({"train.micro_batch_size=3"}, "micro_3", 1)[0];
  // A token budget smaller than two rows: every micro-batch is one rollout, cut to its own length.
  auto budget = run_steps({"train.micro_batch_size=8", "train.micro_batch_tokens=12"}, "micro_tokens", 1)[0];
  for (const char* key : {"actor/pg_loss", "actor/grad_norm", "actor/kl_loss", "actor/entropy", "actor/pg_clipfrac"}) {
    EXPECT_NEAR(whole.at(key), split.at(key), 1e-5) << key;
    EXPECT_NEAR(whole.at(key), budget.at(key), 1e-5) << key;
  }
}

TEST(TrainerFeatures, HdpoRunsTwoLossChannels) {
  auto m = run_steps({"advantage={type: hdpo, condition: animal>=1, conditional: [cheerful], conditional_weight: 0.15}"},
                     "hdpo", 2);
  for (const auto& step : m) {
    EXPECT_TRUE(step.count("actor/conditional/pg_loss"));
    EXPECT_TRUE(step.count("critic/advantages/conditional/mean"));
  }
}

TEST(TrainerFeatures, KlInRewardIsAPenaltyNotARewardDimension) {
  auto m = run_steps({"kl_in_reward.coef=0.1", "loss.kl_coef=0"}, "kl_reward", 2);
  EXPECT_FALSE(m[1].count("rewards/kl/penalty/mean"));
  ASSERT_TRUE(m[1].count("actor/reward_kl_penalty"));
  EXPECT_NEAR(m[0].at("actor/reward_kl_penalty"), 0.0, 1e-5);  // policy == reference at step 1
  EXPECT_EQ(m[1].at("actor/reward_kl_penalty_coeff"), 0.1);
}

TEST(TrainerFeatures, DynamicSamplingKeepsGroupsWithSignal) {
  auto m = run_steps({"rollout.dynamic_sampling=true", "rollout.max_sampling_rounds=3"}, "dynamic", 2);
  for (const auto& step : m) {
    EXPECT_GE(step.at("sampling/rounds"), 1);
    EXPECT_LE(step.at("sampling/rounds"), 3);
    // Whenever a round's worth of groups with signal was found, no zero-variance group remains.
    if (step.at("sampling/kept_group_frac") == 1.0) {
      EXPECT_EQ(step.at("frac_reward_zero_std"), 0.0);
    }
  }
}

TEST(TrainerFeatures, OverlongFilterRemovesTruncatedResponsesFromTheLoss) {
  // Every response is cut at 8 tokens, so with the filter no token carries loss.
  auto m = run_steps({"rollout.overlong_filter=true"}, "overlong", 1)[0];
  EXPECT_EQ(m.at("response_length/clip_ratio"), 1.0);
  EXPECT_EQ(m.at("actor/pg_loss"), 0.0);
  EXPECT_EQ(m.at("actor/grad_norm"), 0.0);
}

TEST(TrainerFeatures, GspoAndOtherEstimatorsTrain) {
  for (const std::string& override_ :
       {std::string("loss={type: gspo}"), std::string("advantage={type: dvao}"), std::string("advantage={type: gdpo}"),
        std::string("advantage={type: reinforce_pp}"), std::string("advantage={type: vpo, seed: 3}")}) {
    auto m = run_steps({override_}, "variant", 1)[0];
    EXPECT_TRUE(std::isfinite(m.at("actor/pg_loss"))) << override_;
  }
}

TEST(TrainerFeatures, LearningRateFollowsTheSchedule) {
  auto m = run_steps({"optim.lr=1e-3", "optim.schedule=linear", "optim.warmup_steps=2", "optim.min_lr_ratio=0"},
                     "schedule", 4);
  EXPECT_NEAR(m[0].at("actor/lr"), 5e-4, 1e-12);
  EXPECT_NEAR(m[1].at("actor/lr"), 1e-3, 1e-12);
  EXPECT_NEAR(m[2].at("actor/lr"), 5e-4, 1e-12);
  EXPECT_NEAR(m[3].at("actor/lr"), 0.0, 1e-12);
}

TEST(TrainerFeatures, LikelihoodRewardAddsTheAnswerLikelihoodTermToTheLoss) {
  // Prompts whose reference answer is "happy.": the Lemma-1 term raises log p(a* | prompt, reasoning).
  const std::string data = ::testing::TempDir() + "/vecrl_likelihood_prompts.jsonl";
  {
    std::ofstream out(data);
    for (const char* p : {"Once upon a time, there was a little", "Tom had a big red", "The sun was shining and the"})
      out << nlohmann::json{{"prompt", p}, {"answer", "She was very happy."}}.dump() << "\n";
  }
  auto m = run_steps({"data.path=" + data, "rewards=[{type: likelihood, marker: '', loss_coef: 1.0}]",
                      "advantage={type: rloo}", "optim.lr=0.003", "loss.kl_coef=0"},
                     "likelihood_loss", 4);
  for (const auto& step : m) ASSERT_TRUE(step.count("actor/answer_loss/likelihood"));
  EXPECT_GT(m[0].at("actor/answer_loss/likelihood"), 0.0);  // -log p(a* | ...) for the logprob reward
  EXPECT_LT(m[3].at("actor/answer_loss/likelihood"), m[0].at("actor/answer_loss/likelihood"));
  EXPECT_GT(m[3].at("rewards/likelihood/logprob/mean"), m[0].at("rewards/likelihood/logprob/mean"));
}

namespace {

// Gradients at the listed steps scaled by `factor` (NaN poisons them) just before clipping.
trainer::TrainerHooks gradient_fault(std::vector<int64_t> steps, double factor) {
  trainer::TrainerHooks hooks;
  hooks.before_optimizer_step = [steps, factor](int64_t step, const std::vector<at::Tensor>& params) {
    if (std::find(steps.begin(), steps.end(), step) == steps.end()) return;
    for (const auto& p : params)
      if (p.grad().defined()) std::isnan(factor) ? p.grad().fill_(NAN) : p.grad().mul_(factor);
  };
  return hooks;
}

}  // namespace

TEST(TrainerFeatures, NonFiniteGradientsSkipTheUpdateAndRepeatedOnesStopWithACheckpoint) {
  std::vector<std::string> base = {"run.threads=1", "rollout.prompts_per_step=2", "rollout.group_size=4",
                                   "rollout.max_new_tokens=8", "train.mini_batches=1", "train.steps=3"};
  {
    trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(base, "nan_once")));
    t.set_hooks(gradient_fault({2}, NAN));
    t.step(1);
    const auto before = t.parameter_vector();
    auto m = t.step(2);
    EXPECT_EQ(m.at("actor/skipped_updates"), 1.0);
    EXPECT_EQ(t.parameter_vector(), before);  // the poisoned update never reached the weights
    auto next = t.step(3);
    EXPECT_EQ(next.at("actor/skipped_updates"), 0.0);
    EXPECT_NE(t.parameter_vector(), before);
  }
  base.push_back("train.max_skipped_steps=2");
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(base, "nan_always")));
  t.set_hooks(gradient_fault({1, 2, 3}, NAN));
  try {
    t.run([](const std::string&) {});
    FAIL() << "expected the run to stop";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 2: the updates of the last 2 steps were all skipped"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(t.run_dir()) / "checkpoints" / "step_00000002"));
}

TEST(TrainerFeatures, GradientNormSpikesAreClippedAndFlagged) {
  std::vector<std::string> base = {"run.threads=1", "rollout.prompts_per_step=2", "rollout.group_size=4",
                                   "rollout.max_new_tokens=8", "train.mini_batches=1", "train.steps=7",
                                   "optim.max_grad_norm=1.0"};
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(base, "spike")));
  t.set_hooks(gradient_fault({7}, 1e4));
  std::vector<core::MetricMap> m;
  for (int64_t step = 1; step <= 7; ++step) m.push_back(t.step(step));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(m[i].at("actor/grad_norm_spikes"), 0.0) << i;
  EXPECT_EQ(m[6].at("actor/grad_norm_spikes"), 1.0);
  EXPECT_EQ(m[6].at("actor/grad_clipped"), 1.0);  // bounded by max_grad_norm all the same
  EXPECT_GT(m[6].at("actor/grad_norm"), 100 * m[5].at("actor/grad_norm"));
}

TEST(TrainerFeatures, AnErrorNamesTheStepAndTheStage) {
  std::vector<std::string> base = {"run.threads=1", "rollout.prompts_per_step=2", "rollout.group_size=4",
                                   "rollout.max_new_tokens=8", "train.steps=2"};
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(base, "stage_error")));
  trainer::TrainerHooks hooks;
  hooks.before_optimizer_step = [](int64_t step, const std::vector<at::Tensor>&) {
    if (step == 2) throw core::Error("injected");
  };
  t.set_hooks(hooks);
  t.step(1);
  try {
    t.step(2);
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_EQ(std::string(e.what()), "step 2, stage 'update': injected");
  }
}

TEST(TrainerFeatures, Bfloat16ComputeTrainsFloat32Masters) {
  std::vector<std::string> base = {"run.threads=2", "rollout.prompts_per_step=2", "rollout.group_size=4",
                                   "rollout.max_new_tokens=8", "train.steps=2", "model.compute_dtype=bfloat16"};
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(base, "bf16")));
  const auto before = t.parameter_vector();
  for (int64_t s = 1; s <= 2; ++s) {
    auto m = t.step(s);
    for (const char* key : {"actor/pg_loss", "actor/grad_norm", "actor/kl_loss", "sampling/logp_diff/max"}) {
      ASSERT_TRUE(m.count(key)) << key;
      EXPECT_TRUE(std::isfinite(m.at(key))) << key;
    }
    EXPECT_GT(m.at("actor/grad_norm"), 0.0);
    // Behaviour (generation) and recomputed log-probs are both bfloat16 forwards of the same weights.
    EXPECT_LT(m.at("sampling/logp_diff/max"), 0.5);
  }
  // Float32 masters keep updates smaller than half a bfloat16 step at the weight's magnitude,
  // which a bfloat16 weight would round away.
  const auto after = t.parameter_vector();
  int64_t fine_updates = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const double delta = std::abs(after[i] - before[i]);
    if (delta > 0 && delta < std::abs(before[i]) * std::ldexp(1.0, -9)) ++fine_updates;
  }
  EXPECT_GT(fine_updates, 0);
}

TEST(TrainerFeatures, WrittenOutAttentionTrainsLikeFusedAttention) {
  auto fused = run_steps({"model.fused_attention=true"}, "attn_fused", 1)[0];
  auto math = run_steps({"model.fused_attention=false"}, "attn_math", 1)[0];
  for (const char* key : {"actor/pg_loss", "actor/grad_norm", "actor/kl_loss", "actor/entropy", "critic/score/mean"})
    EXPECT_NEAR(fused.at(key), math.at(key), 1e-5) << key;
}
