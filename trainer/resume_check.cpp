#include "trainer/resume_check.h"

#include <yaml-cpp/yaml.h>

#include <map>

#include "core/error.h"

namespace vecrl::trainer {
namespace {

// Keys a resume may change without changing what the run computes.
const char* const kSafeOnResume[] = {"train.steps",           "checkpoint",           "eval",
                                     "run.log_level",         "run.threads",          "scoring.workers",
                                     "distributed.timeout_s", "distributed.master_addr", "distributed.master_port"};

void flatten(const YAML::Node& node, const std::string& path, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      flatten(it->second, path.empty() ? it->first.Scalar() : path + "." + it->first.Scalar(), out);
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) flatten(node[i], path + "." + std::to_string(i), out);
    if (node.size() == 0) out[path] = "[]";
  } else {
    out[path] = node.IsNull() ? "~" : node.Scalar();
  }
}

bool covered(const std::string& key, const std::string& prefix) {
  return key == prefix || (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0 &&
                           key[prefix.size()] == '.');
}

}  // namespace

ConfigChanges compare_resumed_config(const std::string& checkpoint_yaml, const std::string& resumed_yaml,
                                     const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> before, after;
  try {
    flatten(YAML::Load(checkpoint_yaml), "", before);
    flatten(YAML::Load(resumed_yaml), "", after);
  } catch (const YAML::Exception& e) {
    throw core::Error(core::str_cat("the run folder's config.yaml cannot be read: ", e.what()));
  }
  ConfigChanges changes;
  auto note = [&](const std::string& key, const std::string& old_value, const std::string& new_value) {
    bool accept = false;
    for (const char* safe : kSafeOnResume) accept = accept || covered(key, safe);
    for (const auto& prefix : allowed) accept = accept || covered(key, prefix);
    (accept ? changes.accepted : changes.refused).push_back(key + ": " + old_value + " -> " + new_value);
  };
  for (const auto& [key, value] : before) {
    const auto it = after.find(key);
    if (it == after.end()) {
      note(key, value, "(absent)");
    } else if (it->second != value) {
      note(key, value, it->second);
    }
  }
  for (const auto& [key, value] : after)
    if (!before.count(key)) note(key, "(absent)", value);
  return changes;
}

}  // namespace vecrl::trainer
