// The host allocator settings: large blocks from the heap (retained) or mmapped per block (glibc's default).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

#include "core/error.h"
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
  core::configure_host_allocator(core::HostAllocator::kSystem);  // as the other tests expect
}

TEST(HostAllocator, NamesAreCheckedAndTheErrorNamesItsSource) {
  EXPECT_EQ(core::host_allocator_named("retained", "x"), core::HostAllocator::kRetained);
  EXPECT_EQ(core::host_allocator_named("system", "x"), core::HostAllocator::kSystem);
  try {
    core::host_allocator_named("jemalloc", "VECRL_HOST_ALLOCATOR");
    FAIL();
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("VECRL_HOST_ALLOCATOR: expected retained or system, got 'jemalloc'"),
              std::string::npos)
        << e.what();
  }
}
