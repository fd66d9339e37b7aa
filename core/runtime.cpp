#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <malloc.h>
#include <sys/resource.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <thread>

#include "core/error.h"
#include "core/host_block_cache.h"

namespace vecrl::core {

int configure_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return at::get_num_threads();
}

ThreadsInScope::ThreadsInScope(int threads) : previous_(at::get_num_threads()) {
  VECRL_CHECK(threads > 0, "ThreadsInScope: threads must be > 0, got ", threads);
  if (threads != previous_) at::set_num_threads(threads);
}

ThreadsInScope::~ThreadsInScope() {
  if (at::get_num_threads() != previous_) at::set_num_threads(previous_);
}

void configure_host_allocator(HostAllocator allocator) {
  constexpr int kGlibcMmapMax = 65536, kGlibcThreshold = 128 * 1024;  // glibc's documented defaults
  const bool retained = allocator != HostAllocator::kSystem;
  const bool ok = mallopt(M_MMAP_MAX, retained ? 0 : kGlibcMmapMax) == 1 &&
                  mallopt(M_TRIM_THRESHOLD, retained ? INT_MAX : kGlibcThreshold) == 1 &&
                  (retained || mallopt(M_MMAP_THRESHOLD, kGlibcThreshold) == 1);
  VECRL_CHECK(ok, "mallopt refused the ", retained ? "retained" : "system", " host allocator settings");
  enable_host_block_cache(allocator == HostAllocator::kRetained);
}

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

HostAllocator host_allocator_named(const std::string& name, const std::string& where) {
  if (name == "retained") return HostAllocator::kRetained;
  if (name == "heap") return HostAllocator::kHeap;
  if (name == "system") return HostAllocator::kSystem;
  throw Error(str_cat(where, ": expected retained, heap or system, got '", name, "'"));
}

void log_to_stderr() { spdlog::set_default_logger(spdlog::stderr_color_mt("vecrl")); }

void configure_logging(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  VECRL_CHECK(parsed != spdlog::level::off || level == "off", "unknown log level '", level,
              "'; use trace, debug, info, warn, error or off");
  spdlog::set_level(parsed);
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
}

}  // namespace vecrl::core
