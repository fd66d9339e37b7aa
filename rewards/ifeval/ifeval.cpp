// ifeval: IFEval's verifiable instructions (rewards/ifeval/checks.h). Reads the sample's
// `instruction_id_list` and `kwargs`; one dimension per instruction id (1 followed, 0 not, and
// not-valid when the prompt does not carry that instruction), in `mode` strict or loose, plus the
// benchmark's accuracies for this response: prompt_level_{strict,loose} (all instructions
// followed) and instruction_level_{strict,loose} (the fraction followed).
#include "rewards/ifeval/checks.h"
#include "rewards/reward_module.h"

#include <cmath>

namespace vecrl::rewards {
namespace {

enum class IfevalMode { kStrict, kLoose };

struct IfevalOptions {
  IfevalMode mode = IfevalMode::kStrict;
  std::string ids_field = "instruction_id_list";
  std::string kwargs_field = "kwargs";

  template <class V>
  void visit(V& v) {
    v.choice("mode", mode, {{"strict", IfevalMode::kStrict}, {"loose", IfevalMode::kLoose}});
    v.field("ids_field", ids_field);
    v.field("kwargs_field", kwargs_field);
  }
};

class Ifeval : public TextRewardModule {
 public:
  explicit Ifeval(IfevalOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override {
    // Trained on: the instruction-level accuracy of the configured mode; the rest is reported.
    std::vector<RewardDim> out;
    for (const auto& id : ifeval::instruction_ids()) out.push_back({id, 0, 1, 0});
    const bool strict = o_.mode == IfevalMode::kStrict;
    out.push_back({"prompt_level_strict", 0, 1, 0});
    out.push_back({"instruction_level_strict", 0, 1, strict ? 1.0 : 0.0});
    out.push_back({"prompt_level_loose", 0, 1, 0});
    out.push_back({"instruction_level_loose", 0, 1, strict ? 0.0 : 1.0});
    return out;
  }

  std::vector<double> score_text(const TextItem& item) const override {
    const auto& ids = record_field(item.sample, o_.ids_field, "ifeval");
    const auto& kwargs = record_field(item.sample, o_.kwargs_field, "ifeval");
    VECRL_CHECK(ids.is_array() && !ids.empty() && kwargs.is_array() && kwargs.size() == ids.size(), "ifeval: fields '",
                o_.ids_field, "' and '", o_.kwargs_field, "' must be lists of the same non-zero length");
    const auto& all = ifeval::instruction_ids();
    std::vector<double> row(all.size() + 4, NAN);
    int64_t strict = 0, loose = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string id = ids[i].get<std::string>();
      const bool s = ifeval::follows_strict(id, kwargs[i], item.text);
      const bool l = s || ifeval::follows_loose(id, kwargs[i], item.text);
      strict += s;
      loose += l;
      const auto at = std::find(all.begin(), all.end(), id) - all.begin();
      row[at] = (o_.mode == IfevalMode::kStrict ? s : l) ? 1.0 : 0.0;
    }
    const auto n = static_cast<double>(ids.size());
    row[all.size()] = strict == static_cast<int64_t>(ids.size()) ? 1.0 : 0.0;
    row[all.size() + 1] = static_cast<double>(strict) / n;
    row[all.size() + 2] = loose == static_cast<int64_t>(ids.size()) ? 1.0 : 0.0;
    row[all.size() + 3] = static_cast<double>(loose) / n;
    return row;
  }

 private:
  IfevalOptions o_;
};

VECRL_REGISTER(reward_registry(), "ifeval", (core::make_configured<RewardModule, IfevalOptions, Ifeval>));

}  // namespace
}  // namespace vecrl::rewards
