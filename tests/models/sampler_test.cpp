#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "models/sampler.h"

using namespace vecrl;

namespace {

// probabilities 0.5, 0.25, 0.15, 0.07, 0.03
torch::Tensor five_token_logits() { return torch::tensor({0.5, 0.25, 0.15, 0.07, 0.03}).log(); }

// One row of logits sampled once per uniform.
models::SampledTokens sample_row(const torch::Tensor& logits, const models::SamplerOptions& o, const torch::Tensor& u) {
  return models::sample_tokens(logits.unsqueeze(0).expand({u.size(0), logits.size(0)}).contiguous(), o, u);
}

// Empirical token frequencies of 4000 draws from one row of logits.
std::vector<double> frequencies(const torch::Tensor& logits, const models::SamplerOptions& o) {
  auto s = sample_row(logits, o, models::counter_uniforms({7}, 0, 4000).squeeze(0));
  auto counts = torch::bincount(s.tokens, {}, logits.size(0)).to(torch::kDouble) / 4000.0;
  return std::vector<double>(counts.data_ptr<double>(), counts.data_ptr<double>() + counts.numel());
}

// The token each uniform picks from one row.
std::vector<int64_t> picks(const torch::Tensor& logits, const models::SamplerOptions& o, const std::vector<float>& u) {
  auto s = sample_row(logits, o, torch::tensor(u));
  return std::vector<int64_t>(s.tokens.data_ptr<int64_t>(), s.tokens.data_ptr<int64_t>() + s.tokens.numel());
}

}  // namespace

TEST(Sampler, EachUniformPicksTheTokenWhoseCdfIntervalHoldsIt) {
  // CDF 0.5, 0.75, 0.9, 0.97, 1.0: a uniform in [cdf[i-1], cdf[i]) picks token i.
  const std::vector<float> u = {0.0f, 0.4999f, 0.5001f, 0.7499f, 0.7501f, 0.8999f, 0.9001f, 0.9699f, 0.9701f,
                                1.0f - 0x1p-24f};
  EXPECT_EQ(picks(five_token_logits(), {}, u), (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}));
  // Temperature 0.5 squares and renormalises the probabilities: 0.25, 0.0625, ... over 0.3408.
  models::SamplerOptions cold;
  cold.temperature = 0.5;
  EXPECT_EQ(picks(five_token_logits(), cold, {0.73f, 0.74f}), (std::vector<int64_t>{0, 1}));  // 0.25 / 0.3408 = 0.7336
}

TEST(Sampler, TopKTopPAndMinPRemoveTheRightTokens) {
  auto logits = five_token_logits();
  auto all = frequencies(logits, {});
  EXPECT_NEAR(all[0], 0.5, 0.03);
  EXPECT_NEAR(all[4], 0.03, 0.01);
  models::SamplerOptions k2;
  k2.top_k = 2;
  auto f = frequencies(logits, k2);
  EXPECT_EQ(f[2] + f[3] + f[4], 0.0);
  EXPECT_NEAR(f[0], 2.0 / 3, 0.03);
  // The largest uniform still lands on a kept token.
  EXPECT_EQ(picks(logits, k2, {1.0f - 0x1p-24f, 0.6666f, 0.6668f}), (std::vector<int64_t>{1, 0, 1}));
  models::SamplerOptions p8;
  p8.top_p = 0.8;  // 0.5 + 0.25 < 0.8, so the third token stays; the rest go
  f = frequencies(logits, p8);
  EXPECT_NEAR(f[2], 0.15 / 0.9, 0.03);
  EXPECT_EQ(f[3] + f[4], 0.0);
  // top-p counts mass within what top-k left (renormalised, as transformers and vLLM do): 2/3 >= 0.6,
  // so only the top token remains, where the raw mass 0.5 < 0.6 would have kept the second.
  models::SamplerOptions k2p6;
  k2p6.top_k = 2;
  k2p6.top_p = 0.6;
  EXPECT_EQ(picks(logits, k2p6, {0.1f, 0.9f, 1.0f - 0x1p-24f}), (std::vector<int64_t>{0, 0, 0}));
  models::SamplerOptions m;
  m.min_p = 0.2;  // threshold 0.1: keeps 0.5, 0.25, 0.15
  f = frequencies(logits, m);
  EXPECT_NEAR(f[2], 0.15 / 0.9, 0.03);
  EXPECT_EQ(f[3] + f[4], 0.0);
  // The recorded log-prob is that of the untruncated tempered distribution.
  auto s = models::sample_tokens(logits.unsqueeze(0), k2, torch::tensor({0.9f}));
  EXPECT_EQ(s.tokens[0].item<int64_t>(), 1);
  EXPECT_NEAR(s.logprobs[0].item<double>(), std::log(0.25), 1e-6);
}

