// The `vecrl` executable end to end: exit codes, JSON shapes, help and errors.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <iterator>
#include <sstream>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Result {
  int code;
  std::string out;
};

// Runs `vecrl ARGS`, feeding `input` on stdin when given; captures stdout and stderr together, or
// stdout alone.
Result run(const std::string& args, const std::string& input = "", bool with_stderr = true) {
  std::string redirect;
  if (!input.empty()) {
    static int counter = 0;  // tests run as parallel processes: one file per process and call
    const std::string path =
        ::testing::TempDir() + "/vecrl_cli_input_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + ".json";
    FILE* f = fopen(path.c_str(), "w");
    fwrite(input.data(), 1, input.size(), f);
    fclose(f);
    redirect = " < " + path;
  }
  const std::string cmd = std::string(VECRL_EXE) + " " + args + redirect + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kModel = std::string(VECRL_SHARED_DATA) + "/models/stories260K";

// Runs a shell script, capturing its output and exit code.
Result run_shell(const std::string& script) {
  FILE* pipe = popen(("bash -c '" + script + "' 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

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

TEST(Cli, ScoreAndGenerateTakeADtypeAndADevice) {
  const std::string text = " --text 'Once upon a time, there was a little girl.'";
  auto fp32 = nlohmann::json::parse(run("score --model " + kModel + text).out)["token_logprobs"].get<std::vector<double>>();
  auto r = run("score --model " + kModel + text + " --dtype bfloat16 --device cpu");
  ASSERT_EQ(r.code, 0) << r.out;
  auto bf16 = nlohmann::json::parse(r.out)["token_logprobs"].get<std::vector<double>>();
  ASSERT_EQ(bf16.size(), fp32.size());
  double worst = 0;
  for (std::size_t i = 0; i < bf16.size(); ++i) worst = std::max(worst, std::abs(bf16[i] - fp32[i]));
  EXPECT_GT(worst, 0.0);
  EXPECT_LT(worst, 0.4);
  auto greedy = run("generate --model " + kModel + " --prompt '' --temperature 0 --max-new-tokens 6 --dtype bfloat16");
  ASSERT_EQ(greedy.code, 0) << greedy.out;
  EXPECT_EQ(greedy.out.rfind("Once upon a time", 0), 0u) << greedy.out;
  auto bad = run("score --model " + kModel + text + " --device tpu");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("--device: expected cpu, cuda, cuda:N or auto, found 'tpu'"), std::string::npos)
      << bad.out;
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

namespace {

Result advantage(const std::string& json, const std::string& args) {
  return run("advantage " + args, json);
}

std::vector<double> first_group(const Result& r, const std::string& key = "advantages") {
  auto j = nlohmann::json::parse(r.out);
  return j[key][0].get<std::vector<double>>();
}

void expect_near(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << i;
}

const std::string kRunning = R"({"reward_names": ["correct", "format"], "weights": [0.5, 0.5],
  "groups": [{"rewards": [[1, 0.5], [1, 1], [0, 1], [0, 0]]}]})";

}  // namespace

TEST(CliAdvantage, WorkedExamplesThroughTheCommandLine) {
  expect_near(first_group(advantage(kRunning, "--estimator grpo")), {0.4392, 1.0247, -0.1464, -1.3175});
  expect_near(first_group(advantage(kRunning, "--estimator grpo --set std=population")),
              {0.5071, 1.1832, -0.1690, -1.5213});
  expect_near(first_group(advantage(kRunning, "--estimator rloo")), {0.2500, 0.5833, -0.0833, -0.7500});
  expect_near(first_group(advantage(kRunning, "--estimator dr_grpo")), {0.1875, 0.4375, -0.0625, -0.5625});
  expect_near(first_group(advantage(kRunning, "--estimator ac")), {0.3024, 0.8245, -0.0413, -1.0856});
  expect_near(first_group(advantage(kRunning, "--estimator gdpo")), {0.3749, 1.0222, -0.0513, -1.3458});
  expect_near(first_group(advantage(kRunning, "--estimator dvao")), {0.4100, 0.9567, -0.1367, -1.2301});
  auto rpp = advantage(R"({"groups": [{"rewards": [[0.75], [1.0], [0.5], [0.0]], "lengths": [2, 3, 1, 2]}]})",
                       "--estimator reinforce_pp");
  expect_near(first_group(rpp), {0.2958, 0.8874, -0.2958, -1.4790});
  auto hdpo = advantage(R"({"reward_names": ["correct", "format", "efficiency"], "weights": [0.9, 0.1, 1],
      "groups": [{"rewards": [[1, 1, 1], [1, 1, 0.3333333333], [1, 0, 0.5], [0, 1, 0]]}]})",
                        "--estimator hdpo --set 'condition=correct>=1' --set conditional=efficiency "
                        "--set conditional_weight=0.15");
  ASSERT_EQ(hdpo.code, 0) << hdpo.out;
  auto j = nlohmann::json::parse(hdpo.out);
  expect_near(j["channels"]["primary"][0].get<std::vector<double>>(), {0.5735, 0.5735, 0.3441, -1.4912});
  expect_near(j["channels"]["conditional"][0].get<std::vector<double>>(), {1.1209, -0.8006, -0.3203, 0});
  EXPECT_DOUBLE_EQ(j["channel_weights"]["conditional"].get<double>(), 0.15);
  auto vpo = advantage(R"({"groups": [{"answers": [[[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]], [[1, 0], [1, 0]], []]}]})",
                       "--estimator vpo --set 'weight_samples=[[1,0],[0.5,0.5],[0,1]]'");
  expect_near(first_group(vpo), {1.2602, 0.1400, 0.1400, -1.5403});
}

