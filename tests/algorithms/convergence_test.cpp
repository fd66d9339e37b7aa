// Every estimator improves a seeded toy two-objective bandit: a softmax policy over arms whose
// rewards are 2-vectors, trained with the real estimator and the PPO-clip loss.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "algorithms/advantage.h"
#include "algorithms/policy_loss.h"

using namespace vecrl;

namespace {

const std::vector<std::vector<float>> kArms = {{1, 0}, {0, 1}, {0.8f, 0.8f}, {0.2f, 0.1f}, {0.5f, 0.3f}, {0.1f, 0.6f}};
const std::vector<double> kWeights = {0.5, 0.5};

double expected_reward(const torch::Tensor& probs) {
  double total = 0;
  for (std::size_t a = 0; a < kArms.size(); ++a)
    total += probs[static_cast<int64_t>(a)].item<double>() * (kWeights[0] * kArms[a][0] + kWeights[1] * kArms[a][1]);
  return total;
}

std::pair<double, double> train(const std::string& estimator_name, const std::string& options) {
  torch::manual_seed(7);
  core::ConfigNode est_node(YAML::Load(options), "test"), loss_node(YAML::Load("{}"), "test");
  auto estimator = algorithms::advantage_registry().create(estimator_name, est_node);
  auto loss = algorithms::policy_loss_registry().create("ppo_clip", loss_node);
  auto logits = torch::zeros({static_cast<int64_t>(kArms.size())}, torch::kDouble).requires_grad_(true);
  torch::optim::Adam opt({logits}, torch::optim::AdamOptions(0.05));
  const double before = expected_reward(torch::softmax(logits.detach(), 0));
  const int64_t P = 4, G = 8, N = P * G;
  for (int step = 0; step < 60; ++step) {
    auto probs = torch::softmax(logits.detach(), 0);
    auto arms = torch::multinomial(probs.to(torch::kFloat), N, /*replacement=*/true);
    auto rewards = core::RewardMatrix::zeros(N, 1, {"d0", "d1"});
    for (int64_t i = 0; i < N; ++i) {
      const auto& v = kArms[static_cast<std::size_t>(arms[i].item<int64_t>())];
      rewards.values[i][0][0] = v[0];
      rewards.values[i][0][1] = v[1];
    }
    auto mask = torch::ones({N, 1}, torch::kBool);
    auto adv = estimator->compute({rewards, kWeights, G, mask, {}});
    auto logp = torch::log_softmax(logits, 0).index_select(0, arms).view({N, 1});
    torch::Tensor total;
    for (int64_t c = 0; c < adv.num_channels(); ++c) {
      algorithms::LossInput in;
      in.logprobs = logp;
      in.old_logprobs = logp.detach();
      in.advantages = adv.per_token(c, mask).to(torch::kDouble);
      in.mask = adv.loss_mask(c, mask);
      in.normalizers.tokens = std::max(1.0, in.mask.sum().item<double>());
      in.normalizers.sequences = in.normalizers.tokens;
      auto term = loss->compute(in).loss * adv.weight(c);
      total = total.defined() ? total + term : term;
    }
    opt.zero_grad();
    total.backward();
    opt.step();
  }
  return {before, expected_reward(torch::softmax(logits.detach(), 0))};
}

class Convergence : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

}  // namespace

TEST_P(Convergence, ImprovesTheBandit) {
  const auto& [name, options] = GetParam();
  auto [before, after] = train(name, options);
  EXPECT_GT(after, before + 0.15) << name << ": expected reward " << before << " -> " << after;
}

INSTANTIATE_TEST_SUITE_P(
    AllEstimators, Convergence,
    ::testing::Values(std::make_pair("grpo", "{}"), std::make_pair("dr_grpo", "{}"), std::make_pair("rc", "{}"),
                      std::make_pair("rloo", "{}"), std::make_pair("reinforce_pp", "{}"),
                      std::make_pair("reinforce_pp_baseline", "{}"), std::make_pair("ac", "{}"),
                      std::make_pair("gdpo", "{}"), std::make_pair("dvao", "{}"),
                      std::make_pair("hdpo", "{condition: d0>=0.5, conditional: [d1], primary: [d0, d1]}"),
                      std::make_pair("vpo", "{seed: 1}")),
    [](const ::testing::TestParamInfo<std::pair<std::string, std::string>>& info) { return info.param.first; });
