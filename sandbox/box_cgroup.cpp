#include "sandbox/box_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vecrl::sandbox {
namespace {

namespace fs = std::filesystem;
constexpr const char* kRoot = "/sys/fs/cgroup";

bool write_file(const std::string& path, const std::string& value) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  close(fd);
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Our cgroup in the hierarchy that has `controller` ("" for the v2 line "0::/path").
std::string own_cgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const bool match = controller.empty() ? controllers.empty() && line.rfind("0:", 0) == 0
                                          : ("," + controllers + ",").find("," + controller + ",") != std::string::npos;
    if (match) return line.substr(second + 1);
  }
  return "";
}

std::string unique_leaf() {
  static std::atomic<uint64_t> counter{0};
  return "vecrl-box-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

bool delegates_memory_and_pids(const std::string& dir) {
  auto has = [&] {
    const std::string control = " " + read_file(dir + "/cgroup.subtree_control") + " ";
    return control.find(" memory") != std::string::npos && control.find(" pids") != std::string::npos;
  };
  return has() || (write_file(dir + "/cgroup.subtree_control", "+memory +pids") && has());
}

void remove_dir(const std::string& dir) {
  for (int attempt = 0; attempt < 100 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++attempt)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

int64_t count_in(const std::string& text, const std::string& key) {
  const auto at = text.find(key + " ");
  return at == std::string::npos ? 0 : std::atoll(text.c_str() + at + key.size() + 1);
}

}  // namespace

std::unique_ptr<BoxCgroup> BoxCgroup::create(int64_t memory_bytes, int64_t max_processes) {
  std::unique_ptr<BoxCgroup> box(new BoxCgroup);
  auto open_join = [&](const std::string& dir) {
    const int fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) box->join_fds_.push_back(fd);
    return fd >= 0;
  };
  // v2: our own cgroup when it delegates the controllers (it cannot while it holds processes
  // itself), else the root's.
  if (fs::exists(std::string(kRoot) + "/cgroup.controllers")) {
    for (const std::string& parent : {std::string(kRoot) + own_cgroup(""), std::string(kRoot)}) {
      if (!delegates_memory_and_pids(parent)) continue;
      const std::string dir = parent + "/" + unique_leaf();
      if (mkdir(dir.c_str(), 0755) != 0) continue;
      box->dirs_ = {dir};
      write_file(dir + "/memory.swap.max", "0");
      if (write_file(dir + "/memory.max", std::to_string(memory_bytes)) &&
          write_file(dir + "/pids.max", std::to_string(max_processes)) && open_join(dir)) {
        box->name_ = "cgroup v2";
        return box;
      }
      return nullptr;  // the destructor removes the folder
    }
  }
  // v1: a folder in each of the memory and pids hierarchies.
  for (const char* controller : {"memory", "pids"}) {
    const std::string mount = std::string(kRoot) + "/" + controller, own = own_cgroup(controller);
    if (own.empty() || !fs::exists(mount + "/cgroup.procs")) return nullptr;
    const std::string dir = mount + (own == "/" ? "" : own) + "/" + unique_leaf();
    if (mkdir(dir.c_str(), 0755) != 0) return nullptr;
    box->dirs_.push_back(dir);
    const bool limited = controller == std::string("memory")
                             ? write_file(dir + "/memory.limit_in_bytes", std::to_string(memory_bytes))
                             : write_file(dir + "/pids.max", std::to_string(max_processes));
    if (!limited || !open_join(dir)) return nullptr;
  }
  write_file(box->dirs_[0] + "/memory.memsw.limit_in_bytes", std::to_string(memory_bytes));  // absent without swap accounting
  box->name_ = "cgroup v1";
  return box;
}

BoxCgroup::~BoxCgroup() {
  for (const int fd : join_fds_) close(fd);
  kill_all();
  for (const auto& dir : dirs_) remove_dir(dir);
}

bool BoxCgroup::oom_killed() const {
  if (dirs_.empty()) return false;
  const std::string events = read_file(dirs_[0] + (name_ == "cgroup v2" ? "/memory.events" : "/memory.oom_control"));
  return count_in(events, "oom_kill") > 0;
}

void BoxCgroup::kill_all() const {
  if (dirs_.empty()) return;
  if (name_ == "cgroup v2" && write_file(dirs_[0] + "/cgroup.kill", "1")) return;
  for (int round = 0; round < 50; ++round) {
    bool any = false;
    for (const auto& dir : dirs_) {
      std::istringstream pids(read_file(dir + "/cgroup.procs"));
      for (pid_t pid; pids >> pid;) any = kill(pid, SIGKILL) == 0 || any;
    }
    if (!any) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int64_t resident_bytes(uid_t uid, pid_t pgid) {
  static const int64_t page = sysconf(_SC_PAGESIZE);
  int64_t total = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (const dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const std::string dir = std::string("/proc/") + entry->d_name;
    if (uid > 0) {
      struct stat st {};
      if (stat(dir.c_str(), &st) != 0 || st.st_uid != uid) continue;
    } else {
      // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
      const std::string stat_line = read_file(dir + "/stat");
      const auto close_paren = stat_line.rfind(')');
      if (close_paren == std::string::npos) continue;
      std::istringstream fields(stat_line.substr(close_paren + 2));
      std::string state;
      pid_t ppid = 0, group = 0;
      if (!(fields >> state >> ppid >> group) || group != pgid) continue;
    }
    std::istringstream statm(read_file(dir + "/statm"));
    int64_t size = 0, resident = 0;
    if (statm >> size >> resident) total += resident * page;
  }
  closedir(proc);
  return total;
}

}  // namespace vecrl::sandbox