TEST(CliAdvantage, ValidMaskAndSeveralGroups) {
  auto r = advantage(R"({"weights": [0.5, 0.5], "groups": [
      {"rewards": [[1, 0.5], [1, 1], [0, 1], [0, 0]]},
      {"rewards": [[1, 0.5], [1, 1], [0, 1], [0, 0], [5, 5]], "valid": [[1,1],[1,1],[1,1],[1,1],[0,1]]}]})",
                     "--estimator grpo");
  EXPECT_NE(r.code, 0);  // groups of different sizes
  EXPECT_NE(r.out.find("group 1: 5 rollouts, but group 0 has 4"), std::string::npos) << r.out;
  auto ok = advantage(R"({"weights": [0.5, 0.5], "groups": [
      {"rewards": [[1, 0.5], [1, 1], [0, 1], [0, 0], [3, 3]], "valid": [[1,1],[1,1],[1,1],[1,1],[0,1]]}]})",
                      "--estimator grpo");
  ASSERT_EQ(ok.code, 0) << ok.out;
  expect_near(first_group(ok), {0.4392, 1.0247, -0.1464, -1.3175, 0.0});
}

TEST(CliAdvantage, BadInputNamesTheGroupAndRow) {
  auto expect_error = [](const Result& r, const std::string& needle) {
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  };
  expect_error(advantage(R"({"groups": [{"rewards": [[1, 2], [3]]}]})", "--estimator grpo"),
               "group 0 row 1: 1 values, expected K = 2");
  expect_error(advantage(R"({"reward_names": ["a"], "groups": [{"rewards": [[1, 2]]}]})", "--estimator grpo"),
               "group 0 row 0: 2 values, expected K = 1");
  expect_error(advantage(R"({"groups": [{"rewards": [[1], [NaN]]}]})", "--estimator grpo"), "not valid JSON");
  expect_error(advantage(R"({"groups": [{"rewards": [[1], ["x"]]}]})", "--estimator grpo"),
               "group 0 row 1[0]: expected a number");
  expect_error(advantage(kRunning, "--estimator grpo --set epsilon=1"), "unknown config key 'epsilon'");
  expect_error(advantage(kRunning, "--estimator nope"), "unknown advantage estimator 'nope'; registered:");
  expect_error(advantage(R"({"groups": []})", "--estimator grpo"), "\"groups\" must be a non-empty list");
}

