// Data parallel on CPU (Gloo): world-size independence, torchrun, and failures. Each test runs
// real `vecrl train` processes on loopback.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "core/safetensors.h"
#include "tests/free_port.h"

namespace {

struct Proc {
  FILE* pipe;
  std::string out;
  int code = -1;
};

Proc start(const std::string& env, const std::string& args) {
  const std::string cmd = env + " " + VECRL_EXE + " train " + std::string(VECRL_SOURCE_DIR) +
                          "/configs/quickstart.yaml " + args + " 2>&1";
  return {popen(cmd.c_str(), "r"), "", -1};
}

void finish(Proc& p) {
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof(buf), p.pipe)) p.out.append(buf, n);
  const int status = pclose(p.pipe);
  p.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string common_args(const std::string& name, const std::string& extra = "") {
  return "run.output_dir=" + ::testing::TempDir() + "/vecrl_dp run.name=" + name +
         " model.path=" + VECRL_SHARED_DATA + "/models/stories260K data.path=" + VECRL_SOURCE_DIR +
         "/configs/data/story_prompts.jsonl run.threads=1 train.steps=3 rollout.prompts_per_step=4 "
         "rollout.group_size=4 rollout.max_new_tokens=12 train.mini_batches=2 train.micro_batch_size=3 "
         // Adam divides by sqrt(v) + eps: with eps 1e-8, gradient entries at float-rounding level
         // (~1e-9, which differ with any change of summation order) become full-size updates. A
         // larger eps keeps the comparison about world-size effects, not rounding.
         "optim.eps=1e-6 " + extra;
}

std::string run_dir(const std::string& name) { return ::testing::TempDir() + "/vecrl_dp/" + name; }

std::string env_for(int rank, int world, int port) {
  return "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " WORLD_SIZE=" + std::to_string(world) +
         " RANK=" + std::to_string(rank) + " LOCAL_RANK=" + std::to_string(rank);
}

// Runs `world` ranks (1 = no launcher variables) and returns rank 0's process.
Proc run_ranks(int world, const std::string& args, const std::string& extra_env = "") {
  if (world == 1) {
    auto p = start(extra_env, args);
    finish(p);
    return p;
  }
  const int port = vecrl::tests::free_port();
  std::vector<Proc> procs;
  for (int r = 0; r < world; ++r) procs.push_back(start(extra_env + " " + env_for(r, world, port), args));
  for (auto& p : procs) finish(p);
  return procs[0];
}

std::vector<nlohmann::json> metrics(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

void expect_same_run(const std::string& a, const std::string& b) {
  auto pa = vecrl::core::read_safetensors(run_dir(a) + "/final/model.safetensors");
  auto pb = vecrl::core::read_safetensors(run_dir(b) + "/final/model.safetensors");
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& [name, t] : pa) {
    const double diff = (t - pb.at(name)).abs().max().item<double>();
    EXPECT_LT(diff, 1e-5) << name;
  }
  auto ma = metrics(run_dir(a)), mb = metrics(run_dir(b));
  ASSERT_EQ(ma.size(), 3u);
  ASSERT_EQ(ma.size(), mb.size());
  for (std::size_t s = 0; s < ma.size(); ++s)
    for (const auto& [key, value] : ma[s].items()) {
      if (key.rfind("timing_s/", 0) == 0 || key.rfind("perf/", 0) == 0 || !value.is_number()) continue;
      ASSERT_TRUE(mb[s].contains(key)) << key;
      EXPECT_NEAR(value.get<double>(), mb[s][key].get<double>(), 1e-5 * (1 + std::abs(value.get<double>())))
          << key << " at step " << s + 1;
    }
}

// Runs `name` on `world` ranks with `extra` arguments; a failure if rank 0 does not exit 0.
void run_ok(int world, const std::string& name, const std::string& extra = "") {
  auto p = run_ranks(world, common_args(name, extra));
  ASSERT_EQ(p.code, 0) << p.out;
}

}  // namespace

