// The vector-reward contract through the trainer: what each estimator receives and computes inside
// a real RL step on stories260K, checked against independent computations from algorithms.md
// (tests/trainer/reference_advantages.h), never against the estimators' own code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "tests/trainer/reference_advantages.h"
#include "tests/trainer/test_support.h"
#include "trainer/rl_trainer.h"
#include "trainer/step_context.h"

using namespace vecrl;
namespace ref = vecrl::test::reference;

namespace {

struct Captured {
  std::vector<trainer::StepContext> steps;
  std::vector<core::MetricMap> metrics;
};

Captured run_captured(std::vector<std::string> overrides, const std::string& name, int64_t steps) {
  std::vector<std::string> all = {"run.threads=2",          "rollout.prompts_per_step=2", "rollout.group_size=4",
                                  "rollout.max_new_tokens=8", "train.mini_batches=1",     "train.steps=" + std::to_string(steps)};
  all.insert(all.end(), overrides.begin(), overrides.end());
  trainer::RlTrainer t(trainer::load_run_config(test::quickstart_config(), test::with_temp_run(all, name)));
  Captured out;
  trainer::TrainerHooks hooks;
  hooks.after_step = [&out](const trainer::StepContext& ctx) { out.steps.push_back(ctx); };
  t.set_hooks(hooks);
  for (int64_t s = 1; s <= steps; ++s) out.metrics.push_back(t.step(s));
  return out;
}

const std::vector<std::string> kTrained = {"animal/score", "cheerful/score", "avoid_big/score"};
const ref::Vec kWeights = {0.5, 0.25, 0.25};  // configs/quickstart.yaml

ref::Mat trained_columns(const trainer::StepContext& ctx) {
  ref::Mat columns;
  for (const auto& name : kTrained) columns.push_back(ref::column(ctx.rewards, name));
  return columns;
}

ref::Vec weighted_total(const trainer::StepContext& ctx) {
  const auto columns = trained_columns(ctx);
  ref::Vec total(columns[0].size(), 0.0);
  for (std::size_t k = 0; k < columns.size(); ++k)
    for (std::size_t i = 0; i < total.size(); ++i) total[i] += kWeights[k] * columns[k][i];
  return total;
}

ref::Vec minus(ref::Vec a, const ref::Vec& b) {
  for (std::size_t i = 0; i < a.size(); ++i) a[i] -= b[i];
  return a;
}

std::string error_of(const std::vector<std::string>& overrides, const std::string& name) {
  try {
    run_captured(overrides, name, 1);
  } catch (const core::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RewardContract, VpoDrawsOverTrainedDimensionsOnlyAndTakesTheKlPenaltyOnItsScore) {
  // A weight-0 module whose `ratio` dimension is not-valid on every text shorter than 30 bytes: it
  // must neither enter VPO's scalarisation nor decide whether an answer exists.
  auto run = run_captured({"rewards=[{type: contains_word, name: animal, words: [dog, cat, bird, fish, duck, bunny, bear, frog], weight: 0.5},"
                           " {type: contains_word, name: cheerful, words: [happy, smiled, laughed, fun], weight: 0.25},"
                           " {type: contains_word, name: avoid_big, words: [big], reward_absence: true, weight: 0.25},"
                           " {type: compression, min_bytes: 30, weight: 0}]",
                           "advantage={type: vpo, weight_samples: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.3, 0.5]]}",
                           "kl_in_reward.coef=0.05", "rollout.group_size=6"},
                          "contract_vpo", 2);
  bool some_not_valid = false;
  for (bool v : ref::valid_column(run.steps[1].rewards, "compression/ratio")) some_not_valid |= !v;
  ASSERT_TRUE(some_not_valid) << "precondition: a weight-0 dimension is not-valid somewhere";
  const ref::Mat W = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.2, 0.3, 0.5}};
  for (const auto& ctx : run.steps) {
    ASSERT_TRUE(ctx.token_penalty.defined());
    const auto penalty = ref::row_sums(ref::token_k1(ctx.old_logprobs, ctx.ref_logprobs, ctx.rollouts.response_mask, 0.05));
    const auto want = ref::vpo(trained_columns(ctx), W, penalty, 6);
    ref::expect_near(ref::vec(ctx.advantages.values[0]), want, 2e-4, "vpo at step " + std::to_string(ctx.step));
  }
  EXPECT_FALSE(run.metrics[1].count("rewards/kl/penalty/mean"));  // a penalty, not a reward dimension
}

