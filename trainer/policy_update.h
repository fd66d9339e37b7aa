#pragma once
// Stage 4 of an RL step: the PPO-style update. The batch is split into mini-batches (one optimizer
// step each, over `epochs` passes) and those into micro-batches (gradients add up). Per update:
//  - normalisers over the whole mini-batch on all ranks, so neither micro-batching nor the world
//    size changes the result;
//  - the loss's surrogate once per advantage channel (its mask, normalisers and weight);
//  - the auxiliary terms exactly once, over the loss tokens: the loss's regularizers (KL to the
//    reference, entropy bonus) and the reward modules' terms (the likelihood reward's Lemma-1 term);
//  - the gradient all-reduce (overlapped with the last backward pass), clipping, skipping of
//    non-finite updates, the optimizer step.
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "trainer/run_config.h"
#include "trainer/step_context.h"

namespace vecrl::algorithms {
class PolicyLoss;
}
namespace vecrl::distributed {
class Communicator;
class OverlappedGradientReducer;
}  // namespace vecrl::distributed

namespace vecrl::trainer {

class TrainingSession;
struct MicroBatch;
struct UpdateBatch;

class PolicyUpdate {
 public:
  PolicyUpdate(const RunConfig& config, TrainingSession& session, const algorithms::PolicyLoss& loss,
               distributed::Communicator& comm);
  ~PolicyUpdate();

  // Every update of step ctx.step. Returns the actor/* metrics averaged over the updates, with
  // actor/skipped_updates the number of updates skipped for non-finite gradients or advantages.
  core::MetricMap run(const StepContext& ctx);
  // Optimizer steps per RL step.
  int64_t updates_per_step() const;

 private:
  // One optimizer step over this rank's `rows` of a mini-batch (sets the batch's normalisers).
  core::MetricMap update(UpdateBatch& batch, const at::Tensor& rows);
  core::MetricMap backward(const UpdateBatch& batch, const MicroBatch& part, bool last_part);
  void reduce_across_ranks(const UpdateBatch& batch, core::MetricMap& metrics);
  std::vector<std::string> metric_keys(const UpdateBatch& batch) const;

  const RunConfig& config_;
  TrainingSession& session_;
  const algorithms::PolicyLoss& loss_;
  distributed::Communicator& comm_;
  std::unique_ptr<distributed::OverlappedGradientReducer> grad_reducer_;  // several ranks
  std::vector<std::string> surrogate_keys_, regularizer_keys_;         // what the loss reports
};

}  // namespace vecrl::trainer
