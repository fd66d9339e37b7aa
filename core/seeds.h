#pragma once
// Every seed a run derives, in one place. Results must not depend on the world size, the batch
// composition or the order of work, so each seed is a function of what it is for (run seed, step,
// sampling round, global prompt index, ...), never of a generator's position.
#include <cstdint>

namespace vecrl::core {

// A splitmix64 mix of (seed, counter): well spread for consecutive counters and nearby seeds.
inline uint64_t mix_seed(uint64_t seed, int64_t counter) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(counter + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The generation seed of global prompt `prompt` in sampling round `round` of RL step `step`. It is
// also the prompt group's key: what the group draws (VPO's Dirichlet weights) is keyed by it.
inline uint64_t rollout_prompt_seed(uint64_t run_seed, int64_t step, int64_t round, int64_t prompt) {
  return run_seed * 1000003ULL + static_cast<uint64_t>(step) * 7919ULL + static_cast<uint64_t>(round) * 104729ULL +
         static_cast<uint64_t>(prompt) * 15485863ULL;
}

// The seed of the permutation that splits step `step`'s batch into mini-batches.
inline uint64_t minibatch_order_seed(uint64_t run_seed, int64_t step) {
  return run_seed * 7919ULL + static_cast<uint64_t>(step);
}

// The seed of turn `turn` (>= 1) of an agent-loop rollout whose first turn sampled with `row_seed`.
inline uint64_t agent_turn_seed(uint64_t row_seed, int64_t turn) { return mix_seed(row_seed, 1000 + turn); }

// The generation seed of evaluation prompt `index`: the same completion at every evaluation.
inline uint64_t eval_prompt_seed(uint64_t eval_seed, int64_t index) { return eval_seed + static_cast<uint64_t>(index); }

}  // namespace vecrl::core
