// JEPO (Tang et al.; as used in arXiv 2602.03979, algorithms.md §6): with per-rollout answer
// log-likelihoods l_i = log p(a* | p, z_i) (the `likelihood` reward's logprob dimension), the group
// reward is R = log (1/G) sum_i exp(l_i), and the advantage of rollout i is R minus the same
// quantity over the other G − 1 rollouts: A_i = R − log (1/(G−1)) sum_{j≠i} exp(l_j). Computed with
// log-sum-exp (the probabilities underflow for long answers). Invalid rows are left out and get 0;
// groups with fewer than two valid rollouts get 0. The gradient of R itself (Lemma 1 of arXiv
// 2602.03979) is sum_i p_i / sum_j p_j * grad log p(a* | p, z_i): likelihood_term_weights gives the
// likelihood reward's loss term those softmax weights (times G, so that its mean over rollouts is
// the sum over each group). A KL penalty in the reward has no meaning for JEPO's group reward: the
// trainer refuses it.
#include <ATen/ATen.h>

#include <cmath>

#include "algorithms/advantage.h"

namespace vecrl::algorithms {
namespace {

struct JepoOptions {
  std::string dimension = "likelihood/logprob";

  template <class V>
  void visit(V& v) {
    v.field("dimension", dimension);
  }
};

class Jepo : public AdvantageEstimator {
 public:
  explicit Jepo(JepoOptions o) : o_(std::move(o)) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    reject_penalty(input, "jepo");
    auto [l, valid] = answer_loglikelihoods(input);
    const int64_t G = input.group_size, P = input.num_groups();
    const auto neg_inf = at::full_like(l, -INFINITY);
    auto masked = at::where(valid, l, neg_inf);                      // [P, G]
    auto n = valid.sum(1, true).to(at::kDouble);                     // [P, 1]
    auto group = masked.logsumexp(1, true) - n.log();                // R per group
    // Leave-one-out: log(sum_all exp - exp(l_i)) computed stably as logsumexp over the others.
    auto others = at::empty_like(l);
    for (int64_t i = 0; i < G; ++i) {
      auto without = masked.clone();
      without.select(1, i).fill_(-INFINITY);
      others.select(1, i).copy_(without.logsumexp(1) - (n.squeeze(1) - 1).clamp_min(1).log());
    }
    auto adv = group - others;
    adv = at::where(valid.logical_and(n > 1), adv, at::zeros_like(adv));
    return core::Advantages::single(adv.reshape({P * G}).to(at::kFloat));
  }

  at::Tensor group_has_signal(const AdvantageInput& input) const override {
    auto [l, valid] = answer_loglikelihoods(input);
    return varies_in_group(l, valid);
  }

  at::Tensor likelihood_term_weights(const AdvantageInput& input) const override {
    auto [l, valid] = answer_loglikelihoods(input);
    auto masked = at::where(valid, l, at::full_like(l, -INFINITY));
    auto softmax = at::where(valid, (masked - masked.logsumexp(1, true)).exp(), at::zeros_like(l));  // [P, G]
    return (softmax * static_cast<double>(input.group_size)).reshape({-1});
  }

 private:
  // l [P, G] float64 and valid [P, G] of the configured log-likelihood dimension, answer 0.
  std::pair<at::Tensor, at::Tensor> answer_loglikelihoods(const AdvantageInput& input) const {
    check_input(input);
    const int64_t k = find_dimension(input.rewards, o_.dimension);
    const int64_t G = input.group_size, P = input.num_groups();
    return {input.rewards.values.select(1, 0).select(1, k).to(at::kDouble).view({P, G}),
            input.rewards.valid.select(1, 0).select(1, k).view({P, G})};
  }

  JepoOptions o_;
};

VECRL_REGISTER(advantage_registry(), "jepo", (core::make_configured<AdvantageEstimator, JepoOptions, Jepo>));

}  // namespace
}  // namespace vecrl::algorithms
