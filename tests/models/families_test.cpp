// Every model family: a tiny random checkpoint in HF layout round-trips save -> load -> identical
// logits; family-specific parts (q/k/v bias, q/k norm, llama3 RoPE scaling) are exercised.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
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

struct Exported {
  models::CausalLM model;
  std::string folder;
};

// A random model of the config (every weight, norm and bias N(0, 0.2)) saved in HF layout.
Exported export_random(const nlohmann::json& j, const std::string& name, int64_t shard_bytes = int64_t{1} << 30) {
  torch::manual_seed(3);
  models::CausalLM model(config_from(j, name));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.copy_(torch::randn_like(p) * 0.2);
  }
  const std::string out = (fs::path(::testing::TempDir()) / ("exported_" + name)).string();
  models::save_hf_model(model, out, "", {shard_bytes});
  return {model, out};
}

void round_trip(const nlohmann::json& j, const std::string& name, int64_t shard_bytes = int64_t{1} << 30) {
  auto [model, out] = export_random(j, name, shard_bytes);
  auto loaded = models::load_causal_lm(out);
  EXPECT_EQ(names_of(model), names_of(loaded));
  auto tokens = torch::randint(0, 64, {2, 9});
  EXPECT_TRUE(torch::equal(logits_of(model, tokens), logits_of(loaded, tokens))) << name;
  auto written = nlohmann::json::parse(std::ifstream(fs::path(out) / "config.json"));
  EXPECT_EQ(written["model_type"], j["model_type"]);
  EXPECT_TRUE(fs::exists(fs::path(out) / "generation_config.json"));
}

// Our logits for `tokens` [B, T], written as a case for tests/models/hf_reference.py; returns its path.
std::string reference_case(models::CausalLM& model, const torch::Tensor& tokens, const std::string& name) {
  const auto logits = logits_of(model, tokens).to(torch::kDouble).contiguous();  // [B, T, V]
  nlohmann::json ids = nlohmann::json::array(), values = nlohmann::json::array();
  for (int64_t b = 0; b < tokens.size(0); ++b) {
    auto row = tokens[b].contiguous();
    ids.push_back(std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel()));
    nlohmann::json positions = nlohmann::json::array();
    for (int64_t t = 0; t < tokens.size(1); ++t) {
      auto v = logits[b][t].contiguous();
      positions.push_back(std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel()));
    }
    values.push_back(positions);
  }
  const std::string path = (fs::path(::testing::TempDir()) / ("reference_case_" + name + ".json")).string();
  std::ofstream(path) << nlohmann::json{{"ids", ids}, {"logits", values}}.dump();
  return path;
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
  torch::manual_seed(2);
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

