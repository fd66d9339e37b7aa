// The host allocator settings: large blocks from the heap and a size-class cache (retained) or
// mmapped per block (glibc's default).
#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/host_block_cache.h"
#include "core/runtime.h"

using namespace vecrl;

namespace {

// Blocks glibc serves by mmap while a 64 MiB block is allocated, and after it is freed.
void* volatile escaped = nullptr;  // keeps the compiler from eliding the malloc/free pair

std::pair<size_t, size_t> mmapped_blocks_around_a_large_block() {
  escaped = std::malloc(size_t{64} << 20);
  const size_t during = mallinfo2().hblks;
  std::free(escaped);
  return {during, mallinfo2().hblks};
}

}  // namespace

TEST(HostAllocator, RetainedServesLargeBlocksFromTheHeapAndSystemMapsThem) {
  core::configure_host_allocator(core::HostAllocator::kSystem);
  const size_t before_system = mallinfo2().hblks;
  const auto [during_system, after_system] = mmapped_blocks_around_a_large_block();
  EXPECT_EQ(during_system, before_system + 1);
  EXPECT_EQ(after_system, before_system);  // unmapped when freed: the next one faults its pages again

  core::configure_host_allocator(core::HostAllocator::kRetained);
  const size_t before_retained = mallinfo2().hblks;
  const auto [during_retained, after_retained] = mmapped_blocks_around_a_large_block();
  EXPECT_EQ(during_retained, before_retained);
  EXPECT_EQ(after_retained, before_retained);

  core::configure_host_allocator(core::HostAllocator::kHeap);
  const size_t before_heap = mallinfo2().hblks;
  EXPECT_EQ(mmapped_blocks_around_a_large_block(), std::make_pair(before_heap, before_heap));
  core::configure_host_allocator(core::HostAllocator::kSystem);  // as the other tests expect
}

TEST(HostAllocator, NamesAreCheckedAndTheErrorNamesItsSource) {
  EXPECT_EQ(core::host_allocator_named("retained", "x"), core::HostAllocator::kRetained);
  EXPECT_EQ(core::host_allocator_named("system", "x"), core::HostAllocator::kSystem);
  EXPECT_EQ(core::host_allocator_named("heap", "x"), core::HostAllocator::kHeap);
  try {
    core::host_allocator_named("jemalloc", "VECRL_HOST_ALLOCATOR");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("VECRL_HOST_ALLOCATOR: expected retained, heap or system, got 'jemalloc'"),
              std::string::npos)
        << e.what();
  }
}

// The size-class cache in front of LibTorch's CPU allocator (what `retained` installs).
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Allocates through LibTorch's CPU allocator, as at::empty does.
c10::DataPtr cpu_block(size_t bytes) { return c10::GetCPUAllocator()->allocate(bytes); }

// The cache on and empty, its live peak started over.
void fresh_cache() {
  core::enable_host_block_cache(false);
  core::enable_host_block_cache(true);
}

}  // namespace

TEST(HostBlockCache, SizeClassesRoundUpToAnEighthOfThePowerOfTwo) {
  EXPECT_EQ(core::host_block_size_class(kMiB), kMiB);
  EXPECT_EQ(core::host_block_size_class(kMiB + 1), kMiB + kMiB / 8);
  EXPECT_EQ(core::host_block_size_class(3 * kMiB), 3 * kMiB);
  EXPECT_EQ(core::host_block_size_class(3 * kMiB + 1), 3 * kMiB + kMiB / 4);
  // qwen3-50m's LM-head chunk, [512, 151936] float32, is served from a 320 MiB class.
  EXPECT_EQ(core::host_block_size_class(size_t{512} * 151936 * 4), 320 * kMiB);
  size_t previous = 0;
  for (size_t bytes = kMiB; bytes < 600 * kMiB; bytes = bytes * 9 / 8 + 4097) {
    const size_t size_class = core::host_block_size_class(bytes);
    EXPECT_GE(size_class, bytes);
    EXPECT_LE(size_class, bytes + bytes / 8) << bytes;
    EXPECT_GE(size_class, previous);
    previous = size_class;
  }
}