TEST(CliAdvantage, HelpDocumentsTheFormat) {
  auto h = run("advantage --help");
  EXPECT_EQ(h.code, 0);
  for (const char* needle : {"reward_names", "\"valid\"", "\"answers\"", "--set", "channels", "hdpo", "vpo"})
    EXPECT_NE(h.out.find(needle), std::string::npos) << needle;
}

TEST(CliAdvantage, PluginsWithoutOrWithTheWrongAbiAreRefused) {
  auto none = advantage(kRunning, std::string("--estimator grpo --plugin ") + VECRL_NO_ABI_PLUGIN);
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.out.find("missing symbol vecrl_plugin_abi_version"), std::string::npos) << none.out;
  auto wrong = advantage(kRunning, std::string("--estimator grpo --plugin ") + VECRL_WRONG_ABI_PLUGIN);
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.out.find("built for plugin ABI 999"), std::string::npos) << wrong.out;
  auto missing = advantage(kRunning, "--estimator grpo --plugin /nonexistent/libx.so");
  EXPECT_NE(missing.out.find("plugin /nonexistent/libx.so: no such file"), std::string::npos) << missing.out;
}

TEST(Cli, SigtermCheckpointsAndExitsZeroThenResumeContinues) {
  const std::string dir = ::testing::TempDir() + "/vecrl_sigterm";
  const std::string args = std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml run.output_dir=" + dir +
                           " run.name=sig model.path=" + kModel + " data.path=" + VECRL_SOURCE_DIR +
                           "/configs/data/story_prompts.jsonl rollout.max_new_tokens=8 rollout.prompts_per_step=2";
  // Started in the background, asked to stop once its first step line appears.
  const std::string script = "out=$(mktemp); " + std::string(VECRL_EXE) + " train " + args +
                             " train.steps=1000 >$out 2>&1 & pid=$!; "
                             "for i in $(seq 1 300); do grep -q \"step   1/\" $out && break; sleep 0.1; done; "
                             "kill -TERM $pid; wait $pid; echo exit=$?; cat $out";
  auto r = run_shell(script);
  EXPECT_NE(r.out.find("exit=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stopped by a signal after step"), std::string::npos) << r.out;
  const auto at = r.out.find("stopped by a signal after step ");
  ASSERT_NE(at, std::string::npos);
  const int stopped = std::atoi(r.out.c_str() + at + std::string("stopped by a signal after step ").size());
  const std::string target = std::to_string(stopped + 2);
  auto resumed = run("train " + args + " train.steps=" + target + " --resume");
  EXPECT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("step " + std::string(stopped + 2 < 10 ? "  " : stopped + 2 < 100 ? " " : "") + target +
                             "/" + target),
            std::string::npos)
      << resumed.out;
  auto nothing = run("train " + args + " train.steps=" + target + " --resume");
  EXPECT_EQ(nothing.code, 1);
  EXPECT_NE(nothing.out.find("nothing left to train"), std::string::npos) << nothing.out;
}

