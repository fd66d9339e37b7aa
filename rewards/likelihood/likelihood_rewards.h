#pragma once
// Likelihood-based rewards of a reference answer a* given prompt and reasoning z (Kwiatkowski et
// al., arXiv 2602.03979; algorithms.md §6), from the per-token log-probs of a*. All in log space:
// probabilities are exp of sums, never products that underflow first.
#include <vector>

namespace vecrl::rewards {

struct LikelihoodRewards {
  double logprob = 0;      // sum_t log p(a*_t | p, z, a*_<t)
  double avg_logprob = 0;  // logprob / |a*|
  double prob = 0;         // exp(logprob)                 (VeriFree)
  double avg_prob = 0;     // mean_t exp(log p(a*_t | ...)) (RLPR)
};

LikelihoodRewards likelihood_rewards(const std::vector<double>& answer_token_logprobs);

}  // namespace vecrl::rewards
