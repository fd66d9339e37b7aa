#include <gtest/gtest.h>

#include <fstream>

#include "core/config.h"

using vecrl::core::ConfigNode;
using vecrl::core::Error;

namespace {

enum class Mode { kFast, kSlow };

struct Inner {
  double lr = 0.1;
  std::vector<double> betas{0.9, 0.99};
  template <class V>
  void visit(V& v) {
    v.field("lr", lr);
    v.field("betas", betas);
    v.require(lr > 0, "lr", "must be > 0");
  }
};

struct Outer {
  std::string name = "default";
  int64_t steps = 3;
  bool flag = false;
  Mode mode = Mode::kFast;
  Inner inner;
  template <class V>
  void visit(V& v) {
    v.field("name", name);
    v.field("steps", steps);
    v.field("flag", flag);
    v.choice("mode", mode, {{"fast", Mode::kFast}, {"slow", Mode::kSlow}});
    v.section("inner", inner);
  }
};

Outer parse(const std::string& yaml, YAML::Node* resolved = nullptr) {
  ConfigNode root(YAML::Load(yaml), "test.yaml");
  Outer o;
  o.visit(root);
  root.finish();
  if (resolved) *resolved = root.resolved();
  return o;
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, DefaultsComeFromTheStruct) {
  YAML::Node resolved;
  auto o = parse("{}", &resolved);
  EXPECT_EQ(o.name, "default");
  EXPECT_EQ(o.steps, 3);
  EXPECT_DOUBLE_EQ(o.inner.lr, 0.1);
  EXPECT_EQ(resolved["inner"]["lr"].as<double>(), 0.1);
  EXPECT_EQ(resolved["mode"].as<std::string>(), "fast");
}

TEST(Config, ReadsValues) {
  auto o = parse("name: x\nsteps: 7\nflag: true\nmode: slow\ninner: {lr: 0.5, betas: [0.1, 0.2]}\n");
  EXPECT_EQ(o.name, "x");
  EXPECT_EQ(o.steps, 7);
  EXPECT_TRUE(o.flag);
  EXPECT_EQ(o.mode, Mode::kSlow);
  EXPECT_DOUBLE_EQ(o.inner.lr, 0.5);
  EXPECT_EQ(o.inner.betas, (std::vector<double>{0.1, 0.2}));
}

TEST(Config, ErrorsNameFileLineAndKeyPath) {
  EXPECT_NE(error_of("steps: 1\ninner:\n  lr: abc\n").find("test.yaml:3:7: config key 'inner.lr': expected a number, found 'abc'"),
            std::string::npos)
      << error_of("steps: 1\ninner:\n  lr: abc\n");
  EXPECT_NE(error_of("inner:\n  lrr: 1\n").find("unknown config key 'inner.lrr'"), std::string::npos);
  EXPECT_NE(error_of("inner:\n  lrr: 1\n").find("known keys here: betas, lr"), std::string::npos);
  EXPECT_NE(error_of("inner: {lr: -1}").find("config key 'inner.lr': must be > 0"), std::string::npos);
  EXPECT_NE(error_of("mode: medium").find("expected one of {fast, slow}, found 'medium'"), std::string::npos);
  EXPECT_NE(error_of("steps: 1.5").find("'steps': expected an integer"), std::string::npos);
  EXPECT_NE(error_of("flag: maybe").find("'flag': expected true or false"), std::string::npos);
  EXPECT_NE(error_of("inner: 3").find("'inner': expected a mapping"), std::string::npos);
  EXPECT_NE(error_of("inner: {betas: [1, x]}").find("'inner.betas': item 1: expected numbers"), std::string::npos);
}

TEST(Config, OverridesApplyToNestedKeysAndLists) {
  YAML::Node doc = YAML::Load("inner: {lr: 0.1}\nlist: [{a: 1}, {a: 2}]\n");
  vecrl::core::apply_override(doc, "inner.lr=0.25");
  vecrl::core::apply_override(doc, "list.1.a=5");
  vecrl::core::apply_override(doc, "new.deep.key=[1, 2]");
  EXPECT_DOUBLE_EQ(doc["inner"]["lr"].as<double>(), 0.25);
  EXPECT_EQ(doc["list"][1]["a"].as<int>(), 5);
  EXPECT_EQ(doc["new"]["deep"]["key"][1].as<int>(), 2);
  EXPECT_THROW(vecrl::core::apply_override(doc, "no_equals_sign"), Error);
  EXPECT_THROW(vecrl::core::apply_override(doc, "list.7.a=1"), Error);
  EXPECT_THROW(vecrl::core::apply_override(doc, "a..b=1"), Error);
  // Found by fuzzing: a non-numeric last segment under a list escaped as std::invalid_argument.
  EXPECT_THROW(vecrl::core::apply_override(doc, "list.x=1"), Error);
  EXPECT_THROW(vecrl::core::apply_override(doc, "list.-1.a=1"), Error);
  EXPECT_THROW(vecrl::core::apply_override(doc, "list.99999999999999999999=1"), Error);
}

TEST(Config, SyntaxErrorsNameTheFileAndLine) {
  const std::string path = ::testing::TempDir() + "/bad_syntax.yaml";
  std::ofstream(path) << "a: 1\nb: [1, 2\n";
  try {
    vecrl::core::load_yaml_file(path);
    FAIL() << "expected a syntax error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad_syntax.yaml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("YAML syntax error"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vecrl::core::load_yaml_file("/nonexistent/x.yaml"), Error);
}
