#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "core/error.h"

namespace vecrl::core {

int configure_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return at::get_num_threads();
}

void configure_logging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  VECRL_CHECK(parsed != spdlog::level::off || level == "off", "unknown log level '", level,
              "'; use trace, debug, info, warn, error or off");
  spdlog::set_level(parsed);
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
}

}  // namespace vecrl::core
