// python: runs the model's Python code in the rewards sandbox (its own namespaces, no network, a
// private tmpfs, CPU/memory/process/output limits and a wall-clock timeout; rewards/sandbox) and
// returns what it printed. Arguments: {"code": "print(2**100)"}. A program that fails (non-zero
// exit, killed, timed out) is a failed call; its stderr's tail is shown to the model.
#include "agents/tool.h"
#include "sandbox/sandbox.h"

namespace vecrl::agents {
namespace {

struct PythonOptions {
  std::string python = "/usr/bin/python3";
  int64_t max_output_chars = 2000;  // longer output is cut, keeping its end (where errors are)
  sandbox::SandboxLimits limits;

  PythonOptions() {
    limits.wall_s = 5.0;
    limits.cpu_s = 5;
    limits.memory_mb = 512;
    limits.output_bytes = 64 << 10;
  }

  template <class V>
  void visit(V& v) {
    v.field("python", python);
    v.field("max_output_chars", max_output_chars);
    limits.visit(v);
    v.require(!python.empty() && python[0] == '/', "python", "must be an absolute path, got '" + python + "'");
    v.require(max_output_chars >= 16, "max_output_chars", core::str_cat("must be >= 16, got ", max_output_chars));
  }
};

class Python : public Tool {
 public:
  explicit Python(PythonOptions o) : o_(std::move(o)) {}
  std::string description() const override {
    return "python: runs a Python program in a sandbox and returns what it prints. Arguments: {\"code\": \"print(1+1)\"}";
  }
  ToolResult call(const nlohmann::json& arguments) const override {
    const auto code = string_argument(arguments, "code", "python");
    const auto run = sandbox::run_sandboxed({o_.python, "main.py"}, {{"main.py", code}}, o_.limits);
    const auto limit = static_cast<std::size_t>(o_.max_output_chars);
    if (run.ok()) return {keep_tail(run.stdout_text, limit), true};
    return {keep_tail(run.stdout_text + run.stderr_text + "\n[" + run.describe() + "]", limit), false};
  }

 private:
  PythonOptions o_;
};

}  // namespace

VECRL_REGISTER(tool_registry(), "python", (core::make_configured<Tool, PythonOptions, Python>));

}  // namespace vecrl::agents
