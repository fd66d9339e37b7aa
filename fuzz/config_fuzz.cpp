// The YAML config layer: arbitrary documents visited by an options struct with every field kind
// (numbers, strings, booleans, lists, sections, choices), plus `key.path=value` overrides. Only
// core::Error (or yaml-cpp's own parse error) may come out.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"

namespace {

struct Inner {
  int64_t count = 1;
  std::vector<double> weights;
  template <class V>
  void visit(V& v) {
    v.field("count", count);
    v.field("weights", weights);
    v.require(count >= 0, "count", "must be >= 0");
  }
};

enum class Mode { kA, kB };

struct Options {
  std::string name = "x";
  double lr = 1e-4;
  bool flag = false;
  uint64_t seed = 0;
  std::vector<std::string> tags;
  Mode mode = Mode::kA;
  Inner inner;
  template <class V>
  void visit(V& v) {
    v.field("name", name);
    v.field("lr", lr);
    v.field("flag", flag);
    v.field("seed", seed);
    v.field("tags", tags);
    v.choice("mode", mode, {{"a", Mode::kA}, {"b", Mode::kB}});
    v.section("inner", inner);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The first line, when it has '=', is an override applied to the rest.
  const auto newline = text.find('\n');
  const std::string first = text.substr(0, newline);
  const std::string body = newline == std::string::npos ? "" : text.substr(newline + 1);
  try {
    YAML::Node doc = YAML::Load(first.find('=') != std::string::npos ? body : text);
    if (!doc.IsDefined() || doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
    std::vector<std::string> overrides;
    if (first.find('=') != std::string::npos) {
      vecrl::core::apply_override(doc, first);
      overrides.push_back(first);
    }
    vecrl::core::ConfigNode root(doc, "fuzz.yaml", overrides);
    Options options;
    options.visit(root);
    root.finish();
    (void)vecrl::core::to_yaml_string(root.resolved());
  } catch (const vecrl::core::Error&) {
  } catch (const YAML::Exception&) {
  }
  return 0;
}
