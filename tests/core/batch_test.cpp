#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/batch.h"
#include "core/error.h"

using vecrl::core::RewardMatrix;

TEST(RewardMatrix, ConcatJoinsDimensionsAndRejectsDuplicates) {
  auto a = RewardMatrix::zeros(4, 1, {"a/x"});
  auto b = RewardMatrix::zeros(4, 1, {"b/y", "b/z"});
  b.valid[2][0][1] = false;
  auto c = RewardMatrix::concat({a, b});
  EXPECT_EQ(c.values.sizes(), (std::vector<int64_t>{4, 1, 3}));
  EXPECT_EQ(c.index_of("b/z"), 2);
  EXPECT_FALSE(c.valid[2][0][2].item<bool>());
  EXPECT_THROW(RewardMatrix::concat({a, a}), vecrl::core::Error);
  EXPECT_THROW(c.index_of("nope"), vecrl::core::Error);
}

TEST(Advantages, BroadcastToResponseTokens) {
  vecrl::core::Advantages adv{{"primary"}, torch::tensor({1.5f, -2.0f}).view({1, 2})};
  auto mask = torch::tensor({1, 1, 0, 1, 0, 0}).view({2, 3}).to(torch::kBool);
  auto tokens = adv.per_token(0, mask);
  EXPECT_TRUE(torch::allclose(tokens, torch::tensor({1.5f, 1.5f, 0.f, -2.f, 0.f, 0.f}).view({2, 3})));
  EXPECT_THROW(adv.per_token(1, mask), vecrl::core::Error);
}
