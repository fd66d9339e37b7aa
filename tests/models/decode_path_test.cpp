// The decode path's shortcuts: fused projections, the rotary table, grouped-query decode attention,
// the CPU decode-attention and small-batch matmul kernels, a decode loop's precomputed mask and the small-model thread
// count. Each must give what the plain path gives.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/decode_attention.h"
#include "models/generation.h"
#include "models/model_presets.h"
#include "models/decode_linear.h"
#include "models/policy_runner.h"
#include "models/transformer.h"
#include "tests/test_paths.h"

using namespace vecrl;

namespace {

// Log-probs of every next token of `tokens` [1, T] under the model, with or without gradients.
torch::Tensor all_logprobs(models::CausalLM& model, const torch::Tensor& tokens, bool with_grad) {
  torch::AutoGradMode mode(with_grad);
  const int64_t T = tokens.size(1);
  auto hidden = model->hidden({tokens, torch::arange(T).view({1, T}), torch::ones({1, T}, torch::kBool), {}});
  return torch::log_softmax(model->logits(hidden), -1).detach();
}

TEST(DecodePath, FusedProjectionsWithoutGradientsEqualThePlainLayersAndKeepTheParameters) {
  torch::manual_seed(11);  // LibTorch seeds its default generator afresh in each process
  models::PolicyRunner runner(test::stories260k(), false);
  auto& model = runner.policy();
  auto* attention = model->model->layers[0]->as<models::DecoderLayer>()->self_attn.get();
  const auto q_before = attention->q_proj->weight;  // the same parameter object after fusing
  auto tokens = torch::randint(3, 512, {1, 40}, torch::TensorOptions().dtype(torch::kLong));
  const auto plain = all_logprobs(model, tokens, /*with_grad=*/true);  // grad on: never fused
  const auto fused = all_logprobs(model, tokens, /*with_grad=*/false);
  // fp32: one [3D, D] product sums in another order than three [D, D] ones; seen up to 2.7e-5 in
  // log-probs down to -30 across machines and inputs, against differences of ~4 when a weight is stale.
  constexpr double kAtol = 1e-4, kRtol = 1e-5;
  EXPECT_TRUE(torch::allclose(fused, plain, kRtol, kAtol)) << (fused - plain).abs().max();
  // q, k and v now share one buffer; the parameter is the same tensor, still a trainable leaf.
  EXPECT_TRUE(attention->q_proj->weight.is_same(q_before));
  EXPECT_TRUE(attention->q_proj->weight.storage().is_alias_of(attention->v_proj->weight.storage()));
  EXPECT_TRUE(attention->q_proj->weight.requires_grad());
  // An in-place update of one part (what AdamW does) is what the next fused forward uses.
  {
    torch::NoGradGuard no_grad;
    attention->v_proj->weight.mul_(1.5);
  }
  const auto plain_after = all_logprobs(model, tokens, true), fused_after = all_logprobs(model, tokens, false);
  EXPECT_FALSE(torch::allclose(plain_after, plain, 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(fused_after, plain_after, kRtol, kAtol)) << (fused_after - plain_after).abs().max();
  // A weight given storage of its own (as a device move does) is run unfused until fused again.
  {
    torch::NoGradGuard no_grad;
    attention->k_proj->weight.set_(attention->k_proj->weight.clone());
  }
  EXPECT_TRUE(torch::allclose(all_logprobs(model, tokens, false), plain_after, kRtol, kAtol));
  model->fuse_projections();
  EXPECT_TRUE(attention->k_proj->weight.storage().is_alias_of(attention->q_proj->weight.storage()));
  EXPECT_TRUE(torch::allclose(all_logprobs(model, tokens, false), plain_after, kRtol, kAtol));
  // Gradients still reach each part as its own parameter.
  model->zero_grad();
  all_logprobs(model, tokens, true);
  auto hidden = model->hidden({tokens, torch::arange(40).view({1, 40}), torch::ones({1, 40}, torch::kBool), {}});
  model->logits(hidden).sum().backward();
  EXPECT_TRUE(attention->q_proj->weight.grad().defined());
  EXPECT_GT(attention->k_proj->weight.grad().abs().sum().item<double>(), 0.0);
}

TEST(DecodePath, GreedyDecodeEqualsFullRecomputationBeyondTheFirstRotaryRowsAndWithGroupedQueries) {
  // stories260K has 8 query heads over 4 kv heads, so every decode step takes the grouped path;
  // 300 new tokens take the rotary table past its first 256 rows.
  models::PolicyRunner runner(test::stories260k(), false);
  auto& model = runner.policy();
  models::GenerationOptions options;
  options.sampler.temperature = 0;
  options.max_new_tokens = 300;
  options.pad_token_id = 0;
  auto g = models::generate(model, {{1, 403}, {1}}, 2, options);
  ASSERT_EQ(g.tokens.size(1), 300);
  for (int64_t row = 0; row < 4; ++row) {
    // Score the whole sequence at once (no cache, causal mask built per forward) and take the argmax.
    auto prompt = g.prompt_ids[row].masked_select(g.prompt_mask[row]);
    auto sequence = torch::cat({prompt, g.tokens[row]}).unsqueeze(0);
    const auto lp = all_logprobs(model, sequence, false).squeeze(0);  // [L, V]
    const int64_t Lp = prompt.size(0);
    auto predicted = lp.narrow(0, Lp - 1, 300).argmax(-1);
    EXPECT_TRUE(torch::equal(predicted, g.tokens[row])) << "row " << row;
    auto chosen = lp.narrow(0, Lp - 1, 300).gather(-1, g.tokens[row].unsqueeze(-1)).squeeze(-1);
    EXPECT_TRUE(torch::allclose(chosen, g.logprobs[row], 1e-4, 1e-4)) << (chosen - g.logprobs[row]).abs().max();
  }
}

TEST(DecodePath, TheCpuDecodeAttentionKernelEqualsTheWrittenOutSoftmax) {
  torch::manual_seed(7);
  torch::NoGradGuard no_grad;
  // Head dims with unrolled kernels (8, 64) and the generic one (24); grouped (R = 2, 4) and plain
  // queries; a cache longer than what is attended; left padding masked with -inf.
  for (const auto [d, rep] : std::vector<std::pair<int64_t, int64_t>>{{8, 2}, {64, 1}, {24, 4}}) {
    const int64_t B = 3, Hkv = 2, capacity = 50, S = 37;
    auto q = torch::randn({B, Hkv, rep, d});
    auto keys = torch::randn({B, Hkv, capacity, d}) * 2, values = torch::randn({B, Hkv, capacity, d});
    auto valid = torch::ones({B, capacity}, torch::kBool);
    valid.index_put_({1, torch::indexing::Slice(0, 5)}, false);
    auto bias = models::causal_bias(valid, capacity - 1, 1, torch::kFloat);  // [B, 1, 1, capacity]
    const auto got = models::decode_attention(q, keys, values, S, bias.narrow(3, 0, S));
    const auto k = keys.narrow(2, 0, S), v = values.narrow(2, 0, S);
    const auto want = models::attend(q, k, v, bias.narrow(3, 0, S), /*fused=*/false);  // [B, Hkv, rep, d]
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << "d " << d << ": " << (got - want).abs().max();
  }
  auto q = torch::randn({1, 1, 1, 8});
  auto cache = torch::randn({1, 1, 4, 8});
  EXPECT_THROW(models::decode_attention(q, cache, cache, 5, torch::zeros({1, 1, 1, 5})), std::exception);  // > capacity
  EXPECT_THROW(models::decode_attention(q, cache, cache, 4, torch::zeros({1, 1, 1, 3})), std::exception);  // short mask
}

TEST(DecodePath, TheDecodeMatmulEqualsLinearForEveryTileRemainder) {
  torch::manual_seed(5);
  torch::NoGradGuard no_grad;
  // Rows and weight rows that leave every remainder of the 4 x 4 tiles; K = 172 leaves one of the
  // eight-wide steps; a 3-D input and a bias as the projections pass them.
  for (const int64_t rows : {1, 3, 4, 7, 32, 64})
    for (const int64_t depth : {128, 172, 512})
      for (const int64_t outputs : {1, 3, 5, 64, 130}) {
        auto x = torch::randn({rows, depth}), w = torch::randn({outputs, depth}), b = torch::randn({outputs});
        ASSERT_TRUE(models::decode_linear_applies(x, w));
        const auto got = models::decode_linear(x, w, b), want = torch::nn::functional::linear(x, w, b);
        EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-4))
            << rows << " x " << depth << " x " << outputs << ": " << (got - want).abs().max();
      }
  auto x = torch::randn({300, 1, 256}), w = torch::randn({40, 256});  // a decode step's [N, 1, K]
  const auto all = models::decode_linear(x, w);
  EXPECT_TRUE(torch::allclose(all, torch::matmul(x, w.t()), 1e-5, 1e-4));
  // A row's result does not depend on the rows beside it (as in a step split across ranks).
  EXPECT_TRUE(torch::equal(models::decode_linear(x.narrow(0, 7, 13), w), all.narrow(0, 7, 13)));
  // Where it does not apply, the model's projections take ATen's linear.
  EXPECT_FALSE(models::decode_linear_applies(torch::randn({2, 16, 256}), w));  // a prefill: 16 positions per row
  EXPECT_FALSE(models::decode_linear_applies(torch::randn({4, 64}), torch::randn({8, 64})));  // short K
  EXPECT_FALSE(models::decode_linear_applies(torch::randn({4, 256}, torch::kDouble), w.to(torch::kDouble)));
  {
    torch::AutoGradMode with_grad(true);
    EXPECT_FALSE(models::decode_linear_applies(torch::randn({4, 256}), w));
  }
  EXPECT_THROW(models::decode_linear(torch::randn({2, 16, 256}), w), std::exception);
}

TEST(DecodePath, TheLlama42mPresetHasLlama2cShape) {
  auto model = models::random_model("llama-42m", 1, 0.02);
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  // 32000·512 (tied) + 8 · (4·512² + 3·512·1376 + 2·512) + 512
  EXPECT_EQ(parameters, 41689600);
  EXPECT_EQ(model->config().num_kv_heads, 8);
  EXPECT_EQ(model->config().max_position_embeddings, 1024);
}

}  // namespace