TEST(HostBlockCache, AFreedBlockServesTheNextRequestOfItsClass) {
  fresh_cache();
  const auto before = core::host_block_cache_stats();
  void* first = nullptr;
  {
    auto block = cpu_block(3 * kMiB);
    first = block.get();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0U);
    std::memset(first, 1, 3 * kMiB);
  }
  EXPECT_EQ(core::host_block_cache_stats().cached_bytes, 3 * kMiB);
  auto again = cpu_block(3 * kMiB - 100);  // the same class
  EXPECT_EQ(again.get(), first);
  auto other = cpu_block(5 * kMiB);  // another class: a block of its own
  EXPECT_NE(other.get(), first);
  auto small = cpu_block(1000);  // below the cache: glibc's, not counted
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small.get()) % 64, 0U);
  const auto after = core::host_block_cache_stats();
  EXPECT_EQ(after.hits - before.hits, 1U);
  EXPECT_EQ(after.misses - before.misses, 2U);
  EXPECT_EQ(after.live_bytes - before.live_bytes, 3 * kMiB + 5 * kMiB);
  EXPECT_EQ(after.cached_bytes, 0U);
  EXPECT_EQ(cpu_block(0).get(), nullptr);
}

TEST(HostBlockCache, HoldsAtMostTheLivePeakAndGivesBackTheOldestFirst) {
  fresh_cache();
  { auto block = cpu_block(8 * kMiB); }  // the live peak is 8 MiB; the block is kept
  EXPECT_EQ(core::host_block_cache_stats().cached_bytes, 8 * kMiB);
  void* two = nullptr;
  {
    auto block = cpu_block(2 * kMiB);
    two = block.get();
  }  // 8 + 2 MiB would exceed the peak: the older 8 MiB block goes back to glibc
  auto stats = core::host_block_cache_stats();
  EXPECT_EQ(stats.cached_bytes, 2 * kMiB);
  EXPECT_EQ(stats.peak_live_bytes, 8 * kMiB);
  auto again = cpu_block(2 * kMiB);
  EXPECT_EQ(again.get(), two);
  const auto misses = core::host_block_cache_stats().misses;
  auto eight = cpu_block(8 * kMiB);
  EXPECT_EQ(core::host_block_cache_stats().misses, misses + 1);
  // Live 10 MiB now: both fit under the new peak when freed.
  again.clear();
  eight.clear();
  EXPECT_EQ(core::host_block_cache_stats().cached_bytes, 10 * kMiB);
}

TEST(HostBlockCache, DisablingRestoresLibTorchsAllocatorAndFreesWhatComesBack) {
  core::configure_host_allocator(core::HostAllocator::kHeap);  // the heap without the cache
  EXPECT_EQ(c10::GetCPUAllocator(), c10::GetDefaultCPUAllocator());
  core::configure_host_allocator(core::HostAllocator::kRetained);
  EXPECT_NE(c10::GetCPUAllocator(), c10::GetDefaultCPUAllocator());
  auto kept_across = cpu_block(4 * kMiB);
  { auto cached = cpu_block(2 * kMiB); }
  EXPECT_GT(core::host_block_cache_stats().cached_bytes, 0U);
  core::configure_host_allocator(core::HostAllocator::kSystem);
  EXPECT_EQ(c10::GetCPUAllocator(), c10::GetDefaultCPUAllocator());
  EXPECT_EQ(core::host_block_cache_stats().cached_bytes, 0U);
  std::memset(kept_across.get(), 2, 4 * kMiB);
  kept_across.clear();  // allocated by the cache, freed after it was turned off: to glibc
  EXPECT_EQ(core::host_block_cache_stats().cached_bytes, 0U);
}
