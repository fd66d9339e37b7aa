#include <gtest/gtest.h>
#include <torch/torch.h>

#include "algorithms/aggregation.h"
#include "algorithms/kl.h"
#include "algorithms/policy_loss.h"

using namespace vecrl;

namespace {

std::unique_ptr<algorithms::PolicyLoss> make_loss(const std::string& yaml) {
  core::ConfigNode node(YAML::Load(yaml), "test");
  return algorithms::policy_loss_registry().create("ppo_clip", node);
}

double token_loss(const algorithms::PolicyLoss& loss, double rho, double adv) {
  algorithms::LossInput in;
  in.logprobs = torch::tensor({std::log(rho)}, torch::kDouble).view({1, 1});
  in.old_logprobs = torch::zeros({1, 1}, torch::kDouble);
  in.advantages = torch::tensor({adv}, torch::kDouble).view({1, 1});
  in.mask = torch::ones({1, 1}, torch::kBool);
  return loss.compute(in).loss.item<double>();
}

}  // namespace

TEST(PpoClip, MatchesTheWorkedTable) {  // algorithms.md §1.7
  auto asym = make_loss("{clip_low: 0.2, clip_high: 0.28}");
  auto sym = make_loss("{clip_low: 0.2, clip_high: 0.2}");
  EXPECT_NEAR(token_loss(*asym, 1.5, 1), -1.28, 1e-9);
  EXPECT_NEAR(token_loss(*sym, 1.5, 1), -1.20, 1e-9);
  EXPECT_NEAR(token_loss(*asym, 1.5, -1), 1.50, 1e-9);
  EXPECT_NEAR(token_loss(*asym, 0.5, 1), -0.50, 1e-9);
  EXPECT_NEAR(token_loss(*asym, 0.5, -1), 0.80, 1e-9);
  EXPECT_NEAR(token_loss(*sym, 0.5, -1), 0.80, 1e-9);
}

TEST(PpoClip, DualClipBoundsNegativeAdvantages) {
  auto loss = make_loss("{clip_ratio_c: 3.0}");
  EXPECT_NEAR(token_loss(*loss, 5.0, -1), 3.0, 1e-9);  // -min(5 * -1, 1.2 * -1) = 5, capped at 3
  auto off = make_loss("{clip_ratio_c: 0}");
  EXPECT_NEAR(token_loss(*off, 5.0, -1), 5.0, 1e-9);
}

TEST(Kl, EstimatorsMatchWorkedExample) {  // algorithms.md §1.6: logp = -1, ref = -1.5
  auto logp = torch::tensor({-1.0}, torch::kDouble), ref = torch::tensor({-1.5}, torch::kDouble);
  EXPECT_NEAR(algorithms::kl_k1(logp, ref).item<double>(), 0.5, 1e-9);
  EXPECT_NEAR(algorithms::kl_k2(logp, ref).item<double>(), 0.125, 1e-9);
  EXPECT_NEAR(algorithms::kl_k3(logp, ref).item<double>(), 0.106531, 1e-6);
}

TEST(Aggregation, ModesFollowTheirDefinitions) {
  auto v = torch::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, torch::kDouble).view({2, 3});
  auto m = torch::tensor({1, 1, 0, 1, 1, 1}).view({2, 3}).to(torch::kBool);
  algorithms::Normalizers n{5, 2, 10};
  using A = algorithms::Aggregation;
  EXPECT_NEAR(algorithms::aggregate(v, m, A::kTokenMean, n).item<double>(), 18.0 / 5, 1e-12);
  EXPECT_NEAR(algorithms::aggregate(v, m, A::kSeqMeanTokenMean, n).item<double>(), (1.5 + 5.0) / 2, 1e-12);
  EXPECT_NEAR(algorithms::aggregate(v, m, A::kSeqMeanTokenSum, n).item<double>(), 18.0 / 2, 1e-12);
  EXPECT_NEAR(algorithms::aggregate(v, m, A::kSeqMeanTokenSumNorm, n).item<double>(), 18.0 / 20, 1e-12);
}

