#pragma once
// Flags gradient-norm spikes: an update whose (pre-clipping) norm exceeds `factor` times the
// median of the last `window` finite norms. Clipping (optim.max_grad_norm) bounds the step either
// way; the flag makes a spike visible (actor/grad_norm_spike, a warning) instead of silent.
#include <cstddef>
#include <deque>
#include <vector>

namespace vecrl::trainer {

class GradNormMonitor {
 public:
  explicit GradNormMonitor(double factor = 10.0, std::size_t window = 20, std::size_t warmup = 5)
      : factor_(factor), window_(window), warmup_(warmup) {}

  // Records a finite norm; returns whether it is a spike against the norms before it.
  bool observe(double norm);
  // The median of the recorded norms (0 when none).
  double median() const;

  std::vector<double> history() const { return {norms_.begin(), norms_.end()}; }
  void restore(const std::vector<double>& history);

 private:
  double factor_;
  std::size_t window_, warmup_;
  std::deque<double> norms_;
};

}  // namespace vecrl::trainer
