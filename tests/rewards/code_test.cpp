// The code reward: its harness programs and the reference solutions of HumanEval and MBPP.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "tests/test_paths.h"
#include "core/jsonl.h"
#include "rewards/reward_set.h"
#include "rewards/verifiable/code_program.h"
#include "sandbox/sandbox.h"
#include "tests/rewards/reward_fixture.h"

using namespace vecrl;
using namespace vecrl::testing;

namespace {

sandbox::SandboxResult run_program(const rewards::code::TestProgram& program) {
  return sandbox::run_sandboxed({"/usr/bin/python3", "-I", rewards::code::TestProgram::kMain}, program.files(), {});
}


}  // namespace

TEST(CodeProgram, ForgedResultLinesDoNotCount) {
  // The solution prints result lines with the run's marker: they go to stderr, never to the
  // harness's stdout, and only the tests decide.
  const std::vector<std::string> asserts{"assert f(1) == 1", "assert f(2) == 3", "assert f(3) == 3"};
  const auto program = rewards::code::assert_list_program(
      "print('m 1 PASS')\nprint('other 1 PASS')\ndef f(x): return x", asserts, "", "m");
  auto r = run_program(program);
  ASSERT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(rewards::code::read_results(r.stdout_text, program), (std::vector<bool>{true, false, true}));
  const auto forged_fail = rewards::code::assert_list_program("print('m 1 FAIL')\ndef f(x): return 3", asserts, "", "m");
  auto f = run_program(forged_fail);  // f(2) == 3 and f(3) == 3 pass, whatever the solution prints
  EXPECT_EQ(rewards::code::read_results(f.stdout_text, forged_fail), (std::vector<bool>{false, true, true}));
}

TEST(CodeProgram, HarnessHacksForgeNothing) {
  const std::vector<std::string> asserts{"assert f(1) == 1", "assert False", "assert f(2) == 2"};
  const std::vector<bool> none(3, false);
  auto results = [&](const std::string& solution) {
    const auto program = rewards::code::assert_list_program(solution, asserts, "", "__vecrl_result_42__");
    return rewards::code::read_results(run_program(program).stdout_text, program);
  };
  EXPECT_EQ(results("def f(x): return x"), (std::vector<bool>{true, false, true}));  // the honest control
  // Rebinding the harness's exec, in the module and in builtins.
  EXPECT_EQ(results("def exec(*a, **k): pass\ndef f(x): return 0"), none);
  EXPECT_EQ(results("import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.compile = lambda *a, **k: None\n"
                    "def f(x): return 0"),
            none);
  // Reading the program's files for the marker, printing result lines for every index, writing to
  // every descriptor and to the harness's through /proc, then leaving with status 0.
  EXPECT_EQ(results("import os, re, sys\n"
                    "text = ''\n"
                    "for name in os.listdir('.'):\n"
                    "    try: text += open(name).read()\n"
                    "    except Exception: pass\n"
                    "markers = set(re.findall(r'__vecrl_result_\\d+__', text)) | {'__vecrl_result_42__'}\n"
                    "lines = ''.join('\\n%s %d PASS\\n' % (m, i) for m in markers for i in range(3)).encode()\n"
                    "for fd in range(0, 64):\n"
                    "    try: os.write(fd, lines)\n"
                    "    except OSError: pass\n"
                    "for fd in range(0, 64):\n"
                    "    try: open('/proc/%d/fd/%d' % (os.getppid(), fd), 'wb').write(lines)\n"
                    "    except OSError: pass\n"
                    "sys.stdout.write(lines.decode()); sys.stdout.flush()\n"
                    "os._exit(0)\n"),
            none);
}

TEST(CodeProgram, VerpoWorkedExample) {
  // algorithms.md §9.5: pass rows [1,1,0], [1,0,0], [1,1,1], [0,0,0] -> r = [0.5, 0.1667, 2.0, 0].
  const auto r = rewards::code::verpo_rewards({{true, true, false}, {true, false, false}, {true, true, true},
                                               {false, false, false}});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_NEAR(r[0], 0.5, 1e-4);
  EXPECT_NEAR(r[1], 0.1667, 1e-4);
  EXPECT_NEAR(r[2], 2.0, 1e-4);
  EXPECT_NEAR(r[3], 0.0, 1e-4);
  EXPECT_EQ(rewards::code::extract_code("text\n```python\nx = 1\n```\nmore"), "x = 1\n");
}

TEST(CodeReward, AllHumanEvalCanonicalSolutionsPass) {
  auto records = core::read_records(vecrl::test::shared_data("datasets/humaneval/HumanEval.jsonl.gz")).records;
  ASSERT_EQ(records.size(), 164u);
  std::vector<std::string> responses;
  for (const auto& r : records) responses.push_back(r["canonical_solution"]);
  rewards::RewardSet set(specs("rewards: [{type: code}]"), {8, {}});
  auto m = set.score(rollouts(responses, {}, records));
  EXPECT_TRUE(m.valid.all().item<bool>());
  std::vector<std::string> failing;
  auto passed = column(m, 0);
  for (std::size_t i = 0; i < passed.size(); ++i)
    if (passed[i] != 1.0f) failing.push_back(records[i]["task_id"]);
  EXPECT_TRUE(failing.empty()) << failing.size() << " failed, first " << failing[0];
  // A wrong solution fails.
  records[0]["canonical_solution"] = "    return False\n";
  auto wrong = set.score(rollouts({"    return True\n"}, {}, {records[0]}));
  EXPECT_EQ(column(wrong, 0), (std::vector<float>{0}));
}

