#include "apps/stop_signal.h"

#include <atomic>
#include <csignal>

namespace vecrl::apps {
namespace {

std::atomic<bool> requested{false};

void on_stop_signal(int signal) {
  requested = true;
  if (signal == SIGINT) std::signal(SIGINT, SIG_DFL);
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}

bool stop_requested() { return requested.load(); }

}  // namespace vecrl::apps
