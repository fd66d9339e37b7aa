#pragma once
// Where this process sits in a (possibly) multi-process job, read from the launcher's environment.
#include <cstdint>
#include <functional>
#include <string>

namespace vecrl::distributed {

struct ProcessInfo {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  int64_t local_world_size = 1;  // processes on this machine (LOCAL_WORLD_SIZE, SLURM_NTASKS_PER_NODE)
  std::string launcher = "none";  // "none", "torchrun" or "slurm"

  bool is_main() const { return rank == 0; }
};

// Reads torchrun's RANK/WORLD_SIZE/LOCAL_RANK or Slurm's SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID;
// a single process when neither is set. `getenv` is injectable for tests. Throws naming the
// variable for a missing, non-numeric or inconsistent value.
ProcessInfo process_info_from_env(const std::function<const char*(const char*)>& getenv);
ProcessInfo process_info_from_env();

}  // namespace vecrl::distributed