TEST(Sampler, LogprobsAreThoseOfTheTemperedSoftmaxAndGreedyIsArgmax) {
  torch::manual_seed(3);
  auto logits = torch::randn({6, 50}) * 3;
  models::SamplerOptions o;
  o.temperature = 0.7;
  auto s = models::sample_tokens(logits, o, models::counter_uniforms({1, 2, 3, 4, 5, 6}, 0, 1).squeeze(1));
  auto expected = torch::log_softmax(logits / 0.7, -1).gather(-1, s.tokens.unsqueeze(-1)).squeeze(-1);
  EXPECT_TRUE(torch::allclose(s.logprobs, expected, 1e-5, 1e-5));
  models::SamplerOptions greedy;
  greedy.temperature = 0;
  auto g = models::sample_tokens(logits, greedy, at::Tensor());
  EXPECT_TRUE(torch::equal(g.tokens, logits.argmax(-1)));
  EXPECT_TRUE(torch::allclose(g.logprobs, std::get<0>(torch::log_softmax(logits, -1).max(-1)), 1e-5, 1e-5));
  // bfloat16 logits are sampled in float32.
  auto b = models::sample_tokens(logits.to(torch::kBFloat16), greedy, at::Tensor());
  EXPECT_EQ(b.logprobs.scalar_type(), torch::kFloat);
}

TEST(Sampler, CounterUniformsDependOnlyOnSeedAndStep) {
  auto u = models::counter_uniforms({1, 2, 3}, 0, 1000);
  EXPECT_GE(u.min().item<float>(), 0.0f);
  EXPECT_LT(u.max().item<float>(), 1.0f);
  EXPECT_NEAR(u.mean().item<double>(), 0.5, 0.02);
  EXPECT_TRUE(torch::equal(u.narrow(1, 500, 100), models::counter_uniforms({1, 2, 3}, 500, 100)));
  EXPECT_TRUE(torch::equal(u[1], models::counter_uniforms({2}, 0, 1000)[0]));  // not the other rows'
  EXPECT_FALSE(torch::equal(u[0], u[1]));
  EXPECT_LT(torch::corrcoef(u.narrow(0, 0, 2)).select(0, 0)[1].abs().item<double>(), 0.1);
}

TEST(Sampler, BadOptionsAreErrors) {
  auto logits = torch::zeros({1, 4});
  auto u = torch::tensor({0.5f});
  models::SamplerOptions o;
  o.min_p = 1.5;
  EXPECT_THROW(models::sample_tokens(logits, o, u), core::Error);
  o = {};
  o.top_k = -1;
  EXPECT_THROW(models::sample_tokens(logits, o, u), core::Error);
  o = {};
  EXPECT_THROW(models::sample_tokens(logits, o, torch::tensor({0.5f, 0.5f})), core::Error);  // two uniforms, one row
}

TEST(Sampler, TheCpuDrawEqualsCumsumAndSearchsortedBitForBit) {
  // The CPU scan must pick what the device path (a float32 cumsum, then searchsorted) picks, for every
  // uniform: over 32k tokens and with tokens zeroed by top-k, where rounding could move a boundary.
  torch::manual_seed(11);
  for (const int64_t vocab : {5, 512, 32000})
    for (const int64_t top_k : {int64_t{0}, vocab / 3 + 1}) {
      const int64_t rows = 37;
      auto logits = torch::randn({rows, vocab}) * 4;
      std::vector<uint64_t> seeds;
      for (int64_t i = 0; i < rows; ++i) seeds.push_back(static_cast<uint64_t>(i + 1));
      auto u = models::counter_uniforms(seeds, 0, 1).squeeze(1);
      u[0] = 0.0f;
      u[1] = 1.0f - 0x1p-24f;
      models::SamplerOptions o;
      o.top_k = top_k;
      const auto got = models::sample_tokens(logits, o, u).tokens;
      auto weights = (logits - std::get<0>(logits.max(-1, true))).exp();
      if (top_k > 0) weights.masked_fill_(weights < std::get<0>(weights.topk(top_k, -1)).narrow(-1, top_k - 1, 1), 0.0);
      auto cdf = weights.cumsum(-1);
      auto want = torch::searchsorted(cdf, u.unsqueeze(-1) * cdf.narrow(-1, vocab - 1, 1), false, true)
                      .clamp_max_(vocab - 1)
                      .squeeze(-1);
      EXPECT_TRUE(torch::equal(got, want)) << "vocab " << vocab << ", top_k " << top_k << ": "
                                           << (got != want).sum().item<int64_t>() << " rows differ";
    }
}
