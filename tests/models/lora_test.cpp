// LoRA adapters (models/lora.h) and PEFT folders (models/peft.h) on the real stories260K model.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/generation.h"
#include "models/hf_checkpoint.h"
#include "models/hf_export.h"
#include "models/logprobs.h"
#include "models/lora.h"
#include "models/peft.h"
#include "models/policy_runner.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace vecrl;

namespace {

models::LoraOptions rank(int64_t r, double alpha = 8) {
  models::LoraOptions o;
  o.rank = r;
  o.alpha = alpha;
  return o;
}

// Gives every B a random value, so that the adapters change the outputs.
void randomize_b(models::CausalLM& model, uint64_t seed, double std = 0.05) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& item : model->named_parameters())
    if (item.key().find(".lora_B.") != std::string::npos) item.value().normal_(0.0, std);
}

// Log-probs of a fixed batch of responses [2, 9].
torch::Tensor logprobs(models::CausalLM& model, bool with_grad = false) {
  auto [prompt, mask] = models::left_pad({{1, 403, 407}, {1}}, 2);
  torch::manual_seed(2);
  auto response = torch::randint(3, 512, {2, 9});
  return models::score_responses(model, prompt, mask, response, 1.0, with_grad).logprobs;
}

std::string temp_dir(const std::string& name) {
  const auto dir = fs::path(::testing::TempDir()) / (std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir.string();
}

}  // namespace

TEST(Lora, ALayersUpdateIsAlphaOverRankTimesBAx) {
  torch::manual_seed(0);
  auto layer = torch::nn::Linear(torch::nn::LinearOptions(6, 5).bias(false));
  auto A = torch::nn::Linear(torch::nn::LinearOptions(6, 2).bias(false));
  auto B = torch::nn::Linear(torch::nn::LinearOptions(2, 5).bias(false));
  models::LoraAdapters adapters;
  adapters.by_layer[layer.get()] = {A, B, 8.0 / 2.0, 0.0};
  const auto x = torch::randn({3, 4, 6});
  auto out = layer(x);
  const auto base = out.clone();
  models::add_lora_update(adapters, layer.get(), x, out, nullptr, true);
  const auto expected = base + 4.0 * torch::matmul(torch::matmul(x, A->weight.t()), B->weight.t());
  EXPECT_TRUE(torch::allclose(out, expected, 1e-6, 1e-6));
  auto off = layer(x);
  {
    models::AdaptersOff guard(true);
    models::add_lora_update(adapters, layer.get(), x, off, nullptr, true);
  }
  EXPECT_TRUE(torch::equal(off, base));
}

TEST(Lora, WithBZeroThePolicyEqualsTheBaseExactlyAndOnlyAdaptersTrain) {
  auto base = models::load_causal_lm(test::stories260k());
  auto policy = models::load_causal_lm(test::stories260k());
  models::add_lora(policy, rank(4));
  EXPECT_TRUE(torch::equal(logprobs(policy), logprobs(base)));
  // 5 layers x 7 targets x (A, B), and nothing else trains.
  const auto trainable = models::trainable_parameters(policy);
  EXPECT_EQ(trainable.size(), 70u);
  int64_t frozen = 0;
  for (const auto& item : policy->named_parameters())
    if (!models::is_lora_parameter(item.key())) frozen += !item.value().requires_grad();
  EXPECT_EQ(frozen, static_cast<int64_t>(base->parameters().size()));
  EXPECT_EQ(policy->named_parameters()["model.layers.0.self_attn.q_proj.lora_A.weight"].sizes(), (torch::IntArrayRef{4, 64}));
  EXPECT_EQ(policy->named_parameters()["model.layers.0.mlp.down_proj.lora_B.weight"].sizes(), (torch::IntArrayRef{64, 4}));
}

TEST(Lora, GradientsReachOnlyAAndBAndMatchFiniteDifferences) {
  auto policy = models::load_causal_lm(test::stories260k());
  torch::manual_seed(1);  // A's initialisation: LibTorch seeds its default generator at random per process
  policy->to(torch::kDouble);
  models::add_lora(policy, rank(2, 4));
  randomize_b(policy, 3);
  policy->train();
  // The trainer's log-prob path rounds to float32; finite differences need the model's own double
  // precision, so this loss is the log-likelihood of a fixed sequence written out in double.
  const auto tokens = torch::tensor({1, 403, 407, 38, 290, 11, 97, 402, 15, 61}).unsqueeze(0);
  const models::ForwardInput input{tokens, torch::arange(tokens.size(1)).unsqueeze(0),
                                   torch::ones(tokens.sizes(), torch::kBool), {}};
  auto loss = [&] {
    auto logp = torch::log_softmax(policy->logits(policy->hidden(input)), -1);
    return logp.narrow(1, 0, tokens.size(1) - 1).gather(-1, tokens.narrow(1, 1, tokens.size(1) - 1).unsqueeze(-1)).sum();
  };
  loss().backward();
  for (const auto& item : policy->named_parameters())
    EXPECT_EQ(item.value().grad().defined(), models::is_lora_parameter(item.key())) << item.key();
  auto params = policy->named_parameters();
  for (const std::string name : {"model.layers.1.self_attn.v_proj.lora_A.weight", "model.layers.3.mlp.up_proj.lora_B.weight"}) {
    auto p = params[name];
    const double analytic = p.grad()[1][0].item<double>();
    const double eps = 1e-4;
    double plus, minus;
    {
      torch::NoGradGuard no_grad;
      p[1][0] += eps;
      plus = loss().item<double>();
      p[1][0] -= 2 * eps;
      minus = loss().item<double>();
      p[1][0] += eps;
    }
    EXPECT_NEAR(analytic, (plus - minus) / (2 * eps), 1e-6 * std::max(1.0, std::abs(analytic))) << name;
  }
}

