#pragma once
// Likelihood-based rewards of a reference answer a* given prompt and reasoning z (Kwiatkowski et
// al., arXiv 2602.03979; algorithms.md §6), from the per-token log-probs of a*. All in log space:
// probabilities are exp of sums, never products that underflow first.
#include <ATen/core/Tensor.h>

#include <vector>

#include "rewards/reward_module.h"

namespace vecrl::rewards {

struct LikelihoodRewards {
  double logprob = 0;      // sum_t log p(a*_t | p, z, a*_<t)
  double avg_logprob = 0;  // logprob / |a*|
  double prob = 0;         // exp(logprob)                 (VeriFree)
  double avg_prob = 0;     // mean_t exp(log p(a*_t | ...)) (RLPR)
};

LikelihoodRewards likelihood_rewards(const std::vector<double>& answer_token_logprobs);

// The Lemma-1 loss of each row, -sum_v w_v R_v(theta) [B], from the answer's per-token log-probs
// token_logprobs [B, A] (with grad) and mask [B, A] bool; a row without answer tokens gives 0.
// Its gradient is -sum_v w_v grad R_v: for prob, exp(logprob) * grad logprob (the x p factor),
// for avg_logprob grad logprob / |a*|.
at::Tensor likelihood_loss_rows(const at::Tensor& token_logprobs, const at::Tensor& mask,
                                const AnswerLikelihoodWeights& weights);

}  // namespace vecrl::rewards
