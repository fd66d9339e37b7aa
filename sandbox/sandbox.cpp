#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include <mutex>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "sandbox/box_cgroup.h"
#include "sandbox/syscall_filter.h"

namespace vecrl::sandbox {
namespace {

constexpr const char* kWorkDir = "/tmp/box";

// Everything the child needs, prepared by the parent: after clone() the child may only make
// system calls (another thread of the parent may hold the allocator's lock).
struct ChildPlan {
  std::vector<std::string> argv_storage, env_storage, hidden, hidden_files, file_names, file_targets;
  std::vector<char*> argv, env;
  std::vector<sock_filter> syscall_filter;
  std::vector<int> cgroup_join_fds;
  std::string work_mount_options, empty_file;
  const SandboxLimits* limits = nullptr;
  int staging_fd = -1, stdout_fd = -1, stderr_fd = -1, report_fd = -1;
  uid_t uid = 0;
};

// The child runs on the stack clone() was given, which AddressSanitizer does not know; in a
// sanitizer build its noreturn bookkeeping would write a warning into the program's stderr. The
// child only makes system calls, so its functions are left uninstrumented.
#define VECRL_CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

// A setup step that failed in the child, sent back through the report pipe.
struct ChildFailure {
  int step;
  int error;
};

const char* step_name(int step) {
  static const char* names[] = {"redirect output",  "make mounts private", "mount the hidden folders",
                                "mount the working tmpfs", "copy the program files", "mount /proc",
                                "set limits", "drop privileges", "install the seccomp filter",
                                "exec the program", "join the box's cgroup", "hide the top-level files",
                                "close the inherited descriptors"};
  return step >= 0 && step < static_cast<int>(sizeof(names) / sizeof(names[0])) ? names[step] : "?";
}

[[noreturn]] VECRL_CHILD_CODE void child_fail(const ChildPlan& plan, int step) {
  ChildFailure failure{step, errno};
  if (write(plan.report_fd, &failure, sizeof(failure)) < 0) {
  }
  _exit(126);
}

VECRL_CHILD_CODE bool copy_file(int from, int to) {
  static char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(from, buffer, sizeof(buffer));
    if (n == 0) return true;
    if (n < 0) return false;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = write(to, buffer + done, n - done);
      if (w <= 0) return false;
      done += w;
    }
  }
}

// Into the box's cgroup (so every process it starts is counted), stdin from /dev/null,
// stdout/stderr into the parent's pipes.
VECRL_CHILD_CODE void join_cgroup_and_redirect_stdio(const ChildPlan& plan) {
  for (const int fd : plan.cgroup_join_fds)
    if (write(fd, "0", 1) != 1) child_fail(plan, 10);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(plan.stdout_fd, 1) < 0 || dup2(plan.stderr_fd, 2) < 0)
    child_fail(plan, 0);
}

// Every descriptor but 0-2 and the report pipe (close-on-exec): whatever the caller had open
// without O_CLOEXEC (a run's metrics.jsonl, its event file) must not reach the program.
VECRL_CHILD_CODE void close_inherited_descriptors(const ChildPlan& plan) {
  const unsigned report = static_cast<unsigned>(plan.report_fd);
  if (report > 3 && syscall(SYS_close_range, 3u, report - 1, 0u) != 0) child_fail(plan, 12);
  if (syscall(SYS_close_range, std::max(3u, report + 1), ~0u, 0u) != 0) child_fail(plan, 12);
}