TEST(RewardContract, KlInRewardIsATermOnTheCombinedRewardOfEachEstimator) {
  const double coef = 0.1;
  auto penalties = [&](const trainer::StepContext& ctx) {
    return ref::token_k1(ctx.old_logprobs, ctx.ref_logprobs, ctx.rollouts.response_mask, coef);
  };
  const std::string kl = "kl_in_reward.coef=" + std::to_string(coef);
  {  // GRPO: r - sum_t pen_t, then the group z-score (unbiased, 1e-6).
    const auto ctx = run_captured({kl}, "contract_kl_grpo", 2).steps[1];
    const auto r = minus(weighted_total(ctx), ref::row_sums(penalties(ctx)));
    ref::expect_near(ref::vec(ctx.advantages.values[0]), ref::grpo(r, std::vector<bool>(r.size(), true), 4, 1e-6, true),
                     2e-4, "grpo");
  }
  {  // DVAO: the penalty enters the numerator; S stays the task rewards' spread.
    const auto ctx = run_captured({kl, "advantage={type: dvao}"}, "contract_kl_dvao", 2).steps[1];
    ref::expect_near(ref::vec(ctx.advantages.values[0]),
                     ref::dvao(trained_columns(ctx), kWeights, ref::row_sums(penalties(ctx)), 4), 2e-4, "dvao");
  }
  {  // HDPO with `primary` listed: the primary channel takes the penalty, the conditional one not.
    const auto ctx = run_captured({kl, "advantage={type: hdpo, condition: animal>=1, conditional: [cheerful], primary: [animal]}"},
                                  "contract_kl_hdpo", 2)
                         .steps[1];
    const auto animal = ref::column(ctx.rewards, "animal/score"), cheerful = ref::column(ctx.rewards, "cheerful/score");
    ref::Vec primary(animal.size()), conditional(animal.size());
    std::vector<bool> qualifies(animal.size());
    for (std::size_t i = 0; i < animal.size(); ++i) {
      primary[i] = 0.5 * animal[i];
      conditional[i] = 0.25 * cheerful[i];
      qualifies[i] = animal[i] >= 1;
    }
    primary = minus(primary, ref::row_sums(penalties(ctx)));
    ref::expect_near(ref::vec(ctx.advantages.values[0]), ref::grpo(primary, std::vector<bool>(primary.size(), true), 4, 1e-6, true),
                     2e-4, "hdpo primary");
    ref::expect_near(ref::vec(ctx.advantages.values[1]), ref::grpo(conditional, qualifies, 4, 1e-6, true), 2e-4,
                     "hdpo conditional");
  }
  {  // REINFORCE++: per token into the return-to-go, not the sequence's KL on its last token.
    const auto ctx = run_captured({kl, "advantage={type: reinforce_pp}"}, "contract_kl_rpp", 2).steps[1];
    const auto want = ref::reinforce_pp(weighted_total(ctx), penalties(ctx), ref::mat(ctx.rollouts.response_mask));
    const auto got = ref::mat(ctx.advantages.token_values[0]);
    for (std::size_t i = 0; i < want.size(); ++i) ref::expect_near(got[i], want[i], 2e-4, "reinforce_pp row " + std::to_string(i));
  }
  // Estimators without a combined reward refuse the penalty, naming both keys.
  for (const std::string type : {"ac", "gdpo", "jepo"}) {
    const auto error = error_of({kl, "advantage={type: " + type + "}"}, "contract_kl_" + type);
    EXPECT_NE(error.find("kl_in_reward.coef"), std::string::npos) << type << ": " << error;
    EXPECT_NE(error.find("advantage.type"), std::string::npos) << type << ": " << error;
  }
}

