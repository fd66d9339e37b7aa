#pragma once
// Runs an untrusted program (code written by the policy) in a box:
//  - its own PID, mount, network and IPC namespaces: no network at all, and when the program's
//    first process ends every process it started dies with it (no escape by setsid or daemonising);
//  - an unprivileged uid (so RLIMIT_NPROC applies and root-owned files stay closed), no new
//    privileges, a seccomp filter (syscall_filter.h) refusing non-Unix sockets, io_uring, new
//    namespaces, bpf, perf events, keys, userfaultfd and ptrace as a second line;
//  - no descriptor of the caller's but stdin/stdout/stderr (the run's metrics files stay closed);
//  - a private size-limited tmpfs as its working directory; every top-level folder of the root
//    except the system ones in `visible_paths` (/usr, /etc, /dev, ...) is replaced by an empty
//    read-only mount, wherever the host keeps its data (an allow-list: a checkout under /check or
//    /scratch is as hidden as /home), every top-level file (/.dockerenv, ...) behind an empty one,
//    and so are the nested `hidden_paths`; the root is read-only;
//  - CPU-time, address-space, file-size and process-count limits per process, and for the whole box
//    a cgroup (v2 or v1: memory.max = memory_mb + disk_mb, pids.max = processes) where the host
//    lets us create one, else the box's resident memory counted every 50 ms (box_cgroup.h);
//  - a wall-clock timeout, a cancel flag (an abandoned batch kills its boxes), and stdout/stderr
//    capped (a program printing more is killed). The staging folder is removed in every case.
// Namespaces need root (CAP_SYS_ADMIN). Without them (`isolation: auto` falls back with a warning,
// `process` asks for it) the program runs in its own process group with the same limits and
// seccomp network filter under an unprivileged uid when root, but without file-system isolation.
// `isolation: namespaces` refuses to run rather than fall back.
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vecrl::sandbox {

enum class SandboxIsolation { kAuto, kNamespaces, kProcess };
// How the box's total memory and process count are held: a cgroup when one can be made (auto), or
// by counting the box's resident memory (count: also the fallback of auto).
enum class SandboxAccounting { kAuto, kCount };

struct SandboxLimits {
  SandboxIsolation isolation = SandboxIsolation::kAuto;
  SandboxAccounting accounting = SandboxAccounting::kAuto;
  double wall_s = 10.0;
  int64_t cpu_s = 10;
  int64_t memory_mb = 1024;   // address space of each process, and resident memory of the whole box
  int64_t disk_mb = 64;       // the working directory's tmpfs
  int64_t file_size_mb = 16;  // largest single file
  int64_t processes = 32;     // processes and threads of the box's uid
  int64_t output_bytes = 1 << 20;  // per stream
  // Top-level folders the program may read; every other one is hidden.
  std::vector<std::string> visible_paths{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/dev",
                                         "/proc"};
  std::vector<std::string> hidden_paths{"/dev/shm", "/dev/mqueue"};  // hidden inside the visible ones

  // The config keys of the limits, shared by every component that runs sandboxed programs.
  template <class V>
  void visit(V& v) {
    v.choice("isolation", isolation,
             {{"auto", SandboxIsolation::kAuto}, {"namespaces", SandboxIsolation::kNamespaces},
              {"process", SandboxIsolation::kProcess}});
    v.choice("accounting", accounting, {{"auto", SandboxAccounting::kAuto}, {"count", SandboxAccounting::kCount}});
    v.field("timeout_s", wall_s);
    v.field("cpu_s", cpu_s);
    v.field("memory_mb", memory_mb);
    v.field("disk_mb", disk_mb);
    v.field("processes", processes);
    v.field("output_bytes", output_bytes);
    v.require(wall_s > 0 && cpu_s > 0 && memory_mb > 0 && disk_mb > 0 && processes > 0 && output_bytes > 0,
              "timeout_s", "the sandbox limits (timeout_s, cpu_s, memory_mb, disk_mb, processes, output_bytes) must be > 0");
  }
};

struct SandboxResult {
  int exit_code = -1;     // when the program exited normally
  int signal = 0;         // the signal that ended it (SIGKILL after a timeout, SIGXCPU, ...)
  bool timed_out = false;
  bool output_overflow = false;
  bool memory_exceeded = false;  // the box went over memory_mb (a process OOM-killed, or the box killed)
  bool cancelled = false;        // killed because the caller's cancel flag was set
  double wall_s = 0.0;
  std::string isolation;  // "namespaces" or "process"
  std::string accounting;  // "cgroup v2", "cgroup v1" or "count"
  std::string stdout_text, stderr_text;

  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out && !output_overflow && !memory_exceeded && !cancelled; }
  std::string describe() const;  // "exit 1", "killed by signal 9 after the 10 s timeout", ...
};

// Runs argv[0] (an absolute path) with `files` (name -> contents) in its working directory. When
// `cancel` becomes true the box is killed within ~50 ms and the call returns with `cancelled`.
SandboxResult run_sandboxed(const std::vector<std::string>& argv, const std::map<std::string, std::string>& files,
                            const SandboxLimits& limits, const std::atomic<bool>* cancel = nullptr);

}  // namespace vecrl::sandbox
