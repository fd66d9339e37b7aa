// vecrl eval: evaluates a model on the run config's eval set with the run's reward modules and
// writes the JSON report (every completion with its reward vector) plus the metrics on stdout.
#include <torch/types.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/error.h"
#include "core/plugin.h"
#include "core/runtime.h"
#include "models/policy_runner.h"
#include "rewards/reward_set.h"
#include "trainer/evaluator.h"
#include "trainer/rollout_generator.h"
#include "trainer/run_config.h"

namespace vecrl::apps {

int run_eval(const EvalArgs& args) {
  auto loaded = trainer::load_run_config(args.config, args.overrides);
  const auto& c = loaded.config;
  VECRL_CHECK(!c.eval.path.empty(), args.config, ": config key 'eval.path' is not set (the held-out records to evaluate on)");
  core::configure_logging(c.run.log_level);
  core::configure_threads(c.run.threads);
  core::load_plugins(c.plugins);
  rewards::RewardSet rewards(c.rewards, c.scoring);
  models::PolicyRunner runner(c.model.path, rewards.needs_reference());
  rewards.set_models({runner.policy().ptr(), runner.reference() ? runner.reference()->ptr() : nullptr, &runner.tokenizer()});
  const trainer::RolloutGenerator generator(runner, c.agent, c.data.chat.enable_thinking);
  auto result = trainer::evaluate(runner, rewards, c.eval, c.data.chat, c.rollout.max_new_tokens, 0, generator);
  std::filesystem::path out = args.out;
  if (out.empty())
    out = std::filesystem::path(c.run.output_dir) / c.run.name / "eval" /
          (result.report["name"].get<std::string>() + "_step_0.json");
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  std::ofstream(out) << result.report.dump(1) << "\n";
  nlohmann::ordered_json summary{{"report", out.string()}, {"metrics", result.metrics}};
  std::cout << summary.dump() << std::endl;
  return 0;
}

}  // namespace vecrl::apps