TEST(RewardContract, TheRewardKlMetricIsTheMeanTokenKl) {
  auto run = run_captured({"kl_in_reward.coef=0.2", "loss.kl_coef=0"}, "contract_kl_metric", 2);
  for (std::size_t s = 0; s < run.steps.size(); ++s) {
    const auto& ctx = run.steps[s];
    const auto k1 = ref::token_k1(ctx.old_logprobs, ctx.ref_logprobs, ctx.rollouts.response_mask, 1.0);
    const auto lengths = ref::row_sums(ref::mat(ctx.rollouts.response_mask));
    const auto sums = ref::row_sums(k1);
    double mean = 0;
    for (std::size_t i = 0; i < sums.size(); ++i) mean += sums[i] / lengths[i] / static_cast<double>(sums.size());
    EXPECT_NEAR(run.metrics[s].at("actor/reward_kl_penalty"), mean, 1e-6);
    EXPECT_EQ(run.metrics[s].at("actor/reward_kl_penalty_coeff"), 0.2);
  }
  EXPECT_NEAR(run.metrics[0].at("actor/reward_kl_penalty"), 0.0, 1e-6);  // policy == reference at step 1
  EXPECT_NE(run.metrics[1].at("actor/reward_kl_penalty"), 0.0);
}

TEST(RewardContract, HdpoAddsKlAndEntropyOncePerUpdate) {
  // Step 2 (policy != reference), one mini-batch: the ratio is 1, so each channel's surrogate is
  // -mean of its advantages over its tokens, and the whole loss is
  //   sum_ch w_ch * surrogate_ch + kl_coef * KL + (- entropy_coef * H), KL and H once, over the loss tokens.
  auto run = run_captured({"advantage={type: hdpo, condition: animal>=1, conditional: [cheerful], conditional_weight: 0.15}",
                           "loss.kl_coef=0.05", "loss.entropy_coef=0.01"},
                          "contract_hdpo_once", 2);
  const auto& ctx = run.steps[1];
  const auto& m = run.metrics[1];
  const auto mask = ref::mat(ctx.loss_mask);
  double expected = 0;
  for (int64_t ch = 0; ch < 2; ++ch) {
    const auto adv = ref::vec(ctx.advantages.values[ch]);
    const auto rows = ref::vec(ctx.advantages.rollout_mask[ch]);
    double sum = 0, tokens = 0;
    for (std::size_t i = 0; i < mask.size(); ++i)
      for (double on : mask[i])
        if (on != 0 && rows[i] != 0) sum += adv[i], tokens += 1;
    expected += ctx.advantages.weight(ch) * (-sum / tokens);
  }
  const auto old = ref::mat(ctx.old_logprobs), refs = ref::mat(ctx.ref_logprobs);
  double kl = 0, tokens = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    for (std::size_t t = 0; t < mask[i].size(); ++t)
      if (mask[i][t] != 0) {
        const double log_ratio = refs[i][t] - old[i][t];  // k3 at logp = logp_old
        kl += std::exp(log_ratio) - log_ratio - 1, tokens += 1;
      }
  kl /= tokens;
  EXPECT_NEAR(m.at("actor/kl_loss"), kl, 1e-5);
  expected += 0.05 * kl - 0.01 * m.at("actor/entropy_loss");
  EXPECT_NEAR(m.at("actor/loss"), expected, 1e-5);
  EXPECT_FALSE(m.count("actor/conditional/kl_loss"));
  EXPECT_FALSE(m.count("actor/conditional/entropy_loss"));
  EXPECT_TRUE(m.count("actor/conditional/pg_loss"));
}

namespace {

std::string likelihood_data() {
  const std::string path = ::testing::TempDir() + "/vecrl_contract_likelihood.jsonl";
  std::ofstream out(path);
  for (const char* p : {"Once upon a time, there was a little", "Tom had a big red", "The sun was shining and the"})
    out << nlohmann::json{{"prompt", p}, {"answer", "She was very happy."}}.dump() << "\n";
  return path;
}

}  // namespace

