// The python tool (through the rewards sandbox), tool-call parsing and the tools environment.
#include <gtest/gtest.h>

#include "agents/environment.h"
#include "agents/tool.h"
#include "agents/tool_call.h"
#include "core/error.h"

namespace vecrl::agents {
namespace {

std::unique_ptr<Tool> make_tool(const std::string& type, const std::string& yaml = "{}") {
  core::ConfigNode node(YAML::Load(yaml), "test");
  return tool_registry().create(type, node);
}

TEST(PythonTool, RunsInTheSandboxAndReportsFailures) {
  auto python = make_tool("python");
  auto ok = python->call({{"code", "print(2**100)"}});
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.output, "1267650600228229401496703205376\n");
  auto crashed = python->call({{"code", "import sys\nprint('partial')\nsys.exit(3)"}});
  EXPECT_FALSE(crashed.ok);
  EXPECT_NE(crashed.output.find("partial"), std::string::npos);
  EXPECT_NE(crashed.output.find("exit 3"), std::string::npos) << crashed.output;
  // The box: no file of the host is visible, and the timeout holds.
  auto snoop = python->call({{"code", "import os\nprint(os.listdir('/work') if os.path.isdir('/work') else 'none')"}});
  EXPECT_TRUE(snoop.output == "[]\n" || snoop.output == "none\n") << snoop.output;
  auto slow = make_tool("python", "{timeout_s: 1}")->call({{"code", "while True: pass"}});
  EXPECT_FALSE(slow.ok);
  auto chatty = make_tool("python", "{max_output_chars: 100}")->call({{"code", "print('x' * 5000)"}});
  EXPECT_LE(chatty.output.size(), 103u);
}

TEST(ToolCall, ParsesTheHermesFormat) {
  const ToolCallFormat hermes;
  auto none = parse_tool_call("The answer is 4.", hermes);
  EXPECT_FALSE(none.has_call);
  auto good = parse_tool_call("Let me compute. <tool_call>\n{\"name\": \"calculator\", \"arguments\": {\"expression\": \"2+2\"}}\n</tool_call>", hermes);
  ASSERT_TRUE(good.call.has_value());
  EXPECT_EQ(good.call->name, "calculator");
  EXPECT_EQ(good.call->arguments["expression"], "2+2");
  auto stringified = parse_tool_call("<tool_call>{\"name\": \"python\", \"arguments\": \"{\\\"code\\\": \\\"1\\\"}\"}</tool_call>", hermes);
  ASSERT_TRUE(stringified.call.has_value());
  EXPECT_EQ(stringified.call->arguments["code"], "1");
  auto unclosed = parse_tool_call("<tool_call>{\"name\": \"x\"}", hermes);
  EXPECT_TRUE(unclosed.has_call);
  EXPECT_NE(unclosed.error.find("no closing </tool_call>"), std::string::npos);
  EXPECT_NE(parse_tool_call("<tool_call>[1, 2]</tool_call>", hermes).error.find("JSON object"), std::string::npos);
  EXPECT_NE(parse_tool_call("<tool_call>{\"name\": 3}</tool_call>", hermes).error.find("\"name\""), std::string::npos);
  EXPECT_NE(parse_tool_call("<tool_call>{\"name\": \"c\", \"arguments\": 5}</tool_call>", hermes).error.find("\"arguments\""),
            std::string::npos);
  const ToolCallFormat custom{"[CALL]", "[/CALL]"};
  EXPECT_EQ(parse_tool_call("[CALL]{\"name\": \"calculator\"}[/CALL]", custom).call->name, "calculator");
}

TEST(ToolEnvironment, ConfigErrorsNameTheKey) {
  auto error_of = [](const std::string& yaml) {
    try {
      core::ConfigNode node(YAML::Load(yaml), "run.yaml");
      environment_registry().create("tools", node);
    } catch (const core::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(error_of("{tools: []}").find("'tools': needs at least one tool"), std::string::npos);
  EXPECT_NE(error_of("{tools: [{type: abacus}]}").find("unknown tool 'abacus'; registered: calculator, python"), std::string::npos);
  EXPECT_NE(error_of("{tools: [{type: calculator}, {type: calculator}]}").find("listed twice"), std::string::npos);
  EXPECT_NE(error_of("{tools: [{type: python, timeout_s: 0}]}").find("timeout_s"), std::string::npos);
  EXPECT_NE(error_of("{tools: [{type: calculator}], call_end: ''}").find("call_start"), std::string::npos);
  EXPECT_EQ(error_of("{tools: [{type: calculator}, {type: calculator, name: calc2}]}"), "(no error)");
}

}  // namespace
}  // namespace vecrl::agents