TEST(Cli, KillNineDuringACheckpointWriteLeavesThePreviousOneResumable) {
  const std::string dir = ::testing::TempDir() + "/vecrl_kill9_" + std::to_string(getpid());
  const std::string args = std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml run.output_dir=" + dir +
                           " run.name=k model.path=" + kModel + " data.path=" + VECRL_SOURCE_DIR +
                           "/configs/data/story_prompts.jsonl rollout.max_new_tokens=8 rollout.prompts_per_step=2 "
                           "run.threads=1 checkpoint.every=1 train.steps=4";
  // SIGKILL arrives while step 3's checkpoint has its weights and optimizer written but is not complete.
  auto killed = run_shell("VECRL_TEST_SIGKILL_DURING_CHECKPOINT=3 " + std::string(VECRL_EXE) + " train " + args +
                          " >/dev/null 2>&1; echo status=$?");
  EXPECT_NE(killed.out.find("status=137"), std::string::npos) << killed.out;  // 128 + SIGKILL
  auto listing = run_shell("ls -a " + dir + "/k/checkpoints");
  EXPECT_NE(listing.out.find("step_00000002"), std::string::npos) << listing.out;
  EXPECT_EQ(listing.out.find("\nstep_00000003"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find(".tmp_step_00000003"), std::string::npos) << listing.out;  // the half-written one
  auto resumed = run("train " + args + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("step_00000002 (step 2)"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("step   4/4"), std::string::npos) << resumed.out;
}

TEST(Cli, TokenizeAndDetokenize) {
  auto t = run("tokenize --tokenizer " + kModel + " --text 'Once upon a time'");
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_EQ(nlohmann::json::parse(t.out)["ids"].get<std::vector<int64_t>>(), (std::vector<int64_t>{403, 407, 261, 378}));
  auto s = run("tokenize --tokenizer " + kModel + "/tokenizer.model --text 'Once' --add-special");
  EXPECT_EQ(nlohmann::json::parse(s.out)["ids"].get<std::vector<int64_t>>(), (std::vector<int64_t>{1, 403, 2}));
  auto d = run("detokenize --tokenizer " + kModel + " --ids '[403, 407, 261, 378]'");
  ASSERT_EQ(d.code, 0) << d.out;
  EXPECT_EQ(nlohmann::json::parse(d.out)["text"], "Once upon a time");
  auto bad = run("detokenize --tokenizer " + kModel + " --ids '1,x'");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("'x' is not a token id"), std::string::npos) << bad.out;
}

TEST(Cli, PlotWritesPngCharts) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot-nox is not installed";
  const std::string dir = ::testing::TempDir() + "/vecrl_plot";
  auto t = run("train " + std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml run.output_dir=" + dir +
               " run.name=p model.path=" + kModel + " data.path=" + VECRL_SOURCE_DIR +
               "/configs/data/story_prompts.jsonl rollout.max_new_tokens=8 rollout.prompts_per_step=2 train.steps=3");
  ASSERT_EQ(t.code, 0) << t.out;
  auto p = run("plot " + dir + "/p " + dir + "/p --out " + dir + "/charts");
  ASSERT_EQ(p.code, 0) << p.out;
  for (const char* name : {"rewards.png", "total_reward.png", "kl.png", "entropy.png", "length.png", "tradeoff.png"}) {
    std::ifstream png(dir + "/charts/" + name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
    EXPECT_GT(bytes.size(), 2000u) << name;
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
  }
  auto missing = run("plot /nonexistent/run");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("/nonexistent/run/metrics.jsonl: cannot open"), std::string::npos) << missing.out;
}

TEST(Cli, ExportWritesAFolderThatLoadsAndGeneratesTheSame) {
  const std::string dir = ::testing::TempDir() + "/vecrl_export";
  auto t = run("train " + std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml run.output_dir=" + dir +
               " run.name=e model.path=" + kModel + " data.path=" + VECRL_SOURCE_DIR +
               "/configs/data/story_prompts.jsonl rollout.max_new_tokens=8 rollout.prompts_per_step=2 train.steps=2");
  ASSERT_EQ(t.code, 0) << t.out;
  auto e = run("export " + dir + "/e " + dir + "/hf");
  ASSERT_EQ(e.code, 0) << e.out;
  const std::string gen = " --prompt 'Tom had a' --seed 5 --max-new-tokens 12";
  auto a = run("generate --model " + dir + "/hf" + gen), b = run("generate --model " + dir + "/e/final" + gen);
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  auto bad = run("export /nonexistent " + dir + "/x");
  EXPECT_EQ(bad.code, 1);
}

