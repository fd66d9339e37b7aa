#pragma once
// Collectives over the data-parallel group. One process: every operation is the identity. Several:
// LibTorch's c10d (Gloo on CPU; NCCL when built against a CUDA LibTorch with USE_C10D_NCCL) over
// a c10d TCPStore rendezvous.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "distributed/process_info.h"

namespace vecrl::distributed {

struct RendezvousOptions {
  std::string master_addr;  // empty: MASTER_ADDR, or the first host of SLURM_JOB_NODELIST
  int64_t master_port = 0;  // 0: MASTER_PORT
  int64_t timeout_s = 300;  // rendezvous and collective timeout
  // auto: none for one process; NCCL when cuda_device and the build has it, else Gloo. gloo or
  // nccl: that backend, even for one process (a process group of one).
  std::string backend = "auto";
  bool cuda_device = false;  // the models are on this rank's GPU
};

// A reduction in flight. wait() blocks until its result is in the tensor it was started on.
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  virtual void all_reduce_sum(at::Tensor& t) = 0;          // in place
  virtual void all_reduce_max(at::Tensor& t) = 0;          // in place
  virtual void broadcast(at::Tensor& t, int64_t root) = 0;  // in place
  // Concatenates every rank's tensor along dim 0 (all ranks pass the same shape).
  virtual at::Tensor all_gather_rows(const at::Tensor& t) = 0;
  // Starts summing `t` in place and returns at once; every rank must start the same reductions in
  // the same order. `t` must stay alive and untouched until wait() returns.
  virtual std::unique_ptr<PendingReduction> start_all_reduce_sum(at::Tensor t) = 0;
  virtual void barrier() = 0;
  bool is_main() const { return rank() == 0; }
};

// Builds the communicator for this process. Throws with the rank, address and timeout when the
// rendezvous fails (bad variables, unreachable master, a rank that never arrives).
std::unique_ptr<Communicator> make_communicator(const ProcessInfo& process, const RendezvousOptions& options);

// Whether this build has the NCCL backend (a CUDA LibTorch with USE_C10D_NCCL).
bool nccl_available();

// "node[01-04],other" -> "node01" (first host of a Slurm node list).
std::string first_slurm_host(const std::string& nodelist);

}  // namespace vecrl::distributed
