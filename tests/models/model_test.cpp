#include <gtest/gtest.h>

#include <set>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/test_paths.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "models/generation.h"
#include "models/hf_checkpoint.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"

namespace fs = std::filesystem;
using namespace vecrl;

namespace {


// An independent float64 forward of the HF Llama checkpoint: one sequence, no batching, no cache,
// written from the HF modeling code's equations rather than from models/.
std::vector<double> reference_logprobs(const std::vector<int64_t>& ids) {
  auto w = core::read_safetensors(test::stories260k() + "/model.safetensors");
  auto W = [&](const std::string& name) { return w.at(name).to(torch::kDouble); };
  const int64_t D = 64, H = 8, Hkv = 4, d = D / H, L = 5, T = static_cast<int64_t>(ids.size());
  auto rms = [](const torch::Tensor& x, const torch::Tensor& g) {
    return g * x / torch::sqrt(x.pow(2).mean(-1, true) + 1e-5);
  };
  auto x = W("model.embed_tokens.weight").index_select(0, torch::tensor(ids));  // [T, D]
  std::vector<double> inv;
  for (int64_t i = 0; i < d / 2; ++i) inv.push_back(1.0 / std::pow(10000.0, 2.0 * i / d));
  auto pos = torch::arange(T, torch::kDouble).unsqueeze(1) * torch::tensor(inv, torch::kDouble).unsqueeze(0);
  auto ang = torch::cat({pos, pos}, 1);  // [T, d]
  auto rope = [&](const torch::Tensor& v) {  // v [heads, T, d]
    auto rot = torch::cat({-v.narrow(2, d / 2, d / 2), v.narrow(2, 0, d / 2)}, 2);
    return v * ang.cos() + rot * ang.sin();
  };
  auto causal = torch::ones({T, T}, torch::kBool).tril();
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    auto h = rms(x, W(p + "input_layernorm.weight"));
    auto q = rope(torch::matmul(h, W(p + "self_attn.q_proj.weight").t()).view({T, H, d}).transpose(0, 1));
    auto k = rope(torch::matmul(h, W(p + "self_attn.k_proj.weight").t()).view({T, Hkv, d}).transpose(0, 1));
    auto v = torch::matmul(h, W(p + "self_attn.v_proj.weight").t()).view({T, Hkv, d}).transpose(0, 1);
    std::vector<torch::Tensor> heads;
    for (int64_t head = 0; head < H; ++head) {
      const int64_t kv = head / (H / Hkv);
      auto s = torch::matmul(q[head], k[kv].t()) / std::sqrt(static_cast<double>(d));
      s = s.masked_fill(causal.logical_not(), -1e300);
      heads.push_back(torch::matmul(torch::softmax(s, -1), v[kv]));
    }
    x = x + torch::matmul(torch::cat(heads, 1), W(p + "self_attn.o_proj.weight").t());
    auto h2 = rms(x, W(p + "post_attention_layernorm.weight"));
    auto gate = torch::matmul(h2, W(p + "mlp.gate_proj.weight").t());
    auto up = torch::matmul(h2, W(p + "mlp.up_proj.weight").t());
    x = x + torch::matmul(gate * torch::sigmoid(gate) * up, W(p + "mlp.down_proj.weight").t());
  }
  auto logits = torch::matmul(rms(x, W("model.norm.weight")), W("model.embed_tokens.weight").t());
  auto logp = torch::log_softmax(logits, -1);
  std::vector<double> out;
  for (int64_t t = 0; t + 1 < T; ++t) out.push_back(logp[t][ids[t + 1]].item<double>());
  return out;
}

std::vector<int64_t> row(const torch::Tensor& t, int64_t i) {
  auto r = t[i].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

}  // namespace

