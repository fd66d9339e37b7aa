#include "trainer/run_folder.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"

namespace vecrl::trainer {
namespace fs = std::filesystem;

std::optional<CheckpointPaths> prepare_run_folder(const std::string& run_dir, const std::string& resolved_config,
                                                  ResumeMode resume, bool is_main) {
  std::optional<CheckpointPaths> checkpoint;
  if (resume != ResumeMode::kNever) checkpoint = latest_checkpoint(run_dir);
  VECRL_CHECK(checkpoint || resume != ResumeMode::kRequired, "cannot resume: no checkpoint in ",
              (fs::path(run_dir) / "checkpoints").string());
  if (!is_main) return checkpoint;
  fs::create_directories(run_dir);
  std::ofstream(fs::path(run_dir) / "config.yaml") << resolved_config;
  if (!checkpoint) {
    fs::remove(fs::path(run_dir) / "metrics.jsonl");
    fs::remove(fs::path(run_dir) / "samples.jsonl");
    if (!list_checkpoints(run_dir).empty()) {
      spdlog::warn("fresh run: removing the earlier checkpoints of {} (set checkpoint.resume: auto to continue them)",
                   run_dir);
      fs::remove_all(fs::path(run_dir) / "checkpoints");
    }
  }
  return checkpoint;
}

void drop_metrics_after(const std::string& run_dir, int64_t step) {
  const auto path = fs::path(run_dir) / "metrics.jsonl";
  std::vector<std::string> kept;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.value("step", int64_t{0}) <= step) kept.push_back(line);
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  for (const auto& line : kept) out << line << '\n';
}

}  // namespace vecrl::trainer