TEST(RewardContract, TheLikelihoodTermIsTheGradientOfTheTrainedVariant) {
  // Lemma 1 of arXiv 2602.03979: the loss gets -R_theta(z) of the reward being trained. Its value,
  // averaged over rollouts, is reported as actor/answer_loss/<name> and is checked here against the
  // rewards the same policy gave (R = logprob, avg_logprob, prob of a* after the reasoning).
  const auto data = "data.path=" + likelihood_data();
  const std::string module = "rewards=[{type: likelihood, marker: '', loss_coef: 1.0, dim_weights: [logprob=0, ";
  for (const std::string variant : {"avg_logprob", "prob"}) {
    auto run = run_captured({data, module + variant + "=1]}]", "advantage={type: rloo}", "loss.kl_coef=0"},
                            "contract_likelihood_" + variant, 1);
    const auto values = ref::column(run.steps[0].rewards, "likelihood/" + variant);
    double want = 0;
    for (double v : values) want -= v / static_cast<double>(values.size());
    EXPECT_NEAR(run.metrics[0].at("actor/answer_loss/likelihood"), want, 1e-4 * (1 + std::abs(want))) << variant;
  }
  // JEPO: the group reward log mean_i p_i has gradient sum_i p_i / sum_j p_j grad log p_i.
  auto run = run_captured({data, "rewards=[{type: likelihood, marker: '', loss_coef: 1.0}]", "advantage={type: jepo}",
                           "loss.kl_coef=0"},
                          "contract_likelihood_jepo", 1);
  const auto l = ref::column(run.steps[0].rewards, "likelihood/logprob");
  double want = 0;
  const std::size_t G = 4, P = l.size() / G;
  for (std::size_t g = 0; g < l.size(); g += G) {
    double z = 0;
    for (std::size_t i = 0; i < G; ++i) z += std::exp(l[g + i]);
    for (std::size_t i = 0; i < G; ++i) want -= std::exp(l[g + i]) / z * l[g + i] / static_cast<double>(P);
  }
  EXPECT_NEAR(run.metrics[0].at("actor/answer_loss/likelihood"), want, 1e-4 * (1 + std::abs(want)));
}

TEST(RewardContract, NotValidTrainedEntriesLeaveTheStatisticsUnderOneRule) {
  // compression/ratio (trained here) is not-valid on texts under 42 bytes. The weighted total of a
  // rollout is valid only when every trained dimension is; a group's spread counts valid totals.
  auto run = run_captured({"rewards=[{type: compression, min_bytes: 42, dim_weights: [score=0, ratio=1]},"
                           " {type: contains_word, name: animal, words: [dog, cat, bird, fish], weight: 0.5}]",
                           "rollout.prompts_per_step=4", "rollout.max_new_tokens=20"},
                          "contract_one_rule", 1);
  const auto& ctx = run.steps[0];
  const auto ratio = ref::column(ctx.rewards, "compression/ratio"), animal = ref::column(ctx.rewards, "animal/score");
  const auto valid = ref::valid_column(ctx.rewards, "compression/ratio");
  int64_t invalid = 0, flat = 0, lone_valid_groups = 0;
  ref::Vec total(ratio.size());
  for (std::size_t i = 0; i < ratio.size(); ++i) {
    invalid += valid[i] ? 0 : 1;
    total[i] = ratio[i] + 0.5 * animal[i];
  }
  ASSERT_GT(invalid, 0) << "precondition: some trained entries are not-valid";
  ASSERT_LT(invalid, static_cast<int64_t>(valid.size())) << "precondition: some trained entries are valid";
  double score = 0, counted = 0;
  for (std::size_t g = 0; g < total.size(); g += 4) {
    const auto m = ref::moments(ref::Vec(total.begin() + g, total.begin() + g + 4),
                                std::vector<bool>(valid.begin() + g, valid.begin() + g + 4), false);
    flat += (m.n < 2 || m.std <= 1e-8) ? 1 : 0;
    lone_valid_groups += m.n == 1 ? 1 : 0;
  }
  // A group with one valid total has no spread; counting its not-valid totals as 0 would invent one.
  ASSERT_GT(lone_valid_groups, 0) << "precondition: a group with a single valid total";
  ASSERT_LT(flat, 4) << "precondition: a group with spread";
  for (std::size_t i = 0; i < total.size(); ++i)
    if (valid[i]) score += total[i], counted += 1;
  EXPECT_NEAR(run.metrics[0].at("frac_reward_zero_std"), static_cast<double>(flat) / 4.0, 1e-12);
  EXPECT_NEAR(run.metrics[0].at("critic/score/mean"), score / counted, 1e-5);
  ref::expect_near(ref::vec(ctx.advantages.values[0]), ref::grpo(total, valid, 4, 1e-6, true), 2e-4, "grpo");
}

