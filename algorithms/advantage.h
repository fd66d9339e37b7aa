#pragma once
// Advantage estimators turn a reward matrix into per-rollout (or per-token) advantages. One file
// per estimator, registered by name at its bottom:
//   VECRL_REGISTER(advantage_registry(), "grpo", (core::make_configured<AdvantageEstimator, Opts, Impl>));
// Legend: N rollouts (P groups of G, contiguous), M answers per rollout, K reward dimensions,
// T response tokens.
//
// The contract every built-in keeps (README, "Estimators"):
//  - only trained dimensions (weight != 0) enter an advantage; weight-0 dimensions are diagnostics;
//  - a rollout whose trained dimensions are not all valid is left out of every statistic and gets
//    advantage 0 (core::weighted_total's rule); so do whole groups the trainer marks not-valid
//    (top-up groups of dynamic sampling);
//  - a KL penalty "in the reward" (token_penalty) enters as kl_in_reward() says, never as a reward
//    dimension.
#include <functional>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/registry.h"

namespace vecrl::algorithms {

struct AdvantageInput {
  const core::RewardMatrix& rewards;  // [N, M, K]
  std::vector<double> weights;        // K weights of the reward dimensions
  int64_t group_size = 1;             // G; rollouts of a group are contiguous
  at::Tensor response_mask;           // [N, T] bool; needed by token-level estimators (REINFORCE++)
  // Sums a tensor over all data-parallel ranks in place; batch-level statistics (GDPO's second
  // normalisation, REINFORCE++ whitening) go through it. Empty = one process.
  std::function<void(at::Tensor&)> all_reduce_sum{};
  // KL in the reward: coef * k(logp_old, logp_ref) per response token, [N, T] float, 0 outside
  // response_mask; undefined when kl_in_reward is off. It is a penalty: rewards go down by it.
  at::Tensor token_penalty{};
  // One key per group [P], the same for a prompt draw whatever the world size or the group's
  // position in the batch (the trainer passes the group's sampling seed). Randomness drawn per
  // group (VPO's Dirichlet weights) is keyed by it. Empty: the group's index in this batch.
  std::vector<uint64_t> group_keys{};

  int64_t num_groups() const { return rewards.rollouts() / group_size; }
  // Sums `t` across ranks when distributed.
  at::Tensor global_sum(at::Tensor t) const;
  // The KL penalty summed over each rollout's tokens [N] float64; zeros when off.
  at::Tensor sequence_penalty() const;
  // The key of group p (group_keys[p], or p).
  uint64_t group_key(int64_t p) const;
};

// How an estimator takes a KL penalty in the reward (kl_in_reward.coef > 0).
enum class KlInReward {
  kUnsupported,       // no defined meaning: the trainer refuses the combination
  kOnCombinedReward,  // subtracted from the estimator's scalar reward before its normalisation
  kPerTokenReturn,    // a token-level reward folded into the return-to-go (REINFORCE++)
};

class AdvantageEstimator {
 public:
  virtual ~AdvantageEstimator() = default;
  virtual core::Advantages compute(const AdvantageInput& input) const = 0;
  virtual KlInReward kl_in_reward() const { return KlInReward::kUnsupported; }
  // [P] bool: whether a group can give this estimator a non-zero advantage (dynamic sampling keeps
  // only those). Ignores the KL penalty, which varies everywhere. Default: the weighted total of
  // answer 0 varies among the group's valid rollouts.
  virtual at::Tensor group_has_signal(const AdvantageInput& input) const;
  // [N] per-rollout weights of the reward's own gradient term (the likelihood reward's Lemma-1
  // term), when this estimator's reward defines them (JEPO: G * p_i / sum_j p_j within the group);
  // undefined = 1 each.
  virtual at::Tensor likelihood_term_weights(const AdvantageInput& input) const { return {}; }
  // State carried across steps, saved in checkpoints so a resumed run continues exactly; empty for
  // stateless estimators (all built-ins: VPO keys its draws by step and group).
  virtual std::string state() const { return {}; }
  virtual void restore(const std::string& state) {}
};

using AdvantageRegistry = core::Registry<AdvantageEstimator, core::ConfigNode&>;
// Factories read their own options from the `advantage:` section and must call node.finish().
AdvantageRegistry& advantage_registry();

// Checks shapes and weights against the input; throws naming what is wrong.
void check_input(const AdvantageInput& input);

// Throws when the input carries a KL penalty: for estimators whose kl_in_reward() is kUnsupported.
void reject_penalty(const AdvantageInput& input, const char* estimator);

// The scalar reward of answer 0 of each rollout, r [N] float64 = sum_k w_k r_k (core::weighted_total)
// minus the KL penalty summed over the rollout's tokens, and whether it is valid, valid [N].
std::pair<at::Tensor, at::Tensor> weighted_scalar_reward(const AdvantageInput& input);

// [P] bool: whether values [P, G] vary among the valid [P, G] rollouts of each group (two or more of
// them, population std above 1e-8).
at::Tensor varies_in_group(const at::Tensor& values, const at::Tensor& valid);

// Mean and variance (ddof 0 or 1) of `values` over the entries where `mask` is 1, summed across
// all ranks through input.all_reduce_sum. Shapes of values and mask must agree.
struct BatchMoments {
  double mean = 0;
  double var = 0;
};
BatchMoments global_moments(const AdvantageInput& input, const at::Tensor& values, const at::Tensor& mask, double ddof);

// Resolves a dimension by exact name, or by module name when "<name>/..." matches exactly one.
int64_t find_dimension(const core::RewardMatrix& rewards, const std::string& name);

}  // namespace vecrl::algorithms
