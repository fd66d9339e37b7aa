// The code-execution sandbox against escape attempts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/parallel.h"
#include "sandbox/sandbox.h"

using namespace vecrl;
using sandbox::run_sandboxed;
using sandbox::SandboxLimits;

namespace {

sandbox::SandboxResult python(const std::string& source, SandboxLimits limits = {}) {
  return run_sandboxed({"/usr/bin/python3", "-I", "main.py"}, {{"main.py", source}}, limits);
}

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

TEST(Sandbox, ConcurrentBoxesDoNotHoldEachOthersPipes) {
  SandboxLimits limits;
  limits.wall_s = 5.0;
  std::vector<sandbox::SandboxResult> results(16);
  core::parallel_for(16, 8, [&](int64_t i) { results[i] = python("print(" + std::to_string(i) + ")", limits); });
  for (int i = 0; i < 16; ++i) {
    EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].describe();
    EXPECT_EQ(results[i].stdout_text, std::to_string(i) + "\n");
    EXPECT_LT(results[i].wall_s, 2.0) << i;
  }
}

TEST(Sandbox, ProcessIsolationStillLimitsAndBlocksTheNetwork) {
  SandboxLimits limits;
  limits.isolation = sandbox::SandboxIsolation::kProcess;
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