// Resource limits, the box's uid (when allowed to switch), no new privileges and the socket
// filter, then the program. Never returns.
[[noreturn]] VECRL_CHILD_CODE void limit_and_exec(const ChildPlan& plan, bool switch_uid) {
  const SandboxLimits& limits = *plan.limits;
  auto limit = [&](int resource, rlim_t value) {
    rlimit r{value, value};
    if (setrlimit(resource, &r) != 0) child_fail(plan, 6);
  };
  limit(RLIMIT_CPU, static_cast<rlim_t>(limits.cpu_s));
  limit(RLIMIT_AS, static_cast<rlim_t>(limits.memory_mb) << 20);
  limit(RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_size_mb) << 20);
  limit(RLIMIT_NPROC, static_cast<rlim_t>(limits.processes));
  limit(RLIMIT_CORE, 0);
  close_inherited_descriptors(plan);
  limit(RLIMIT_NOFILE, 256);
  // Raw system calls: glibc's wrappers would try to change the credentials of every thread it
  // believes exists (the parent's worker threads, copied into its bookkeeping by clone) and wait
  // for them forever.
  if (switch_uid && (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, plan.uid, plan.uid, plan.uid) != 0 ||
                     syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0))
    child_fail(plan, 7);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || install_syscall_filter(plan.syscall_filter) != 0)
    child_fail(plan, 8);
  execve(plan.argv[0], plan.argv.data(), plan.env.data());
  child_fail(plan, 9);
}

// The top-level entries outside the allow-list (never following a link: a link's target is itself
// a top-level entry or lies under a visible one): folders, then the nested extras, always /tmp; and
// files (/.dockerenv, a host's notes), each hidden behind an empty one.
struct HiddenEntries {
  std::vector<std::string> folders{"/tmp"}, files;
};

HiddenEntries entries_to_hide(const SandboxLimits& limits) {
  HiddenEntries hidden;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/", error)) {
    const std::string path = entry.path().string();
    std::error_code status_error;
    if (entry.is_symlink(status_error) || path == "/tmp") continue;
    if (std::find(limits.visible_paths.begin(), limits.visible_paths.end(), path) != limits.visible_paths.end()) continue;
    (entry.is_directory(status_error) ? hidden.folders : hidden.files).push_back(path);
  }
  VECRL_CHECK(!error, "sandbox: cannot list the root folder: ", error.message());
  for (const auto& path : limits.hidden_paths)
    if (std::find(hidden.folders.begin(), hidden.folders.end(), path) == hidden.folders.end()) hidden.folders.push_back(path);
  return hidden;
}

