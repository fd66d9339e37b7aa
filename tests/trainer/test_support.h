#pragma once
// Helpers for trainer tests: the quickstart config with overrides into a temporary run folder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trainer/run_config.h"

namespace vecrl::test {

inline std::string quickstart_config() { return std::string(VECRL_SOURCE_DIR) + "/configs/quickstart.yaml"; }

// The run goes to a temporary folder; `overrides` are applied last so tests can replace any of this.
inline std::vector<std::string> with_temp_run(const std::vector<std::string>& overrides, const std::string& name) {
  std::vector<std::string> all = {
      "run.output_dir=" + ::testing::TempDir() + "/vecrl_runs", "run.name=" + name,
      "model.path=" + std::string(VECRL_SHARED_DATA) + "/models/stories260K",
      "data.path=" + std::string(VECRL_SOURCE_DIR) + "/configs/data/story_prompts.jsonl"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return all;
}

}  // namespace vecrl::test
