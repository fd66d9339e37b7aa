#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/tokenizer.h"

using namespace vecrl;

namespace {

nlohmann::json golden() {
  std::ifstream in(std::string(VECRL_SOURCE_DIR) + "/tests/models/data/spm_golden.json");
  return nlohmann::json::parse(in);
}

void expect_matches_golden(const std::string& name, const std::string& model_path) {
  auto g = golden();
  auto tok = models::load_tokenizer(model_path);
  const auto& strings = g["strings"];
  const auto& ids = g["ids"][name];
  ASSERT_GE(strings.size(), 300u);
  ASSERT_EQ(strings.size(), ids.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const auto text = strings[i].get<std::string>();
    const auto expected = ids[i].get<std::vector<int64_t>>();
    const auto got = tok->encode(text);
    if (got != expected && ++mismatches <= 5) ADD_FAILURE() << name << ": ids differ for " << nlohmann::json(text).dump();
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace

TEST(SentencePiece, Stories260KIdsEqualTheRealLibrary) {
  expect_matches_golden("stories260K", std::string(VECRL_SHARED_DATA) + "/models/stories260K/tokenizer.model");
}

TEST(SentencePiece, Llama2IdsEqualTheRealLibrary) {
  expect_matches_golden("llama2", std::string(VECRL_SHARED_DATA) + "/tokenizers/llama2/tokenizer.model");
}

TEST(SentencePiece, KnownPiecesAndRoundTrip) {
  auto tok = models::load_tokenizer(std::string(VECRL_SHARED_DATA) + "/models/stories260K");
  const std::string text = "Once upon a time, there was a little girl named Lily.";
  auto ids = tok->encode(text);
  std::vector<std::string> pieces;
  for (auto id : ids) pieces.push_back(tok->id_to_piece(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"▁Once", "▁upon", "▁a", "▁time", ",", "▁there", "▁was", "▁a", "▁little",
                                              "▁g", "ir", "l", "▁named", "▁Lily", "."}));
  EXPECT_EQ(tok->decode(ids), text);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->vocab_size(), 512);
  EXPECT_EQ(tok->decode({1, 403, 2}), "Once");
  EXPECT_THROW(tok->decode({9999}), core::Error);
}

TEST(SentencePiece, MissingFileIsAClearError) {
  EXPECT_THROW(models::load_tokenizer("/nonexistent/folder"), core::Error);
}