TEST(DataParallel, TwoRanksEqualOneRankForGrpo) {
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "grpo_1"));
  ASSERT_NO_FATAL_FAILURE(run_ok(2, "grpo_2"));
  expect_same_run("grpo_1", "grpo_2");
  // Gradient buckets went out during the backward pass, not after it.
  for (const auto& m : metrics(run_dir("grpo_2"))) EXPECT_EQ(m.value("perf/grad_buckets_overlapped_frac", -1.0), 1.0);
}

TEST(DataParallel, TwoRanksEqualOneRankWithLora) {
  // Only the adapters are broadcast, reduced and stepped; the merged final models agree.
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "lora_1", "model.lora.rank=4"));
  ASSERT_NO_FATAL_FAILURE(run_ok(2, "lora_2", "model.lora.rank=4"));
  expect_same_run("lora_1", "lora_2");
}

TEST(DataParallel, SameRunWithoutOverlapAndWithActivationCheckpointing) {
  // The all-reduce after the backward pass, and the overlapped one whose hooks fire inside the
  // recomputing backward of checkpointed layers, with 0.25 MiB buckets (stories260K's 1 MB of
  // gradients in four or more), both equal one rank.
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "variants_1"));
  ASSERT_NO_FATAL_FAILURE(run_ok(2, "variants_after", "distributed.overlap_grad_reduce=false"));
  expect_same_run("variants_1", "variants_after");
  ASSERT_NO_FATAL_FAILURE(run_ok(2, "variants_ckpt", "model.activation_checkpointing=true distributed.bucket_mb=0.25"));
  expect_same_run("variants_1", "variants_ckpt");
  for (const auto& m : metrics(run_dir("variants_ckpt"))) {
    EXPECT_GT(m.value("perf/grad_buckets_overlapped_frac", -1.0), 0.0);
  }
}

TEST(DataParallel, OneProcessWithANamedBackendRunsAProcessGroupOfOne) {
  // The path a single-GPU NCCL check takes, here with Gloo: every collective goes through c10d.
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "single_plain"));
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "single_gloo", "distributed.backend=gloo"));
  expect_same_run("single_plain", "single_gloo");
  auto nccl = run_ranks(1, common_args("single_nccl", "distributed.backend=nccl"));
  if (nccl.code == 0) return;  // a CUDA build on a GPU machine
  EXPECT_NE(nccl.out.find("this build has no NCCL"), std::string::npos) << nccl.out;
}

TEST(DataParallel, TwoRanksEqualOneRankForGdpoWhoseStatisticsCrossRanks) {
  const std::string gdpo = "'advantage={type: gdpo}'";
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "gdpo_1", gdpo));
  ASSERT_NO_FATAL_FAILURE(run_ok(2, "gdpo_2", gdpo));
  expect_same_run("gdpo_1", "gdpo_2");
}

TEST(DataParallel, TwoRanksEqualOneRankForVpoWhoseDrawsArePerGroup) {
  // Each group draws its Dirichlet weights from its own key (its prompt's sampling seed): the groups
  // of rank 1 draw what they drew in the one-rank run, not a copy of rank 0's draws.
  const std::string vpo = "'advantage={type: vpo, num_weights: 3, seed: 5}'";
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "vpo_1", vpo));
  ASSERT_NO_FATAL_FAILURE(run_ok(2, "vpo_2", vpo));
  expect_same_run("vpo_1", "vpo_2");
}

TEST(DataParallel, LaunchedByTorchrun) {
  if (std::system("command -v torchrun >/dev/null 2>&1") != 0) GTEST_SKIP() << "torchrun (python3-torch) is not installed";
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "torchrun_1"));
  // Debian 12's torchrun (PyTorch 1.13) spells its flags with underscores, and under Python 3.11 it
  // cannot parse its own default for --redirects/--tee ("0"), so they are given explicitly.
  const std::string cmd = "torchrun --redirects 1 --tee 1 --no_python --nproc_per_node=2 --master_port=" +
                          std::to_string(vecrl::tests::free_port()) + " " + VECRL_EXE + " train " + VECRL_SOURCE_DIR +
                          "/configs/quickstart.yaml " + common_args("torchrun_2") + " 2>&1";
  Proc p{popen(cmd.c_str(), "r"), "", -1};
  finish(p);
  ASSERT_EQ(p.code, 0) << p.out;
  expect_same_run("torchrun_1", "torchrun_2");
}

