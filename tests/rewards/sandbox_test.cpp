// The code-execution sandbox against escape attempts, and the code reward on HumanEval and MBPP.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/jsonl.h"
#include "rewards/reward_set.h"
#include "rewards/sandbox/sandbox.h"
#include "rewards/verifiable/code_program.h"
#include "tests/rewards/reward_fixture.h"

using namespace vecrl;
using namespace vecrl::testing;
using rewards::run_sandboxed;
using rewards::SandboxLimits;

namespace {

rewards::SandboxResult python(const std::string& source, SandboxLimits limits = {}) {
  return run_sandboxed({"/usr/bin/python3", "-I", "main.py"}, {{"main.py", source}}, limits);
}

std::string data(const std::string& rel) { return std::string(VECRL_SHARED_DATA) + "/" + rel; }

}  // namespace

TEST(Sandbox, RunsAProgramAndReportsItsOutput) {
  auto r = python("import sys\nprint('hello', open('main.py').read()[:6])\nsys.stderr.write('err')\nsys.exit(3)");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.stdout_text, "hello import\n");
  EXPECT_EQ(r.stderr_text, "err");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(python("print(1)").ok());
}

TEST(Sandbox, InfiniteLoopIsKilledAtTheTimeout) {
  SandboxLimits limits;
  limits.wall_s = 1.0;
  auto r = python("while True: pass", limits);
  EXPECT_TRUE(r.timed_out || r.signal == SIGXCPU) << r.describe();
  EXPECT_LT(r.wall_s, 3.0);
}

TEST(Sandbox, ForkBombIsContainedAndDiesWithTheBox) {
  SandboxLimits limits;
  limits.wall_s = 3.0;
  limits.processes = 16;
  auto r = python(
      "import os, time\n"
      "n = 0\n"
      "for _ in range(200):\n"
      "    try:\n"
      "        if os.fork() == 0:\n"
      "            os.setsid(); time.sleep(60); os._exit(0)\n"
      "        n += 1\n"
      "    except OSError:\n"
      "        break\n"
      "print(n, flush=True)\n",
      limits);
  ASSERT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_LT(std::stoi(r.stdout_text), 16);  // fork refused at the process limit
  // The children called setsid() and sleep on, but they were in the box's PID namespace: none is left.
  auto ps = python("import os\nprint(sum(1 for p in os.listdir('/proc') if p.isdigit()))");
  EXPECT_EQ(ps.stdout_text, "1\n");  // a fresh box sees only itself
}

TEST(Sandbox, HugeAllocationFailsInsideTheBox) {
  auto r = python("try:\n    x = bytearray(10 * 1024**3)\n    print('allocated')\nexcept MemoryError:\n    print('refused')");
  EXPECT_EQ(r.stdout_text, "refused\n") << r.describe();
}

TEST(Sandbox, CannotReadOrWriteOutsideItsDirectory) {
  // A secret in a folder of the test's own (the repository folder and /tmp are both hidden).
  const auto secret_dir = std::filesystem::temp_directory_path() / "vecrl-sandbox-secret";
  std::filesystem::create_directories(secret_dir);
  std::ofstream(secret_dir / "secret.txt") << "s3cret";
  const std::string repo_file = std::string(VECRL_SOURCE_DIR) + "/README.md";
  auto r = python(
      "import os\n"
      "def attempt(f):\n"
      "    try:\n"
      "        f(); return 'ok'\n"
      "    except Exception as e:\n"
      "        return type(e).__name__\n"
      "print(attempt(lambda: open('" + (secret_dir / "secret.txt").string() + "').read()))\n"
      "print(attempt(lambda: open('" + repo_file + "').read()))\n"
      "print(attempt(lambda: open('/etc/shadow').read()))\n"
      "print(attempt(lambda: open('/etc/vecrl_escape', 'w').write('x')))\n"
      "print(attempt(lambda: open('/tmp/vecrl_escape', 'w').write('x')))\n"
      "print(attempt(lambda: open('/usr/vecrl_escape', 'w').write('x')))\n"
      "print(attempt(lambda: open('inside.txt', 'w').write('x')))\n");
  EXPECT_EQ(r.stdout_text,
            "FileNotFoundError\nFileNotFoundError\nPermissionError\nOSError\nOSError\nOSError\nok\n")
      << r.stderr_text;
  // An allow-list, not a block-list: whatever the host keeps at the top level (a CI checkout under
  // /check, /scratch, /data) is empty inside the box.
  auto listing = python(
      "import os\n"
      "system = {'usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc', 'dev', 'proc', 'tmp'}\n"
      "print(sorted(d for d in os.listdir('/') if d not in system and os.path.isdir('/' + d)\n"
      "             and not os.path.islink('/' + d) and os.listdir('/' + d)))\n");
  EXPECT_EQ(listing.stdout_text, "[]\n") << listing.stderr_text;
  EXPECT_FALSE(std::filesystem::exists("/etc/vecrl_escape"));
  EXPECT_FALSE(std::filesystem::exists("/usr/vecrl_escape"));
  std::filesystem::remove_all(secret_dir);
}

