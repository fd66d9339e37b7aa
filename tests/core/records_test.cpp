#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "core/error.h"
#include "core/jsonl.h"

using vecrl::core::read_records;

namespace {

std::string temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string record_error_of(const std::string& path, bool skip = false) {
  try {
    read_records(path, {skip});
  } catch (const vecrl::core::Error& e) {
    return e.what();
  }
  return "";
}

const std::string kData = VECRL_SHARED_DATA;

}  // namespace

TEST(Records, ReadsTheRealDatasetsInEveryFormat) {
  EXPECT_EQ(read_records(kData + "/datasets/gsm8k/test.jsonl").records.size(), 1319u);
  auto humaneval = read_records(kData + "/datasets/humaneval/HumanEval.jsonl.gz");
  ASSERT_EQ(humaneval.records.size(), 164u);
  EXPECT_EQ(humaneval.records[0]["task_id"], "HumanEval/0");
  EXPECT_EQ(read_records(kData + "/datasets/mbpp/sanitized-mbpp.json").records.size(), 427u);
}

TEST(Records, GzipLinesMatchThePlainFile) {
  const std::string plain = "{\"a\": 1}\n\n{\"a\": 2}\n{\"a\": 3}";
  const std::string gz_path = ::testing::TempDir() + "/records.jsonl.gz";
  gzFile f = gzopen(gz_path.c_str(), "wb");
  gzwrite(f, plain.data(), static_cast<unsigned>(plain.size()));
  gzclose(f);
  auto a = read_records(temp("records.jsonl", plain)), b = read_records(gz_path);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.lines, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(b.lines, a.lines);
}

TEST(Records, BadRecordsNameTheLineOrAreSkippedAndCounted) {
  const auto path = temp("bad.jsonl", "{\"a\": 1}\n{not json\n[1, 2]\n{\"a\": 4}\n");
  EXPECT_NE(record_error_of(path).find("bad.jsonl:2: not valid JSON"), std::string::npos) << record_error_of(path);
  auto skipped = read_records(path, {true});
  EXPECT_EQ(skipped.records.size(), 2u);
  EXPECT_EQ(skipped.skipped, 2);
  EXPECT_EQ(skipped.lines, (std::vector<int64_t>{1, 4}));
  EXPECT_NE(record_error_of(temp("array.jsonl", "[1]\n")).find("array.jsonl:1: expected a JSON object, found array"),
            std::string::npos);
  EXPECT_NE(record_error_of(temp("empty.jsonl", "\n\n")).find("empty.jsonl: no records"), std::string::npos);
  EXPECT_NE(record_error_of(temp("list.json", "{\"a\": 1}")).find("must be a list of objects"), std::string::npos);
  EXPECT_NE(record_error_of(temp("items.json", "[{\"a\": 1}, 3]")).find("items.json: item 2: expected a JSON object"),
            std::string::npos);
  vecrl::core::RecordReadOptions small;
  small.max_line_bytes = 10;
  try {
    read_records(temp("long.jsonl", "{\"a\": \"0123456789\"}\n"), small);
    FAIL();
  } catch (const vecrl::core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("long.jsonl:1: line of 19 bytes exceeds the limit of 10"), std::string::npos)
        << e.what();
  }
  EXPECT_NE(record_error_of("/nonexistent.jsonl").find("/nonexistent.jsonl: cannot open"), std::string::npos);
}

// Regressions from fuzzing (scripts/fuzz.sh dataset): a bad gzip line used to leak the open gzip
// stream when it threw, and a NUL byte ended a gzip line early (gzgets) where plain files kept it.
TEST(Records, GzipBadLinesAndNulBytesBehaveAsInPlainFiles) {
  const std::string text = std::string("{\"a\": 1}\n{\"a\": \"x") + '\0' + "y\"}\n{not json\n";
  const std::string gz_path = ::testing::TempDir() + "/nul.jsonl.gz";
  gzFile f = gzopen(gz_path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  const auto plain_path = ::testing::TempDir() + "/nul.jsonl";
  std::ofstream(plain_path, std::ios::binary) << text;
  auto plain = read_records(plain_path, {true}), gz = read_records(gz_path, {true});
  EXPECT_EQ(gz.records, plain.records);
  EXPECT_EQ(gz.lines, plain.lines);
  EXPECT_EQ(gz.skipped, plain.skipped);
  EXPECT_EQ(gz.skipped, 2);  // the NUL line is malformed JSON in both, not a truncated valid one
  EXPECT_NE(record_error_of(gz_path).find("nul.jsonl.gz:2:"), std::string::npos) << record_error_of(gz_path);
}
