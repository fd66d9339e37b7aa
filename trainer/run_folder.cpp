#include "trainer/run_folder.h"
#include "core/files.h"
#include "core/json_input.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "trainer/resume_check.h"

namespace vecrl::trainer {
namespace fs = std::filesystem;

namespace {

// A resumed run's config against the one its checkpoint was written under (its config.yaml).
void check_resumed_config(const std::string& run_dir, const fs::path& checkpoint_dir, const std::string& resolved_config,
                          const std::vector<std::string>& allowed) {
  const fs::path previous = checkpoint_dir / "config.yaml";
  if (!fs::exists(previous)) return;
  const auto changes = compare_resumed_config(core::read_text_file(previous.string()), resolved_config, allowed);
  std::string refused, accepted;
  for (const auto& c : changes.refused) refused += "\n  " + c;
  for (const auto& c : changes.accepted) accepted += (accepted.empty() ? "" : "; ") + c;
  VECRL_CHECK(changes.refused.empty(), "cannot resume ", run_dir, ": the config changed since its checkpoints, so the run "
              "would not continue the one checkpointed:", refused,
              "\nUndo these, start a fresh run (checkpoint.resume: never), or accept them by listing the keys in "
              "checkpoint.allow_changes");
  if (!accepted.empty()) spdlog::info("resuming with changed settings: {}", accepted);
}

}  // namespace

RunFolderLock::RunFolderLock(const std::string& run_dir) {
  fs::create_directories(run_dir);
  const std::string path = (fs::path(run_dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  VECRL_CHECK(fd_ >= 0, path, ": cannot open the run folder's lock: ", std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = core::read_text_file(path);
    ::close(fd_);
    fd_ = -1;
    VECRL_CHECK(false, "the run folder ", run_dir, " is in use by another run (pid ", holder.empty() ? "?" : holder,
                "); wait for it to finish or choose another run.name");
  }
  const std::string pid = std::to_string(getpid());
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
  }
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

std::optional<CheckpointPaths> prepare_run_folder(const std::string& run_dir, const std::string& resolved_config,
                                                  const CheckpointOptions& options, bool is_main) {
  std::optional<CheckpointPaths> checkpoint;
  if (options.resume != ResumeMode::kNever) checkpoint = latest_checkpoint(run_dir);
  VECRL_CHECK(checkpoint || options.resume != ResumeMode::kRequired, "cannot resume: no checkpoint in ",
              (fs::path(run_dir) / "checkpoints").string());
  if (checkpoint) check_resumed_config(run_dir, checkpoint->dir, resolved_config, options.allow_changes);
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
    auto j = core::try_parse_json(line);
    if (!j.is_discarded() && j.value("step", int64_t{0}) <= step) kept.push_back(line);
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  for (const auto& line : kept) out << line << '\n';
}

}  // namespace vecrl::trainer
