// rubric: a judge checks the response against a rubric, per sample (dataset field `rubric`: a
// list of {criterion, category or weight, hard}) or fixed in the config (`criteria`). Aggregations
// (algorithms.md §8): explicit (RaR weighted mean of per-criterion verdicts), implicit (one Likert
// 1–10 call over the whole rubric, mapped (s − 1)/9), hard_gate (hard rules gate the rest,
// OpenRubrics-style — a proposal), pow3r (criteria weighted by their contrast within the group — a
// reconstruction). Dimensions: `score`, `strict` (every Essential criterion met), and with config
// criteria and `criterion_dims`, one per criterion. A judge failure marks the text not-valid.
#include <spdlog/spdlog.h>

#include <cmath>

#include "rewards/judge/judge.h"
#include "core/parallel.h"
#include "rewards/reward_module.h"
#include "rewards/rubric/rubric_aggregation.h"

namespace vecrl::rewards {
namespace {

enum class Aggregation { kExplicit, kImplicit, kHardGate, kPow3r };

struct CriterionOptions {
  std::string name;  // dimension name with criterion_dims (default c<index>)
  std::string criterion;
  std::string category;
  double weight = NAN;  // explicit weight; default from the category (1 without one)
  bool hard = false;

  template <class V>
  void visit(V& v) {
    v.field("name", name);
    v.field("criterion", criterion);
    v.field("category", category);
    v.field("weight", weight);
    v.field("hard", hard);
    v.require(!criterion.empty(), "criterion", "the criterion text is required");
  }
};

struct RubricOptions {
  Aggregation aggregation = Aggregation::kExplicit;
  std::string rubric_field = "rubric";
  std::vector<CriterionOptions> criteria;  // used when set (instead of the dataset field)
  bool criterion_dims = false;
  bool soft = false;  // use P(yes) as the verdict instead of P(yes) >= 0.5
  core::ComponentSpec judge;
  std::string criterion_template =
      "You are grading a response against one criterion.\n\nPrompt:\n{prompt}\n\nResponse:\n{response}\n\n"
      "Criterion: {criterion}\n\nDoes the response satisfy the criterion? Answer yes or no.\nAnswer:";
  std::string likert_template =
      "You are grading a response against a rubric.\n\nPrompt:\n{prompt}\n\nResponse:\n{response}\n\n"
      "Rubric (category, criterion):\n{criteria}\nRate how well the response satisfies the rubric as a whole on a "
      "scale from 1 to 10. Reply with the number only.\nScore:";

  template <class V>
  void visit(V& v) {
    v.choice("aggregation", aggregation,
             {{"explicit", Aggregation::kExplicit}, {"implicit", Aggregation::kImplicit},
              {"hard_gate", Aggregation::kHardGate}, {"pow3r", Aggregation::kPow3r}});
    v.field("rubric_field", rubric_field);
    v.list("criteria", criteria);
    v.field("criterion_dims", criterion_dims);
    v.field("soft", soft);
    v.component("judge", judge, "local");
    v.field("criterion_template", criterion_template);
    v.field("likert_template", likert_template);
    v.require(!criterion_dims || !criteria.empty(), "criterion_dims", "needs `criteria` in the config");
    v.require(!criterion_dims || aggregation != Aggregation::kImplicit, "criterion_dims",
              "the implicit aggregation has no per-criterion verdicts");
  }
};

std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    const std::string slot = "{" + key + "}";
    for (auto pos = text.find(slot); pos != std::string::npos; pos = text.find(slot, pos + value.size()))
      text.replace(pos, slot.size(), value);
  }
  return text;
}

rubric::Criterion to_criterion(const std::string& text, const std::string& category, double weight, bool hard) {
  rubric::Criterion c{text, category, 1.0, hard};
  if (std::isfinite(weight)) c.weight = weight;
  else if (!category.empty()) c.weight = rubric::category_weight(category);
  VECRL_CHECK(c.weight >= 0, "rubric: criterion '", text.substr(0, 60), "' has a negative weight ", c.weight);
  return c;
}

