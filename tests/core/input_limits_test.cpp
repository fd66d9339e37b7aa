// Inputs that used to crash, hang or silently change a run (issues 24, 25): JSON nested without limit,
// YAML with repeated keys, second documents, empty values, huge files and huge integers; and the
// run's own files, opened close-on-exec so that no program it starts inherits them.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/config.h"
#include "core/error.h"
#include "core/json_input.h"
#include "core/jsonl.h"
#include "core/files.h"
#include "core/safetensors.h"

using namespace vecrl;

namespace {

std::string temp_file(const std::string& name, const std::string& contents) {
  const auto path = std::filesystem::path(::testing::TempDir()) / (std::to_string(getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << contents;
  return path.string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct Rollout {
  int64_t group_size = 8;
  template <class V>
  void visit(V& v) {
    v.field("group_size", group_size);
  }
};

const std::string kDeep = std::string(100000, '[') + std::string(100000, ']');

}  // namespace

TEST(JsonInput, NestingDepthSkipsStringsAndStopsAtTheLimit) {
  EXPECT_EQ(core::json_nesting_depth("1"), 0);
  EXPECT_EQ(core::json_nesting_depth(R"({"a": [[1], {"b": 2}]})"), 3);
  EXPECT_EQ(core::json_nesting_depth(R"({"a": "[[[[\"]]]]{{"})"), 1);  // brackets and an escaped quote in a string
  EXPECT_EQ(core::json_nesting_depth(kDeep, 256), 257);
  EXPECT_TRUE(core::try_parse_json(kDeep).is_discarded());
  EXPECT_FALSE(core::try_parse_json(std::string(200, '[') + std::string(200, ']')).is_discarded());
  EXPECT_NE(error_of([] { core::parse_json(kDeep, "body"); }).find("body: JSON nested deeper than 256"), std::string::npos);
  EXPECT_NE(error_of([] { core::parse_json("{", "body"); }).find("body: not valid JSON"), std::string::npos);
}

TEST(JsonInput, ADeeplyNestedRecordIsABadRecordNamingItsLine) {
  // 100,000 levels in a field nobody reads: it parsed, then crashed the run when the record was
  // copied into a batch.
  const auto path = temp_file("deep.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"unused\": " + kDeep + "}\n");
  EXPECT_NE(error_of([&] { core::read_records(path); }).find("deep.jsonl:2: JSON nested deeper than 256"),
            std::string::npos);
  core::RecordReadOptions skip;
  skip.skip_bad = true;
  const auto file = core::read_records(path, skip);
  EXPECT_EQ(file.records.size(), 1u);
  EXPECT_EQ(file.skipped, 1);
  const auto json_list = temp_file("deep.json", "[" + kDeep + "]");
  EXPECT_NE(error_of([&] { core::read_records(json_list); }).find("deep.json: JSON nested deeper than 256"),
            std::string::npos);
}

TEST(YamlConfig, RepeatedKeysSecondDocumentsAndEmptyValuesAreErrorsNamingTheLine) {
  const auto repeated = temp_file("repeated.yaml", "rollout:\n  group_size: 4\n  group_size: 8\n");
  EXPECT_NE(error_of([&] { core::load_yaml_file(repeated); })
                .find("repeated.yaml:3:3: key 'group_size' appears again (first at line 2)"),
            std::string::npos);
  const auto two_blocks = temp_file("two_blocks.yaml", "train:\n  steps: 3\nrollout: {group_size: 2}\ntrain:\n  steps: 9\n");
  EXPECT_NE(error_of([&] { core::load_yaml_file(two_blocks); }).find("two_blocks.yaml:4:1: key 'train' appears again"),
            std::string::npos);
  const auto documents = temp_file("documents.yaml", "train: {steps: 3}\n---\ntrain: {steps: 9}\n");
  EXPECT_NE(error_of([&] { core::load_yaml_file(documents); }).find("documents.yaml:3: a second YAML document"),
            std::string::npos);
  const auto empty_value = temp_file("empty_value.yaml", "rollout:\n  group_size: ~\n");
  EXPECT_NE(error_of([&] {
              core::ConfigNode root(core::load_yaml_file(empty_value), empty_value);
              Rollout rollout;
              root.section("rollout", rollout);
            }).find("empty_value.yaml:2:15: config key 'rollout.group_size': has no value (null); remove the key to use "
                    "the default (8)"),
            std::string::npos);
  EXPECT_EQ(error_of([] { core::load_yaml_file(temp_file("fine.yaml", "a: {b: 1}\nc: [1, 2]\n")); }), "(no error)");
}

TEST(YamlConfig, HugeFilesAndHugeIntegersAreRefused) {
  const auto huge = temp_file("huge.yaml", "a: 1\n" + std::string(2 << 20, '#') + "\n");
  EXPECT_NE(error_of([&] { core::load_yaml_file(huge); }).find("huge.yaml: the config file is larger than 1 MiB"),
            std::string::npos);
  const auto big_int = temp_file("big_int.yaml", "n: 4294967298\n");
  EXPECT_NE(error_of([&] {
              core::ConfigNode root(core::load_yaml_file(big_int), big_int);
              int64_t n = 0;
              root.field("n", n);
            }).find("config key 'n': must be within +-2147483647, got 4294967298"),
            std::string::npos);
}

TEST(JsonInput, AnOverlongCompressedLineIsRefusedWithoutBeingHeld) {
  // 2 MB of gzip holding a 64 MB line, read with a 1 MB line limit: the reader must stop keeping the
  // line at the limit (before, it held all of it and only then compared).
  const auto path = (std::filesystem::path(::testing::TempDir()) / (std::to_string(getpid()) + "_long.jsonl.gz")).string();
  gzFile out = gzopen(path.c_str(), "wb1");
  ASSERT_NE(out, nullptr);
  gzputs(out, "{\"prompt\": \"short\"}\n{\"prompt\": \"");
  const std::string block(1 << 20, 'a');
  for (int i = 0; i < 64; ++i) gzwrite(out, block.data(), static_cast<unsigned>(block.size()));
  gzputs(out, "\"}\n{\"prompt\": \"last\"}\n");
  gzclose(out);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  core::RecordReadOptions options;
  options.max_line_bytes = 1 << 20;
  options.skip_bad = true;
  const auto file = core::read_records(path, options);
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_EQ(file.records.size(), 2u);
  EXPECT_EQ(file.skipped, 1);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 24 * 1024) << "KB of peak memory grew while reading";  // < 24 MB
  options.skip_bad = false;
  EXPECT_NE(error_of([&] { core::read_records(path, options); }).find("_long.jsonl.gz:2: line of 67108878 bytes exceeds the limit of 1048576"),
            std::string::npos);
}

TEST(OutputFile, RunFilesAreOpenedCloseOnExecAndAppendWhole) {
  // metrics.jsonl and the TensorBoard file stay open while sandboxed programs are started.
  const auto path = temp_file("metrics.jsonl", "");
  {
    core::OutputFile file(path, core::OutputFile::Mode::kAppend);
    EXPECT_NE(fcntl(file.descriptor(), F_GETFD) & FD_CLOEXEC, 0);
    file.append("{\"step\": 1}\n");
  }
  core::OutputFile again(path, core::OutputFile::Mode::kAppend);
  again.append("{\"step\": 2}\n");
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "{\"step\": 1}\n{\"step\": 2}\n");
  EXPECT_NE(error_of([] { core::OutputFile("/nonexistent/dir/m.jsonl", core::OutputFile::Mode::kTruncate); })
                .find("/nonexistent/dir/m.jsonl: cannot open for writing"),
            std::string::npos);
}

// In a death-test child: reads `path` with the address space limited to 256 MiB above the
// process's size; exits 3 after printing the Error, 0 when the read succeeded.
void read_under_address_space_limit(const std::string& path) {
  long pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const rlim_t limit = static_cast<rlim_t>(pages) * sysconf(_SC_PAGESIZE) + (rlim_t{256} << 20);
  const rlimit rl{limit, limit};
  setrlimit(RLIMIT_AS, &rl);
  try {
    core::read_safetensors(path);
  } catch (const core::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::_Exit(3);
  }
  std::_Exit(0);
}

// "An allocation failure names what was being loaded": a 1 GiB tensor (a sparse file) read under an
// address-space limit 256 MiB above the process's size, in a child process.
TEST(AllocationFailure, ASafetensorsTensorTooLargeForMemoryIsNamed) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves address space that RLIMIT_AS would refuse";
#endif
  const std::string header = R"({"too_big":{"dtype":"F32","shape":[268435456],"data_offsets":[0,1073741824]}})";
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  const std::string path = temp_file("huge.safetensors", prefix + header);
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(8 + header.size()) + (off_t{1} << 30)), 0);
  ::testing::GTEST_FLAG(death_test_style) = "threadsafe";
  EXPECT_EXIT(read_under_address_space_limit(path),
      ::testing::ExitedWithCode(3), "out of memory while loading .*huge.safetensors: tensor 'too_big' \\(1073741824 bytes\\)");
  std::filesystem::remove(path);
}

TEST(AllocationFailure, OtherErrorsPassThroughUnchanged) {
  const auto named = error_of([] {
    core::naming_allocation_failure([] { return std::string("data.jsonl (at record 7)"); },
                                    []() -> int { throw std::bad_alloc(); });
  });
  EXPECT_EQ(named, "out of memory while loading data.jsonl (at record 7)");
  EXPECT_THROW(core::naming_allocation_failure([] { return std::string("x"); },
                                               []() -> int { throw std::out_of_range("index 9"); }),
               std::out_of_range);
}