TEST(RewardContract, TopUpGroupsGetExactlyZeroAdvantageForEveryEstimator) {
  // One sampling round with a rare word: most groups have no signal and fill the batch up. They
  // must carry nothing (no advantage, no loss) and stay out of every batch statistic.
  for (const std::string type : {"grpo", "rloo", "dvao", "gdpo", "reinforce_pp", "reinforce_pp_baseline", "vpo", "ac"}) {
    auto run = run_captured({"rewards=[{type: contains_word, name: animal, words: [dog, cat, bird, fish]},"
                             " {type: contains_word, name: cheerful, words: [happy, smiled, laughed, fun]}]",
                             "rollout.dynamic_sampling=true", "rollout.max_sampling_rounds=1",
                             "rollout.prompts_per_step=8", "advantage={type: " + type + "}"},
                            "contract_top_up_" + type, 1);
    const auto& ctx = run.steps[0];
    const auto top_up = ref::vec(ctx.top_up);
    const double tops = std::accumulate(top_up.begin(), top_up.end(), 0.0);
    ASSERT_GT(tops, 0) << type << ": precondition: some groups are top-up";
    ASSERT_LT(tops, static_cast<double>(top_up.size())) << type << ": precondition: some groups have signal";
    const auto adv = ref::vec(ctx.advantages.values[0]);
    const auto mask = ref::mat(ctx.loss_mask);
    for (std::size_t i = 0; i < top_up.size(); ++i) {
      if (top_up[i] == 0) continue;
      EXPECT_EQ(adv[i], 0.0) << type << " row " << i;
      for (double on : mask[i]) EXPECT_EQ(on, 0.0) << type << " row " << i;
      if (ctx.advantages.token_values.defined()) {
        for (double a : ref::vec(ctx.advantages.token_values[0][i])) EXPECT_EQ(a, 0.0) << type << " row " << i;
      }
    }
    if (type == "reinforce_pp") {  // the whitening statistics cover the kept rows only
      ref::Vec outcome = minus(ref::column(ctx.rewards, "animal/score"), ref::Vec(top_up.size(), 0.0));
      const auto cheerful = ref::column(ctx.rewards, "cheerful/score");
      ref::Mat kept_mask = ref::mat(ctx.rollouts.response_mask), zero(kept_mask.size(), ref::Vec(kept_mask[0].size(), 0.0));
      for (std::size_t i = 0; i < outcome.size(); ++i) {
        outcome[i] += cheerful[i];
        if (top_up[i] != 0) std::fill(kept_mask[i].begin(), kept_mask[i].end(), 0.0);
      }
      const auto want = ref::reinforce_pp(outcome, zero, kept_mask);
      const auto got = ref::mat(ctx.advantages.token_values[0]);
      for (std::size_t i = 0; i < want.size(); ++i) ref::expect_near(got[i], want[i], 2e-4, "reinforce_pp row " + std::to_string(i));
    }
  }
}

