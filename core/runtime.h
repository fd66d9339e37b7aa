#pragma once
// Process-wide runtime settings: threads, the host allocator and logging.
#include <string>

namespace vecrl::core {

// Sets LibTorch's intra-op threads (and OpenMP's, which OpenBLAS follows). LibTorch 1.13 defaults to
// one thread on small VMs, so this is always called explicitly; threads <= 0 means all cores.
// Returns the number of threads in use.
int configure_threads(int threads);

// Runs this thread's LibTorch ops on `threads` threads until the end of the scope. A loop of many
// small ops (a small model's decode step) is faster on one thread: each op that opens an OpenMP
// region wakes the other threads for a few microseconds of work (2.1x on stories260K, 2 cores).
class ThreadsInScope {
 public:
  explicit ThreadsInScope(int threads);
  ~ThreadsInScope();
  ThreadsInScope(const ThreadsInScope&) = delete;
  ThreadsInScope& operator=(const ThreadsInScope&) = delete;

 private:
  int previous_;
};

// Where the host allocator gets large blocks. glibc maps every block above its mmap threshold (at
// most 32 MiB) afresh and unmaps it when freed, so each of a training step's large tensors (the LM
// head's [rows, V] chunks and their gradients, the embedding gradient) is page-faulted and zeroed
// by the kernel again at every use: a third of a qwen3-50m update's time on the 2-core VM.
// kRetained serves them from the heap and keeps freed memory for reuse (M_MMAP_MAX 0,
// M_TRIM_THRESHOLD at its maximum), at the price of the process keeping its peak resident, and
// puts LibTorch's large CPU blocks in a cache by size class (core/host_block_cache.h), so that a
// step repeating the last one's allocations does not fragment the heap into growing again;
// kHeap is kRetained without the cache (LibTorch's own CPU allocator on the retained heap);
// kSystem sets glibc's default values again (for later allocations; its dynamic threshold stays
// off) and LibTorch's own CPU allocator.
enum class HostAllocator { kSystem, kHeap, kRetained };
void configure_host_allocator(HostAllocator allocator);

// Minor page faults of this process so far (getrusage): each is a page the kernel maps and zeroes
// on first touch, which is what a heap that keeps growing costs (the bench prints them per step).
long minor_page_faults();

// "retained", "heap" or "system"; anything else is an error naming `where` (an option or variable).
HostAllocator host_allocator_named(const std::string& name, const std::string& where);

// Sets up the spdlog default logger ("info", "debug", "warn", ...).
void configure_logging(const std::string& level);

// Log lines go to stderr, so that a command's stdout holds only its results (JSON lines from
// `vecrl reward`, `vecrl advantage`, `vecrl generate --json`, the training lines).
void log_to_stderr();

}  // namespace vecrl::core
