#include "trainer/run_config.h"

namespace vecrl::trainer {

std::shared_ptr<core::ConfigNode> open_config(const std::string& file, const std::vector<std::string>& overrides) {
  YAML::Node doc = core::load_yaml_file(file);
  if (!doc.IsDefined() || doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) core::apply_override(doc, o);
  return std::make_shared<core::ConfigNode>(doc, file, overrides);
}

LoadedConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides) {
  LoadedConfig loaded;
  loaded.root = open_config(file, overrides);
  loaded.config.visit(*loaded.root);
  loaded.root->finish();
  return loaded;
}

}  // namespace vecrl::trainer
