// The `vecrl` executable end to end: exit codes, JSON shapes, help and errors.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace {

struct Result {
  int code;
  std::string out;
};

Result run(const std::string& args) {
  const std::string cmd = std::string(VECRL_EXE) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kModel = std::string(VECRL_SHARED_DATA) + "/models/stories260K";

}  // namespace

TEST(Cli, VersionAndHelp) {
  auto v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("vecrl 0."), std::string::npos);
  for (const char* sub : {"train", "generate", "score"}) {
    auto h = run(std::string(sub) + " --help");
    EXPECT_EQ(h.code, 0) << sub;
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << h.out;
  }
  EXPECT_NE(run("generate --help").out.find("--max-new-tokens"), std::string::npos);
}

TEST(Cli, ScoreReturnsIdsAndPerTokenLogprobs) {
  auto r = run("score --model " + kModel + " --text 'Once upon a time, there was a little girl.'");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  auto ids = j["ids"].get<std::vector<int64_t>>();
  auto lp = j["token_logprobs"].get<std::vector<double>>();
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 426}));
  ASSERT_EQ(lp.size(), ids.size() - 1);
  double sum = 0;
  for (double x : lp) {
    EXPECT_LE(x, 0.0);
    sum += x;
  }
  EXPECT_NEAR(j["sum_logprob"].get<double>(), sum, 1e-9);
}

TEST(Cli, GenerateGreedyTextAndJson) {
  auto text = run("generate --model " + kModel + " --prompt '' --temperature 0 --max-new-tokens 12");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_EQ(text.out.rfind("Once upon a time, there was a little girl", 0), 0u) << text.out;
  auto js = run("generate --model " + kModel + " --prompt 'Tom had a' --prompt 'The cat' --seed 7 --max-new-tokens 5 --json");
  ASSERT_EQ(js.code, 0) << js.out;
  auto j = nlohmann::json::parse(js.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["ids"].size(), j[0]["logprobs"].size());
  EXPECT_EQ(j[1]["prompt"], "The cat");
}

TEST(Cli, ErrorsExitNonZeroWithAMessage) {
  auto bad_model = run("score --model /nonexistent --text hi");
  EXPECT_EQ(bad_model.code, 1);
  EXPECT_NE(bad_model.out.find("error: /nonexistent: not a model folder"), std::string::npos) << bad_model.out;
  auto bad_override = run(std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml optim.lr=fast");
  EXPECT_NE(bad_override.code, 0);
  auto train_bad = run("train " + std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml optim.lr=fast");
  EXPECT_EQ(train_bad.code, 1);
  EXPECT_NE(train_bad.out.find("config key 'optim.lr': expected a number, found 'fast'"), std::string::npos)
      << train_bad.out;
  EXPECT_NE(run("generate --model " + kModel + " --prompt x --top-p 2").code, 0);
}