TEST(ModelFamilies, TransformersRopeParametersAreRead) {
  // transformers 5 writes rope_theta (and any scaling) inside "rope_parameters".
  auto j = tiny("qwen3");
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  EXPECT_EQ(config_from(j, "rope_parameters").rope_theta, 1000000.0);
  j["rope_theta"] = 1000000.0;  // both forms, agreeing
  EXPECT_EQ(config_from(j, "rope_parameters_both").rope_theta, 1000000.0);
  j["dtype"] = "bfloat16";  // transformers 5's torch_dtype: the export writes float32 masters
  const auto written =
      nlohmann::json::parse(std::ifstream(fs::path(export_random(j, "v5_dtype").folder) / "config.json"));
  EXPECT_EQ(written["dtype"], "float32");
  EXPECT_EQ(written["torch_dtype"], "float32");
  j.erase("dtype");
  auto expect_error = [](const nlohmann::json& config, const std::string& name, const std::string& needle) {
    try {
      config_from(config, name);
      ADD_FAILURE() << name << " loaded";
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  j["rope_theta"] = 10000.0;
  expect_error(j, "rope_disagree", "rope_theta 10000 disagrees with rope_parameters.rope_theta 1e+06");
  j.erase("rope_theta");
  j["rope_parameters"]["partial_rotary_factor"] = 0.5;
  expect_error(j, "rope_partial", "partial rotary embeddings are not supported");
  j["rope_parameters"] = {{"full_attention", {{"rope_theta", 1e6}}}, {"sliding_attention", {{"rope_theta", 1e4}}}};
  expect_error(j, "rope_per_layer", "per-layer-type RoPE parameters are not supported");
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1e6}, {"factor", 4.0}};
  expect_error(j, "rope_yarn", "unsupported field 'rope_parameters'");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", "big"}};
  expect_error(j, "rope_type_error", "rope_parameters: field 'rope_theta' has the wrong type");

  // Llama's llama3 scaling reads the same from either form.
  const nlohmann::json scaling = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                  {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  auto old_form = tiny("llama");
  old_form["rope_scaling"] = scaling;
  auto new_form = tiny("llama");
  new_form.erase("rope_theta");
  new_form["rope_parameters"] = scaling;
  new_form["rope_parameters"]["rope_theta"] = 10000.0;
  EXPECT_TRUE(torch::equal(models::rope_inverse_frequencies(config_from(old_form, "llama3_old")),
                           models::rope_inverse_frequencies(config_from(new_form, "llama3_new"))));
}

TEST(ModelFamilies, AttentionBiasPutsABiasOnTheOutputProjectionExceptInQwen2) {
  for (const std::string type : {"llama", "qwen3"}) {
    auto j = tiny(type);
    j["attention_bias"] = true;
    models::CausalLM m(config_from(j, type + "_bias"));
    EXPECT_TRUE(names_of(m).count("model.layers.0.self_attn.o_proj.bias")) << type;
  }
  models::CausalLM qwen2(config_from(tiny("qwen2"), "qwen2_o_bias"));
  EXPECT_FALSE(names_of(qwen2).count("model.layers.0.self_attn.o_proj.bias"));
}

// Every family's export, and the real stories260K, give the logits of tests/models/hf_reference.py:
// a float64 forward pass written from transformers' modeling files, which also insists on exactly
// the tensor names transformers expects.
TEST(ModelFamilies, LogitsMatchAnIndependentReferenceOfTheTransformersEquations) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with torch (python3-torch) is not installed";
  std::vector<std::pair<std::string, nlohmann::json>> variants = {{"ref_llama", tiny("llama")},
                                                                  {"ref_mistral", tiny("mistral")},
                                                                  {"ref_qwen2", tiny("qwen2")}};
  auto biased = tiny("llama");
  biased["attention_bias"] = true;
  biased["tie_word_embeddings"] = true;
  variants.emplace_back("ref_llama_bias_tied", biased);
  auto llama3 = tiny("llama");
  llama3.erase("rope_theta");
  llama3["rope_parameters"] = {{"rope_type", "llama3"},      {"rope_theta", 500000.0},
                               {"factor", 8.0},              {"low_freq_factor", 1.0},
                               {"high_freq_factor", 4.0},    {"original_max_position_embeddings", 16}};
  llama3["max_position_embeddings"] = 512;
  variants.emplace_back("ref_llama3", llama3);
  auto qwen3 = tiny("qwen3");
  qwen3["head_dim"] = 16;
  qwen3["attention_bias"] = true;
  qwen3["tie_word_embeddings"] = true;
  variants.emplace_back("ref_qwen3", qwen3);
  auto qwen3_v5 = tiny("qwen3");
  qwen3_v5.erase("rope_theta");
  qwen3_v5["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  variants.emplace_back("ref_qwen3_v5", qwen3_v5);

  torch::manual_seed(11);
  const auto tokens = torch::randint(0, 64, {2, 9});
  std::string args;
  for (const auto& [name, j] : variants) {
    auto exported = export_random(j, name, name == "ref_qwen2" ? 8 * 1024 : int64_t{1} << 30);  // one sharded
    args += " " + exported.folder + " " + reference_case(exported.model, tokens, name);
  }
  const std::string stories = std::string(VECRL_SHARED_DATA) + "/models/stories260K";
  auto real = models::load_causal_lm(stories);
  const auto story_tokens = torch::tensor({1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315}).unsqueeze(0);
  args += " " + stories + " " + reference_case(real, story_tokens, "stories260K");

  const std::string cmd = "/usr/bin/python3 " + std::string(VECRL_SOURCE_DIR) + "/tests/models/hf_reference.py" + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), static_cast<long>(variants.size() + 1)) << output;
}