TEST(DataParallel, LaunchedWithSlurmVariables) {
  // What `srun` gives each task (scripts/slurm/train.sbatch): ranks from SLURM_*, the master from
  // the first host of SLURM_JOB_NODELIST, no MASTER_ADDR.
  ASSERT_NO_FATAL_FAILURE(run_ok(1, "slurm_1"));
  const int port = vecrl::tests::free_port();
  std::vector<Proc> tasks;
  for (int r = 0; r < 2; ++r)
    tasks.push_back(start("env -u RANK -u WORLD_SIZE -u LOCAL_RANK -u MASTER_ADDR SLURM_PROCID=" + std::to_string(r) +
                              " SLURM_NTASKS=2 SLURM_LOCALID=" + std::to_string(r) +
                              " SLURM_NTASKS_PER_NODE=2 SLURM_JOB_NODELIST='localhost' MASTER_PORT=" + std::to_string(port),
                          common_args("slurm_2")));
  for (auto& t : tasks) finish(t);
  ASSERT_EQ(tasks[0].code, 0) << tasks[0].out;
  ASSERT_EQ(tasks[1].code, 0) << tasks[1].out;
  EXPECT_NE(tasks[0].out.find("2 rank(s)"), std::string::npos) << tasks[0].out;  // one job, not two
  expect_same_run("slurm_1", "slurm_2");
}

TEST(DataParallel, ALostRankIsReportedWithinTheTimeout) {
  const auto start_time = std::chrono::steady_clock::now();
  auto rank0 = run_ranks(2, common_args("lost", "train.steps=6 distributed.timeout_s=30"),
                         "VECRL_TEST_EXIT_RANK=1 VECRL_TEST_EXIT_AFTER_STEP=1");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  EXPECT_NE(rank0.code, 0) << rank0.out;
  EXPECT_NE(rank0.out.find("rank 0 of 2"), std::string::npos) << rank0.out;
  EXPECT_NE(rank0.out.find("lost rank 1"), std::string::npos) << rank0.out;
  EXPECT_LT(seconds, 60.0);
}

TEST(DataParallel, BadRendezvousIsAClearError) {
  auto bad_rank = start("MASTER_ADDR=127.0.0.1 MASTER_PORT=29999 WORLD_SIZE=2 RANK=3", common_args("bad_rank"));
  finish(bad_rank);
  EXPECT_EQ(bad_rank.code, 1);
  EXPECT_NE(bad_rank.out.find("rank 3 is not below the world size 2"), std::string::npos) << bad_rank.out;

  auto no_port = start("env -u MASTER_PORT MASTER_ADDR=127.0.0.1 WORLD_SIZE=2 RANK=1", common_args("no_port"));
  finish(no_port);
  EXPECT_NE(no_port.out.find("no valid master port"), std::string::npos) << no_port.out;

  auto no_world = start("RANK=0", common_args("no_world"));
  finish(no_world);
  EXPECT_NE(no_world.out.find("WORLD_SIZE is not set"), std::string::npos) << no_world.out;

  const int port = vecrl::tests::free_port();
  auto unreachable = start(env_for(1, 2, port), common_args("unreachable", "distributed.timeout_s=3"));
  finish(unreachable);
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_NE(unreachable.out.find("rank 1 of 2: cannot reach the master at 127.0.0.1:" + std::to_string(port) +
                                 " within 3 s"),
            std::string::npos)
      << unreachable.out;

  auto alone = start(env_for(0, 2, vecrl::tests::free_port()), common_args("alone", "distributed.timeout_s=3"));
  finish(alone);
  EXPECT_EQ(alone.code, 1);
  EXPECT_NE(alone.out.find("within 3 s"), std::string::npos) << alone.out;
}