class Rubric : public RewardModule {
 public:
  explicit Rubric(RubricOptions o) : o_(std::move(o)), judge_(core::create_component(judge_registry(), o_.judge)) {
    for (const auto& c : o_.criteria) fixed_.push_back(to_criterion(c.criterion, c.category, c.weight, c.hard));
  }

  std::vector<RewardDim> dims() const override {
    std::vector<RewardDim> out{{"score", 0, 1}, {"strict", 0, 1, 0}};
    if (o_.criterion_dims)
      for (std::size_t j = 0; j < o_.criteria.size(); ++j)
        out.push_back({o_.criteria[j].name.empty() ? "c" + std::to_string(j) : o_.criteria[j].name, 0, 1, 0});
    return out;
  }

  bool needs_reference() const override { return judge_->needs_reference(); }

  core::RewardMatrix score(const ScoreBatch& batch) const override {
    const auto& rollouts = batch.rollouts;
    const int64_t n = rollouts.size(), m = batch.answers_per_rollout;
    const auto names = [&] {
      std::vector<std::string> v;
      for (const auto& d : dims()) v.push_back(d.name);
      return v;
    }();
    auto matrix = core::RewardMatrix::zeros(n, m, names);
    matrix.valid.fill_(false);
    // Rubric per rollout, then one judge call per (text, criterion) — or per text for implicit.
    std::vector<std::vector<rubric::Criterion>> rubrics(n);
    for (int64_t i = 0; i < n; ++i) rubrics[i] = fixed_.empty() ? read_rubric(rollouts.samples[i]) : fixed_;
    struct Call {
      int64_t i, j, criterion;
    };
    std::vector<Call> calls;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < static_cast<int64_t>(batch.answers[i].size()); ++j) {
        const int64_t count = o_.aggregation == Aggregation::kImplicit ? 1 : static_cast<int64_t>(rubrics[i].size());
        for (int64_t c = 0; c < count; ++c) calls.push_back({i, j, c});
      }
    std::vector<double> results(calls.size(), NAN);
    std::atomic<int64_t> failed{0};
    core::parallel_for(static_cast<int64_t>(calls.size()), batch.workers, [&](int64_t k) {
      const auto& call = calls[k];
      const auto& prompt = rollouts.prompts[call.i];
      const auto& response = batch.answers[call.i][call.j];
      try {
        if (o_.aggregation == Aggregation::kImplicit) {
          std::string listing;
          for (const auto& c : rubrics[call.i])
            listing += "- (" + (c.category.empty() ? "weight " + std::to_string(c.weight) : c.category) + ") " + c.text + "\n";
          const auto reply = judge_->reply(
              fill(o_.likert_template, {{"prompt", prompt}, {"response", response}, {"criteria", listing}}), 8,
              batch.models);
          results[k] = static_cast<double>(parse_score(reply, 1, 10) - 1) / 9.0;
        } else {
          const double p = judge_->p_yes(fill(o_.criterion_template, {{"prompt", prompt},
                                                                      {"response", response},
                                                                      {"criterion", rubrics[call.i][call.criterion].text}}),
                                         batch.models);
          results[k] = o_.soft ? p : (p >= 0.5 ? 1.0 : 0.0);
        }
      } catch (const std::exception& e) {
        if (failed++ == 0) spdlog::warn("rubric: a judge call failed; its text is marked not-valid: {}", e.what());
      }
    });
    failed_texts_ += failed;
    // Gather verdicts per text; a text with any failed call is not-valid.
    std::vector<std::vector<std::vector<double>>> verdicts(n, std::vector<std::vector<double>>(m));
    std::vector<std::vector<bool>> complete(n, std::vector<bool>(m, false));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < static_cast<int64_t>(batch.answers[i].size()); ++j) complete[i][j] = true;
    for (std::size_t k = 0; k < calls.size(); ++k) {
      verdicts[calls[k].i][calls[k].j].push_back(results[k]);
      if (std::isnan(results[k])) complete[calls[k].i][calls[k].j] = false;
    }
    auto values = matrix.values.accessor<float, 3>();
    auto valid = matrix.valid.accessor<bool, 3>();
    auto set = [&](int64_t i, int64_t j, int64_t d, double v) {
      values[i][j][d] = static_cast<float>(v);
      valid[i][j][d] = true;
    };
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        if (!complete[i][j]) continue;
        const auto& v = verdicts[i][j];
        if (o_.aggregation == Aggregation::kImplicit) {
          set(i, j, 0, v[0]);
          continue;
        }
        if (o_.aggregation == Aggregation::kExplicit) set(i, j, 0, rubric::explicit_score(rubrics[i], v));
        if (o_.aggregation == Aggregation::kHardGate) set(i, j, 0, rubric::hard_gate_score(rubrics[i], v));
        set(i, j, 1, rubric::strict_completion(rubrics[i], v));
        if (o_.criterion_dims)
          for (std::size_t c = 0; c < v.size(); ++c) set(i, j, 2 + static_cast<int64_t>(c), v[c]);
      }
    if (o_.aggregation == Aggregation::kPow3r) apply_pow3r(rollouts, rubrics, verdicts, complete, set);
    return matrix;
  }

  int64_t failed_texts() const override { return failed_texts_; }

 private:
  template <class Set>
  void apply_pow3r(const core::Rollouts& rollouts, const std::vector<std::vector<rubric::Criterion>>& rubrics,
                   const std::vector<std::vector<std::vector<double>>>& verdicts,
                   const std::vector<std::vector<bool>>& complete, Set& set) const {
    const int64_t g = rollouts.group_size, m = static_cast<int64_t>(complete.empty() ? 0 : complete[0].size());
    for (int64_t group = 0; group < rollouts.num_groups(); ++group)
      for (int64_t j = 0; j < m; ++j) {
        std::vector<std::vector<double>> rows;
        std::vector<int64_t> members;
        for (int64_t i = group * g; i < (group + 1) * g; ++i)
          if (complete[i][j]) rows.push_back(verdicts[i][j]), members.push_back(i);
        if (rows.empty()) continue;
        const auto scores = rubric::pow3r_scores(rubrics[members[0]], rows);
        for (std::size_t r = 0; r < members.size(); ++r) set(members[r], j, 0, scores[r]);
      }
  }

  std::vector<rubric::Criterion> read_rubric(const nlohmann::json& sample) const {
    const auto& list = record_field(sample, o_.rubric_field, "rubric");
    VECRL_CHECK(list.is_array() && !list.empty(), "rubric: dataset field '", o_.rubric_field,
                "' should be a non-empty list of criteria");
    std::vector<rubric::Criterion> out;
    for (const auto& item : list) {
      if (item.is_string()) {
        out.push_back(to_criterion(item.get<std::string>(), "", NAN, false));
        continue;
      }
      std::string text;
      for (const char* key : {"criterion", "description", "text", "title"})
        if (item.contains(key) && item[key].is_string()) {
          text = item[key].get<std::string>();
          break;
        }
      VECRL_CHECK(!text.empty(), "rubric: a criterion in '", o_.rubric_field, "' has no text: ", item.dump().substr(0, 120));
      out.push_back(to_criterion(text, item.value("category", std::string()),
                                 item.contains("weight") ? item["weight"].get<double>() : NAN, item.value("hard", false)));
    }
    return out;
  }

  RubricOptions o_;
  std::unique_ptr<Judge> judge_;
  std::vector<rubric::Criterion> fixed_;
  mutable std::atomic<int64_t> failed_texts_{0};
};

VECRL_REGISTER(reward_registry(), "rubric", (core::make_configured<RewardModule, RubricOptions, Rubric>));

}  // namespace
}  // namespace vecrl::rewards