TEST(Sandbox, FillingTheDiskStopsAtItsQuota) {
  SandboxLimits limits;
  limits.disk_mb = 8;
  limits.file_size_mb = 64;
  auto r = python(
      "try:\n"
      "    with open('big', 'wb') as f:\n"
      "        for _ in range(64): f.write(b'x' * (1 << 20))\n"
      "    print('wrote')\n"
      "except OSError as e:\n"
      "    print('refused', e.errno)\n",
      limits);
  EXPECT_EQ(r.stdout_text, "refused 28\n") << r.describe() << r.stderr_text;  // ENOSPC
}

TEST(Sandbox, NoNetwork) {
  auto r = python(
      "import socket\n"
      "for fam in (socket.AF_INET, socket.AF_INET6):\n"
      "    try:\n"
      "        s = socket.socket(fam, socket.SOCK_STREAM)\n"
      "        s.settimeout(1); s.connect(('127.0.0.1', 80) if fam == socket.AF_INET else ('::1', 80))\n"
      "        print('connected')\n"
      "    except OSError as e:\n"
      "        print('refused')\n");
  EXPECT_EQ(r.stdout_text, "refused\nrefused\n") << r.stderr_text;
}

TEST(Sandbox, FloodingOutputIsCappedAndKilled) {
  SandboxLimits limits;
  limits.output_bytes = 1 << 16;
  auto r = python("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024): sys.stdout.write(chunk)", limits);
  EXPECT_TRUE(r.output_overflow);
  EXPECT_EQ(r.stdout_text.size(), static_cast<std::size_t>(1 << 16));
  EXPECT_LT(r.wall_s, 5.0);  // killed at the cap, not after printing 1 GB
}

TEST(CodeProgram, ForgedResultLinesDoNotCount) {
  // The solution prints result lines of its own: with another marker they are ignored, and with the
  // right one (which the module draws at random per run) the repeated index counts as failed.
  const std::vector<std::string> asserts{"assert f(1) == 1", "assert f(2) == 3", "assert f(3) == 3"};
  const auto program = rewards::code::assert_list_program(
      "print('m 1 PASS')\nprint('other 1 PASS')\ndef f(x): return x", asserts, "", "m");
  auto r = python(program.source);
  ASSERT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  EXPECT_EQ(rewards::code::read_results(r.stdout_text, program), (std::vector<bool>{true, false, true}));
  const auto forged_pass = rewards::code::assert_list_program("print('m 1 PASS')\ndef f(x): return 3", asserts, "", "m");
  auto f = python(forged_pass.source);
  EXPECT_EQ(rewards::code::read_results(f.stdout_text, forged_pass), (std::vector<bool>{false, false, true}));
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
  auto records = core::read_records(data("datasets/humaneval/HumanEval.jsonl.gz")).records;
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
  auto records = core::read_records(data("datasets/mbpp/mbpp.jsonl")).records;
  ASSERT_EQ(records.size(), 974u);
  std::vector<std::string> responses;
  for (const auto& r : records) responses.push_back(r["code"]);
  // 974 programs take ~18 s on 2 idle cores; the module timeout only has to catch a hang.
  rewards::RewardSet set(specs("rewards: [{type: code, timeout_s: 300}]"), {8, {}});
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

TEST(Sandbox, ConcurrentBoxesDoNotHoldEachOthersPipes) {
  SandboxLimits limits;
  limits.wall_s = 5.0;
  std::vector<rewards::SandboxResult> results(16);
  rewards::parallel_for(16, 8, [&](int64_t i) { results[i] = python("print(" + std::to_string(i) + ")", limits); });
  for (int i = 0; i < 16; ++i) {
    EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].describe();
    EXPECT_EQ(results[i].stdout_text, std::to_string(i) + "\n");
    EXPECT_LT(results[i].wall_s, 2.0) << i;
  }
}

TEST(Sandbox, ProcessIsolationStillLimitsAndBlocksTheNetwork) {
  SandboxLimits limits;
  limits.isolation = rewards::SandboxIsolation::kProcess;
  limits.wall_s = 1.0;
  auto ok = python("print(open('main.py').read()[:5])", limits);
  EXPECT_EQ(ok.isolation, "process");
  EXPECT_EQ(ok.stdout_text, "print\n") << ok.describe() << ok.stderr_text;
  auto net = python("import socket\ntry:\n    socket.socket(socket.AF_INET)\n    print('open')\nexcept OSError:\n    print('refused')",
                    limits);
  EXPECT_EQ(net.stdout_text, "refused\n");
  auto loop = python("while True: pass", limits);
  EXPECT_TRUE(loop.timed_out || loop.signal == SIGXCPU) << loop.describe();
  auto memory = python("try:\n    x = bytearray(10 * 1024**3)\nexcept MemoryError:\n    print('refused')", limits);
  EXPECT_EQ(memory.stdout_text, "refused\n");
  EXPECT_EQ(python("print(1)").isolation, "namespaces");  // this host allows namespaces
}
