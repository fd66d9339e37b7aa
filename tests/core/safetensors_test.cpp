#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "core/safetensors.h"

using vecrl::core::read_safetensors;
using vecrl::core::write_safetensors;

namespace {

std::string temp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
  out << header << data;
}

std::string error_reading(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const vecrl::core::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtype) {
  std::map<std::string, at::Tensor> tensors = {
      {"f32", torch::randn({3, 4})},
      {"f16", torch::randn({5}).to(torch::kHalf)},
      {"bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
      {"i64", torch::arange(7)},
      {"u8", torch::arange(4).to(torch::kByte)},
  };
  write_safetensors(temp("rt.safetensors"), tensors, {{"format", "pt"}});
  auto back = read_safetensors(temp("rt.safetensors"));
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    EXPECT_EQ(back[name].scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back[name], t)) << name;
  }
}

TEST(Safetensors, ReadsTheRealStoriesCheckpoint) {
  auto t = read_safetensors(std::string(VECRL_SHARED_DATA) + "/models/stories260K/model.safetensors");
  ASSERT_TRUE(t.count("model.embed_tokens.weight"));
  EXPECT_EQ(t["model.embed_tokens.weight"].sizes(), (std::vector<int64_t>{512, 64}));
}

TEST(Safetensors, RejectsCorruptFiles) {
  write_raw(temp("short.safetensors"), "", "");
  std::ofstream(temp("tiny.safetensors"), std::ios::binary) << "abc";
  EXPECT_NE(error_reading(temp("tiny.safetensors")).find("truncated"), std::string::npos);

  {  // header length past the end
    std::ofstream out(temp("long_header.safetensors"), std::ios::binary);
    uint64_t len = 1000;
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
    out << "{}";
  }
  EXPECT_NE(error_reading(temp("long_header.safetensors")).find("runs past the end"), std::string::npos);

  write_raw(temp("bad_json.safetensors"), "{not json", "");
  EXPECT_NE(error_reading(temp("bad_json.safetensors")).find("not valid JSON"), std::string::npos);

  write_raw(temp("bad_dtype.safetensors"), R"({"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", "x");
  EXPECT_NE(error_reading(temp("bad_dtype.safetensors")).find("unsupported dtype 'F8'"), std::string::npos);

  write_raw(temp("outside.safetensors"), R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
            std::string(8, '\0'));
  EXPECT_NE(error_reading(temp("outside.safetensors")).find("outside the 8-byte data section"), std::string::npos);

  write_raw(temp("size.safetensors"), R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
            std::string(8, '\0'));
  EXPECT_NE(error_reading(temp("size.safetensors")).find("expected 12"), std::string::npos);

  write_raw(temp("overlap.safetensors"),
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::string(12, '\0'));
  EXPECT_NE(error_reading(temp("overlap.safetensors")).find("overlap"), std::string::npos);
}