TEST(Stories260K, GreedyFromBosReproducesThePublishedText) {
  models::PolicyRunner runner(test::stories260k(), false);
  models::GenerationOptions o;
  o.sampler.temperature = 0;
  o.max_new_tokens = 60;
  o.stop_token_ids = {2};
  auto gen = models::generate(runner.policy(), {{1}}, 1, o);
  const std::vector<int64_t> published = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298,
                                          315, 421, 395, 317, 426, 338, 401, 396, 267};
  auto ids = row(gen.tokens, 0);
  ASSERT_GE(ids.size(), published.size());
  EXPECT_EQ(std::vector<int64_t>(ids.begin(), ids.begin() + published.size()), published);
  const std::string text = runner.tokenizer().decode(ids);
  EXPECT_EQ(text.rfind("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                       "One day, she saw a big, red ball.",
                       0),
            0u)
      << text;
}

TEST(Stories260K, ScoreMatchesAFloat64Reference) {
  models::PolicyRunner runner(test::stories260k(), false);
  torch::NoGradGuard no_grad;
  for (const std::string text : {"Once upon a time, there was a little girl.", "The cat sat on a big mat and smiled!",
                                 "Tom and Sue went to the park. They played with a red ball."}) {
    std::vector<int64_t> ids{1};
    for (auto id : runner.tokenizer().encode(text)) ids.push_back(id);
    auto expected = reference_logprobs(ids);
    auto prompt = torch::tensor(std::vector<int64_t>{1}).view({1, 1});
    auto response = torch::tensor(std::vector<int64_t>(ids.begin() + 1, ids.end())).view({1, -1});
    auto got = models::score_responses(runner.policy(), prompt, torch::ones({1, 1}, torch::kBool), response, 1.0, false);
    ASSERT_EQ(got.logprobs.size(1), static_cast<int64_t>(expected.size()));
    for (std::size_t t = 0; t < expected.size(); ++t)
      EXPECT_NEAR(got.logprobs[0][t].item<double>(), expected[t], 1e-4) << text << " token " << t;
  }
}

TEST(Stories260K, ChunkedLogprobsEqualUnchunked) {
  torch::manual_seed(3);  // LibTorch seeds its default generator afresh in each process
  models::PolicyRunner runner(test::stories260k(), false);
  torch::NoGradGuard no_grad;
  auto [prompt, mask] = models::left_pad({{1, 403, 407}, {1}}, 2);
  auto response = torch::randint(3, 512, {2, 17});
  auto whole = models::score_responses(runner.policy(), prompt, mask, response, 0.7, true, 1 << 20);
  auto chunked = models::score_responses(runner.policy(), prompt, mask, response, 0.7, true, 3);
  // fp32: the LM head's matmul sums in a different order for a different number of rows.
  EXPECT_TRUE(torch::allclose(whole.logprobs, chunked.logprobs, 1e-5, 1e-5)) << (whole.logprobs - chunked.logprobs).abs().max();
  EXPECT_TRUE(torch::allclose(whole.entropy, chunked.entropy, 1e-5, 1e-5)) << (whole.entropy - chunked.entropy).abs().max();
}

