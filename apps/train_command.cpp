#include <cstdio>
#include <iostream>

#include "apps/commands.h"
#include "trainer/rl_trainer.h"

namespace vecrl::apps {

int run_train(const TrainArgs& args) {
  trainer::RlTrainer trainer(trainer::load_run_config(args.config, args.overrides));
  auto summary = trainer.run([](const std::string& line) { std::cout << line << std::endl; });
  std::printf("done: %lld steps in %.1f s; mean total reward: first %lld steps %.4f, last %lld steps %.4f (%+.4f)\n",
              static_cast<long long>(summary.steps), summary.seconds,
              static_cast<long long>(summary.window), summary.first_window_reward,
              static_cast<long long>(summary.window), summary.last_window_reward,
              summary.last_window_reward - summary.first_window_reward);
  std::printf("metrics: %s/metrics.jsonl, policy: %s/final\n", summary.run_dir.c_str(), summary.run_dir.c_str());
  return 0;
}

}  // namespace vecrl::apps