TEST(PpoClip, MicroBatchingDoesNotChangeTheGradient) {
  torch::manual_seed(0);
  auto loss = make_loss("{kl_coef: 0.1, aggregation: token-mean}");
  auto theta = torch::randn({8, 6}, torch::kDouble).requires_grad_(true);
  auto old_logp = torch::randn({8, 6}, torch::kDouble) * 0.1 - 1;
  auto ref_logp = torch::randn({8, 6}, torch::kDouble) * 0.1 - 1;
  auto adv = torch::randn({8, 1}, torch::kDouble).expand({8, 6}).contiguous();
  auto mask = torch::rand({8, 6}) > 0.3;
  algorithms::Normalizers norm{mask.sum().item<double>(), 8, 6};
  auto run = [&](int64_t micro) {
    if (theta.grad().defined()) theta.grad().zero_();
    for (int64_t s = 0; s < 8; s += micro) {
      algorithms::LossInput in;
      in.logprobs = (old_logp + 0.3 * theta).narrow(0, s, micro);
      in.old_logprobs = old_logp.narrow(0, s, micro);
      in.ref_logprobs = ref_logp.narrow(0, s, micro);
      in.advantages = adv.narrow(0, s, micro);
      in.mask = mask.narrow(0, s, micro);
      in.normalizers = norm;
      loss->compute(in).loss.backward();
    }
    return theta.grad().clone();
  };
  auto whole = run(8), quarters = run(2);
  EXPECT_TRUE(torch::allclose(whole, quarters, 1e-9, 1e-12));
}

namespace {

std::unique_ptr<algorithms::PolicyLoss> make(const std::string& type, const std::string& yaml) {
  core::ConfigNode node(YAML::Load(yaml), "test");
  return algorithms::policy_loss_registry().create(type, node);
}

struct LossCase {
  at::Tensor old_logp, ref_logp, behaviour, adv, mask, entropy_base;
  algorithms::Normalizers norm;
};

LossCase random_case(int64_t B, int64_t T, uint64_t seed) {
  torch::manual_seed(seed);
  LossCase c;
  c.old_logp = -torch::rand({B, T}, torch::kDouble) * 2 - 0.1;
  c.ref_logp = c.old_logp + torch::randn({B, T}, torch::kDouble) * 0.2;
  c.behaviour = c.old_logp + torch::randn({B, T}, torch::kDouble) * 0.05;
  c.adv = torch::randn({B, 1}, torch::kDouble).expand({B, T}).contiguous();
  c.mask = torch::rand({B, T}) > 0.25;
  c.mask.select(1, 0).fill_(true);
  c.entropy_base = torch::rand({B, T}, torch::kDouble) + 0.5;
  c.norm = {c.mask.sum().item<double>(), static_cast<double>(B), static_cast<double>(T)};
  return c;
}

// Loss as a function of the current log-probs x (entropy depends on x too, so its gradient is checked).
at::Tensor loss_at(const algorithms::PolicyLoss& loss, const LossCase& c, const at::Tensor& x) {
  algorithms::LossInput in;
  in.logprobs = x;
  in.old_logprobs = c.old_logp;
  in.ref_logprobs = c.ref_logp;
  in.behaviour_logprobs = c.behaviour;
  in.entropy = c.entropy_base * x.exp();
  in.advantages = c.adv;
  in.mask = c.mask;
  in.normalizers = c.norm;
  return loss.compute(in).loss;
}

}  // namespace

