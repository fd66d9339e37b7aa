#pragma once
// A tiny work pool for host-side work that is independent per item (reward texts, tool calls).
#include <cstdint>
#include <functional>

namespace vecrl::core {

// Runs fn(i) for i in [0, n) on `workers` threads (the caller's thread included); the first
// exception thrown is rethrown after all workers stop.
void parallel_for(int64_t n, int workers, const std::function<void(int64_t)>& fn);

}  // namespace vecrl::core
