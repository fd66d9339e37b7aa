#pragma once
// Limits on a whole box rather than each of its processes (RLIMIT_AS and RLIMIT_NPROC alone let 8
// children of 900 MB each take 7 GB): a cgroup per box with memory.max and pids.max, v2 where the
// host delegates the memory and pids controllers to us (our own cgroup or the root one), else v1's
// memory and pids hierarchies. Making one needs write access to cgroupfs (root, or a delegated
// subtree); without it the caller counts the box's resident memory instead (resident_bytes).
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vecrl::sandbox {

class BoxCgroup {
 public:
  // nullptr when no cgroup can be made here.
  static std::unique_ptr<BoxCgroup> create(int64_t memory_bytes, int64_t max_processes);
  ~BoxCgroup();  // kills what is left in it and removes it
  BoxCgroup(const BoxCgroup&) = delete;
  BoxCgroup& operator=(const BoxCgroup&) = delete;

  // cgroup.procs of each hierarchy, open for writing (close-on-exec): a child joins by writing "0".
  const std::vector<int>& join_fds() const { return join_fds_; }
  const std::string& name() const { return name_; }  // "cgroup v2" or "cgroup v1"
  bool oom_killed() const;  // the kernel killed a process of the box for its memory
  void kill_all() const;

 private:
  BoxCgroup() = default;
  std::vector<std::string> dirs_;  // one per hierarchy; dirs_[0] holds the memory controller
  std::vector<int> join_fds_;
  std::string name_;
};

// Resident memory of the processes owned by `uid` (uid > 0) or else in process group `pgid`, from
// /proc. The fallback accounting: a box over its memory is killed by the caller.
int64_t resident_bytes(uid_t uid, pid_t pgid);

}  // namespace vecrl::sandbox
