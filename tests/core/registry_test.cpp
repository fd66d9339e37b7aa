#include <gtest/gtest.h>

#include "core/registry.h"

namespace {

struct Shape {
  virtual ~Shape() = default;
  virtual int sides() const = 0;
};
struct Square : Shape {
  int sides() const override { return 4; }
};
using ShapeRegistry = vecrl::core::Registry<Shape>;

}  // namespace

TEST(Registry, CreatesRegisteredAndListsNamesOnUnknown) {
  ShapeRegistry registry("shape");
  registry.add("square", [] { return std::make_unique<Square>(); });
  EXPECT_EQ(registry.create("square")->sides(), 4);
  EXPECT_TRUE(registry.contains("square"));
  try {
    registry.create("circle");
    FAIL();
  } catch (const vecrl::core::Error& e) {
    EXPECT_STREQ(e.what(), "unknown shape 'circle'; registered: square");
  }
}

TEST(Registry, RejectsDuplicates) {
  ShapeRegistry registry("shape");
  registry.add("square", [] { return std::make_unique<Square>(); });
  EXPECT_THROW(registry.add("square", [] { return std::make_unique<Square>(); }), vecrl::core::Error);
}
