#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "models/sampler.h"

using namespace vecrl;

namespace {

// Empirical token frequencies of 4000 draws from one row of logits.
std::vector<double> frequencies(const torch::Tensor& logits, const models::SamplerOptions& o) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(1);
  auto rows = logits.unsqueeze(0).expand({4000, logits.size(0)}).contiguous();
  auto s = models::sample_tokens(rows, o, g);
  auto counts = torch::bincount(s.tokens, {}, logits.size(0)).to(torch::kDouble) / 4000.0;
  return std::vector<double>(counts.data_ptr<double>(), counts.data_ptr<double>() + counts.numel());
}

}  // namespace

TEST(Sampler, TopKTopPAndMinPRemoveTheRightTokens) {
  // probabilities 0.5, 0.25, 0.15, 0.07, 0.03
  auto logits = torch::tensor({0.5, 0.25, 0.15, 0.07, 0.03}).log();
  auto all = frequencies(logits, {});
  EXPECT_GT(all[4], 0.01);
  models::SamplerOptions k2;
  k2.top_k = 2;
  auto f = frequencies(logits, k2);
  EXPECT_EQ(f[2] + f[3] + f[4], 0.0);
  EXPECT_NEAR(f[0], 2.0 / 3, 0.03);
  models::SamplerOptions p8;
  p8.top_p = 0.8;  // 0.5 + 0.25 < 0.8, so the third token stays; the rest go
  f = frequencies(logits, p8);
  EXPECT_GT(f[2], 0.0);
  EXPECT_EQ(f[3] + f[4], 0.0);
  models::SamplerOptions m;
  m.min_p = 0.2;  // threshold 0.1: keeps 0.5, 0.25, 0.15
  f = frequencies(logits, m);
  EXPECT_GT(f[2], 0.0);
  EXPECT_EQ(f[3] + f[4], 0.0);
  // The recorded log-prob is that of the untruncated tempered distribution.
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(2);
  auto s = models::sample_tokens(logits.unsqueeze(0), k2, g);
  EXPECT_NEAR(s.logprobs[0].item<double>(), logits[s.tokens[0].item<int64_t>()].item<double>(), 1e-6);
}

TEST(Sampler, BadOptionsAreErrors) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(2);
  auto logits = torch::zeros({1, 4});
  models::SamplerOptions o;
  o.min_p = 1.5;
  EXPECT_THROW(models::sample_tokens(logits, o, g), core::Error);
  o = {};
  o.top_k = -1;
  EXPECT_THROW(models::sample_tokens(logits, o, g), core::Error);
}
