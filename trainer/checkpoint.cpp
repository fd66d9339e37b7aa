#include "trainer/checkpoint.h"
#include "core/files.h"
#include "core/json_input.h"

#include <fcntl.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "core/safetensors.h"

namespace vecrl::trainer {
namespace fs = std::filesystem;

namespace {

const std::regex kName(R"(^step_([0-9]{8})$)");

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  VECRL_CHECK(fd >= 0, path.string(), ": cannot open to fsync");
  const int rc = ::fsync(fd);
  ::close(fd);
  VECRL_CHECK(rc == 0, path.string(), ": fsync failed");
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  VECRL_CHECK(out, path.string(), ": write failed");
}

}  // namespace

std::vector<CheckpointPaths> list_checkpoints(const std::string& run_dir) {
  std::vector<CheckpointPaths> out;
  const fs::path root = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(root)) return out;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(name, m, kName)) continue;
    if (!fs::exists(entry.path() / "state.json")) continue;  // never completed
    out.push_back({entry.path().string(), std::stoll(m[1])});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::optional<CheckpointPaths> latest_checkpoint(const std::string& run_dir) {
  auto all = list_checkpoints(run_dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::string write_checkpoint(const std::string& run_dir, int64_t step, const CheckpointContents& contents,
                             torch::optim::Optimizer& optimizer, int64_t keep_last,
                             const std::function<void()>& half_written) {
  const fs::path root = fs::path(run_dir) / "checkpoints";
  fs::create_directories(root);
  char name[32];
  std::snprintf(name, sizeof(name), "step_%08lld", static_cast<long long>(step));
  const fs::path final_dir = root / name;
  const fs::path tmp = root / (std::string(".tmp_") + name + "_" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  core::write_safetensors((tmp / "model.safetensors").string(), contents.policy, {{"format", "pt"}});
  torch::save(optimizer, (tmp / "optimizer.pt").string());
  if (half_written) half_written();
  write_text(tmp / "config.yaml", contents.config_yaml);
  // state.json is written last: its presence marks a complete checkpoint.
  write_text(tmp / "state.json", contents.state.dump(2));
  for (const char* f : {"model.safetensors", "optimizer.pt", "config.yaml", "state.json"}) fsync_path(tmp / f);
  fsync_path(tmp);
  if (fs::exists(final_dir)) fs::remove_all(final_dir);  // re-saving the same step
  fs::rename(tmp, final_dir);
  fsync_path(root);
  auto all = list_checkpoints(run_dir);
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep_last) < all.size(); ++i) fs::remove_all(all[i].dir);
  return final_dir.string();
}

CheckpointContents read_checkpoint(const std::string& dir, torch::optim::Optimizer& optimizer) {
  const fs::path d(dir);
  CheckpointContents c;
  c.state = core::read_json_file((d / "state.json").string());
  VECRL_CHECK(c.state.value("format_version", -1) == kCheckpointFormatVersion, dir, ": checkpoint format ",
              c.state.value("format_version", -1), ", this vecrl reads format ", kCheckpointFormatVersion);
  c.policy = core::read_safetensors((d / "model.safetensors").string());
  c.config_yaml = core::read_text_file((d / "config.yaml").string());
  try {
    torch::load(optimizer, (d / "optimizer.pt").string());
  } catch (const c10::Error& e) {
    throw core::Error(core::str_cat(dir, "/optimizer.pt: cannot load: ", e.what_without_backtrace()));
  }
  return c;
}

}  // namespace vecrl::trainer
