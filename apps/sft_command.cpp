#include <cstdio>
#include <iostream>

#include "apps/commands.h"
#include "apps/stop_signal.h"
#include "trainer/sft_trainer.h"

namespace vecrl::apps {

int run_sft(const SftArgs& args) {
  auto overrides = args.overrides;
  if (args.resume) overrides.push_back("checkpoint.resume=required");
  trainer::SftTrainer trainer(trainer::load_sft_config(args.config, overrides));
  install_stop_handlers();
  auto summary = trainer.run([](const std::string& line) { std::cout << line << std::endl; }, stop_requested);
  if (summary.stopped_early) {
    std::printf("stopped by a signal; checkpoint written. Continue with: vecrl sft %s --resume\n", args.config.c_str());
    return 0;
  }
  std::printf("done: steps %lld-%lld in %.1f s; loss %.4f -> %.4f\n", static_cast<long long>(summary.first_step),
              static_cast<long long>(summary.steps), summary.seconds, summary.first_loss, summary.last_loss);
  std::printf("metrics: %s/metrics.jsonl, model: %s/final (use it as model.path of an RL run)\n",
              summary.run_dir.c_str(), summary.run_dir.c_str());
  return 0;
}

}  // namespace vecrl::apps
