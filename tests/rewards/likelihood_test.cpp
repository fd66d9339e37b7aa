#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/policy_runner.h"
#include "rewards/likelihood/likelihood_rewards.h"
#include "rewards/reward_set.h"
#include "tests/rewards/reward_fixture.h"

using namespace vecrl;
using namespace vecrl::testing;

TEST(Likelihood, WorkedExampleFromTheDesign) {
  // algorithms.md §6: per-token probabilities of a* after z1..z4.
  const std::vector<std::vector<double>> probs{{.9, .8, .95}, {.5, .6, .9}, {.1, .3, .5}, {.99, .99, .99}};
  const std::vector<double> logprob{-0.3798, -1.3093, -4.1997, -0.0302}, avg_logprob{-0.1266, -0.4364, -1.3999, -0.0101},
      prob{0.6840, 0.2700, 0.0150, 0.9703}, avg_prob{0.8833, 0.6667, 0.3000, 0.9900};
  for (std::size_t i = 0; i < probs.size(); ++i) {
    std::vector<double> lp;
    for (double p : probs[i]) lp.push_back(std::log(p));
    const auto r = rewards::likelihood_rewards(lp);
    EXPECT_NEAR(r.logprob, logprob[i], 1e-4);
    EXPECT_NEAR(r.avg_logprob, avg_logprob[i], 1e-4);
    EXPECT_NEAR(r.prob, prob[i], 1e-4);
    EXPECT_NEAR(r.avg_prob, avg_prob[i], 1e-4);
  }
  // Log space: a 2,000-token answer at p = 0.5 per token has a finite log-prob, prob 0 not NaN.
  const auto long_answer = rewards::likelihood_rewards(std::vector<double>(2000, std::log(0.5)));
  EXPECT_NEAR(long_answer.logprob, 2000 * std::log(0.5), 1e-6);
  EXPECT_EQ(long_answer.prob, 0.0);
}

TEST(Likelihood, ScoresTheReferenceAnswerWithTheRealModel) {
  models::PolicyRunner runner(std::string(VECRL_SHARED_DATA) + "/models/stories260K", /*load_reference=*/true);
  rewards::RewardSet set(specs("rewards: [{type: likelihood, model: reference, marker: 'named'}]"));
  ASSERT_TRUE(set.needs_reference());
  set.set_models({runner.policy().ptr(), runner.reference()->ptr(), &runner.tokenizer()});
  // Reasoning that leads to the answer the model knows ("... a little girl named Lily") against one
  // that does not; the answer is scored after the marker, and text after it is ignored.
  auto r = rollouts({"Once upon a time, there was a little girl named zzz", "Once upon a time, the dog named zzz"}, {},
                    {{{"answer", "Lily."}}, {{"answer", "Lily."}}});
  r.prompt_ids = torch::tensor({runner.tokenizer().bos_id(), runner.tokenizer().bos_id()}).view({2, 1});
  auto m = set.score(r);
  ASSERT_TRUE(m.valid.all().item().toBool());
  auto logprob = column(m, 0);
  EXPECT_GT(logprob[0], logprob[1] + 1.0);
  EXPECT_LT(logprob[0], 0.0f);
  EXPECT_NEAR(column(m, 2)[0], std::exp(logprob[0]), 1e-5);

  rewards::RewardSet no_model(specs("rewards: [{type: likelihood}]"));
  auto failed = no_model.score(r);
  EXPECT_FALSE(failed.valid.any().item().toBool());
}

TEST(Likelihood, LossTermHasTheGradientOfEachVariant) {
  // Lemma 1: the loss term is -R_theta. Per token of a*, d(-R)/d lp_t is -1 for logprob, -1/|a*|
  // for avg_logprob, -p(a*) for prob (the x p factor) and -p_t/|a*| for avg_prob. A row without
  // answer tokens contributes nothing.
  const std::vector<double> probs{.9, .8, .95};
  std::vector<double> lp;
  for (double p : probs) lp.push_back(std::log(p));
  auto tokens = torch::tensor({lp[0], lp[1], lp[2], 0.0, 0.0, 0.0}, torch::kDouble).view({2, 3}).requires_grad_();
  auto mask = torch::tensor({true, true, true, false, false, false}).view({2, 3});
  const double p = .9 * .8 * .95;
  struct Case {
    rewards::AnswerLikelihoodWeights weights;
    double value;
    std::vector<double> grad;
  };
  const std::vector<Case> cases = {
      {{1, 0, 0, 0}, -std::log(p), {-1, -1, -1}},
      {{0, 1, 0, 0}, -std::log(p) / 3, {-1.0 / 3, -1.0 / 3, -1.0 / 3}},
      {{0, 0, 1, 0}, -p, {-p, -p, -p}},
      {{0, 0, 0, 1}, -(.9 + .8 + .95) / 3, {-.9 / 3, -.8 / 3, -.95 / 3}},
  };
  for (const auto& c : cases) {
    if (tokens.grad().defined()) tokens.mutable_grad().zero_();
    auto rows = rewards::likelihood_loss_rows(tokens, mask, c.weights);
    EXPECT_NEAR(rows[0].item<double>(), c.value, 1e-12);
    EXPECT_EQ(rows[1].item<double>(), 0.0);
    rows.sum().backward();
    for (int t = 0; t < 3; ++t) EXPECT_NEAR(tokens.grad()[0][t].item<double>(), c.grad[t], 1e-12);
    for (int t = 0; t < 3; ++t) EXPECT_EQ(tokens.grad()[1][t].item<double>(), 0.0);
  }
}
