// Byte-level BPE against two independent reference implementations (ids in
// tests/models/data/bpe_golden.json, written by gen_bpe_golden.mjs), plus the special-token,
// lossy-decoding and error paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/bpe_tokenizer.h"
#include "models/tokenizer.h"

using namespace vecrl;
namespace fs = std::filesystem;

namespace {

const std::string kTokenizers = std::string(VECRL_SHARED_DATA) + "/tokenizers";

const nlohmann::json& bpe_golden() {
  static const nlohmann::json items = [] {
    std::ifstream in(std::string(VECRL_SOURCE_DIR) + "/tests/models/data/bpe_golden.json");
    return nlohmann::json::parse(in);
  }();
  return items;
}

const models::Tokenizer& qwen3() {
  static const auto tokenizer = models::load_tokenizer(kTokenizers + "/qwen3");
  return *tokenizer;
}

const models::Tokenizer& gpt2() {
  static const auto tokenizer = models::load_tokenizer(kTokenizers + "/gpt2");
  return *tokenizer;
}

// Strings that are not in NFC come back composed, as HF's decode gives them.
bool is_nfc(const std::string& text) {
  return text.find("\xcc\x81") == std::string::npos && text.find("\xcc\x8a") == std::string::npos;
}

void expect_matches_reference(const models::Tokenizer& tokenizer, const char* name, bool normalizes) {
  int compared = 0, mismatches = 0, round_trip_failures = 0;
  for (const auto& item : bpe_golden()) {
    if (!item.contains(name)) continue;
    ++compared;
    const auto text = item["text"].get<std::string>();
    const auto ids = tokenizer.encode(text);
    if (ids != item[name].get<std::vector<int64_t>>() && ++mismatches <= 5)
      ADD_FAILURE() << name << ": ids differ for " << nlohmann::json(text).dump() << ": got "
                    << nlohmann::json(ids).dump() << ", reference " << item[name].dump();
    // Special tokens (<|im_end|>) are dropped by decode, so only texts without them come back whole.
    const bool has_special = std::any_of(ids.begin(), ids.end(), [&](int64_t id) { return tokenizer.decode({id}).empty(); });
    if (!has_special && (!normalizes || is_nfc(text)) && tokenizer.decode(ids) != text && ++round_trip_failures <= 5)
      ADD_FAILURE() << name << ": decode(encode(s)) != s for " << nlohmann::json(text).dump();
  }
  EXPECT_GE(compared, 500);
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(round_trip_failures, 0);
}

std::string write_file(const std::string& name, const std::string& contents) {
  const auto dir = fs::temp_directory_path() / "vecrl-bpe-test";
  fs::create_directories(dir);
  std::ofstream(dir / name) << contents;
  return (dir / name).string();
}

// A tokenizer.json over a byte alphabet with a few merges, for the paths the real files lack.
nlohmann::json tiny_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  int next = 0, shifted = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const int cp = printable ? b : shifted++;
    std::string utf8;
    if (cp < 0x80) utf8 = std::string(1, static_cast<char>(cp));
    else utf8 = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    vocab[utf8] = next++;
  }
  vocab["ab"] = next++;
  vocab["abc"] = next++;
  vocab["xyz"] = next++;
  return {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a b", "ab c"}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"added_tokens",
           {{{"id", 300}, {"content", "<sep>"}, {"special", true}, {"lstrip", true}, {"rstrip", true}},
            {{"id", 301}, {"content", "<sep>x"}, {"special", false}},
            {{"id", 302}, {"content", "<|endoftext|>"}, {"special", true}}}}};
}

}  // namespace

TEST(ByteLevelBpe, Qwen3IdsEqualTransformersJs) { expect_matches_reference(qwen3(), "qwen3", true); }

TEST(ByteLevelBpe, Gpt2IdsEqualOpenAisEncoder) { expect_matches_reference(gpt2(), "gpt2", false); }

TEST(ByteLevelBpe, Qwen3SpecialTokens) {
  const auto& tok = qwen3();
  EXPECT_EQ(tok.vocab_size(), 151669);
  EXPECT_EQ(tok.bos_id(), -1);  // Qwen has no BOS
  EXPECT_EQ(tok.eos_id(), 151645);  // tokenizer_config.json: <|im_end|>
  EXPECT_EQ(tok.token_id("<|im_start|>"), 151644);
  EXPECT_EQ(tok.token_id("<think>"), 151667);
  EXPECT_EQ(tok.token_id("Hello"), 9707);
  EXPECT_EQ(tok.token_id("no such token"), -1);
  EXPECT_EQ(tok.id_to_piece(1879), "Ġworld");
  // Special tokens are dropped by decode; added tokens that are not special (<think>) stay.
  const auto ids = tok.encode("<|im_start|>user\n<think>hi</think><|im_end|>");
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(tok.decode(ids), "user\n<think>hi</think>");
  EXPECT_EQ(models::encode_prompt(tok, "Hi", /*add_bos=*/true), tok.encode("Hi"));
  EXPECT_EQ(tok.decode({9707, 151900}), "Hello");  // a padding row of the embedding has no text
  EXPECT_THROW(tok.id_to_piece(151669), core::Error);
  EXPECT_THROW(tok.decode({-1}), core::Error);
}

