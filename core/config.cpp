#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

namespace vecrl::core {
namespace {

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    default: return "an undefined value";
  }
}

template <class T>
T scalar_as(const YAML::Node& n, const char* expected) {
  if (!n.IsScalar()) throw Error(str_cat("expected ", expected, ", found ", describe(n)));
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    throw Error(str_cat("expected ", expected, ", found ", describe(n)));
  }
}

template <class T>
void read_list(const YAML::Node& n, std::vector<T>& v, const char* expected) {
  if (!n.IsSequence()) throw Error(str_cat("expected a list of ", expected, ", found ", describe(n)));
  v.clear();
  for (std::size_t i = 0; i < n.size(); ++i) {
    try {
      v.push_back(scalar_as<T>(n[i], expected));
    } catch (const Error& e) {
      throw Error(str_cat("item ", i, ": ", e.what()));
    }
  }
}

std::string mark_of(const YAML::Node& n, const std::string& file) {
  const YAML::Mark mark = n.Mark();
  if (mark.is_null() || mark.line < 0) return file;
  return str_cat(file, ":", mark.line + 1, ":", mark.column + 1);
}

}  // namespace

namespace {

// "rewards.0.weight=2" -> "rewards[0].weight", the path ConfigNode reports.
std::string override_path(const std::string& assignment) {
  std::string key = assignment.substr(0, assignment.find('='));
  std::string path, part;
  std::stringstream ss(key);
  while (std::getline(ss, part, '.')) {
    const bool index = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    path += index ? "[" + part + "]" : (path.empty() ? "" : ".") + part;
  }
  return path;
}

}  // namespace

ConfigNode::ConfigNode(YAML::Node in, std::string file, const std::vector<std::string>& overrides)
    : in_(std::move(in)), out_(YAML::Node(YAML::NodeType::Map)), consumed_(std::make_shared<std::set<std::string>>()) {
  auto shared = std::make_shared<Shared>();
  shared->file = std::move(file);
  for (const auto& o : overrides) shared->overrides[override_path(o)] = o;
  shared_ = shared;
  if (!in_.IsDefined() || in_.IsNull()) in_ = YAML::Node(YAML::NodeType::Map);
  if (!in_.IsMap()) throw Error(str_cat(shared_->file, ": the top level must be a mapping, found ", describe(in_)));
}

ConfigNode::ConfigNode(YAML::Node in, YAML::Node out, std::string path, std::shared_ptr<const Shared> shared)
    : in_(std::move(in)), out_(std::move(out)), path_(std::move(path)), shared_(std::move(shared)),
      consumed_(std::make_shared<std::set<std::string>>()) {}

void ConfigNode::consume(const char* key) { consumed_->insert(key); }

