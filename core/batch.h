#pragma once
// The batch types that flow through one RL step:
//   Rollouts ──RewardSet──▶ RewardMatrix ──AdvantageEstimator──▶ Advantages ──PolicyLoss──▶ update
// Legend: N rollouts (prompts × group_size, groups contiguous), Lp prompt tokens (left-padded),
// T response tokens (right-padded), M answers per rollout (usually 1), K reward dimensions,
// C advantage channels (1 for most estimators).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vecrl::core {

struct Rollouts {
  int64_t group_size = 1;
  at::Tensor prompt_ids;          // [N, Lp] int64, left-padded
  at::Tensor prompt_mask;         // [N, Lp] bool, true on real prompt tokens
  at::Tensor response_ids;        // [N, T] int64, right-padded
  at::Tensor response_mask;       // [N, T] bool, true on tokens that count in the loss
  at::Tensor behaviour_logprobs;  // [N, T] float32, log-probs recorded while sampling
  at::Tensor truncated;           // [N] bool, stopped by max_new_tokens rather than EOS
  // Agent-loop episodes (undefined without one): [N] int64 tool calls made, calls that failed
  // (malformed or the tool errored), and assistant turns. response_mask is false on the
  // tool-response tokens between turns: they are context, not the policy's actions.
  at::Tensor tool_calls, tool_failures, turns;
  std::vector<std::string> prompts;     // N prompt texts
  std::vector<std::string> responses;   // N decoded responses
  std::vector<nlohmann::json> samples;  // N dataset records (reward modules read their fields)

  int64_t size() const { return static_cast<int64_t>(responses.size()); }
  int64_t num_groups() const { return size() / group_size; }
  bool has_agent_stats() const { return tool_calls.defined(); }
  // Row indices [len(groups) * group_size] int64 of the listed groups, in order.
  static at::Tensor group_rows(const std::vector<int64_t>& groups, int64_t group_size);
  // The rollouts of the listed groups, in that order.
  Rollouts select_groups(const std::vector<int64_t>& groups) const;
  // Joins batches with the same group size, re-padding prompts (left) and responses (right).
  static Rollouts concat(const std::vector<Rollouts>& parts, int64_t pad_id);
  // Checks that every tensor agrees with N and with each other; throws with the shapes otherwise.
  void check() const;
};

struct RewardMatrix {
  std::vector<std::string> names;  // K dimension names
  at::Tensor values;               // [N, M, K] float32
  at::Tensor valid;                // [N, M, K] bool; false = not applicable / failed, never a silent 0

  static RewardMatrix zeros(int64_t n, int64_t m, std::vector<std::string> names);
  // Concatenates along K (the dimensions of several reward modules).
  static RewardMatrix concat(const std::vector<RewardMatrix>& parts);
  // Rows (rollouts) `rows` [R] int64, in that order.
  RewardMatrix select_rows(const at::Tensor& rows) const;
  // Stacks matrices with the same dimensions along N.
  static RewardMatrix stack_rows(const std::vector<RewardMatrix>& parts);
  int64_t rollouts() const { return values.size(0); }
  int64_t answers() const { return values.size(1); }
  int64_t dims() const { return values.size(2); }
  int64_t index_of(const std::string& name) const;  // throws listing the names
  void check() const;
};

// The one scalarisation rule of vector rewards. The weighted total of an answer is
// sum_k w_k r_k over the dimensions with w_k != 0, and it is valid exactly when every such
// dimension is valid. Dimensions with weight 0 (diagnostics such as math/extracted or ifeval's
// per-instruction verdicts) never change a total or its validity, and a total that is not valid is
// left out of every statistic — never counted as 0.
struct WeightedTotal {
  at::Tensor values;  // [N, M] float64; 0 where not valid
  at::Tensor valid;   // [N, M] bool
};
WeightedTotal weighted_total(const RewardMatrix& rewards, const std::vector<double>& weights);

struct Advantages {
  std::vector<std::string> channels;    // C channel names ("primary" for single-channel estimators)
  at::Tensor values;                    // [C, N] float32, one scalar per rollout and channel
  at::Tensor token_values;              // [C, N, T] float32 when advantages vary within a rollout, else undefined
  at::Tensor rollout_mask;              // [C, N] bool, rollouts each channel's loss covers; undefined = all
  std::vector<double> channel_weights;  // C loss weights; empty = 1 each

  int64_t num_channels() const { return values.size(0); }
  double weight(int64_t channel) const;
  // Channel c per token: [N, T] (token_values, or values broadcast), zero outside response_mask.
  at::Tensor per_token(int64_t channel, const at::Tensor& response_mask) const;
  // Tokens channel c's loss covers: response_mask restricted to the channel's rollouts. [N, T] bool.
  at::Tensor loss_mask(int64_t channel, const at::Tensor& response_mask) const;
  // Single-channel advantages from one value per rollout [N].
  static Advantages single(const at::Tensor& per_rollout);
};

}  // namespace vecrl::core
