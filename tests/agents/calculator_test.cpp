// The calculator tool: exact results, and refusal of anything that is not arithmetic.
#include <gtest/gtest.h>

#include "agents/tool.h"
#include "agents/tools/calculator.h"
#include "core/error.h"

namespace vecrl::agents {
namespace {

std::string error_of(const std::string& expression) {
  try {
    calculate(expression);
  } catch (const core::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Calculator, IntegersAreExactBeyondDoublePrecision) {
  EXPECT_EQ(calculate("12*7"), "84");
  EXPECT_EQ(calculate("4821 * 739"), "3562719");
  // 2^53 + 1 is not a double; 20-digit products are not int64.
  EXPECT_EQ(calculate("2^53 + 1"), "9007199254740993");
  EXPECT_EQ(calculate("123456789012 * 987654321098"), "121932631136585886175176");
  EXPECT_EQ(calculate("2**100"), "1267650600228229401496703205376");
  EXPECT_EQ(calculate("-(3 - 5) * 2"), "4");
  EXPECT_EQ(calculate("2^3^2"), "512");  // right-associative
  EXPECT_EQ(calculate("-2^2"), "-4");
  EXPECT_EQ(calculate("17 % 5 + 100 / 4"), "27");
}

TEST(Calculator, DecimalsAreExactFractions) {
  EXPECT_EQ(calculate("0.1 + 0.2"), "0.3");
  EXPECT_EQ(calculate("10 / 4"), "2.5");
  EXPECT_EQ(calculate("1 / 8"), "0.125");
  EXPECT_EQ(calculate("-1 / 40"), "-0.025");
  EXPECT_EQ(calculate("3.25 * 4"), "13");
  EXPECT_EQ(calculate(".5 - 1.75"), "-1.25");
  EXPECT_EQ(calculate("2^-2"), "0.25");
  EXPECT_EQ(calculate("1/3"), "1/3 (\u2248 0.333333333333)");
  EXPECT_EQ(calculate("-2/6"), "-1/3 (\u2248 -0.333333333333)");
}

TEST(Calculator, RefusesWhatIsNotArithmetic) {
  EXPECT_NE(error_of("__import__('os').system('ls')").find("found '_' at position 1"), std::string::npos);
  EXPECT_NE(error_of("2 + x").find("expected a number, found 'x' at position 5"), std::string::npos);
  EXPECT_NE(error_of("abs(3)").find("position 1"), std::string::npos);
  EXPECT_NE(error_of("2 3").find("unexpected '3'"), std::string::npos);
  EXPECT_NE(error_of("").find("expected a number, found the end"), std::string::npos);
  EXPECT_NE(error_of("(1 + 2").find("expected ')'"), std::string::npos);
  EXPECT_NE(error_of("1 / 0").find("division by zero"), std::string::npos);
  EXPECT_NE(error_of("1 / (2 - 2)").find("division by zero"), std::string::npos);
  EXPECT_NE(error_of("5 % 0").find("modulo by zero"), std::string::npos);
  EXPECT_NE(error_of("1.5 % 1").find("% needs integers"), std::string::npos);
  EXPECT_NE(error_of("2 ^ 0.5").find("exponents must be integers"), std::string::npos);
  EXPECT_NE(error_of("2 ^ 200").find("too large"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999 * 99999999999999999999").find("too large"), std::string::npos);
  EXPECT_NE(error_of(std::string(100, '(') + "1" + std::string(100, ')')).find("nested deeper"), std::string::npos);
  EXPECT_NE(error_of(std::string(2000, '1')).find("2000 characters"), std::string::npos);
}

TEST(Calculator, ToolTakesAnExpressionArgument) {
  core::ConfigNode node(YAML::Load("{}"), "test");
  auto tool = tool_registry().create("calculator", node);
  EXPECT_EQ(tool->call({{"expression", "6*7"}}).output, "42");
  EXPECT_THROW(tool->call({{"expr", "6*7"}}), core::Error);
  EXPECT_THROW(tool->call({{"expression", 42}}), core::Error);
}

}  // namespace
}  // namespace vecrl::agents
