#pragma once
// Throughput of rollout generation and of the policy update on a model, with the model-side
// quantities (bytes read per decode step, FLOPs per trained token) that turn them into fractions
// of the machine's ceilings. Measurement only: printing is the caller's (`vecrl bench`).
#include <cstdint>
#include <vector>

#include "models/transformer.h"

namespace vecrl::models {

struct ModelCost {
  int64_t parameters = 0;
  int64_t embedding_parameters = 0;  // the input embedding (a lookup: no FLOPs)
  int64_t lm_head_parameters = 0;    // the output projection (tied or not)
  double weight_bytes = 0;           // everything a decode step reads once per step
  double kv_bytes_per_token = 0;     // K and V of one position, all layers
};
ModelCost model_cost(CausalLM& model);

struct GenerateBenchOptions {
  int64_t prompts = 2;
  int64_t prompt_tokens = 64;
  int64_t new_tokens = 32;
  int64_t group_size = 8;
  uint64_t seed = 0;
};

struct GenerateBenchResult {
  int64_t group_size = 0;
  int64_t tokens = 0;               // generated tokens
  double seconds = 0;
  double tokens_per_s = 0;
  double bytes_per_step = 0;        // weights + the KV cache read by one decode step (mean context)
  double flops_per_token = 0;       // 2 x matmul parameters + attention over the mean context
};

// Grouped generation as RL uses it: each prompt prefilled once, its KV cache shared by the group.
GenerateBenchResult bench_generate(CausalLM& model, const GenerateBenchOptions& options);
// The naive reference: every sample generated on its own (its prompt prefilled again each time).
GenerateBenchResult bench_generate_per_sample(CausalLM& model, const GenerateBenchOptions& options);

struct TrainBenchOptions {
  int64_t batch = 8;
  int64_t prompt_tokens = 64;
  int64_t response_tokens = 64;
  int64_t steps = 3;                 // timed steps, after one warm-up step
  int64_t chunk_tokens = 1024;       // LM-head chunk of the fused log-prob recomputation; <= 0: plain autograd
  bool activation_checkpointing = false;
  bool aten_optimizer = false;       // LibTorch's AdamW (nine ops per parameter) instead of FusedAdamW
  uint64_t seed = 0;
};

struct TrainBenchResult {
  int64_t tokens_per_step = 0;      // prompt + response positions
  double seconds_per_step = 0;
  double seconds_forward = 0;       // of which: log-probs and loss
  double seconds_backward = 0;
  double seconds_optimizer = 0;
  double page_faults_per_step = 0;  // minor faults of the process: new heap pages touched in a step
  double tokens_per_s = 0;
  double flops_per_step = 0;        // 6 x (body parameters x all positions + LM head x response positions)
};

// Policy-update steps: recomputed response log-probs (chunked LM head), a policy-gradient-shaped
// loss, backward, AdamW.
TrainBenchResult bench_train(CausalLM& model, const TrainBenchOptions& options);

}  // namespace vecrl::models
