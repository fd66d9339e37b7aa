#include "core/host_block_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdlib>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace vecrl::core {

size_t host_block_size_class(size_t bytes) {
  size_t power = kHostBlockCacheMinBytes;
  while (power * 2 <= bytes) power *= 2;
  const size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

namespace {

// c10's CPU alignment; the block's size class sits in a header of this size before the data, so
// one deleter frees every block whatever its size and whether the cache was on when it came.
constexpr size_t kAlignment = 64;

struct Header {
  size_t size_class;  // 0: not a cached size, freed straight to glibc
};

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) const override {
    if (bytes == 0) return {nullptr, nullptr, &release, c10::Device(c10::DeviceType::CPU)};
    const size_t size_class = enabled_.load() && bytes >= kHostBlockCacheMinBytes ? host_block_size_class(bytes) : 0;
    void* base = size_class != 0 ? take(size_class) : nullptr;
    if (base == nullptr) base = fresh_block(size_class != 0 ? size_class : bytes, size_class);
    static_cast<Header*>(base)->size_class = size_class;
    void* data = static_cast<char*>(base) + kAlignment;
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  static CachingCpuAllocator& instance() {
    static auto* allocator = new CachingCpuAllocator;  // never destroyed: tensors may outlive exit's destructors
    return *allocator;
  }

  void set_enabled(bool enabled) {
    enabled_.store(enabled);
    if (!enabled) trim();  // a later enable starts its limit afresh
  }

  void trim() const {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached();
    stats_.peak_live_bytes = stats_.live_bytes;
  }

  HostBlockCacheStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  // A new block from glibc; when it has none, the cached blocks are given back and it is asked
  // again, so the cache never turns a request that fits into an out-of-memory error.
  void* fresh_block(size_t bytes, size_t size_class) const {
    void* base = nullptr;
    if (posix_memalign(&base, kAlignment, bytes + kAlignment) == 0) return base;
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached();
    if (posix_memalign(&base, kAlignment, bytes + kAlignment) == 0) return base;
    stats_.live_bytes -= size_class;
    throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                     "CPU allocator: out of memory allocating " + std::to_string(bytes) + " bytes");
  }

  static void release(void* data) {
    if (data == nullptr) return;
    void* base = static_cast<char*>(data) - kAlignment;
    const size_t size_class = static_cast<Header*>(base)->size_class;
    if (size_class == 0 || !instance().keep(size_class, base)) std::free(base);
  }

  // A cached block of this class, or nullptr (the caller then allocates one, counted as live).
  void* take(size_t size_class) const {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.live_bytes += size_class;
    stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
    auto it = by_class_.find(size_class);
    if (it != by_class_.end() && !it->second.empty()) {
      const auto block = it->second.back();  // the most recently freed: likeliest still in cache
      it->second.pop_back();
      void* base = block->second;
      by_age_.erase(block);
      stats_.cached_bytes -= size_class;
      ++stats_.hits;
      return base;
    }
    ++stats_.misses;
    return nullptr;
  }

  // Keeps a freed block for reuse, giving the oldest cached blocks back to glibc to keep the
  // cache within the live peak (which counted this block, so it fits once the cache is empty);
  // false while the cache is off: free it.
  bool keep(size_t size_class, void* base) const {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.live_bytes -= size_class;
    if (!enabled_.load()) return false;
    while (stats_.cached_bytes + size_class > stats_.peak_live_bytes) release_oldest();
    by_class_[size_class].push_back(by_age_.insert(by_age_.end(), {size_class, base}));
    stats_.cached_bytes += size_class;
    return true;
  }

  void release_oldest() const {
    const auto [size_class, base] = by_age_.front();
    auto& blocks = by_class_[size_class];
    blocks.erase(blocks.begin());  // a class's blocks are in the order they were freed
    by_age_.pop_front();
    stats_.cached_bytes -= size_class;
    std::free(base);
  }

  void release_cached() const {
    while (!by_age_.empty()) release_oldest();
  }

  mutable std::mutex mutex_;
  std::atomic<bool> enabled_{false};
  using Blocks = std::list<std::pair<size_t, void*>>;  // (size class, block), oldest first
  mutable Blocks by_age_;
  mutable std::unordered_map<size_t, std::vector<Blocks::iterator>> by_class_;
  mutable HostBlockCacheStats stats_;
};

}  // namespace

void enable_host_block_cache(bool enabled) {
  auto& cache = CachingCpuAllocator::instance();
  cache.set_enabled(enabled);
  c10::SetCPUAllocator(enabled ? static_cast<c10::Allocator*>(&cache) : c10::GetDefaultCPUAllocator());
}

void trim_host_block_cache() { CachingCpuAllocator::instance().trim(); }

HostBlockCacheStats host_block_cache_stats() { return CachingCpuAllocator::instance().stats(); }

}  // namespace vecrl::core
