// Every built-in name is registered in the libraries as linked into an executable.
#include <gtest/gtest.h>

#include "algorithms/advantage.h"
#include "agents/environment.h"
#include "agents/tool.h"
#include "algorithms/policy_loss.h"
#include "rewards/reward_module.h"

using namespace vecrl;

TEST(Registries, AllBuiltinsArePresent) {
  for (const char* name : {"grpo", "dr_grpo", "rc", "rloo", "reinforce_pp", "reinforce_pp_baseline", "ac", "gdpo",
                           "dvao", "hdpo", "vpo"}) EXPECT_TRUE(algorithms::advantage_registry().contains(name)) << name;
  for (const char* name : {"ppo_clip", "gspo"}) EXPECT_TRUE(algorithms::policy_loss_registry().contains(name)) << name;
  for (const char* name : {"contains_word", "ends_with", "word_limit", "math", "code", "tool_use"})
    EXPECT_TRUE(rewards::reward_registry().contains(name)) << name;
  for (const char* name : {"calculator", "python"}) EXPECT_TRUE(agents::tool_registry().contains(name)) << name;
  EXPECT_TRUE(agents::environment_registry().contains("tools"));
}