TEST(Cli, ExportOfALoraRunWritesAPeftFolderOrWithMergeTheMergedModel) {
  const std::string dir = ::testing::TempDir() + "/vecrl_export_lora_" + std::to_string(getpid());
  auto t = run("train " + std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml run.output_dir=" + dir +
               " run.name=e run.threads=1 model.path=" + kModel + " data.path=" + VECRL_SOURCE_DIR +
               "/configs/data/story_prompts.jsonl model.lora.rank=4 model.lora.alpha=8 optim.lr=1e-2"
               " rollout.max_new_tokens=8 rollout.prompts_per_step=2 train.steps=2");
  ASSERT_EQ(t.code, 0) << t.out;
  auto peft = run("export " + dir + "/e " + dir + "/peft");
  ASSERT_EQ(peft.code, 0) << peft.out;
  EXPECT_NE(peft.out.find("(PEFT"), std::string::npos) << peft.out;
  const auto config = nlohmann::json::parse(std::ifstream(dir + "/peft/adapter_config.json"));
  EXPECT_EQ(config.at("peft_type"), "LORA");
  EXPECT_EQ(config.at("r"), 4);
  EXPECT_EQ(config.at("lora_alpha"), 8);
  EXPECT_EQ(config.at("base_model_name_or_path"), kModel);
  std::ifstream weights(dir + "/peft/adapter_model.safetensors", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(weights)), std::istreambuf_iterator<char>());
  EXPECT_NE(bytes.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), std::string::npos);
  EXPECT_EQ(bytes.find("embed_tokens"), std::string::npos) << "the frozen base is not part of the adapter";

  auto merged = run("export --merge " + dir + "/e " + dir + "/merged");
  ASSERT_EQ(merged.code, 0) << merged.out;
  EXPECT_NE(merged.out.find("adapters merged"), std::string::npos) << merged.out;
  const std::string gen = " --prompt 'Tom had a' --seed 5 --max-new-tokens 12";
  auto a = run("generate --model " + dir + "/merged" + gen), b = run("generate --model " + dir + "/e/final" + gen),
       base = run("generate --model " + kModel + gen);
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, base.out) << "two steps at lr 1e-2 move the adapters off B = 0";
}

TEST(CliReward, ScoresRecordsWithTheConfiguredModules) {
  const std::string config = ::testing::TempDir() + "/vecrl_reward_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(config) << "model: {path: ignored}\n"  // other run-config sections are allowed
                           "rewards:\n"
                           "  - {type: math, weight: 1}\n"
                           "  - {type: tag_format, strict: false}\n"
                           "  - {type: length, max: 8, zero_at: 16}\n"
                           "scoring: {workers: 2}\n";
  auto r = run("reward --config " + config + " --tokenizer " + kModel,
               R"({"prompt": "2+2?", "response": "<think>easy</think><answer>\\boxed{4}</answer>", "answer": "#### 4"}
{"response": "it is 5", "answer": "4", "response_tokens": 12}
)");
  ASSERT_EQ(r.code, 0) << r.out;
  std::vector<nlohmann::json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] == '{') lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["rewards"]["math/correct"], 1.0);
  EXPECT_EQ(lines[0]["rewards"]["tag_format/structure"], 1.0);
  EXPECT_EQ(lines[1]["rewards"]["math/correct"], 0.0);
  EXPECT_EQ(lines[1]["rewards"]["tag_format/structure"], 0.0);
  EXPECT_DOUBLE_EQ(lines[1]["rewards"]["length/score"].get<double>(), 0.5);  // 12 tokens: halfway from 8 to 16
  EXPECT_EQ(lines[1]["valid"]["length/score"], true);
  EXPECT_NE(r.out.find("math/correct: mean 0.5000"), std::string::npos) << r.out;
  // The summary and warnings go to stderr: stdout is JSON lines only.
  auto only_stdout = run("reward --config " + config, R"({"response": "4", "answer": "4"})", false);
  ASSERT_EQ(only_stdout.code, 0);
  std::istringstream json_lines(only_stdout.out);
  int count = 0;
  for (std::string line; std::getline(json_lines, line); ++count)
    EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << "not JSON on stdout: " << line;
  EXPECT_EQ(count, 1) << only_stdout.out;

  // Without token counts, token-based modules are not-valid (null), the others still score.
  auto no_tokens = run("reward --config " + config, R"({"response": "4", "answer": "4"})");
  ASSERT_EQ(no_tokens.code, 0) << no_tokens.out;
  EXPECT_NE(no_tokens.out.find(R"("length/score":null)"), std::string::npos) << no_tokens.out;
  EXPECT_NE(no_tokens.out.find("--tokenizer or a `response_tokens` field"), std::string::npos) << no_tokens.out;

  auto missing = run("reward --config " + config, "{\"answer\": \"4\"}\n");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("stdin:1: the record has no string field 'response'"), std::string::npos) << missing.out;
  std::ofstream(config) << "rewards:\n  - {type: math, answer_feild: x}\n";
  auto typo = run("reward --config " + config, R"({"response": "4"})");
  EXPECT_EQ(typo.code, 1);
  EXPECT_NE(typo.out.find("unknown config key 'rewards[0].answer_feild'"), std::string::npos) << typo.out;
}

