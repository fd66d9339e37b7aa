#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "core/tensorboard.h"

TEST(TensorBoard, Crc32cKnownValues) {
  EXPECT_EQ(vecrl::core::crc32c("123456789"), 0xE3069283u);  // the standard CRC-32C check value
  EXPECT_EQ(vecrl::core::crc32c(""), 0u);
}

TEST(TensorBoard, EventFilesParseWithAnIndependentReader) {
  vecrl::core::TensorBoardSink sink(::testing::TempDir() + "/tb_test");
  sink.write(1, {{"critic/score/mean", 0.25}, {"actor/pg_loss", -1.5}});
  sink.write(2, {{"critic/score/mean", 0.75}, {"nan/is/skipped", NAN}});
  const std::string cmd = "python3 " + std::string(VECRL_SOURCE_DIR) + "/tests/core/read_tfevents.py " + sink.path();
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  ASSERT_EQ(pclose(pipe), 0) << out;
  EXPECT_EQ(out, "1 actor/pg_loss -1.5\n1 critic/score/mean 0.25\n2 critic/score/mean 0.75\nrecords 3\n");
}