std::string ConfigNode::path_of(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

std::string ConfigNode::location(const char* key) const {
  // The innermost override that covers this key decides (an override of `a` covers `a.b`).
  for (std::string p = path_of(key); !p.empty();) {
    auto it = shared_->overrides.find(p);
    if (it != shared_->overrides.end()) return str_cat(shared_->file, " (override ", it->second, ")");
    const auto cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
  }
  YAML::Node child = in_[key];
  return mark_of(child.IsDefined() ? child : in_, shared_->file);
}

void ConfigNode::fail(const char* key, const std::string& message) const {
  throw Error(str_cat(location(key), ": config key '", path_of(key), "': ", message));
}

ConfigNode ConfigNode::child_node(const char* key, YAML::NodeType::value expected) {
  consume(key);
  YAML::Node child = in_[key];
  if (!child.IsDefined() || child.IsNull()) child = YAML::Node(expected);
  if (child.Type() != expected)
    fail(key, str_cat("expected ", expected == YAML::NodeType::Map ? "a mapping" : "a list", ", found ",
                      describe(child)));
  YAML::Node out(expected);
  out_[key] = out;
  return ConfigNode(child, out_[key], path_of(key), shared_);
}

std::vector<ConfigNode> ConfigNode::child_list(const char* key) {
  consume(key);
  std::vector<ConfigNode> out;
  YAML::Node list = in_[key];
  if (!list.IsDefined() || list.IsNull()) return out;
  if (!list.IsSequence()) fail(key, str_cat("expected a list, found ", describe(list)));
  out_[key] = YAML::Node(YAML::NodeType::Sequence);
  for (std::size_t i = 0; i < list.size(); ++i) {
    YAML::Node item = list[i];
    const std::string item_path = str_cat(path_of(key), "[", i, "]");
    if (!item.IsMap())
      throw Error(str_cat(mark_of(item, shared_->file), ": config key '", item_path, "': expected a mapping, found ",
                          describe(item)));
    YAML::Node resolved(YAML::NodeType::Map);
    out_[key].push_back(resolved);
    out.push_back(ConfigNode(item, out_[key][i], item_path, shared_));
  }
  return out;
}

void ConfigNode::component(const char* key, ComponentSpec& spec, const char* default_type) {
  auto node = std::make_shared<ConfigNode>(child_node(key, YAML::NodeType::Map));
  if (default_type != nullptr) spec.type = default_type;
  node->require(node->has("type") || default_type != nullptr, "type",
                "is required (the registered name of the component)");
  node->field("type", spec.type);
  spec.node = std::move(node);
}

void ConfigNode::component_list(const char* key, std::vector<ComponentSpec>& specs) {
  specs.clear();
  for (auto& child : child_list(key)) {
    ComponentSpec spec;
    spec.node = std::make_shared<ConfigNode>(child);
    spec.node->require(spec.node->has("type"), "type", "is required (the registered name of the component)");
    spec.node->field("type", spec.type);
    specs.push_back(std::move(spec));
  }
}

void ConfigNode::finish() const {
  for (auto it = in_.begin(); it != in_.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (consumed_->count(key)) continue;
    std::string known;
    for (const auto& k : *consumed_) known += (known.empty() ? "" : ", ") + k;
    throw Error(str_cat(location(key.c_str()), ": unknown config key '", path_of(key.c_str()),
                        "'; known keys here: ", known.empty() ? "(none)" : known));
  }
}

void ConfigNode::read_value(const YAML::Node& n, bool& v) { v = scalar_as<bool>(n, "true or false"); }
void ConfigNode::read_value(const YAML::Node& n, int& v) { v = scalar_as<int>(n, "an integer"); }
// Counts, sizes and steps: a value past 2^31 - 1 is a typo or an attack (group_size 4294967298),
// never a setting, and products of such values overflow.
void ConfigNode::read_value(const YAML::Node& n, int64_t& v) {
  v = scalar_as<int64_t>(n, "an integer");
  constexpr int64_t kLargest = 2147483647;
  if (v > kLargest || v < -kLargest) throw Error(str_cat("must be within +-", kLargest, ", got ", v));
}
void ConfigNode::read_value(const YAML::Node& n, uint64_t& v) {
  v = scalar_as<uint64_t>(n, "a non-negative integer");
}
void ConfigNode::read_value(const YAML::Node& n, double& v) {
  v = scalar_as<double>(n, "a number");
  if (!std::isfinite(v)) throw Error(str_cat("expected a finite number, found ", describe(n)));
}
void ConfigNode::read_value(const YAML::Node& n, std::string& v) { v = scalar_as<std::string>(n, "a string"); }
void ConfigNode::read_value(const YAML::Node& n, std::vector<double>& v) { read_list(n, v, "numbers"); }
void ConfigNode::read_value(const YAML::Node& n, std::vector<int64_t>& v) { read_list(n, v, "integers"); }
void ConfigNode::read_value(const YAML::Node& n, std::vector<std::string>& v) {
  if (n.IsScalar()) {
    v = {n.Scalar()};
    return;
  }
  read_list(n, v, "strings");
}
void ConfigNode::read_value(const YAML::Node& n, std::vector<std::vector<double>>& v) {
  if (!n.IsSequence()) throw Error(str_cat("expected a list of lists of numbers, found ", describe(n)));
  v.clear();
  for (std::size_t i = 0; i < n.size(); ++i) {
    std::vector<double> row;
    try {
      read_list(n[i], row, "numbers");
    } catch (const Error& e) {
      throw Error(str_cat("item ", i, ": ", e.what()));
    }
    v.push_back(std::move(row));
  }
}

namespace {

// yaml-cpp keeps every pair of a mapping but looks keys up by the first one: a repeated key (two
// `train:` blocks) would silently lose the second. An error naming both lines instead.
void check_unique_keys(const YAML::Node& node, const std::string& file) {
  if (node.IsSequence()) {
    for (const auto& item : node) check_unique_keys(item, file);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> first_line;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar()) {
      const auto [at, inserted] = first_line.emplace(it->first.Scalar(), it->first.Mark().line + 1);
      if (!inserted)
        throw Error(str_cat(file, ":", it->first.Mark().line + 1, ":", it->first.Mark().column + 1, ": key '",
                            it->first.Scalar(), "' appears again (first at line ", at->second,
                            "); YAML would keep only one of them"));
    }
    check_unique_keys(it->second, file);
  }
}

}  // namespace