TEST(CliEval, EvaluatesTheModelAndWritesAReport) {
  const std::string held = ::testing::TempDir() + "/vecrl_cli_eval_" + std::to_string(getpid()) + ".jsonl";
  std::ofstream(held) << "{\"prompt\": \"Once upon a time\"}\n{\"prompt\": \"Tom had a\"}\n";
  const std::string out = ::testing::TempDir() + "/vecrl_cli_eval_" + std::to_string(getpid()) + ".json";
  auto r = run(std::string("eval ") + VECRL_SOURCE_DIR + "/configs/quickstart.yaml model.path=" + kModel +
               " eval.path=" + held + " eval.n=2 eval.temperature=1 'eval.k=[1,2]' run.threads=1 --out " + out);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto summary = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"report\"")));
  EXPECT_EQ(summary["report"], out);
  for (const char* key : {"eval/vecrl_cli_eval_" , "pass@1", "pass@2", "mean@2"}) EXPECT_NE(r.out.find(key), std::string::npos) << key;
  auto report = nlohmann::json::parse(std::ifstream(out));
  EXPECT_EQ(report["prompts"].size(), 2u);
  EXPECT_EQ(report["prompts"][0]["completions"].size(), 2u);
  auto missing = run(std::string("eval ") + VECRL_SOURCE_DIR + "/configs/quickstart.yaml");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("config key 'eval.path' is not set"), std::string::npos) << missing.out;
}

TEST(Cli, Qwen3ShapedModelGeneratesAndTrainsWithChatPrompts) {
  const std::string dir = ::testing::TempDir() + "/vecrl_qwen3_tiny_" + std::to_string(getpid());
  auto init = run("init-model qwen3-tiny " + dir + " --seed 3 --tokenizer " + VECRL_SHARED_DATA + "/tokenizers/qwen3");
  ASSERT_EQ(init.code, 0) << init.out;

  // The model's tokenizer_config.json names ChatML: the prompt is wrapped, and the generation stops
  // at <|im_end|> as well as at the stop string.
  auto gen = run("generate --model " + dir + " --chat auto --system 'Be brief.' --prompt 'What is 2+2?' "
                 "--max-new-tokens 6 --temperature 0 --json");
  ASSERT_EQ(gen.code, 0) << gen.out;
  const auto out = nlohmann::json::parse(gen.out.substr(gen.out.find('[')))[0];
  const auto prompt_ids = out["prompt_ids"].get<std::vector<int64_t>>();
  ASSERT_GE(prompt_ids.size(), 3u);
  EXPECT_EQ(prompt_ids.front(), 151644);  // <|im_start|>, no BOS (Qwen has none)
  EXPECT_EQ(std::vector<int64_t>(prompt_ids.end() - 3, prompt_ids.end()), (std::vector<int64_t>{151644, 77091, 198}));

  const std::string runs = ::testing::TempDir() + "/vecrl_qwen3_runs_" + std::to_string(getpid());
  auto train = run(std::string("train ") + VECRL_SOURCE_DIR + "/configs/presets/gsm8k.yaml model.path=" + dir +
                   " run.output_dir=" + runs + " run.threads=1 train.steps=1 rollout.prompts_per_step=2 "
                   "rollout.group_size=2 rollout.max_new_tokens=6 train.mini_batches=1 eval.before_train=false "
                   "eval.every=0 checkpoint.every=0 'data.system_prompt=Reason, then answer.' 'data.stop=[\"Question:\"]'");
  ASSERT_EQ(train.code, 0) << train.out;
  std::ifstream samples(runs + "/gsm8k/samples.jsonl");
  std::string first;
  ASSERT_TRUE(std::getline(samples, first)) << train.out;
  // Samples show the bare question, not the chat markup around it.
  const auto sample = nlohmann::json::parse(first);
  const auto prompt = sample.dump();
  EXPECT_NE(prompt.find("Question: "), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find("im_start"), std::string::npos) << prompt;
}