TEST(RewardContract, AdvantageCombinationAndGdpoKeepTheirScale) {
  // AC: sum_k w_k z_k / sum_k |w_k| (z: unbiased std, eps 1e-4) -- weights 2/1/1 act as 0.5/0.25/0.25.
  auto ac = run_captured({"advantage={type: ac}", "rollout.prompts_per_step=4", "rollout.max_new_tokens=16"},
                         "contract_ac", 1)
                .steps[0];
  const auto columns = trained_columns(ac);
  ref::Vec want(columns[0].size(), 0.0);
  const std::vector<bool> all(want.size(), true);
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const auto z = ref::grpo(columns[k], all, 4, 1e-4, true);
    for (std::size_t i = 0; i < want.size(); ++i) want[i] += kWeights[k] * z[i];  // the weights sum to 1
  }
  ref::expect_near(ref::vec(ac.advantages.values[0]), want, 2e-4, "ac");
  auto doubled = run_captured({"advantage={type: ac}", "rollout.prompts_per_step=4", "rollout.max_new_tokens=16",
                               "rewards=[{type: contains_word, name: animal, words: [dog, cat, bird, fish, duck, bunny, bear, frog], weight: 2},"
                               " {type: contains_word, name: cheerful, words: [happy, smiled, laughed, fun], weight: 1},"
                               " {type: contains_word, name: avoid_big, words: [big], reward_absence: true, weight: 1}]"},
                              "contract_ac_doubled", 1)
                     .steps[0];
  ref::expect_near(ref::vec(doubled.advantages.values[0]), want, 2e-4, "ac with weights 2/1/1");
  // GDPO with a single trained dimension is that dimension's z-score, whatever its weight.
  auto gdpo = run_captured({"advantage={type: gdpo}", "rollout.prompts_per_step=4", "rollout.max_new_tokens=16",
                            "rewards=[{type: contains_word, name: animal, words: [dog, cat, bird, fish, duck, bunny, bear, frog], weight: 2},"
                            " {type: contains_word, name: avoid_big, words: [big], reward_absence: true, weight: 0}]"},
                           "contract_gdpo_one", 1)
                  .steps[0];
  const auto animal = ref::column(gdpo.rewards, "animal/score");
  const auto z = ref::grpo(animal, all, 4, 1e-4, true);
  ASSERT_TRUE(std::any_of(z.begin(), z.end(), [](double a) { return a != 0; })) << "precondition: a group varies";
  ref::expect_near(ref::vec(gdpo.advantages.values[0]), z, 2e-4, "gdpo");
}

TEST(RewardContract, DynamicSamplingKeepsTheGroupsWhereTheEstimatorHasASignal) {
  // HDPO trains on `animal` (primary) and, among rollouts with an animal, on `cheerful`. A group in
  // which only `avoid_big` varies has a varying weighted total but nothing HDPO can learn from: it
  // must be a top-up group (no advantage, no loss), not one of the kept ones.
  auto run = run_captured({"advantage={type: hdpo, condition: animal>=1, conditional: [cheerful], primary: [animal]}",
                           "rollout.dynamic_sampling=true", "rollout.max_sampling_rounds=1",
                           "rollout.prompts_per_step=8", "rollout.max_new_tokens=16"},
                          "contract_dynamic_hdpo", 1);
  const auto& ctx = run.steps[0];
  const auto animal = ref::column(ctx.rewards, "animal/score"), cheerful = ref::column(ctx.rewards, "cheerful/score");
  const auto total = weighted_total(ctx);
  const auto top_up = ref::vec(ctx.top_up);
  int64_t total_only = 0;
  for (std::size_t g = 0; g < animal.size(); g += 4) {
    const std::vector<bool> all(4, true);
    std::vector<bool> qualifies(4);
    for (std::size_t i = 0; i < 4; ++i) qualifies[i] = animal[g + i] >= 1;
    const ref::Vec a(animal.begin() + g, animal.begin() + g + 4), c(cheerful.begin() + g, cheerful.begin() + g + 4),
        t(total.begin() + g, total.begin() + g + 4);
    const auto cm = ref::moments(c, qualifies, false);
    const bool signal = ref::moments(a, all, false).std > 1e-8 || (cm.n >= 2 && cm.std > 1e-8);
    const bool total_varies = ref::moments(t, all, false).std > 1e-8;
    EXPECT_EQ(top_up[g] == 0, signal) << "group " << g / 4;
    total_only += (total_varies && !signal) ? 1 : 0;
  }
  ASSERT_GT(total_only, 0) << "precondition: a group whose total varies without an HDPO signal";
}
