#include "rewards/rubric/rubric_aggregation.h"

#include "core/error.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards::rubric {

double category_weight(const std::string& category) {
  const std::string c = to_lower_ascii(category);
  if (c == "essential") return 1.0;
  if (c == "important") return 0.7;
  if (c == "optional") return 0.3;
  if (c == "pitfall") return 0.8;
  VECRL_CHECK(false, "rubric: unknown category '", category, "' (expected Essential, Important, Optional or Pitfall)");
  return 0.0;
}

namespace {
double weighted_mean(const std::vector<double>& weights, const std::vector<double>& verdicts) {
  double num = 0, den = 0;
  for (std::size_t j = 0; j < weights.size(); ++j) num += weights[j] * verdicts[j], den += weights[j];
  VECRL_CHECK(den > 0, "rubric: the criteria's weights sum to ", den);
  return num / den;
}
std::vector<double> weights_of(const std::vector<Criterion>& criteria) {
  std::vector<double> w;
  for (const auto& c : criteria) w.push_back(c.weight);
  return w;
}
}  // namespace

double explicit_score(const std::vector<Criterion>& criteria, const std::vector<double>& verdicts) {
  VECRL_CHECK(criteria.size() == verdicts.size() && !criteria.empty(), "rubric: ", verdicts.size(), " verdicts for ",
              criteria.size(), " criteria");
  return weighted_mean(weights_of(criteria), verdicts);
}

double hard_gate_score(const std::vector<Criterion>& criteria, const std::vector<double>& verdicts) {
  std::vector<double> w, c;
  for (std::size_t j = 0; j < criteria.size(); ++j) {
    if (criteria[j].hard) {
      if (verdicts[j] < 0.5) return 0.0;
    } else {
      w.push_back(criteria[j].weight);
      c.push_back(verdicts[j]);
    }
  }
  return w.empty() ? 1.0 : weighted_mean(w, c);
}

std::vector<double> pow3r_scores(const std::vector<Criterion>& criteria, const std::vector<std::vector<double>>& verdicts) {
  const std::size_t g = verdicts.size(), j_count = criteria.size();
  std::vector<double> trained(j_count, 0.0);
  bool contrast = false;
  for (std::size_t j = 0; j < j_count; ++j) {
    double p = 0;
    for (const auto& row : verdicts) p += row[j];
    p /= static_cast<double>(g);
    trained[j] = criteria[j].weight * p * (1 - p);
    contrast = contrast || trained[j] > 0;
  }
  if (!contrast) trained = weights_of(criteria);
  std::vector<double> out;
  for (const auto& row : verdicts) out.push_back(weighted_mean(trained, row));
  return out;
}

double strict_completion(const std::vector<Criterion>& criteria, const std::vector<double>& verdicts) {
  for (std::size_t j = 0; j < criteria.size(); ++j)
    if (to_lower_ascii(criteria[j].category) == "essential" && verdicts[j] < 0.5) return 0.0;
  return 1.0;
}

}  // namespace vecrl::rewards::rubric
