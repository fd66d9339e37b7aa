#pragma once
// LibTorch's CPU allocator with a cache of large blocks. A training step allocates and frees the
// same large tensors every step (the LM head's [rows, V] chunks and their gradients, activations,
// the embedding gradient); glibc hands a freed block's memory to the next request that fits, so
// the heap fragments and keeps growing for several steps, and each new heap page is page-faulted
// and zeroed by the kernel (expensive on a VM: a fifth of a qwen3-50m update in its first steps).
// The cache keeps each freed block of at least kHostBlockCacheMinBytes under its size class (eight classes per
// doubling, at most 12.5% rounding) and gives it to the next request of that class, so a step
// that repeats the previous one's allocations is served without touching glibc or the kernel.
#include <cstddef>

namespace vecrl::core {

struct HostBlockCacheStats {
  size_t hits = 0;          // large requests served from the cache
  size_t misses = 0;        // large requests that went to malloc
  size_t live_bytes = 0;    // large blocks in use (by size class)
  size_t cached_bytes = 0;  // large blocks freed and kept
  size_t peak_live_bytes = 0;
};

// Smallest request the cache keeps; smaller ones go straight to malloc and free.
constexpr size_t kHostBlockCacheMinBytes = size_t{1} << 20;

// The size class a request of `bytes` (>= kHostBlockCacheMinBytes) is served from: `bytes`
// rounded up to an eighth of its power of two.
size_t host_block_size_class(size_t bytes);

// Installs the caching allocator as LibTorch's CPU allocator (enabled) or puts LibTorch's default
// back, frees every cached block and starts the live peak over (disabled). Blocks allocated while
// enabled may be freed later in either state. Not for use while another thread allocates (as
// c10::SetCPUAllocator). The cache holds at most the peak of live large blocks since it was
// enabled, giving the least recently freed blocks back to glibc first; a request glibc cannot
// serve frees the whole cache and is asked again.
void enable_host_block_cache(bool enabled);

// Frees every cached block and starts the live peak over, at a change of workload whose blocks
// the next one will not ask for again (a benchmark's ceiling buffers before the model runs).
void trim_host_block_cache();

HostBlockCacheStats host_block_cache_stats();

}  // namespace vecrl::core