TEST(CliBench, GenerateAndTrainReportFractionsOfCeilingsMeasuredInTheSameRun) {
  auto gen = run("bench generate --model qwen3-tiny --group-sizes 1,2 --prompts 1 --prompt-tokens 8 --new-tokens 3 "
                 "--vs per-sample --threads 1 --json");
  ASSERT_EQ(gen.code, 0) << gen.out;
  const auto g = nlohmann::json::parse(gen.out.substr(gen.out.find('{')));
  EXPECT_GT(g["setup"]["matmul_gflops"].get<double>(), 0);
  EXPECT_GT(g["setup"]["read_bandwidth_gbs"].get<double>(), 0);
  // Debian's LibTorch runs its CPU matmuls on OpenBLAS; which kernels it picked is part of the figure.
  const auto blas = g["setup"]["cpu_blas"].get<std::string>();
  EXPECT_EQ(blas.rfind("OpenBLAS 0.", 0), 0u) << blas;
  EXPECT_NE(blas.find(" kernels"), std::string::npos) << blas;
  ASSERT_EQ(g["results"].size(), 2u);
  for (const auto& row : g["results"]) {
    EXPECT_EQ(row["tokens"].get<int64_t>(), 3 * row["group_size"].get<int64_t>());  // no stop tokens: all generated
    EXPECT_GT(row["fraction_of_bound"].get<double>(), 0);
    EXPECT_EQ(row["baseline"]["tokens"], row["tokens"]);
    EXPECT_GT(row["speedup_vs_baseline"].get<double>(), 0);
  }
  auto train = run("bench train --model qwen3-tiny --batch 2 --prompt-tokens 4 --response-tokens 4 --steps 1 "
                   "--vs unfused --threads 1 --json");
  ASSERT_EQ(train.code, 0) << train.out;
  const auto t = nlohmann::json::parse(train.out.substr(train.out.find('{')))["results"];
  EXPECT_EQ(t["tokens_per_step"].get<int64_t>(), 16);
  EXPECT_GT(t["fraction_of_matmul_rate"].get<double>(), 0);
  EXPECT_GT(t["baseline"]["tokens_per_s"].get<double>(), 0);
  // The phases are parts of the step (zero_grad outside them).
  double phases = 0;
  for (const char* phase : {"seconds_forward", "seconds_backward", "seconds_optimizer"}) {
    EXPECT_GT(t[phase].get<double>(), 0) << phase;
    phases += t[phase].get<double>();
  }
  EXPECT_LE(phases, t["seconds_per_step"].get<double>() * (1 + 1e-9));
  EXPECT_GE(t["page_faults_per_step"].get<double>(), 0);
  for (const std::string baseline : {"system-allocator", "aten-adamw"}) {
    auto vs = run("bench train --model qwen3-tiny --batch 2 --prompt-tokens 4 --response-tokens 4 --steps 1 --vs " +
                  baseline + " --threads 1 --json");
    ASSERT_EQ(vs.code, 0) << vs.out;
    const auto a = nlohmann::json::parse(vs.out.substr(vs.out.find('{')))["results"];
    EXPECT_EQ(a["baseline"]["tokens_per_step"].get<int64_t>(), 16) << baseline;
    EXPECT_GT(a["baseline"]["seconds_optimizer"].get<double>(), 0) << baseline;
    EXPECT_GT(a["speedup_vs_baseline"].get<double>(), 0) << baseline;
  }
  auto bad_allocator = run("bench train --model qwen3-tiny --steps 1 --vs jemalloc");
  EXPECT_EQ(bad_allocator.code, 1);
  EXPECT_NE(bad_allocator.out.find("expected unfused, system-allocator or aten-adamw, got 'jemalloc'"), std::string::npos)
      << bad_allocator.out;
  auto step = run(std::string("bench step ") + VECRL_SOURCE_DIR + "/configs/quickstart.yaml model.path=" + kModel +
                  " data.path=" + VECRL_SOURCE_DIR + "/configs/data/story_prompts.jsonl run.threads=1 "
                  "rollout.prompts_per_step=2 rollout.max_new_tokens=8 --steps 1 --json");
  ASSERT_EQ(step.code, 0) << step.out;
  const auto s = nlohmann::json::parse(step.out.substr(step.out.find('{')))["results"];
  for (const char* key : {"timing_s/gen", "timing_s/reward", "timing_s/old_log_prob", "timing_s/adv",
                          "timing_s/update_actor", "timing_s/step", "perf/throughput"})
    EXPECT_TRUE(s.contains(key)) << key << " in " << s.dump();
  EXPECT_GE(s["timing_s/step"].get<double>(), s["timing_s/gen"].get<double>() + s["timing_s/update_actor"].get<double>());
  auto bad = run("bench generate --model no-such-preset");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("unknown model preset 'no-such-preset'"), std::string::npos) << bad.out;
}

