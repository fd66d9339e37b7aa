// config.json values that loaded and then produced NaN, "⁇" or a crash (issue 25): each is an
// error naming the field before anything is allocated.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/hf_checkpoint.h"

using namespace vecrl;
namespace fs = std::filesystem;

namespace {

const fs::path kModel = fs::path(VECRL_SHARED_DATA) / "models/stories260K";

// stories260K with config.json replaced (`config` as text); returns the load error, if any.
std::string load_with_config(const std::string& name, const std::string& config) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("vecrl_limits_" + std::to_string(getpid()) + "_" + name);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(kModel))
    if (entry.path().filename() != "config.json")
      fs::copy_file(entry.path(), dir / entry.path().filename(), fs::copy_options::overwrite_existing);
  std::ofstream(dir / "config.json") << config;
  try {
    models::load_causal_lm(dir.string());
  } catch (const core::Error& e) {
    fs::remove_all(dir);
    return e.what();
  }
  fs::remove_all(dir);
  return "(no error)";
}

std::string load_with(const std::string& name, const std::string& key, const nlohmann::json& value) {
  std::ifstream in(kModel / "config.json");
  auto config = nlohmann::json::parse(in);
  config[key] = value;
  return load_with_config(name, config.dump());
}

}  // namespace

TEST(ModelConfigLimits, ImpossibleValuesAreErrorsNamingTheField) {
  EXPECT_EQ(load_with("ok", "rope_theta", 10000.0), "(no error)");
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expected;
  };
  const std::vector<Case> cases{
      {"rope_theta", 0.0, "rope_theta must be a positive number, got 0"},
      {"rope_theta", -5.0, "rope_theta must be a positive number, got -5"},
      {"rms_norm_eps", -1.0, "rms_norm_eps must be in (0, 1), got -1"},
      {"max_position_embeddings", 0, "max_position_embeddings must be positive"},
      {"vocab_size", 1000000000, "a size is out of range (vocab 1000000000 <= 16777216"},
      {"hidden_size", 1000000, "hidden 1000000 <= 65536"},
      {"num_hidden_layers", 1000000000, "layers 1000000000 <= 1024"},
      // In range but not what the weights hold: found before the model is allocated.
      {"vocab_size", 4096, "config.json: vocab_size and hidden_size say model.embed_tokens.weight is [4096, 64], the weights hold [512, 64]"},
      {"num_hidden_layers", 9, "config.json: num_hidden_layers is 9, the weights hold 5 layers"},
      {"intermediate_size", 4096, "intermediate_size and hidden_size say model.layers.0.mlp.gate_proj.weight is [4096, 64]"},
  };
  for (const auto& c : cases) {
    const std::string what = load_with(c.key, c.key, c.value);
    EXPECT_NE(what.find(c.expected), std::string::npos) << c.key << " = " << c.value << ": " << what;
  }
}

TEST(ModelConfigLimits, ADeeplyNestedConfigIsRefusedBeforeParsing) {
  const std::string deep = "{\"model_type\": \"llama\", \"x\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
  EXPECT_NE(load_with_config("deep", deep).find("config.json: JSON nested deeper than 256"), std::string::npos);
}