YAML::Node load_yaml_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(str_cat(file, ": cannot open the config file"));
  // Read no more than the cap: yaml-cpp takes ~250 bytes of memory per byte of YAML.
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes)
    throw Error(str_cat(file, ": the config file is larger than ", kMaxConfigBytes >> 20, " MiB; a run config is a few KB"));
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::ParserException& e) {
    throw Error(str_cat(file, ":", e.mark.line + 1, ":", e.mark.column + 1, ": YAML syntax error: ", e.msg));
  }
  if (documents.size() > 1)
    throw Error(str_cat(file, ":", documents[1].Mark().line + 1, ": a second YAML document (after '---'); a run config is "
                        "one document"));
  YAML::Node root = documents.empty() ? YAML::Node() : documents[0];
  check_unique_keys(root, file);
  return root;
}

namespace {

// A key-path segment that addresses a list item: digits only (no sign, no spaces).
std::size_t list_index(const std::string& part, const std::string& assignment) {
  const bool digits = !part.empty() && part.size() <= 9 &&
                      std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  if (!digits) throw Error(str_cat("override '", assignment, "': '", part, "' must be a list index"));
  return static_cast<std::size_t>(std::stoul(part));
}

}  // namespace

void apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error(str_cat("override '", assignment, "': expected key.path=value"));
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw Error(str_cat("override '", assignment, "': the value is not valid YAML: ", e.what()));
  }
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) throw Error(str_cat("override '", assignment, "': empty segment in the key path"));
    parts.push_back(part);
  }
  // Walk with fresh handles: assigning to a yaml-cpp Node handle would rebind, not mutate.
  std::vector<YAML::Node> chain{root};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node cur = chain.back();
    const std::string& part = parts[i];
    if (cur.IsSequence()) {
      const std::size_t index = list_index(part, assignment);
      if (index >= cur.size())
        throw Error(str_cat("override '", assignment, "': index ", index, " is past the list's ", cur.size(),
                            " items"));
      chain.push_back(cur[index]);
    } else {
      if (!cur.IsMap() && !cur.IsNull() && cur.IsDefined())
        throw Error(str_cat("override '", assignment, "': '", part, "' is inside a scalar"));
      if (!cur[part].IsDefined() || cur[part].IsNull()) cur[part] = YAML::Node(YAML::NodeType::Map);
      chain.push_back(cur[part]);
    }
  }
  YAML::Node parent = chain.back();
  const std::string& last = parts.back();
  if (parent.IsSequence()) {
    const std::size_t index = list_index(last, assignment);
    if (index >= parent.size()) throw Error(str_cat("override '", assignment, "': index out of range"));
    parent[index] = value;
  } else {
    parent[last] = value;
  }
}

std::string to_yaml_string(const YAML::Node& node) {
  YAML::Emitter emitter;
  emitter << node;
  return std::string(emitter.c_str()) + "\n";
}

}  // namespace vecrl::core