TEST(ByteLevelBpe, Gpt2FilesAndEndOfText) {
  const auto& tok = gpt2();
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_EQ(tok.eos_id(), 50256);
  EXPECT_EQ(tok.bos_id(), 50256);
  EXPECT_EQ(tok.encode("a<|endoftext|>b"), (std::vector<int64_t>{64, 50256, 65}));
  EXPECT_EQ(tok.decode({64, 50256, 65}), "ab");
}

TEST(ByteLevelBpe, InvalidUtf8EncodesByBytesAndDecodesLossily) {
  const auto& tok = qwen3();
  const std::string broken = "ok \xff\xfe end \xe4\xbd";  // stray bytes and a truncated character
  const auto ids = tok.encode(broken);
  EXPECT_FALSE(ids.empty());
  EXPECT_EQ(tok.decode(ids), "ok \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD");
  // A character split across tokens decodes whole once both halves are there.
  const auto circled = tok.encode("①");
  ASSERT_EQ(circled.size(), 2u);
  EXPECT_EQ(tok.decode({circled[0]}), "\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode(circled), "①");
  EXPECT_EQ(models::utf8_lossy("a\x80\x80" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(models::utf8_lossy("\xe2\x82"), "\xEF\xBF\xBD");
}

TEST(ByteLevelBpe, AddedTokensStripAndPreferTheLongest) {
  const auto path = write_file("tokenizer.json", tiny_tokenizer_json().dump());
  auto tok = models::load_tokenizer(path);
  const auto a = static_cast<int64_t>('a');
  EXPECT_EQ(tok->encode("abc"), (std::vector<int64_t>{257}));  // a b -> ab, ab c -> abc
  EXPECT_EQ(tok->encode("ab"), (std::vector<int64_t>{256}));
  // <sep> absorbs the spaces around it (lstrip, rstrip); <sep>x is longer and wins where it fits.
  EXPECT_EQ(tok->encode("a  <sep>  a"), (std::vector<int64_t>{a, 300, a}));
  EXPECT_EQ(tok->encode("a<sep>x"), (std::vector<int64_t>{a, 301}));
  EXPECT_EQ(tok->eos_id(), 302);  // no tokenizer_config.json: <|endoftext|> is the end
}

TEST(ByteLevelBpe, IgnoreMergesTakesWholeVocabularyWords) {
  auto json = tiny_tokenizer_json();
  json["model"]["ignore_merges"] = true;  // "xyz" has no merges but is in the vocabulary
  auto tok = models::load_tokenizer(write_file("tokenizer.json", json.dump()));
  EXPECT_EQ(tok->encode("xyz"), (std::vector<int64_t>{258}));
  json["model"]["ignore_merges"] = false;
  tok = models::load_tokenizer(write_file("tokenizer.json", json.dump()));
  EXPECT_EQ(tok->encode("xyz").size(), 3u);
}

TEST(ByteLevelBpe, UnsupportedComponentsAreNamed) {
  auto expect_error = [](nlohmann::json json, const std::string& fragment) {
    const auto path = write_file("tokenizer.json", json.dump());
    try {
      models::load_tokenizer(path);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
    }
  };
  auto json = tiny_tokenizer_json();
  json["model"]["type"] = "Unigram";
  expect_error(json, "'Unigram'");
  json = tiny_tokenizer_json();
  json["normalizer"] = {{"type", "Lowercase"}};
  expect_error(json, "'Lowercase'");
  json = tiny_tokenizer_json();
  json["pre_tokenizer"] = {{"type", "Metaspace"}};
  expect_error(json, "'Metaspace'");
  json = tiny_tokenizer_json();
  json["model"]["merges"].push_back("q q");
  expect_error(json, "merge 2");
  json = tiny_tokenizer_json();
  json["pre_tokenizer"] = {{"type", "Sequence"},
                           {"pretokenizers",
                            {{{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}},
                             {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  expect_error(json, "does not compile");
  expect_error(nlohmann::json::object(), "unexpected structure");
  json = tiny_tokenizer_json();  // found by fuzzing: a huge id made a multi-gigabyte table
  json["added_tokens"].push_back({{"id", 2000000000}, {"content", "<huge>"}});
  expect_error(json, "token id 2000000000 is far beyond");
  const auto bad = write_file("tokenizer.json", "{ not json");
  EXPECT_THROW(models::load_tokenizer(bad), core::Error);
  EXPECT_THROW(models::load_tokenizer(kTokenizers + "/no-such-folder"), core::Error);
}

TEST(ByteLevelBpe, ASentencepieceStyleTokenizerJsonFallsBackToTokenizerModel) {
  // A Llama-2/Mistral folder: a Metaspace tokenizer.json beside tokenizer.model.
  const auto dir = fs::temp_directory_path() / "vecrl-spm-folder";
  fs::create_directories(dir);
  fs::copy_file(std::string(VECRL_SHARED_DATA) + "/models/stories260K/tokenizer.model", dir / "tokenizer.model",
                fs::copy_options::overwrite_existing);
  auto json = tiny_tokenizer_json();
  json["pre_tokenizer"] = {{"type", "Metaspace"}};
  std::ofstream(dir / "tokenizer.json") << json.dump();
  auto tok = models::load_tokenizer(dir.string());
  EXPECT_EQ(tok->vocab_size(), 512);  // the sentencepiece model
  fs::remove(dir / "tokenizer.model");
  EXPECT_THROW(models::load_tokenizer(dir.string()), core::Error);  // nothing to fall back to: the error stands
}
