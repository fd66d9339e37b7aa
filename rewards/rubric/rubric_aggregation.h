#pragma once
// Rubric aggregation math (algorithms.md §8), pure functions over criterion verdicts.
#include <string>
#include <vector>

namespace vecrl::rewards::rubric {

struct Criterion {
  std::string text;
  std::string category;  // essential / important / optional / pitfall, or empty
  double weight = 1.0;
  bool hard = false;     // a hard rule: gates the score under `hard_gate`
};

// RaR's categorical weights: Essential 1.0, Important 0.7, Optional 0.3, Pitfall 0.8 (pitfalls are
// phrased positively, "the response avoids X", so satisfying them adds reward).
double category_weight(const std::string& category);

// RaR explicit: sum_j w_j c_j / sum_j w_j for one response's verdicts c [J].
double explicit_score(const std::vector<Criterion>& criteria, const std::vector<double>& verdicts);

// OpenRubrics-style gating: 0 unless every hard rule is satisfied (c >= 0.5), else the explicit
// score over the other criteria (1 when there are none).
double hard_gate_score(const std::vector<Criterion>& criteria, const std::vector<double>& verdicts);

// POW3R (reconstruction, algorithms.md §8.2): for a group's verdicts [G][J], p_j = mean_i c_ij,
// alpha_j = p_j (1 − p_j), training weights w~_j = w_j alpha_j (static weights when every alpha is
// 0), r_i = sum_j w~_j c_ij / sum_j w~_j. The per-category renormalisation the design mentions is
// not applied: its worked example is reproduced only without it.
std::vector<double> pow3r_scores(const std::vector<Criterion>& criteria, const std::vector<std::vector<double>>& verdicts);

// Whether every Essential criterion is satisfied (POW3R's strict completion); 1 when there is none.
double strict_completion(const std::vector<Criterion>& criteria, const std::vector<double>& verdicts);

}  // namespace vecrl::rewards::rubric
