// Every model family: a tiny random checkpoint in HF layout round-trips save -> load -> identical
// logits; family-specific parts (q/k/v bias, q/k norm, llama3 RoPE scaling) are exercised.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/hf_checkpoint.h"
#include "models/hf_export.h"
#include "models/model_config.h"

using namespace vecrl;
namespace fs = std::filesystem;

namespace {

nlohmann::json tiny(const std::string& type) {
  return {{"model_type", type}, {"vocab_size", 64},         {"hidden_size", 32},     {"intermediate_size", 48},
          {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"rms_norm_eps", 1e-6},
          {"max_position_embeddings", 128}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false}};
}

models::ModelConfig config_from(const nlohmann::json& j, const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("family_" + name);
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << j.dump();
  return models::ModelConfig::from_hf_json((dir / "config.json").string());
}

std::set<std::string> names_of(models::CausalLM& m) {
  std::set<std::string> names;
  for (const auto& item : m->named_parameters()) names.insert(item.key());
  return names;
}

torch::Tensor logits_of(models::CausalLM& m, const torch::Tensor& tokens) {
  torch::NoGradGuard no_grad;
  auto positions = torch::arange(tokens.size(1)).unsqueeze(0).expand_as(tokens).contiguous();
  auto hidden = m->hidden({tokens, positions, torch::ones_like(tokens).to(torch::kBool)});
  return m->logits(hidden);
}

void round_trip(const nlohmann::json& j, const std::string& name, int64_t shard_bytes = int64_t{1} << 30) {
  torch::manual_seed(3);
  models::CausalLM model(config_from(j, name));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.copy_(torch::randn_like(p) * 0.2);
  }
  const std::string out = (fs::path(::testing::TempDir()) / ("exported_" + name)).string();
  models::save_hf_model(model, out, "", {shard_bytes});
  auto loaded = models::load_causal_lm(out);
  EXPECT_EQ(names_of(model), names_of(loaded));
  auto tokens = torch::randint(0, 64, {2, 9});
  EXPECT_TRUE(torch::equal(logits_of(model, tokens), logits_of(loaded, tokens))) << name;
  auto written = nlohmann::json::parse(std::ifstream(fs::path(out) / "config.json"));
  EXPECT_EQ(written["model_type"], j["model_type"]);
  EXPECT_TRUE(fs::exists(fs::path(out) / "generation_config.json"));
}

}  // namespace

TEST(ModelFamilies, LlamaTiedAndUntiedRoundTrip) {
  round_trip(tiny("llama"), "llama");
  auto tied = tiny("llama");
  tied["tie_word_embeddings"] = true;
  round_trip(tied, "llama_tied");
}

TEST(ModelFamilies, ShardedCheckpointsRoundTrip) {
  round_trip(tiny("llama"), "llama_sharded", 8 * 1024);
  const fs::path out = fs::path(::testing::TempDir()) / "exported_llama_sharded";
  EXPECT_TRUE(fs::exists(out / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  std::set<std::string> shard_files, indexed;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().extension() == ".safetensors") shard_files.insert(e.path().filename().string());
  auto index = nlohmann::json::parse(std::ifstream(out / "model.safetensors.index.json"));
  for (const auto& [tensor, file] : index["weight_map"].items()) indexed.insert(file.get<std::string>());
  EXPECT_GE(shard_files.size(), 2u);
  EXPECT_EQ(shard_files, indexed);
  EXPECT_EQ(shard_files.begin()->rfind("model-00001-of-", 0), 0u);
}

TEST(ModelFamilies, MistralRoundTripAndSlidingWindowRule) {
  auto j = tiny("mistral");
  j["sliding_window"] = nullptr;
  round_trip(j, "mistral");
  j["sliding_window"] = 16;
  try {
    config_from(j, "mistral_window");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported field 'sliding_window' = 16"), std::string::npos) << e.what();
  }
}

TEST(ModelFamilies, Qwen2HasQkvBiases) {
  round_trip(tiny("qwen2"), "qwen2");
  models::CausalLM m(config_from(tiny("qwen2"), "qwen2_names"));
  auto names = names_of(m);
  EXPECT_TRUE(names.count("model.layers.0.self_attn.q_proj.bias"));
  EXPECT_TRUE(names.count("model.layers.1.self_attn.v_proj.bias"));
  EXPECT_FALSE(names.count("model.layers.0.self_attn.o_proj.bias"));
}

TEST(ModelFamilies, Qwen3HasPerHeadQkNormAndItsOwnHeadDim) {
  auto j = tiny("qwen3");
  j["head_dim"] = 16;  // != hidden_size / heads, as in real Qwen3 configs
  j["attention_bias"] = true;
  j["tie_word_embeddings"] = true;
  round_trip(j, "qwen3");
  models::CausalLM m(config_from(j, "qwen3_names"));
  auto names = names_of(m);
  EXPECT_TRUE(names.count("model.layers.0.self_attn.q_norm.weight"));
  EXPECT_TRUE(names.count("model.layers.0.self_attn.k_norm.weight"));
  EXPECT_TRUE(names.count("model.layers.0.self_attn.k_proj.bias"));
  EXPECT_EQ(m->model->layers[0]->as<models::DecoderLayer>()->self_attn->q_proj->weight.size(0), 4 * 16);
  // q/k norm changes the output: zeroing its weights must change the logits.
  auto tokens = torch::randint(0, 64, {1, 5});
  auto before = logits_of(m, tokens);
  {
    torch::NoGradGuard no_grad;
    m->named_parameters()["model.layers.0.self_attn.q_norm.weight"].mul_(0.5);
  }
  EXPECT_FALSE(torch::allclose(before, logits_of(m, tokens)));
}

TEST(ModelFamilies, Llama3RopeScaling) {
  auto j = tiny("llama");
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 64}};
  auto scaled = config_from(j, "llama3");
  auto plain = config_from(tiny("llama"), "llama_plain");
  auto a = models::rope_inverse_frequencies(scaled), b = models::rope_inverse_frequencies(plain);
  // head_dim 8: frequencies 1, 0.1, 0.01, 0.001 -> wavelengths 6.3, 63, 628, 6283 against the
  // band [64/4, 64/1] = [16, 64]: the first is kept, the last two are divided by 8, the second blended.
  EXPECT_FLOAT_EQ(a[0].item<float>(), b[0].item<float>());
  EXPECT_NEAR(a[3].item<float>(), b[3].item<float>() / 8, 1e-9);
  EXPECT_NEAR(a[2].item<float>(), b[2].item<float>() / 8, 1e-9);
  const double wavelen = 2 * M_PI / b[1].item<double>(), smooth = (64 / wavelen - 1) / (4 - 1);
  EXPECT_NEAR(a[1].item<double>(), (1 - smooth) * b[1].item<double>() / 8 + smooth * b[1].item<double>(), 1e-7);
  round_trip(j, "llama3");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_THROW(config_from(j, "yarn"), core::Error);
}

TEST(ModelFamilies, UnsupportedTypesAndFieldsAreNamed) {
  try {
    config_from(tiny("gpt2"), "gpt2");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported model_type 'gpt2' (supported: llama, mistral, qwen2, qwen3)"),
              std::string::npos)
        << e.what();
  }
  auto j = tiny("llama");
  j["hidden_act"] = "gelu";
  EXPECT_THROW(config_from(j, "gelu"), core::Error);
  j = tiny("llama");
  j.erase("hidden_size");
  try {
    config_from(j, "no_hidden");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing field 'hidden_size'"), std::string::npos);
  }
}
