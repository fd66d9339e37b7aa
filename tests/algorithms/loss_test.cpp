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
