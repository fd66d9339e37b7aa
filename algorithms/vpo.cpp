// VPO (arXiv 2605.22817; official code vpo_advantage, algorithms.md §5). Each rollout carries M
// answers whose rewards are vectors over the trained dimensions (weight != 0; diagnostics with
// weight 0 are ignored, and only trained dimensions decide whether an answer exists: answer m of
// rollout i exists when all its trained entries are valid).
//   R^_i = (1/K_w) sum_q max_{answers s of i} w_q . r(s),   w_q ~ Dirichlet(alpha 1_K'),
// K' = the number of trained dimensions. The K_w weight vectors are drawn once per group and
// shared by its G rollouts (common random numbers), from a generator seeded by (seed, group key):
// the trainer's group key is the group's sampling seed, so every group of every step draws its own
// weights, on any rank, and a group draws the same weights whatever the world size. A rollout with
// no answer scores 0 and stays in the statistics; a group where no rollout has an answer gets 0.
// A_i = (R^_i - pen_i - mean) / (pstd + eps), and 0 for the whole group when pstd < eps, where
// pen_i is the KL penalty in the reward (0 when off). `weight_samples` replaces the draws with
// explicit weight vectors over the trained dimensions. The configured weights only select the
// trained dimensions (they must be positive): VPO samples its own preferences.
#include <ATen/ATen.h>

#include <random>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"
#include "core/seeds.h"

namespace vecrl::algorithms {
namespace {

struct VpoOptions {
  double alpha = 1.0;
  int64_t num_weights = 100;  // K_w
  uint64_t seed = 0;
  std::vector<std::vector<double>> weight_samples;  // explicit weight vectors instead of draws
  double eps = 1e-6;

  template <class V>
  void visit(V& v) {
    v.field("alpha", alpha);
    v.field("num_weights", num_weights);
    v.field("seed", seed);
    v.field("weight_samples", weight_samples);
    v.field("eps", eps);
    v.require(alpha > 0, "alpha", core::str_cat("must be > 0, got ", alpha));
    v.require(num_weights >= 1, "num_weights", core::str_cat("must be >= 1, got ", num_weights));
    v.require(eps >= 0, "eps", core::str_cat("must be >= 0, got ", eps));
    for (const auto& w : weight_samples) {
      double total = 0;
      for (double x : w) {
        v.require(x >= 0, "weight_samples", "weights must be >= 0");
        total += x;
      }
      v.require(!w.empty() && total > 0, "weight_samples", "each weight vector needs a positive entry");
    }
  }
};

// The trained dimensions of answer sets: values [P, G, M, K'] and present [P, G, M].
struct AnswerSets {
  at::Tensor values, present;
};

class Vpo : public AdvantageEstimator {
 public:
  explicit Vpo(VpoOptions options) : options_(std::move(options)) {}

  core::Advantages compute(const AdvantageInput& input) const override {
    const auto sets = answer_sets(input);
    const int64_t P = input.num_groups(), G = input.group_size;
    auto scores = set_scores(input, sets) - input.sequence_penalty().view({P, G});
    auto all = at::ones({P, G}, at::kBool);
    auto stats = group_stats(scores, all, StdKind::kPopulation);
    auto adv = (scores - stats.mean) / (stats.std + options_.eps);
    auto answered = sets.present.any(2).any(1, true);  // [P, 1]
    adv = at::where((stats.std < options_.eps).logical_or(answered.logical_not()), at::zeros_like(adv), adv);
    if (G < 2) adv.zero_();
    return core::Advantages::single(adv.reshape({-1}));
  }

  KlInReward kl_in_reward() const override { return KlInReward::kOnCombinedReward; }

  // Signal: the set scores (without the KL penalty) spread by at least eps within the group.
  at::Tensor group_has_signal(const AdvantageInput& input) const override {
    const auto sets = answer_sets(input);
    auto scores = set_scores(input, sets);
    auto stats = group_stats(scores, at::ones_like(scores, at::kBool), StdKind::kPopulation);
    return (stats.std >= options_.eps).squeeze(1).logical_and(sets.present.any(2).any(1));
  }

 private:
  AnswerSets answer_sets(const AdvantageInput& input) const {
    check_input(input);
    const auto& r = input.rewards;
    const int64_t G = input.group_size, P = input.num_groups(), M = r.answers();
    std::vector<int64_t> trained;
    for (int64_t k = 0; k < r.dims(); ++k) {
      const double w = input.weights[static_cast<std::size_t>(k)];
      if (w == 0) continue;
      VECRL_CHECK(w > 0, "vpo: dimension '", r.names[k], "' has weight ", w,
                  "; VPO draws its own preferences over dimensions where higher is better (weight > 0)");
      trained.push_back(k);
    }
    VECRL_CHECK(!trained.empty(), "vpo: no trained reward dimension (every weight is 0)");
    auto index = at::tensor(trained, at::kLong);
    const auto K = static_cast<int64_t>(trained.size());
    AnswerSets sets;
    sets.values = r.values.index_select(2, index).to(at::kDouble).view({P, G, M, K});
    sets.present = r.valid.index_select(2, index).all(2).view({P, G, M});
    return sets;
  }

  // R^ [P, G] float64: the mean over the group's weight vectors of each rollout's best answer.
  at::Tensor set_scores(const AdvantageInput& input, const AnswerSets& sets) const {
    const int64_t P = sets.values.size(0), G = sets.values.size(1), K = sets.values.size(3);
    auto scores = at::zeros({P, G}, at::kDouble);
    for (int64_t p = 0; p < P; ++p) {
      auto W = weights_for_group(K, input.group_key(p));                     // [Q, K]
      auto proj = at::matmul(sets.values[p], W.t());                         // [G, M, Q]
      auto masked = proj.masked_fill(sets.present[p].logical_not().unsqueeze(2), -1e300);
      auto best = std::get<0>(masked.max(1));                                // [G, Q]
      scores[p] = at::where(sets.present[p].any(1), best.mean(1), at::zeros({G}, at::kDouble));
    }
    return scores;
  }

  at::Tensor weights_for_group(int64_t K, uint64_t group_key) const {
    if (!options_.weight_samples.empty()) {
      std::vector<double> flat;
      for (const auto& w : options_.weight_samples) {
        VECRL_CHECK(static_cast<int64_t>(w.size()) == K, "vpo: weight_samples vectors have ", w.size(),
                    " entries for ", K, " trained reward dimensions");
        flat.insert(flat.end(), w.begin(), w.end());
      }
      return at::tensor(flat, at::kDouble).view({-1, K});
    }
    std::mt19937_64 rng(core::mix_seed(options_.seed, static_cast<int64_t>(group_key)));
    std::gamma_distribution<double> gamma(options_.alpha, 1.0);
    auto W = at::empty({options_.num_weights, K}, at::kDouble);
    auto a = W.accessor<double, 2>();
    for (int64_t q = 0; q < options_.num_weights; ++q) {
      double total = 0;
      for (int64_t k = 0; k < K; ++k) total += (a[q][k] = gamma(rng));
      for (int64_t k = 0; k < K; ++k) a[q][k] /= total;
    }
    return W;
  }

  VpoOptions options_;
};

VECRL_REGISTER(advantage_registry(), "vpo", (core::make_configured<AdvantageEstimator, VpoOptions, Vpo>));

}  // namespace
}  // namespace vecrl::algorithms
