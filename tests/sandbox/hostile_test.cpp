// The box against the escapes a hostile program tried (issue 24): inherited descriptors, system
// calls past the socket filter, memory spread over many processes, abandoned boxes, top-level files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sandbox/sandbox.h"

using namespace vecrl;
using sandbox::run_sandboxed;
using sandbox::SandboxLimits;

namespace {

sandbox::SandboxResult run_python(const std::string& source, const SandboxLimits& limits = {},
                                  const std::atomic<bool>* cancel = nullptr) {
  return run_sandboxed({"/usr/bin/python3", "-I", "main.py"}, {{"main.py", source}}, limits, cancel);
}

SandboxLimits process_mode() {
  SandboxLimits limits;
  limits.isolation = sandbox::SandboxIsolation::kProcess;
  return limits;
}

// Each call prints "<name> <errno>", 0 when the call succeeded.
const char* kForbiddenCalls = R"PY(
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
params = ctypes.create_string_buffer(120)
calls = {
    'io_uring_setup': (425, 8, ctypes.addressof(params)),
    'unshare_user': (272, 0x10000000),
    'unshare_net': (272, 0x40000000),
    'clone_newuser': (56, 0x10000000 | 17, 0, 0, 0, 0),
    'setns': (308, os.open('/proc/self/ns/uts', os.O_RDONLY), 0),
    'bpf': (321, 0, 0, 0),
    'perf_event_open': (298, 0, 0, -1, -1, 0),
    'keyctl': (250, 0, -3, 0),
    'add_key': (248, ctypes.c_char_p(b'user'), ctypes.c_char_p(b'k'), ctypes.c_char_p(b'v'), 1, -3),
    'userfaultfd': (323, 0),
    'ptrace_traceme': (101, 0, 0, 0, 0),
}
for name, args in calls.items():
    ctypes.set_errno(0)
    result = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result == 0 and name == 'clone_newuser':
        os._exit(0)
    print(name, 0 if result >= 0 else ctypes.get_errno(), flush=True)
)PY";

void expect_every_call_refused(const sandbox::SandboxResult& r) {
  ASSERT_TRUE(r.ok()) << r.describe() << r.stderr_text;
  std::istringstream lines(r.stdout_text);
  int count = 0;
  for (std::string name; lines >> name; ++count) {
    int error = -1;
    lines >> error;
    EXPECT_NE(error, 0) << name << " succeeded in the " << r.isolation << " box";
  }
  EXPECT_EQ(count, 11) << r.stdout_text;
}

}  // namespace

TEST(SandboxHostile, InheritedDescriptorsAreClosedBeforeTheProgramRuns) {
  // A descriptor the caller opened without O_CLOEXEC (as std::ofstream opens metrics.jsonl).
  const auto path = std::filesystem::temp_directory_path() / ("vecrl-inherited-" + std::to_string(getpid()));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 3);
  const std::string forge =
      "import os\nopen_fds = []\nfor fd in range(3, 1024):\n    try:\n"
      "        os.write(fd, b'{\"critic/score/mean\": 999}\\n'); open_fds.append(fd)\n"
      "    except OSError:\n        pass\nprint(open_fds)\n";
  for (const auto& limits : {SandboxLimits{}, process_mode()}) {
    auto r = run_python(forge, limits);
    EXPECT_EQ(r.stdout_text, "[]\n") << r.isolation << ": " << r.describe() << r.stderr_text;
  }
  ::close(fd);
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  std::filesystem::remove(path);
}

TEST(SandboxHostile, IoUringNamespacesAndKernelInterfacesAreRefused) {
  expect_every_call_refused(run_python(kForbiddenCalls));
  expect_every_call_refused(run_python(kForbiddenCalls, process_mode()));
}

TEST(SandboxHostile, ThreadsForkAndSubprocessStillWork) {
  // clone3 answers ENOSYS, so libc falls back to clone for threads, fork and posix_spawn.
  auto r = run_python(
      "import os, subprocess, threading\n"
      "box = []\nt = threading.Thread(target=lambda: box.append(1)); t.start(); t.join()\n"
      "pid = os.fork()\nif pid == 0: os._exit(7)\n"
      "print(box, os.waitpid(pid, 0)[1] >> 8, subprocess.run(['/bin/echo', 'ok'], capture_output=True).stdout)\n");
  EXPECT_EQ(r.stdout_text, "[1] 7 b'ok\\n'\n") << r.describe() << r.stderr_text;
}

TEST(SandboxHostile, MemoryIsLimitedForTheWholeBoxNotEachProcess) {
  // 6 children of 150 MB each, all alive at once: within 400 MB per process, 900 MB for the box.
  const std::string spread =
      "import os, time\npids = []\nfor _ in range(6):\n    pid = os.fork()\n    if pid == 0:\n"
      "        block = b'x' * (150 << 20)\n        time.sleep(2)\n        os._exit(0)\n    pids.append(pid)\n"
      "print(sum(1 for p in pids if os.waitpid(p, 0)[1] == 0), flush=True)\n";
  SandboxLimits roomy;
  roomy.memory_mb = 2048;
  roomy.wall_s = 20;
  EXPECT_EQ(run_python(spread, roomy).stdout_text, "6\n");  // the program itself works
  for (auto accounting : {sandbox::SandboxAccounting::kAuto, sandbox::SandboxAccounting::kCount}) {
    SandboxLimits limits = roomy;
    limits.memory_mb = 400;
    limits.accounting = accounting;
    auto r = run_python(spread, limits);
    EXPECT_TRUE(r.memory_exceeded) << r.accounting << ": " << r.describe() << " printed '" << r.stdout_text << "'";
    EXPECT_NE(r.stdout_text, "6\n") << r.accounting;
  }
}

TEST(SandboxHostile, CancellingKillsTheBoxAndRemovesItsFolder) {
  // The box stages its files under TMPDIR: a folder of this test's own (ctest runs each test in its
  // own process).
  const auto staging_root = std::filesystem::temp_directory_path() / ("vecrl-cancel-" + std::to_string(getpid()));
  std::filesystem::create_directories(staging_root);
  setenv("TMPDIR", staging_root.c_str(), 1);
  std::atomic<bool> cancel{false};
  SandboxLimits limits;
  limits.wall_s = 60;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = run_python("import time\ntime.sleep(40)\nprint('finished')", limits, &cancel);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  canceller.join();
  EXPECT_TRUE(r.cancelled) << r.describe();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.stdout_text, "");
  EXPECT_LT(seconds, 5.0);
  EXPECT_TRUE(std::filesystem::is_empty(staging_root));
  unsetenv("TMPDIR");
  std::filesystem::remove_all(staging_root);
}

TEST(SandboxHostile, TopLevelFilesAreHiddenLikeFolders) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a file at the top level and to build namespaces";
  const std::string secret_path = "/vecrl-top-level-secret-" + std::to_string(getpid());
  std::ofstream(secret_path) << "top secret";
  auto r = run_python("import os\nprint(open('" + secret_path + "').read() + '|', '" + secret_path.substr(1) +
                      "' in os.listdir('/'))\ntry:\n    open('" + secret_path + "', 'w').write('x')\n"
                      "    print('written')\nexcept OSError:\n    print('read-only')\n");
  std::ifstream reread(secret_path);
  const std::string after((std::istreambuf_iterator<char>(reread)), {});
  std::filesystem::remove(secret_path);
  EXPECT_EQ(r.isolation, "namespaces");
  EXPECT_EQ(r.stdout_text, "| True\nread-only\n") << r.describe() << r.stderr_text;
  EXPECT_EQ(after, "top secret");
}
