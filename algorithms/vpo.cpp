// VPO (arXiv 2605.22817; official code vpo_advantage, algorithms.md §5). Each rollout carries M
// answers with K-dimensional rewards; answer m of rollout i exists when all its K entries are valid.
//   R^_i = (1/K_w) sum_q max_{answers s of i} w_q . r(s),   w_q ~ Dirichlet(alpha 1_K),
// with the K_w weight vectors drawn once per group and shared by its G rollouts (common random
// numbers), from a generator seeded by `seed` that persists across steps. A rollout with no answer
// scores 0 and stays in the statistics. A_i = (R^_i - mean) / (pstd + eps), and 0 for the whole
// group when pstd < eps. `weight_samples` replaces the draws with explicit weight vectors.
// The config's reward weights are not used: VPO samples its own.
#include <ATen/ATen.h>

#include <mutex>
#include <random>
#include <sstream>

#include "algorithms/advantage.h"
#include "algorithms/group_stats.h"

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

class Vpo : public AdvantageEstimator {
 public:
  explicit Vpo(VpoOptions options) : options_(std::move(options)), rng_(options_.seed) {}

  std::string state() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ostringstream out;
    out << rng_;
    return out.str();
  }

  void restore(const std::string& state) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::istringstream in(state);
    in >> rng_;
    VECRL_CHECK(!in.fail(), "vpo: the checkpoint's generator state could not be read");
  }

  core::Advantages compute(const AdvantageInput& input) const override {
    check_input(input);
    const auto& r = input.rewards;
    const int64_t G = input.group_size, P = input.num_groups(), M = r.answers(), K = r.dims();
    auto values = r.values.to(at::kDouble).view({P, G, M, K});
    auto present = r.valid.all(2).view({P, G, M});  // [P, G, M]
    auto scores = at::zeros({P, G}, at::kDouble);
    for (int64_t p = 0; p < P; ++p) {
      auto W = weights_for_group(K);                                      // [Q, K]
      auto proj = at::matmul(values[p], W.t());                           // [G, M, Q]
      auto masked = proj.masked_fill(present[p].logical_not().unsqueeze(2), -1e300);
      auto best = std::get<0>(masked.max(1));                             // [G, Q]
      auto any = present[p].any(1);                                       // [G]
      scores[p] = at::where(any, best.mean(1), at::zeros({G}, at::kDouble));
    }
    auto all = at::ones({P, G}, at::kBool);
    auto stats = group_stats(scores, all, StdKind::kPopulation);
    auto adv = (scores - stats.mean) / (stats.std + options_.eps);
    adv = at::where(stats.std < options_.eps, at::zeros_like(adv), adv);
    if (G < 2) adv.zero_();
    return core::Advantages::single(adv.reshape({-1}));
  }

 private:
  at::Tensor weights_for_group(int64_t K) const {
    if (!options_.weight_samples.empty()) {
      std::vector<double> flat;
      for (const auto& w : options_.weight_samples) {
        VECRL_CHECK(static_cast<int64_t>(w.size()) == K, "vpo: weight_samples vectors have ", w.size(),
                    " entries for ", K, " reward dimensions");
        flat.insert(flat.end(), w.begin(), w.end());
      }
      return at::tensor(flat, at::kDouble).view({-1, K});
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::gamma_distribution<double> gamma(options_.alpha, 1.0);
    auto W = at::empty({options_.num_weights, K}, at::kDouble);
    auto a = W.accessor<double, 2>();
    for (int64_t q = 0; q < options_.num_weights; ++q) {
      double total = 0;
      for (int64_t k = 0; k < K; ++k) total += (a[q][k] = gamma(rng_));
      for (int64_t k = 0; k < K; ++k) a[q][k] /= total;
    }
    return W;
  }

  VpoOptions options_;
  mutable std::mt19937_64 rng_;
  mutable std::mutex mutex_;
};

VECRL_REGISTER(advantage_registry(), "vpo", (core::make_configured<AdvantageEstimator, VpoOptions, Vpo>));

}  // namespace
}  // namespace vecrl::algorithms
