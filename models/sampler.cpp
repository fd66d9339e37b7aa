#include "models/sampler.h"

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <array>
#include <vector>

#include "core/error.h"
#include "core/seeds.h"

namespace vecrl::models {

namespace {

void check(const SamplerOptions& options) {
  VECRL_CHECK(options.temperature >= 0, "temperature must be >= 0, got ", options.temperature);
  VECRL_CHECK(options.top_p > 0 && options.top_p <= 1, "top_p must be in (0, 1], got ", options.top_p);
  VECRL_CHECK(options.top_k >= 0, "top_k must be >= 0, got ", options.top_k);
  VECRL_CHECK(options.min_p >= 0 && options.min_p < 1, "min_p must be in [0, 1), got ", options.min_p);
}

// weights [N, V]: exp(z - max z), the top token's weight exactly 1. Zeroes, in place, what the chain drops.
void truncate(at::Tensor& weights, const SamplerOptions& options) {
  const int64_t vocab = weights.size(-1);
  if (options.top_k > 0 && options.top_k < vocab) {
    auto kth = std::get<0>(weights.topk(options.top_k, -1)).narrow(-1, options.top_k - 1, 1);  // [N, 1]
    weights.masked_fill_(weights < kth, 0.0);
  }
  if (options.top_p < 1.0) {
    auto [sorted, order] = weights.sort(-1, /*descending=*/true);
    // Drop a token once the mass before it already reaches top_p of what is left (the top token stays).
    auto cumulative = sorted.cumsum(-1);
    auto mass_before = (cumulative - sorted) / cumulative.narrow(-1, vocab - 1, 1);
    weights.scatter_(-1, order, sorted.masked_fill(mass_before >= options.top_p, 0.0));
  }
  if (options.min_p > 0) weights.masked_fill_(weights < options.min_p, 0.0);  // the top weight is 1
}

// The inverse-CDF draw on the CPU without materialising the [N, V] cumulative sums: what
// searchsorted(cumsum(weights), u · total, right) returns, bit for bit (ATen's CPU cumsum adds float32
// in float64, in order, and rounds each prefix to float32; so does this). Rows are summed four at a
// time so that their dependent additions overlap. weights [N, V] float32, uniforms [N] -> [N, 1] int64.
at::Tensor inverse_cdf_on_cpu(const at::Tensor& weights, const at::Tensor& uniforms) {
  constexpr int64_t kRowsTogether = 4;
  const auto w = weights.contiguous();
  const auto u = uniforms.to(torch::kFloat).contiguous();
  const int64_t rows = w.size(0), vocab = w.size(1);
  auto tokens = torch::empty({rows, 1}, torch::kLong);
  const float* weight = w.data_ptr<float>();
  const float* uniform = u.data_ptr<float>();
  int64_t* token = tokens.data_ptr<int64_t>();
  const int64_t groups = (rows + kRowsTogether - 1) / kRowsTogether;
  at::parallel_for(0, groups, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> cdf(static_cast<std::size_t>(kRowsTogether * vocab));
    for (int64_t group = begin; group < end; ++group) {
      const int64_t first = group * kRowsTogether, count = std::min(kRowsTogether, rows - first);
      std::array<double, kRowsTogether> sum{};
      for (int64_t v = 0; v < vocab; ++v)
        for (int64_t r = 0; r < count; ++r) {
          sum[r] += weight[(first + r) * vocab + v];
          cdf[r * vocab + v] = static_cast<float>(sum[r]);
        }
      for (int64_t r = 0; r < count; ++r) {
        const float* row = cdf.data() + r * vocab;
        const float target = uniform[first + r] * row[vocab - 1];
        const auto index = static_cast<int64_t>(std::upper_bound(row, row + vocab, target) - row);
        token[first + r] = std::min(index, vocab - 1);
      }
    }
  });
  return tokens;
}

}  // namespace

SampledTokens sample_tokens(const at::Tensor& logits, const SamplerOptions& options, const at::Tensor& uniforms) {
  check(options);
  VECRL_CHECK(logits.dim() == 2, "sample_tokens: logits must be [N, V], got ", logits.sizes());
  const bool greedy = options.temperature == 0;
  auto z = logits.to(torch::kFloat);  // [N, V]
  if (!greedy && options.temperature != 1.0) z = z / options.temperature;
  auto [top, top_token] = z.max(-1, /*keepdim=*/true);  // [N, 1]
  auto weights = (z - top).exp_();                       // [N, V], unnormalised tempered probabilities
  auto log_normaliser = top + weights.sum(-1, /*keepdim=*/true).log_();  // [N, 1]
  at::Tensor token = top_token;                                          // [N, 1]
  if (!greedy) {
    VECRL_CHECK(uniforms.dim() == 1 && uniforms.size(0) == logits.size(0), "sample_tokens: uniforms must be [",
                logits.size(0), "], got ", uniforms.sizes());
    truncate(weights, options);
    if (weights.is_cpu()) {
      token = inverse_cdf_on_cpu(weights, uniforms);
    } else {
      auto cdf = weights.cumsum(-1);  // [N, V], non-decreasing, the top token keeps it positive
      auto target = uniforms.to(cdf.options()).unsqueeze(-1) * cdf.narrow(-1, cdf.size(-1) - 1, 1);  // [N, 1]
      token = torch::searchsorted(cdf, target, /*out_int32=*/false, /*right=*/true).clamp_max_(cdf.size(-1) - 1);
    }
    // A parallel scan need not be exactly monotone; never let rounding pick a dropped token.
    token = torch::where(weights.gather(-1, token) > 0, token, top_token);
  }
  auto logprobs = z.gather(-1, token) - log_normaliser;
  return {token.squeeze(-1), logprobs.squeeze(-1)};
}

at::Tensor counter_uniforms(const std::vector<uint64_t>& seeds, int64_t first_step, int64_t steps) {
  VECRL_CHECK(first_step >= 0 && steps >= 0, "counter_uniforms: first_step and steps must be >= 0, got ", first_step,
              " and ", steps);
  auto out = torch::empty({static_cast<int64_t>(seeds.size()), steps}, torch::kFloat);
  auto a = out.accessor<float, 2>();
  for (std::size_t i = 0; i < seeds.size(); ++i)
    for (int64_t t = 0; t < steps; ++t)
      a[static_cast<int64_t>(i)][t] = static_cast<float>(core::mix_seed(seeds[i], first_step + t) >> 40) * 0x1p-24f;
  return out;
}

}  // namespace vecrl::models
