#include "distributed/process_info.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace vecrl::distributed {
namespace {

int64_t read_int(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* raw = getenv(name);
  VECRL_CHECK(raw != nullptr && *raw != '\0', "environment variable ", name, " is not set");
  std::size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(raw, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  VECRL_CHECK(used == std::string(raw).size() && value >= 0, "environment variable ", name,
              " must be a non-negative integer, found '", raw, "'");
  return value;
}

}  // namespace

ProcessInfo process_info_from_env(const std::function<const char*(const char*)>& getenv) {
  ProcessInfo info;
  if (getenv("WORLD_SIZE") != nullptr || getenv("RANK") != nullptr) {
    info.launcher = "torchrun";
    info.rank = read_int(getenv, "RANK");
    info.world_size = read_int(getenv, "WORLD_SIZE");
    info.local_rank = getenv("LOCAL_RANK") != nullptr ? read_int(getenv, "LOCAL_RANK") : 0;
    // Without LOCAL_WORLD_SIZE (a hand-made launch), assume all ranks share this machine.
    info.local_world_size = getenv("LOCAL_WORLD_SIZE") != nullptr ? read_int(getenv, "LOCAL_WORLD_SIZE") : info.world_size;
  } else if (getenv("SLURM_PROCID") != nullptr && getenv("SLURM_NTASKS") != nullptr) {
    info.launcher = "slurm";
    info.rank = read_int(getenv, "SLURM_PROCID");
    info.world_size = read_int(getenv, "SLURM_NTASKS");
    info.local_rank = getenv("SLURM_LOCALID") != nullptr ? read_int(getenv, "SLURM_LOCALID") : 0;
    const char* per_node = getenv("SLURM_NTASKS_PER_NODE");  // e.g. "4" or "4(x2)"
    const auto n = per_node != nullptr ? std::atoll(per_node) : 0;
    info.local_world_size = n > 0 ? n : 1;
  }
  VECRL_CHECK(info.world_size >= 1, info.launcher, ": world size must be >= 1, got ", info.world_size);
  VECRL_CHECK(info.rank < info.world_size, info.launcher, ": rank ", info.rank, " is not below the world size ",
              info.world_size);
  return info;
}

ProcessInfo process_info_from_env() {
  return process_info_from_env([](const char* name) { return std::getenv(name); });
}

}  // namespace vecrl::distributed
