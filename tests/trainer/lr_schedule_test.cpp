#include <gtest/gtest.h>

#include <cmath>

#include "trainer/lr_schedule.h"

using vecrl::trainer::learning_rate;
using vecrl::trainer::LrSchedule;

TEST(LrSchedule, WarmupThenDecay) {
  // 10 steps, 2 of warm-up, base 1.0, floor 0.1.
  EXPECT_DOUBLE_EQ(learning_rate({LrSchedule::kConstant, 1.0, 2, 10, 0.1}, 1), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate({LrSchedule::kConstant, 1.0, 2, 10, 0.1}, 2), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate({LrSchedule::kConstant, 1.0, 2, 10, 0.1}, 10), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate({LrSchedule::kLinear, 1.0, 2, 10, 0.1}, 6), 0.1 + 0.9 * 0.5);
  EXPECT_DOUBLE_EQ(learning_rate({LrSchedule::kLinear, 1.0, 2, 10, 0.1}, 10), 0.1);
  EXPECT_NEAR(learning_rate({LrSchedule::kCosine, 1.0, 2, 10, 0.0}, 6), 0.5, 1e-12);
  EXPECT_NEAR(learning_rate({LrSchedule::kCosine, 1.0, 2, 10, 0.0}, 4), 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);
  EXPECT_NEAR(learning_rate({LrSchedule::kCosine, 1.0, 0, 10, 0.2}, 10), 0.2, 1e-12);
}