class LossGradients : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(LossGradients, MatchFiniteDifferences) {
  const auto& [type, yaml] = GetParam();
  auto loss = make(type, yaml);
  auto c = random_case(4, 5, 11);
  auto x = (c.old_logp + torch::randn({4, 5}, torch::kDouble) * 0.05).requires_grad_(true);
  loss_at(*loss, c, x).backward();
  auto analytic = x.grad().clone();
  const double h = 1e-6;
  auto base = x.detach();
  for (int64_t i = 0; i < base.numel(); ++i) {
    auto plus = base.clone(), minus = base.clone();
    plus.view({-1})[i] += h;
    minus.view({-1})[i] -= h;
    const double numeric = (loss_at(*loss, c, plus).item<double>() - loss_at(*loss, c, minus).item<double>()) / (2 * h);
    EXPECT_NEAR(analytic.view({-1})[i].item<double>(), numeric, 1e-6) << type << " " << yaml << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllLosses, LossGradients,
    ::testing::Values(std::make_pair("ppo_clip", "{}"), std::make_pair("ppo_clip", "{clip_high: 0.28, kl_coef: 0.1}"),
                      std::make_pair("ppo_clip", "{kl_coef: 0.2, kl_estimator: k1, aggregation: seq-mean-token-mean}"),
                      std::make_pair("ppo_clip", "{kl_coef: 0.2, kl_estimator: k2, aggregation: seq-mean-token-sum}"),
                      std::make_pair("ppo_clip", "{entropy_coef: 0.01, aggregation: seq-mean-token-sum-norm}"),
                      std::make_pair("ppo_clip", "{advantage_clip: 0.5, tis_cap: 2.0}"),
                      std::make_pair("gspo", "{}"), std::make_pair("gspo", "{clip_low: 0.2, clip_high: 0.2, kl_coef: 0.1}")),
    [](const ::testing::TestParamInfo<std::pair<std::string, std::string>>& info) {
      return info.param.first + "_" + std::to_string(info.index);
    });

TEST(Kl, K3PlusHasTheValueOfK3AndTheGradientOfK2) {
  auto logp = torch::tensor({-1.0, -0.3}, torch::kDouble).requires_grad_(true);
  auto ref = torch::tensor({-1.5, -0.2}, torch::kDouble);
  auto v = algorithms::kl_estimate(algorithms::KlEstimator::kK3Plus, logp, ref);
  EXPECT_TRUE(torch::allclose(v, algorithms::kl_k3(logp, ref)));
  v.sum().backward();
  EXPECT_TRUE(torch::allclose(logp.grad(), (logp - ref).detach()));  // d k2 / d logp = logp - ref
}

TEST(Gspo, UsesTheLengthNormalisedSequenceRatio) {
  auto loss = make("gspo", "{clip_low: 0.5, clip_high: 0.5, aggregation: seq-mean-token-mean}");
  algorithms::LossInput in;
  in.old_logprobs = torch::zeros({1, 2}, torch::kDouble);
  in.logprobs = torch::tensor({0.2, -0.1}, torch::kDouble).view({1, 2}).requires_grad_(true);
  in.advantages = torch::ones({1, 2}, torch::kDouble);
  in.mask = torch::ones({1, 2}, torch::kBool);
  in.normalizers = {2, 1, 2};
  auto out = loss->compute(in);
  EXPECT_NEAR(out.loss.item<double>(), -std::exp(0.05), 1e-12);  // s = exp(mean(0.2, -0.1))
  out.loss.backward();
  EXPECT_NEAR(in.logprobs.grad()[0][0].item<double>(), -std::exp(0.05) / 2, 1e-12);
}

TEST(PpoClip, EntropyBonusAdvantageClipAndTruncatedIs) {
  auto base = [](const std::string& yaml, double entropy, double behaviour_logp) {
    auto loss = make("ppo_clip", yaml);
    algorithms::LossInput in;
    in.logprobs = torch::full({1, 1}, -1.0, torch::kDouble);
    in.old_logprobs = torch::full({1, 1}, -1.0, torch::kDouble);
    in.behaviour_logprobs = torch::full({1, 1}, behaviour_logp, torch::kDouble);
    in.entropy = torch::full({1, 1}, entropy, torch::kDouble);
    in.advantages = torch::full({1, 1}, 3.0, torch::kDouble);
    in.mask = torch::ones({1, 1}, torch::kBool);
    return loss->compute(in).loss.item<double>();
  };
  EXPECT_NEAR(base("{}", 2.0, -1.0), -3.0, 1e-12);
  EXPECT_NEAR(base("{entropy_coef: 0.1}", 2.0, -1.0), -3.0 - 0.2, 1e-12);
  EXPECT_NEAR(base("{advantage_clip: 1.0}", 2.0, -1.0), -1.0, 1e-12);
  // pi_old / pi_behaviour = e^{0.5} = 1.6487, truncated at 1.5.
  EXPECT_NEAR(base("{tis_cap: 1.5}", 2.0, -1.5), -3.0 * 1.5, 1e-12);
  EXPECT_NEAR(base("{tis_cap: 2.0}", 2.0, -1.5), -3.0 * std::exp(0.5), 1e-12);
}
