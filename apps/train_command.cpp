#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "apps/commands.h"
#include "apps/stop_signal.h"
#include "trainer/rl_trainer.h"

namespace vecrl::apps {

namespace {

// Crash points for the command-line tests, which run `vecrl train` as a process: the library takes
// them as hooks (trainer/hooks.h); only this command reads them from the environment.
//  - VECRL_TEST_EXIT_RANK=r and VECRL_TEST_EXIT_AFTER_STEP=s: rank r vanishes (no clean-up, like a
//    crash) after step s;
//  - VECRL_TEST_SIGKILL_DURING_CHECKPOINT=s: the process is killed while the checkpoint of step s
//    is half written.
void maybe_inject_exit(int64_t step, int64_t rank) {
  const char* r = std::getenv("VECRL_TEST_EXIT_RANK");
  const char* s = std::getenv("VECRL_TEST_EXIT_AFTER_STEP");
  if (r != nullptr && s != nullptr && std::atoll(r) == rank && std::atoll(s) == step) std::_Exit(17);
}

trainer::TrainerHooks crash_hooks_from_env() {
  trainer::TrainerHooks hooks;
  if (const char* kill_at = std::getenv("VECRL_TEST_SIGKILL_DURING_CHECKPOINT")) {
    const int64_t step = std::atoll(kill_at);
    hooks.during_checkpoint = [step](int64_t at) {
      if (at == step) std::raise(SIGKILL);
    };
  }
  return hooks;
}

}  // namespace

int run_train(const TrainArgs& args) {
  auto overrides = args.overrides;
  if (args.resume) overrides.push_back("checkpoint.resume=required");
  trainer::RlTrainer trainer(trainer::load_run_config(args.config, overrides));
  trainer.set_hooks(crash_hooks_from_env());
  install_stop_handlers();
  auto summary = trainer.run([](const std::string& line) { std::cout << line << std::endl; }, maybe_inject_exit,
                             stop_requested);
  if (trainer.rank() != 0) return 0;
  if (summary.stopped_early) {
    std::printf("stopped by a signal after step %lld; checkpoint written. Continue with: vecrl train %s --resume\n",
                static_cast<long long>(summary.steps), args.config.c_str());
    return 0;
  }
  std::printf("done: %lld steps in %.1f s; mean total reward: first %lld steps %.4f, last %lld steps %.4f (%+.4f)\n",
              static_cast<long long>(summary.steps), summary.seconds,
              static_cast<long long>(summary.window), summary.first_window_reward,
              static_cast<long long>(summary.window), summary.last_window_reward,
              summary.last_window_reward - summary.first_window_reward);
  std::printf("metrics: %s/metrics.jsonl, policy: %s/final\n", summary.run_dir.c_str(), summary.run_dir.c_str());
  return 0;
}

}  // namespace vecrl::apps
