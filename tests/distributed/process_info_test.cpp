#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/process_info.h"

using vecrl::distributed::process_info_from_env;

namespace {

auto env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST(ProcessInfo, SingleProcessWithoutALauncher) {
  auto info = process_info_from_env(env({}));
  EXPECT_EQ(info.world_size, 1);
  EXPECT_TRUE(info.is_main());
  EXPECT_EQ(info.launcher, "none");
}

TEST(ProcessInfo, ReadsTorchrunAndSlurm) {
  auto t = process_info_from_env(env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"}}));
  EXPECT_EQ(t.rank, 3);
  EXPECT_EQ(t.local_rank, 1);
  EXPECT_EQ(t.local_world_size, 2);
  EXPECT_EQ(process_info_from_env(env({{"RANK", "0"}, {"WORLD_SIZE", "4"}})).local_world_size, 4);
  EXPECT_EQ(t.launcher, "torchrun");
  auto s = process_info_from_env(env({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "8"}, {"SLURM_NTASKS_PER_NODE", "4(x2)"}}));
  EXPECT_EQ(s.rank, 1);
  EXPECT_EQ(s.local_world_size, 4);
  EXPECT_EQ(s.launcher, "slurm");
}

TEST(ProcessInfo, BadVariablesAreNamed) {
  auto message = [](std::map<std::string, std::string> vars) {
    try {
      process_info_from_env(env(std::move(vars)));
    } catch (const vecrl::core::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({{"RANK", "0"}}).find("WORLD_SIZE is not set"), std::string::npos);
  EXPECT_NE(message({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK must be a non-negative integer, found 'x'"),
            std::string::npos);
  EXPECT_NE(message({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("rank 2 is not below the world size 2"),
            std::string::npos);
}

TEST(Rendezvous, FirstSlurmHost) {
  using vecrl::distributed::first_slurm_host;
  EXPECT_EQ(first_slurm_host("node01"), "node01");
  EXPECT_EQ(first_slurm_host("node[03-04,07]"), "node03");
  EXPECT_EQ(first_slurm_host("gpu-[003-004],cpu1"), "gpu-003");
  EXPECT_EQ(first_slurm_host("a1,b2"), "a1");
  EXPECT_THROW(first_slurm_host(""), vecrl::core::Error);
}
