// vecrl reward: scores records from a file with exactly the reward modules and options a run
// would use, one JSON line per record, so a reward can be debugged before any training.
#include <torch/types.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "apps/commands.h"
#include "core/json_input.h"
#include "core/config.h"
#include "core/jsonl.h"
#include "core/plugin.h"
#include "core/runtime.h"
#include "models/policy_runner.h"
#include "models/tokenizer.h"
#include "rewards/reward_set.h"

namespace vecrl::apps {
namespace {

// The parts of a run config that `vecrl reward` reads; the other sections of a full run config
// are allowed and ignored, so the same file serves both.
struct RewardFileConfig {
  std::vector<std::string> plugins;
  std::vector<core::ComponentSpec> rewards;
  rewards::ScoringOptions scoring;

  template <class V>
  void visit(V& v) {
    v.field("plugins", plugins);
    v.component_list("rewards", rewards);
    v.section("scoring", scoring);
  }
};

std::vector<nlohmann::json> read_input(const std::string& file, std::vector<std::string>& origins) {
  std::vector<nlohmann::json> records;
  if (!file.empty() && file != "-") {
    auto parsed = core::read_records(file);
    for (std::size_t i = 0; i < parsed.records.size(); ++i)
      origins.push_back(file + ":" + std::to_string(parsed.lines[i]));
    return std::move(parsed.records);
  }
  std::string line;
  for (int64_t number = 1; std::getline(std::cin, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto record = core::try_parse_json(line);
    VECRL_CHECK(!record.is_discarded() && record.is_object(), "stdin:", number, ": not a JSON object (or nested deeper than ",
                core::kMaxJsonDepth, " levels): ",
                line.substr(0, 120));
    records.push_back(std::move(record));
    origins.push_back("stdin:" + std::to_string(number));
  }
  return records;
}

}  // namespace

int run_reward(const RewardArgs& args) {
  core::ConfigNode root(core::load_yaml_file(args.config), args.config);
  RewardFileConfig config;
  config.visit(root);
  core::load_plugins(config.plugins);
  if (args.workers > 0) config.scoring.workers = args.workers;
  rewards::RewardSet set(config.rewards, config.scoring);

  std::vector<std::string> origins;
  auto records = read_input(args.file, origins);
  VECRL_CHECK(!records.empty(), "no records to score in ", args.file.empty() ? "stdin" : args.file);
  VECRL_CHECK(args.group_size >= 1 && records.size() % args.group_size == 0, "--group-size ", args.group_size,
              " must divide the ", records.size(), " records (consecutive records form a group)");
  std::unique_ptr<models::PolicyRunner> runner;
  if (!args.model.empty()) {
    core::configure_threads(args.threads);
    runner = std::make_unique<models::PolicyRunner>(args.model, set.needs_reference());
    set.set_models({runner->policy().ptr(), runner->reference() ? runner->reference()->ptr() : nullptr,
                    &runner->tokenizer()});
  }
  std::unique_ptr<models::Tokenizer> own_tokenizer;
  if (!args.tokenizer.empty()) own_tokenizer = models::load_tokenizer(args.tokenizer);
  const models::Tokenizer* tokenizer = own_tokenizer ? own_tokenizer.get() : runner ? &runner->tokenizer() : nullptr;

  const auto n = static_cast<int64_t>(records.size());
  core::Rollouts rollouts;
  rollouts.group_size = args.group_size;
  std::vector<int64_t> lengths(n, 0);
  bool all_lengths = true;
  rollouts.truncated = torch::zeros({n}, torch::kBool);
  for (int64_t i = 0; i < n; ++i) {
    const auto& r = records[i];
    VECRL_CHECK(r.contains(args.response_field) && r[args.response_field].is_string(), origins[i],
                ": the record has no string field '", args.response_field, "'");
    rollouts.responses.push_back(r[args.response_field].get<std::string>());
    rollouts.prompts.push_back(r.value(args.prompt_field, std::string()));
    rollouts.truncated[i] = r.value("truncated", false);
    if (r.contains("response_tokens")) {
      lengths[i] = r["response_tokens"].get<int64_t>();
    } else if (tokenizer) {
      lengths[i] = static_cast<int64_t>(tokenizer->encode(rollouts.responses.back()).size());
    } else {
      all_lengths = false;
    }
  }
  rollouts.samples = records;
  const int64_t t = std::max<int64_t>(1, *std::max_element(lengths.begin(), lengths.end()));
  rollouts.prompt_ids = torch::zeros({n, 1}, torch::kLong);
  rollouts.prompt_mask = torch::ones({n, 1}, torch::kBool);
  rollouts.response_ids = torch::zeros({n, t}, torch::kLong);
  rollouts.behaviour_logprobs = torch::zeros({n, t});
  rollouts.response_mask = torch::arange(t).unsqueeze(0) < torch::tensor(lengths).unsqueeze(1);

  const auto scored = set.score(rollouts, all_lengths);
  const int64_t m = scored.answers();
  for (int64_t i = 0; i < n; ++i) {
    nlohmann::ordered_json line{{"index", i}};
    for (int64_t k = 0; k < scored.dims(); ++k) {
      nlohmann::json values = nlohmann::json::array(), valid = nlohmann::json::array();
      for (int64_t j = 0; j < m; ++j) {
        const bool ok = scored.valid[i][j][k].item<bool>();
        values.push_back(ok ? nlohmann::json(scored.values[i][j][k].item<double>()) : nlohmann::json());
        valid.push_back(ok);
      }
      line["rewards"][scored.names[k]] = m == 1 ? values[0] : values;
      line["valid"][scored.names[k]] = m == 1 ? valid[0] : valid;
    }
    std::cout << line.dump() << "\n";
  }
  auto metrics = rewards::RewardSet::metrics(scored, set.weights());
  for (const auto& name : scored.names)
    spdlog::info("{}: mean {:.4f} over valid ({:.0f}% valid)", name, metrics.at("rewards/" + name + "/mean"),
                 100.0 * metrics.at("rewards/" + name + "/valid_frac"));
  if (set.failures() > 0) spdlog::warn("{} texts or batches could not be scored (marked not-valid)", set.failures());
  return 0;
}

}  // namespace vecrl::apps
