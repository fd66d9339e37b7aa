#pragma once
// The typed configuration layer. A YAML document is read once, at the edge, into option structs
// that declare their fields with a visit() method:
//
//   struct OptimOptions {
//     double lr = 1e-5;                       // defaults live here and nowhere else
//     template <class V> void visit(V& v) {
//       v.field("lr", lr);
//       v.require(lr > 0, "lr", "must be > 0");
//     }
//   };
//
// Every read records the value actually used into a parallel "resolved" tree (written into the run
// directory), every error names the file, line and full key path, and finish() rejects keys that
// no option consumed.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace vecrl::core {

class ConfigNode;

// A registry-selected component (`type:` plus that component's own options), read later by the
// component itself so that each plugin keeps a typed options struct of its own.
struct ComponentSpec {
  std::string type;
  std::shared_ptr<ConfigNode> node;  // the whole mapping; `type` already consumed
};

class ConfigNode {
 public:
  // A document root. `file` is used in messages. `overrides` are the `key.path=value` assignments
  // applied to the document, so that messages about those keys cite the override, not a line.
  ConfigNode(YAML::Node in, std::string file, const std::vector<std::string>& overrides = {});

  // A key written with no value (`group_size: ~` or `group_size:`) is an error rather than the
  // default: the writer meant something.
  template <class T>
  void field(const char* key, T& value) {
    consume(key);
    YAML::Node child = in_[key];
    if (child.IsDefined() && child.IsNull()) {
      out_[key] = value;
      fail(key, str_cat("has no value (null); remove the key to use the default (", YAML::Dump(out_[key]).substr(0, 60),
                        ")"));
    }
    if (child.IsDefined()) {
      try {
        read_value(child, value);
      } catch (const Error& e) {
        fail(key, e.what());
      }
    }
    out_[key] = value;
  }

  // An enum-like option: the YAML holds one of the table's names.
  template <class E>
  void choice(const char* key, E& value, const std::vector<std::pair<std::string, E>>& table) {
    std::string name;
    for (const auto& [n, v] : table)
      if (v == value) name = n;
    field(key, name);
    for (const auto& [n, v] : table) {
      if (n == name) {
        value = v;
        return;
      }
    }
    std::string allowed;
    for (const auto& entry : table) allowed += (allowed.empty() ? "" : ", ") + entry.first;
    fail(key, str_cat("expected one of {", allowed, "}, found '", name, "'"));
  }

  // A nested options struct with its own visit().
  template <class S>
  void section(const char* key, S& s) {
    ConfigNode child = child_node(key, YAML::NodeType::Map);
    s.visit(child);
    child.finish();
  }

  // A list of nested options structs.
  template <class S>
  void list(const char* key, std::vector<S>& items) {
    std::vector<ConfigNode> children = child_list(key);
    if (children.empty() && !in_[key].IsDefined()) {
      for (auto& item : items) {  // keep defaults and record them
        YAML::Node out_item;
        ConfigNode child(YAML::Node(YAML::NodeType::Map), out_item, path_of(key), shared_);
        item.visit(child);
        out_[key].push_back(out_item);
      }
      return;
    }
    items.clear();
    for (auto& child : children) {
      items.emplace_back();
      items.back().visit(child);
      child.finish();
    }
  }

  // `default_type` is used when the section or its `type` is absent (nullptr: `type` is required).
  void component(const char* key, ComponentSpec& spec, const char* default_type = nullptr);
  void component_list(const char* key, std::vector<ComponentSpec>& specs);

  // A range or consistency check on an already-read field.
  void require(bool ok, const char* key, const std::string& what) const {
    if (!ok) fail(key, what);
  }

  [[noreturn]] void fail(const char* key, const std::string& message) const;
  std::string location(const char* key) const;  // "file:line:col" or the file alone
  std::string path_of(const char* key) const;   // full dotted key path
  bool has(const char* key) const { return in_[key].IsDefined() && !in_[key].IsNull(); }

  // Throws for keys present in the YAML that no option consumed.
  void finish() const;

  const YAML::Node& resolved() const { return out_; }
  const std::string& file() const { return shared_->file; }
  const std::string& path() const { return path_; }


 private:
  struct Shared {
    std::string file;
    std::map<std::string, std::string> overrides;  // key path ("rewards[0].weight") -> assignment
  };
  ConfigNode(YAML::Node in, YAML::Node out, std::string path, std::shared_ptr<const Shared> shared);

  void consume(const char* key);
  ConfigNode child_node(const char* key, YAML::NodeType::value expected);
  std::vector<ConfigNode> child_list(const char* key);

  static void read_value(const YAML::Node& n, bool& v);
  static void read_value(const YAML::Node& n, int& v);
  static void read_value(const YAML::Node& n, int64_t& v);
  static void read_value(const YAML::Node& n, uint64_t& v);
  static void read_value(const YAML::Node& n, double& v);
  static void read_value(const YAML::Node& n, std::string& v);
  static void read_value(const YAML::Node& n, std::vector<double>& v);
  static void read_value(const YAML::Node& n, std::vector<int64_t>& v);
  static void read_value(const YAML::Node& n, std::vector<std::string>& v);  // a scalar reads as one item
  static void read_value(const YAML::Node& n, std::vector<std::vector<double>>& v);

  YAML::Node in_;
  YAML::Node out_;
  std::string path_;
  std::shared_ptr<const Shared> shared_;
  std::shared_ptr<std::set<std::string>> consumed_;
};

// Loads a YAML file; syntax errors name the file, line and column.
// A run config is a few KB; a larger file is refused before yaml-cpp (~250 bytes per byte) sees it.
constexpr std::size_t kMaxConfigBytes = 1 << 20;
YAML::Node load_yaml_file(const std::string& file);

// Applies `a.b.c=value` (value parsed as YAML) to a document. Numeric segments index lists.
void apply_override(YAML::Node& root, const std::string& assignment);

// Emits a YAML document as text.
std::string to_yaml_string(const YAML::Node& node);

}  // namespace vecrl::core

namespace vecrl::core {

// The usual registry factory: read Options (with its visit()) from the node, reject unknown keys,
// construct Impl(options). Use as VECRL_REGISTER(registry, "name", (make_configured<Base, Opts, Impl>)).
template <class Base, class Options, class Impl>
std::unique_ptr<Base> make_configured(ConfigNode& node) {
  Options options;
  options.visit(node);
  node.finish();
  return std::make_unique<Impl>(std::move(options));
}

}  // namespace vecrl::core

#include "core/registry.h"

namespace vecrl::core {

// Creates a registered component from its spec; registry errors (an unknown name) are reported at
// the spec's `type` key with the file and line.
template <class RegistryT>
auto create_component(const RegistryT& registry, const ComponentSpec& spec) {
  try {
    return registry.create(spec.type, *spec.node);
  } catch (const Error& e) {
    if (registry.contains(spec.type)) throw;  // the component's own error already names its key
    throw Error(str_cat(spec.node->location("type"), ": config key '", spec.node->path_of("type"), "': ", e.what()));
  }
}

}  // namespace vecrl::core