TEST(FusedLogprobs, ValuesAndGradientsEqualPlainAutograd) {
  torch::manual_seed(5);
  const double temperature = 0.7;
  auto hidden = torch::randn({7, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  auto weight = torch::randn({11, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  auto targets = torch::randint(0, 11, {7});
  auto grad_logp = torch::randn({7}, torch::kDouble), grad_entropy = torch::randn({7}, torch::kDouble);

  // Reference: the whole [M, V] logits under autograd.
  auto logp = torch::log_softmax(torch::matmul(hidden, weight.t()) / temperature, -1);
  auto ref_logp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
  auto ref_entropy = -(logp.exp() * logp).sum(-1);
  auto plain = models::plain_token_logprobs(hidden, weight, targets, temperature, true);
  EXPECT_TRUE(torch::allclose(plain.logprobs.to(torch::kDouble), ref_logp, 1e-6, 1e-6));
  auto ref_logp_grad = torch::autograd::grad({ref_logp}, {hidden}, {grad_logp}, /*retain_graph=*/true);
  auto ref_grads = torch::autograd::grad({ref_logp, ref_entropy}, {hidden, weight}, {grad_logp, grad_entropy});

  for (int64_t chunk : {1, 3, 100}) {
    auto fused = models::fused_token_logprobs(hidden, weight, targets, temperature, true, chunk);
    EXPECT_TRUE(torch::allclose(fused.logprobs.to(torch::kDouble), ref_logp, 1e-5, 1e-5)) << chunk;
    EXPECT_TRUE(torch::allclose(fused.entropy.to(torch::kDouble), ref_entropy, 1e-5, 1e-5)) << chunk;
    auto grads = torch::autograd::grad({fused.logprobs, fused.entropy}, {hidden, weight},
                                       {grad_logp.to(torch::kFloat), grad_entropy.to(torch::kFloat)});
    EXPECT_TRUE(torch::allclose(grads[0], ref_grads[0], 1e-5, 1e-5)) << chunk;
    EXPECT_TRUE(torch::allclose(grads[1], ref_grads[1], 1e-5, 1e-5)) << chunk;
    // Only the log-probs in the loss (no entropy term): the entropy's gradient stays out.
    auto logp_only = models::fused_token_logprobs(hidden, weight, targets, temperature, false, chunk);
    auto only = torch::autograd::grad({logp_only.logprobs}, {hidden}, {grad_logp.to(torch::kFloat)});
    EXPECT_TRUE(torch::allclose(only[0], ref_logp_grad[0], 1e-5, 1e-5)) << chunk;
  }
  EXPECT_THROW(models::fused_token_logprobs(hidden, weight.t(), targets, 1.0, false, 4), vecrl::core::Error);
}

TEST(Stories260K, ActivationCheckpointingGivesTheSameGradients) {
  auto gradients = [](bool checkpointing) {
    models::PolicyRunner runner(test::stories260k(), false);
    auto& model = runner.policy();
    model->train();
    model->set_activation_checkpointing(checkpointing);
    auto [prompt, mask] = models::left_pad({{1, 403, 407}, {1}}, 2);
    torch::manual_seed(2);
    auto response = torch::randint(3, 512, {2, 9});
    auto scores = models::score_responses(model, prompt, mask, response, 1.0, true);
    // The graph holds checkpointed layers exactly when checkpointing is on.
    bool found = false;
    std::vector<torch::autograd::Node*> todo{scores.logprobs.grad_fn().get()};
    std::set<torch::autograd::Node*> seen;
    while (!todo.empty()) {
      auto* node = todo.back();
      todo.pop_back();
      if (node == nullptr || !seen.insert(node).second) continue;
      found = found || node->name().find("CheckpointedLayer") != std::string::npos;
      for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
    }
    EXPECT_EQ(found, checkpointing);
    (-(scores.logprobs.sum()) - 0.1 * scores.entropy.sum()).backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
    return grads;
  };
  const auto plain = gradients(false), checkpointed = gradients(true);
  ASSERT_EQ(plain.size(), checkpointed.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    ASSERT_TRUE(checkpointed[i].defined()) << i;
    EXPECT_TRUE(torch::allclose(plain[i], checkpointed[i], 1e-5, 1e-6)) << i;
  }
}

TEST(HfCheckpoint, RejectsMissingUnexpectedAndMisshapenTensors) {
  const fs::path dir = fs::path(::testing::TempDir()) / "broken_model";
  fs::create_directories(dir);
  fs::copy_file(test::stories260k() + "/config.json", dir / "config.json", fs::copy_options::overwrite_existing);
  auto tensors = core::read_safetensors(test::stories260k() + "/model.safetensors");
  auto expect_error = [&](const std::map<std::string, at::Tensor>& t, const std::string& needle) {
    core::write_safetensors((dir / "model.safetensors").string(), t);
    try {
      models::load_causal_lm(dir.string());
      ADD_FAILURE() << "expected an error containing " << needle;
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto missing = tensors;
  missing.erase("model.norm.weight");
  expect_error(missing, "missing tensors: model.norm.weight");
  auto extra = tensors;
  extra["model.extra_proj.weight"] = torch::zeros({2});
  expect_error(extra, "unexpected tensor 'model.extra_proj.weight'");
  auto extra_layer = tensors;  // found before the model is built, from the layer count
  extra_layer["model.layers.9.mlp.up_proj.weight"] = torch::zeros({2});
  expect_error(extra_layer, "num_hidden_layers is 5, the weights hold 10 layers");
  auto shape = tensors;
  shape["model.norm.weight"] = torch::zeros({63});
  expect_error(shape, "tensor 'model.norm.weight' has shape [63]");
}

TEST(HfCheckpoint, UnsupportedModelTypeIsNamed) {
  const fs::path dir = fs::path(::testing::TempDir()) / "gpt_model";
  fs::create_directories(dir);
  std::ifstream in(test::stories260k() + "/config.json");
  auto j = nlohmann::json::parse(in);
  j["model_type"] = "gpt_neox";
  std::ofstream(dir / "config.json") << j.dump();
  try {
    models::load_causal_lm(dir.string());
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported model_type 'gpt_neox'"), std::string::npos) << e.what();
  }
}

TEST(Attention, FusedEqualsTheWrittenOutMathWithRaggedMasks) {
  // float64, so the comparison is about the operation, not rounding: a causal mask over left-padded
  // keys, prefill (T = S) and one decode step (T = 1) against a cache.
  torch::manual_seed(3);
  auto key_valid = torch::ones({2, 7}, torch::kBool);
  key_valid[1].narrow(0, 0, 3).fill_(false);  // row 1 has 3 padding keys
  for (int64_t T : {7, 1}) {
    auto bias = models::causal_bias(key_valid, 7 - T, T, torch::kDouble);
    auto q = torch::randn({2, 4, T, 8}, torch::kDouble).requires_grad_(true);
    auto k = torch::randn({2, 4, 7, 8}, torch::kDouble).requires_grad_(true);
    auto v = torch::randn({2, 4, 7, 8}, torch::kDouble).requires_grad_(true);
    auto weights = torch::randn({2, 4, T, 8}, torch::kDouble);
    auto run = [&](bool fused) {
      for (auto* t : {&q, &k, &v})
        if (t->grad().defined()) t->mutable_grad().zero_();
      auto out = models::attend(q, k, v, bias, fused);
      (out * weights).sum().backward();
      return std::vector<torch::Tensor>{out.detach(), q.grad().clone(), k.grad().clone(), v.grad().clone()};
    };
    const auto math = run(false), fused = run(true);
    for (std::size_t i = 0; i < math.size(); ++i)
      EXPECT_TRUE(torch::allclose(math[i], fused[i], 1e-10, 1e-12)) << "T=" << T << " output/grad " << i;
  }
}

TEST(Stories260K, FusedAttentionGivesTheSameLogprobsGradientsAndGreedyText) {
  auto run = [](bool fused) {
    models::PolicyRunner runner(test::stories260k(), false);
    auto& model = runner.policy();
    model->set_fused_attention(fused);
    models::GenerationOptions o;
    o.sampler.temperature = 0;
    o.max_new_tokens = 40;
    auto greedy = row(models::generate(model, {{1}, {1, 403, 407}}, 2, o).tokens, 3);
    model->train();
    auto [prompt, mask] = models::left_pad({{1, 403, 407}, {1}}, 2);
    torch::manual_seed(2);
    auto response = torch::randint(3, 512, {2, 9});
    auto scores = models::score_responses(model, prompt, mask, response, 1.0, true);
    (-(scores.logprobs.sum()) - 0.1 * scores.entropy.sum()).backward();
    std::vector<torch::Tensor> out{scores.logprobs.detach()};
    for (const auto& p : model->parameters()) out.push_back(p.grad().clone());
    return std::make_pair(greedy, out);
  };
  const auto [math_ids, math] = run(false);
  const auto [fused_ids, fused] = run(true);
  EXPECT_EQ(math_ids, fused_ids);
  ASSERT_EQ(math.size(), fused.size());
  // float32: the fused kernel scales q before q·kᵀ, so rounding differs (~1e-6 of the largest
  // gradient); the float64 test above shows the operations are the same.
  for (std::size_t i = 0; i < math.size(); ++i) {
    const double scale = math[i].abs().max().item<double>();
    EXPECT_LE((math[i] - fused[i]).abs().max().item<double>(), 1e-5 * scale) << (i == 0 ? "log-probs" : "gradient ") << i;
  }
}

TEST(WeightCasts, NoGradCastsAreKeptUntilTheWeightChanges) {
  models::WeightCasts casts;
  auto w = torch::randn({4, 3});
  torch::Tensor first, again;
  {
    torch::NoGradGuard no_grad;
    first = casts.get(w, torch::kBFloat16);
    again = casts.get(w, torch::kBFloat16);
  }
  EXPECT_EQ(first.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(first.is_same(again));
  EXPECT_TRUE(casts.get(w, torch::kFloat).is_same(w));  // no cast needed: the weight itself
  {
    torch::NoGradGuard no_grad;
    w.add_(1.0);  // an optimizer step: the version moves on
    auto fresh = casts.get(w, torch::kBFloat16);
    EXPECT_FALSE(fresh.is_same(first));
    EXPECT_TRUE(torch::allclose(fresh.to(torch::kFloat), w, 1e-2, 1e-2));
  }
  // With autograd every use casts afresh, differentiably back to the float32 master.
  auto master = torch::randn({4, 3}).requires_grad_(true);
  auto cast = casts.get(master, torch::kBFloat16);
  EXPECT_TRUE(cast.requires_grad());
  cast.to(torch::kFloat).sum().backward();
  EXPECT_EQ(master.grad().scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::allclose(master.grad(), torch::ones({4, 3})));
}

TEST(Stories260K, Bfloat16ComputeTracksFloat32WithFloat32Masters) {
  auto run = [](at::ScalarType dtype) {
    models::PolicyRunner runner(test::stories260k(), false);
    auto& model = runner.policy();
    model->set_compute_dtype(dtype);
    model->train();
    auto [prompt, mask] = models::left_pad({{1, 403, 407}, {1}}, 2);
    torch::manual_seed(2);
    auto response = torch::randint(3, 512, {2, 9});
    auto scores = models::score_responses(model, prompt, mask, response, 1.0, true);
    EXPECT_EQ(scores.logprobs.scalar_type(), torch::kFloat);
    (-(scores.logprobs.sum()) - 0.1 * scores.entropy.sum()).backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : model->parameters()) {
      EXPECT_EQ(p.scalar_type(), torch::kFloat);
      EXPECT_EQ(p.grad().scalar_type(), torch::kFloat);
      grads.push_back(p.grad().reshape({-1}));
    }
    models::GenerationOptions o;
    o.sampler.temperature = 0;
    o.max_new_tokens = 12;
    auto greedy = row(models::generate(model, {{1}}, 1, o).tokens, 0);
    return std::make_tuple(scores.logprobs.detach(), torch::cat(grads), greedy);
  };
  const auto [lp32, g32, ids32] = run(torch::kFloat);
  const auto [lp16, g16, ids16] = run(torch::kBFloat16);
  // bfloat16 keeps 8 bits of mantissa (a residual stream and logits of ~10 move by ~0.05): on this
  // model log-probs move by 0.06 nats on average, 0.17 at most.
  const double max_err = (lp32 - lp16).abs().max().item<double>(), mean_err = (lp32 - lp16).abs().mean().item<double>();
  EXPECT_LT(mean_err, 0.1) << "max " << max_err;
  EXPECT_LT(max_err, 0.4);
  EXPECT_GT(max_err, 0.0) << "the bfloat16 forward should differ from float32 somewhere";
  const double cosine = (g32 * g16).sum().item<double>() / (g32.norm() * g16.norm()).item<double>();
  EXPECT_GT(cosine, 0.99);
  EXPECT_EQ(std::vector<int64_t>(ids16.begin(), ids16.begin() + 8), std::vector<int64_t>(ids32.begin(), ids32.begin() + 8));
}