TEST(Cli, SftOnConversationsWarmStartsAnRlRun) {
  const std::string base = ::testing::TempDir() + "/vecrl_sft_base_" + std::to_string(getpid());
  ASSERT_EQ(run("init-model qwen3-tiny " + base + " --tokenizer " + VECRL_SHARED_DATA + "/tokenizers/qwen3").code, 0);
  const std::string data = ::testing::TempDir() + "/vecrl_sft_chat_" + std::to_string(getpid()) + ".jsonl";
  std::ofstream(data) << R"({"prompt": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "The answer is 4."}]})" "\n"
                      << R"({"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 3+3?"}, {"role": "assistant", "content": "The answer is 6."}]})" "\n";
  const std::string runs = ::testing::TempDir() + "/vecrl_sft_cli_" + std::to_string(getpid());
  const std::string config = runs + ".yaml";
  std::ofstream(config) << "run: {name: warm, output_dir: " << runs << ", threads: 1}\n"
                        << "model: {path: " << base << "}\n"
                        << "data: {path: " << data << "}\n"
                        << "optim: {lr: 1.0e-3}\n"
                        << "train: {steps: 3, batch_size: 2}\n";
  auto sft = run("sft " + config);
  ASSERT_EQ(sft.code, 0) << sft.out;
  EXPECT_NE(sft.out.find("sft step 3/3"), std::string::npos) << sft.out;
  const std::string final_model = runs + "/warm/final";
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(std::ifstream(final_model + "/" + f).good()) << f;
  // The SFT output is an RL run's model.
  auto rl = run(std::string("train ") + VECRL_SOURCE_DIR + "/configs/presets/gsm8k.yaml model.path=" + final_model +
                " run.output_dir=" + runs + " run.threads=1 train.steps=1 rollout.prompts_per_step=2 rollout.group_size=2 "
                "rollout.max_new_tokens=4 train.mini_batches=1 eval.before_train=false eval.every=0 checkpoint.every=0");
  EXPECT_EQ(rl.code, 0) << rl.out;
  auto again = run("sft " + config + " --resume");  // all 3 steps are done
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.out.find("nothing left to train"), std::string::npos) << again.out;
}
