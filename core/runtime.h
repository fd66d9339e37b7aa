#pragma once
// Process-wide runtime settings: threads and logging.
#include <string>

namespace vecrl::core {

// Sets LibTorch's intra-op threads (and OpenMP's, which OpenBLAS follows). LibTorch 1.13 defaults to
// one thread on small VMs, so this is always called explicitly; threads <= 0 means all cores.
// Returns the number of threads in use.
int configure_threads(int threads);

// Sets up the spdlog default logger ("info", "debug", "warn", ...).
void configure_logging(const std::string& level);

}  // namespace vecrl::core
