#include <gtest/gtest.h>

#include "trainer/grad_norm_monitor.h"

using vecrl::trainer::GradNormMonitor;

TEST(GradNormMonitor, FlagsNormsFarAboveTheRecentMedianAfterAWarmUp) {
  GradNormMonitor monitor(10.0, /*window=*/4, /*warmup=*/3);
  EXPECT_FALSE(monitor.observe(1.0));
  EXPECT_FALSE(monitor.observe(100.0));  // too early to judge
  EXPECT_FALSE(monitor.observe(2.0));
  EXPECT_DOUBLE_EQ(monitor.median(), 2.0);  // of {1, 100, 2}
  EXPECT_FALSE(monitor.observe(19.0));   // 9.5x the median of {1, 100, 2}
  EXPECT_DOUBLE_EQ(monitor.median(), 10.5);  // of {1, 100, 2, 19}
  EXPECT_TRUE(monitor.observe(200.0));   // > 10 x 10.5
  EXPECT_EQ(monitor.history(), (std::vector<double>{100.0, 2.0, 19.0, 200.0}));  // the last 4
  GradNormMonitor restored(10.0, 4, 3);
  restored.restore(monitor.history());
  EXPECT_DOUBLE_EQ(restored.median(), monitor.median());
  GradNormMonitor off(0.0, 4, 0);
  EXPECT_FALSE(off.observe(1.0));
  EXPECT_FALSE(off.observe(1e9));
}