TEST(Lora, TheMergedExportGivesTheAdapterModelsLogits) {
  auto policy = models::load_causal_lm(test::stories260k());
  models::add_lora(policy, rank(4));
  randomize_b(policy, 5);
  const auto dir = temp_dir("lora_merged");
  models::save_hf_model(policy, dir, test::stories260k());
  auto merged = models::load_causal_lm(dir);  // a plain HF model: no adapter tensors in it
  const auto a = logprobs(policy), b = logprobs(merged);
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5)) << (a - b).abs().max().item<double>();
  auto base = models::load_causal_lm(test::stories260k());
  EXPECT_FALSE(torch::allclose(a, logprobs(base), 1e-3, 1e-3));
}

TEST(Lora, AdaptersRoundTripThroughThePeftLayout) {
  auto policy = models::load_causal_lm(test::stories260k());
  models::add_lora(policy, rank(4, 16));
  randomize_b(policy, 7);
  const auto dir = temp_dir("lora_peft");
  models::save_peft_adapter(policy, dir, "stories260K");
  const auto tensors = core::read_safetensors(dir + "/adapter_model.safetensors");
  EXPECT_EQ(tensors.size(), 70u);
  EXPECT_EQ(tensors.at("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").sizes(), (torch::IntArrayRef{4, 64}));
  EXPECT_EQ(tensors.at("base_model.model.model.layers.4.mlp.gate_proj.lora_B.weight").sizes(), (torch::IntArrayRef{172, 4}));
  nlohmann::json config;
  std::ifstream(dir + "/adapter_config.json") >> config;
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["lora_alpha"], 16.0);
  EXPECT_EQ(config["base_model_name_or_path"], "stories260K");
  EXPECT_EQ(config["target_modules"].size(), 7u);
  // Loaded through model.lora.path into a fresh base: the same adapter, the same outputs.
  models::LoraOptions from_folder;
  from_folder.path = dir;
  models::PolicyRunner runner(test::stories260k(), false, from_folder);
  EXPECT_TRUE(torch::equal(logprobs(runner.policy()), logprobs(policy)));
}

TEST(Lora, PeftFoldersWithModulesOrFeaturesWeLackAreErrorsNamingThem) {
  auto policy = models::load_causal_lm(test::stories260k());
  models::add_lora(policy, rank(2));
  const auto dir = temp_dir("lora_foreign");
  models::save_peft_adapter(policy, dir, "stories260K");
  auto tensors = core::read_safetensors(dir + "/adapter_model.safetensors");
  tensors.emplace("base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight", torch::zeros({2, 64}));
  tensors.emplace("base_model.model.lm_head.lora_A.weight", torch::zeros({2, 64}));
  core::write_safetensors(dir + "/adapter_model.safetensors", tensors);
  models::LoraOptions from_folder;
  from_folder.path = dir;
  try {
    models::PolicyRunner runner(test::stories260k(), false, from_folder);
    FAIL() << "an adapter for layers the model lacks was loaded";
  } catch (const core::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'model.layers.9.self_attn.q_proj.lora_A.weight'"), std::string::npos) << what;
    EXPECT_NE(what.find("'lm_head.lora_A.weight'"), std::string::npos) << what;
  }
  nlohmann::json config;
  std::ifstream(dir + "/adapter_config.json") >> config;
  config["use_dora"] = true;
  std::ofstream(dir + "/adapter_config.json") << config.dump();
  try {
    models::read_peft_options(dir);
    FAIL() << "a DoRA adapter was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'use_dora' is set"), std::string::npos) << e.what();
  }
  models::LoraOptions unknown = rank(2);
  unknown.target_modules = {"q_proj", "qkv_proj"};
  auto other = models::load_causal_lm(test::stories260k());
  try {
    models::add_lora(other, unknown);
    FAIL() << "an unknown target was accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such layer 'qkv_proj'"), std::string::npos) << e.what();
  }
}

TEST(Lora, TheReferenceIsTheBaseWithAdaptersOffAndSharesItsWeights) {
  models::PolicyRunner runner(test::stories260k(), /*load_reference=*/true, rank(4));
  randomize_b(runner.policy(), 9, 0.5);
  auto base = models::load_causal_lm(test::stories260k());
  ASSERT_NE(runner.reference(), nullptr);
  EXPECT_TRUE(torch::equal(logprobs(*runner.reference()), logprobs(base)));
  EXPECT_FALSE(torch::allclose(logprobs(runner.policy()), logprobs(base), 1e-3, 1e-3));
  EXPECT_EQ((*runner.reference())->model->embed_tokens->weight.data_ptr(),
            runner.policy()->model->embed_tokens->weight.data_ptr());
  // Generation uses the live adapters (nothing to sync): greedy text differs from the base's.
  models::GenerationOptions greedy;
  greedy.max_new_tokens = 12;
  greedy.sampler.temperature = 0;
  const auto with = models::generate(runner.policy(), {{1}}, 1, greedy).tokens;
  const auto without = models::generate(*runner.reference(), {{1}}, 1, greedy).tokens;
  EXPECT_FALSE(torch::equal(with, without));
}
