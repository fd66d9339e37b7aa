#include "trainer/grad_norm_monitor.h"

#include <algorithm>

namespace vecrl::trainer {

double GradNormMonitor::median() const {
  if (norms_.empty()) return 0.0;
  std::vector<double> sorted(norms_.begin(), norms_.end());
  const auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), mid, sorted.end());
  if (sorted.size() % 2 == 1) return *mid;
  return (*mid + *std::max_element(sorted.begin(), mid)) / 2;
}

bool GradNormMonitor::observe(double norm) {
  const bool spike = factor_ > 0 && norms_.size() >= warmup_ && norm > factor_ * median();
  norms_.push_back(norm);
  if (norms_.size() > window_) norms_.pop_front();
  return spike;
}

void GradNormMonitor::restore(const std::vector<double>& history) {
  norms_.assign(history.begin(), history.end());
  while (norms_.size() > window_) norms_.pop_front();
}

}  // namespace vecrl::trainer