TEST(CodeReward, AllMbppReferenceSolutionsPassWithTheirSetupCode) {
  auto records = core::read_records(vecrl::test::shared_data("datasets/mbpp/mbpp.jsonl")).records;
  ASSERT_EQ(records.size(), 974u);
  std::vector<std::string> responses;
  for (const auto& r : records) responses.push_back(r["code"]);
  // 974 programs take ~18 s on 2 idle cores. A program may take 60 s (task 123 sums amicable numbers
  // for seconds, longer on a loaded machine); the batch deadline only has to catch a hang.
  rewards::RewardSet set(specs("rewards: [{type: code, timeout_s: 60, deadline_s: 300}]"), {8, {}});
  auto m = set.score(rollouts(responses, {}, records));
  EXPECT_TRUE(m.valid.all().item<bool>());
  std::vector<int64_t> failing;
  auto passed = column(m, 0);
  for (std::size_t i = 0; i < passed.size(); ++i)
    if (passed[i] != 1.0f) failing.push_back(records[i]["task_id"].get<int64_t>());
  EXPECT_EQ(failing, std::vector<int64_t>{});

  // The commonly quoted 972/974 comes from skipping `test_setup_code`: tasks 367 and 927 assert on
  // trees built there. Without the setup the same two fail (only tasks with setup code are rerun).
  std::vector<nlohmann::json> with_setup;
  std::vector<std::string> their_code;
  for (const auto& r : records)
    if (!r.value("test_setup_code", "").empty()) with_setup.push_back(r), their_code.push_back(r["code"]);
  rewards::RewardSet no_setup(specs("rewards: [{type: code, setup_field: ''}]"), {8, {}});
  auto skipped = no_setup.score(rollouts(their_code, {}, with_setup));
  failing.clear();
  auto skipped_passed = column(skipped, 0);
  for (std::size_t i = 0; i < skipped_passed.size(); ++i)
    if (skipped_passed[i] != 1.0f) failing.push_back(with_setup[i]["task_id"].get<int64_t>());
  EXPECT_EQ(failing, (std::vector<int64_t>{367, 927}));
}

TEST(CodeReward, TimeoutIsPerProgramAndTheBatchDeadlineIsItsOwnKey) {
  // Seven programs of ~0.5 s each, one worker: 3.5 s for the batch, each far under its 3 s limit
  // (the slack absorbs a loaded machine: ctest runs the MBPP suite's eight workers beside this).
  // When the module's timeout_s was also the batch deadline, the whole batch was abandoned after
  // timeout_s and every reward came back not-valid.
  const std::string slow = "import time\ndef f():\n    time.sleep(0.5)\n    return 1\n";
  const nlohmann::json record = {{"test_list", {"assert f() == 1"}}};
  rewards::RewardSet set(specs("rewards: [{type: code, timeout_s: 3}]"), {1, {}});
  auto m = set.score(rollouts(std::vector<std::string>(7, slow), {}, std::vector<nlohmann::json>(7, record)));
  EXPECT_TRUE(m.valid.select(2, 0).all().item<bool>());
  EXPECT_EQ(column(m, 0), std::vector<float>(7, 1.0f));
  EXPECT_EQ(set.failures(), 0);
  // A batch deadline shorter than one program's limit could never be met: an error naming the key.
  try {
    rewards::RewardSet bad(specs("rewards: [{type: code, deadline_s: 5}]"));
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("deadline_s"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("timeout_s = 10"), std::string::npos) << e.what();
  }
}

TEST(CodeReward, AnAbandonedBatchKillsAndCleansItsBoxes) {
  // One worker, four programs of 2.5 s each (each within its 3 s limit): the batch needs 10 s and is
  // abandoned at its 3.5 s deadline, while the second program runs. That box is killed and its folder
  // removed before score() returns, and the last two never start.
  const auto staging_root = std::filesystem::temp_directory_path() / ("vecrl-abandoned-" + std::to_string(getpid()));
  std::filesystem::create_directories(staging_root);
  setenv("TMPDIR", staging_root.c_str(), 1);  // where the boxes stage their files (one test per process)
  const std::string slow = "import time\ndef f():\n    time.sleep(2.5)\n    return 1\n";
  const nlohmann::json record = {{"test_list", {"assert f() == 1"}}};
  rewards::RewardSet set(specs("rewards: [{type: code, timeout_s: 3, deadline_s: 3.5}]"), {1, {}});
  const auto start = std::chrono::steady_clock::now();
  auto m = set.score(rollouts({slow, slow, slow, slow}, {}, {record, record, record, record}));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(m.valid.any().item<bool>());  // the module's dimensions are not-valid for the batch
  EXPECT_LT(seconds, 5.5);
  EXPECT_TRUE(std::filesystem::is_empty(staging_root));
  unsetenv("TMPDIR");
  std::filesystem::remove_all(staging_root);
}
