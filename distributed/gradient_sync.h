#pragma once
// Gradient sums across data-parallel ranks, in buckets. Each rank's loss is its share of the global
// loss, so the global gradient is the plain sum (no averaging by the world size).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "distributed/communicator.h"

namespace vecrl::distributed {

// Rank 0's parameters on every rank (in place), verified by a checksum: throws naming the rank when
// they still differ.
void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& params);

// Consecutive tensors grouped into buckets of at most bucket_bytes (a larger tensor is a bucket of
// its own): the indices of each bucket, in order.
std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<int64_t>& tensor_bytes, int64_t bucket_bytes);

// Sums parameter gradients while the backward pass still runs. Hooks on the parameters' gradient
// accumulators mark each one done; a bucket whose parameters are all done starts its all-reduce at
// once, so communication overlaps the rest of the backward pass. Buckets are filled in reverse
// parameter order (the order in which backward produces them) and always started in bucket order,
// so every rank issues the same collectives in the same order whatever its graph.
//
// Use: arm() before the backward pass that completes an update's gradients (the last micro-batch),
// then finish() after it. Earlier micro-batches accumulate locally with the reducer disarmed.
// Without arm(), finish() alone sums after the backward pass: every bucket started, then waited on.
class OverlappedGradientReducer {
 public:
  // `params` must outlive the reducer (they are the model's own tensors).
  OverlappedGradientReducer(Communicator& comm, const std::vector<at::Tensor>& params, int64_t bucket_bytes);
  ~OverlappedGradientReducer();
  OverlappedGradientReducer(const OverlappedGradientReducer&) = delete;
  OverlappedGradientReducer& operator=(const OverlappedGradientReducer&) = delete;

  void arm();
  // Starts the buckets the backward pass did not complete (parameters without a gradient on this
  // rank, or no backward pass at all), waits for every bucket and writes the sums into .grad (an
  // undefined gradient becomes the sum of the other ranks'). Throws when a collective failed, or
  // when a parameter's gradient changed after its bucket was sent.
  void finish();

  struct Stats {
    int64_t buckets = 0;
    int64_t started_during_backward = 0;  // buckets started by the hooks, before finish()
  };
  Stats last_stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace vecrl::distributed