// Each top-level file behind a read-only bind of an empty file (before /tmp, where that file is, is
// hidden).
VECRL_CHILD_CODE void hide_top_level_files(const ChildPlan& plan) {
  for (const auto& path : plan.hidden_files) {
    if (mount(plan.empty_file.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      if (errno == ENOENT) continue;  // removed since it was listed
      child_fail(plan, 11);
    }
    if (mount(nullptr, path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0)
      child_fail(plan, 11);
  }
}

VECRL_CHILD_CODE int child_main(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  join_cgroup_and_redirect_stdio(plan);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(plan, 1);
  hide_top_level_files(plan);
  // Hide the listed folders behind empty read-only tmpfs mounts; /tmp gets the working directory.
  for (const auto& path : plan.hidden) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    const bool is_tmp = path == "/tmp";
    if (mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | (is_tmp ? 0 : MS_RDONLY),
              "size=16k,mode=755") != 0)
      child_fail(plan, 2);
  }
  if (mkdir(kWorkDir, 0700) != 0 ||
      mount("tmpfs", kWorkDir, "tmpfs", MS_NOSUID | MS_NODEV, plan.work_mount_options.c_str()) != 0)
    child_fail(plan, 3);
  for (std::size_t i = 0; i < plan.file_names.size(); ++i) {
    const int from = openat(plan.staging_fd, plan.file_names[i].c_str(), O_RDONLY | O_CLOEXEC);
    const int to = open(plan.file_targets[i].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (from < 0 || to < 0 || !copy_file(from, to) || fchown(to, plan.uid, plan.uid) != 0) child_fail(plan, 4);
    close(from);
    close(to);
  }
  if (mount(nullptr, "/tmp", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=755") != 0)
    child_fail(plan, 2);
  // A /proc of the new PID namespace: the program sees only its own processes.
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) child_fail(plan, 5);
  // The root read-only as well (defence in depth: the program's uid owns nothing there anyway).
  mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
  if (chdir(kWorkDir) != 0) child_fail(plan, 3);
  limit_and_exec(plan, /*switch_uid=*/true);
}

// The weaker box for hosts without namespaces (not root): its own process group, the staging folder
// as working directory, the same limits and seccomp filter (so still no network), and an
// unprivileged uid when started as root. It cannot hide the file system or catch a process that
// leaves the group with setsid().
VECRL_CHILD_CODE int process_child_main(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  join_cgroup_and_redirect_stdio(plan);
  if (setpgid(0, 0) != 0 || fchdir(plan.staging_fd) != 0) child_fail(plan, 3);
  limit_and_exec(plan, /*switch_uid=*/geteuid() == 0);
}

// A distinct unprivileged uid per concurrent box, so RLIMIT_NPROC counts one box's processes.
uid_t next_box_uid() {
  static std::atomic<uint32_t> counter{0};
  return static_cast<uid_t>(420000 + counter++ % 4096);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { VECRL_CHECK(pipe2(fds, O_CLOEXEC) == 0, "sandbox: pipe2 failed: ", std::strerror(errno)); }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (fds[0] >= 0) close(fds[0]);
    fds[0] = -1;
  }
  void close_write() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
};

// The box's accounting: its cgroup, or the resident memory of its processes counted by the parent.
struct Accounting {
  std::unique_ptr<BoxCgroup> cgroup;
  uid_t count_uid = 0;  // count the processes of this uid (a box uid), else those of the box's group
};

Accounting make_accounting(const SandboxLimits& limits) {
  Accounting accounting;
  if (limits.accounting == SandboxAccounting::kAuto)
    accounting.cgroup = BoxCgroup::create((limits.memory_mb + limits.disk_mb) << 20, limits.processes);
  return accounting;
}

// Everything the child needs, with the files staged where it can open them before /tmp is hidden.
void plan_child(ChildPlan& plan, const std::vector<std::string>& argv, const std::map<std::string, std::string>& files,
                const SandboxLimits& limits, const std::filesystem::path& staging) {
  plan.limits = &limits;
  plan.uid = next_box_uid();
  auto hidden = entries_to_hide(limits);
  plan.hidden = std::move(hidden.folders);
  plan.hidden_files = std::move(hidden.files);
  plan.syscall_filter = box_syscall_filter();
  for (const auto& [name, contents] : files) {
    VECRL_CHECK(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..",
                "sandbox: file names must be plain names, got '", name, "'");
    std::ofstream(staging / name, std::ios::binary) << contents;
    plan.file_names.push_back(name);
    plan.file_targets.push_back(std::string(kWorkDir) + "/" + name);
  }
  plan.work_mount_options = "size=" + std::to_string(limits.disk_mb) + "m,mode=700,uid=" + std::to_string(plan.uid) +
                            ",gid=" + std::to_string(plan.uid);
  plan.argv_storage = argv;
  plan.env_storage = {"PATH=/usr/local/bin:/usr/bin:/bin", std::string("HOME=") + kWorkDir, "LANG=C.UTF-8",
                      "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0", std::string("TMPDIR=") + kWorkDir};
  for (auto& s : plan.argv_storage) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  for (auto& s : plan.env_storage) plan.env.push_back(s.data());
  plan.env.push_back(nullptr);
}

// clone()s the box: namespaces unless `process` is asked for or (auto) they cannot be made.
pid_t start_box(ChildPlan& plan, const SandboxLimits& limits, const std::filesystem::path& staging, char* stack_top,
                SandboxResult& result) {
  int clone_errno = 0;
  if (limits.isolation != SandboxIsolation::kProcess) {
    plan.empty_file = (staging / ".vecrl-empty").string();
    std::ofstream(plan.empty_file).flush();
    const pid_t pid = clone(child_main, stack_top,
                            CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, &plan);
    clone_errno = errno;
    VECRL_CHECK(pid > 0 || limits.isolation == SandboxIsolation::kAuto,
                "sandbox: cannot create the namespaces for the box (clone: ", std::strerror(clone_errno),
                "); they need root (CAP_SYS_ADMIN). Use isolation: auto or process to run with process limits only");
    if (pid > 0) {
      result.isolation = "namespaces";
      return pid;  // the child binds .vecrl-empty over the top-level files; it goes with the staging folder
    }
    std::filesystem::remove(plan.empty_file);
  }
  static std::once_flag warned;
  std::call_once(warned, [&] {
    spdlog::warn("sandbox: {}; running programs with process limits and a network filter only (no file-system "
                 "isolation)",
                 limits.isolation == SandboxIsolation::kProcess
                     ? "isolation: process"
                     : std::string("no namespaces (clone: ") + std::strerror(clone_errno) + ")");
  });
  if (geteuid() == 0) {
    chown(staging.c_str(), plan.uid, plan.uid);
    for (const auto& name : plan.file_names) chown((staging / name).c_str(), plan.uid, plan.uid);
  }
  const pid_t pid = clone(process_child_main, stack_top, SIGCHLD, &plan);
  VECRL_CHECK(pid > 0, "sandbox: cannot start the program: ", std::strerror(errno));
  result.isolation = "process";
  return pid;
}

// Reads both pipes until the program has exited and they are drained (when the box's first process
// ends the kernel kills the rest, so the pipes reach end-of-file right after), killing the box at
// the timeout, the output cap, the memory cap (when counted here) or the cancel flag.
int collect_output(pid_t pid, int out_fd, int err_fd, const SandboxLimits& limits, const std::atomic<bool>* cancel,
                   const Accounting& accounting, const std::function<void()>& kill_box, SandboxResult& result) {
  const auto start = std::chrono::steady_clock::now();
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  int fds[2] = {out_fd, err_fd};
  int status = 0;
  bool exited = false, killed = false;
  auto last_count = start;
  char buffer[1 << 16];
  auto stop = [&](bool& reason) {
    reason = true;
    if (!killed) kill_box();
    killed = true;
  };
  while (!exited || fds[0] >= 0 || fds[1] >= 0) {
    const double remaining = limits.wall_s - seconds_since(start);
    if (remaining <= 0 && !killed) stop(result.timed_out);
    if (cancel != nullptr && cancel->load() && !killed) stop(result.cancelled);
    if (!accounting.cgroup && !killed && !exited && seconds_since(last_count) >= 0.05) {
      last_count = std::chrono::steady_clock::now();
      if (resident_bytes(accounting.count_uid, pid) > (limits.memory_mb << 20)) stop(result.memory_exceeded);
    }
    pollfd polls[2];
    int count = 0;
    for (int s = 0; s < 2; ++s)
      if (fds[s] >= 0) polls[count++] = {fds[s], POLLIN, 0};
    const int wait_ms = static_cast<int>(std::clamp(remaining * 1000.0, 1.0, 50.0));
    if (count > 0 && poll(polls, count, wait_ms) > 0) {
      for (int p = 0; p < count; ++p) {
        if (!(polls[p].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int s = polls[p].fd == fds[0] ? 0 : 1;
        const ssize_t n = read(fds[s], buffer, sizeof(buffer));
        if (n <= 0) {
          fds[s] = -1;
          continue;
        }
        const auto room = static_cast<std::size_t>(limits.output_bytes) - std::min<std::size_t>(sinks[s]->size(), limits.output_bytes);
        sinks[s]->append(buffer, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
        if (static_cast<std::size_t>(n) > room && !killed) stop(result.output_overflow);
      }
    } else if (count == 0) {
      usleep(static_cast<useconds_t>(wait_ms) * 1000);
    }
    if (!exited) exited = waitpid(pid, &status, WNOHANG) == pid;
  }
  result.wall_s = seconds_since(start);
  return status;
}

}  // namespace

std::string SandboxResult::describe() const {
  if (cancelled) return "killed because its batch was abandoned";
  if (timed_out) return "killed after the wall-clock timeout (" + std::to_string(wall_s) + " s)";
  if (output_overflow) return "killed for writing more output than allowed";
  if (memory_exceeded) return "killed for using more memory than memory_mb (" + accounting + ")";
  if (signal != 0) return std::string("killed by signal ") + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit " + std::to_string(exit_code);
}

SandboxResult run_sandboxed(const std::vector<std::string>& argv, const std::map<std::string, std::string>& files,
                            const SandboxLimits& limits, const std::atomic<bool>* cancel) {
  VECRL_CHECK(!argv.empty() && !argv[0].empty() && argv[0][0] == '/', "sandbox: the program must be an absolute path, got '",
              argv.empty() ? std::string() : argv[0], "'");
  VECRL_CHECK(limits.wall_s > 0 && limits.cpu_s > 0 && limits.memory_mb > 0 && limits.disk_mb > 0 &&
                  limits.processes > 0 && limits.output_bytes > 0,
              "sandbox: every limit must be positive");
  namespace fs = std::filesystem;
  std::string staging_template = (fs::temp_directory_path() / "vecrl-sandbox-XXXXXX").string();
  VECRL_CHECK(mkdtemp(staging_template.data()) != nullptr, "sandbox: cannot create a staging folder: ",
              std::strerror(errno));
  struct Cleanup {
    fs::path path;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } cleanup{staging_template};
  const fs::path& staging = cleanup.path;

  ChildPlan plan;
  plan_child(plan, argv, files, limits, staging);
  Accounting accounting = make_accounting(limits);  // destroyed (its processes killed) before the staging folder
  if (accounting.cgroup) plan.cgroup_join_fds = accounting.cgroup->join_fds();
  Pipe out, err, report;
  plan.stdout_fd = out.fds[1];
  plan.stderr_fd = err.fds[1];
  plan.report_fd = report.fds[1];
  plan.staging_fd = open(staging.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  VECRL_CHECK(plan.staging_fd >= 0, "sandbox: cannot open ", staging, ": ", std::strerror(errno));
  const std::size_t stack_size = 1 << 20;
  std::unique_ptr<char[]> stack(new char[stack_size]);
  SandboxResult result;
  const pid_t pid = start_box(plan, limits, staging, stack.get() + stack_size, result);
  const bool process_group = result.isolation == "process";
  accounting.count_uid = process_group && geteuid() != 0 ? 0 : plan.uid;
  result.accounting = accounting.cgroup ? accounting.cgroup->name() : "count";
  // Namespaces: the box's PID 1 takes every process with it. Process mode: its process group and,
  // with a cgroup, whatever left the group.
  const auto kill_box = [&] {
    kill(process_group ? -pid : pid, SIGKILL);
    if (accounting.cgroup) accounting.cgroup->kill_all();
  };
  close(plan.staging_fd);
  out.close_write();
  err.close_write();
  report.close_write();
  const int status = collect_output(pid, out.fds[0], err.fds[0], limits, cancel, accounting, kill_box, result);
  if (process_group) kill(-pid, SIGKILL);  // stragglers of the group
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (accounting.cgroup && accounting.cgroup->oom_killed()) result.memory_exceeded = true;

  ChildFailure failure{};
  if (read(report.fds[0], &failure, sizeof(failure)) == static_cast<ssize_t>(sizeof(failure)))
    VECRL_CHECK(false, "sandbox: could not ", step_name(failure.step), " for ", argv[0], ": ",
                std::strerror(failure.error));
  return result;
}

}  // namespace vecrl::sandbox
