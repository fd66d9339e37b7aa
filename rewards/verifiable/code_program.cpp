#include "rewards/verifiable/code_program.h"

#include <sstream>

namespace vecrl::rewards::code {
namespace {

std::string import_lines(const std::string& source) {
  std::istringstream in(source);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("import ", 0) == 0 || line.rfind("from ", 0) == 0) out += line + "\n";
  return out;
}

// Everything the child uses after the solution has run is bound before it runs (default arguments
// and locals), so nothing the solution rebinds reaches the harness.
constexpr const char* kHarness = R"PY(import builtins, os


def child(solution, setup, tests, token, done_fd, _exec=exec, _compile=compile, _exit=os._exit,
          _write=os.write, _dup2=os.dup2, _builtins=dict(vars(builtins)), _str=str):
    _dup2(2, 1)
    try:
        namespace = {'__name__': '__main__', '__builtins__': _builtins.copy()}
        _exec(_compile(solution, 'solution.py', 'exec'), namespace)
        scope = namespace.copy()
        scope['__builtins__'] = _builtins.copy()
        _exec(_compile(setup, 'setup', 'exec'), scope)
    except BaseException:
        _exit(1)
    for index, test in enumerate(tests):
        try:
            _exec(_compile(test, 'test', 'exec'), scope)
        except BaseException:
            continue
        _write(done_fd, token + b' ' + _str(index).encode() + b'\n')
    _exit(0)


def run_tests(solution, setup, tests, token, results_fd):
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.close(results_fd)
        child(solution, setup, tests, token, write_fd)
    os.close(write_fd)
    received = b''
    while len(received) < 64 * (len(tests) + 1) * (len(token) + 8):
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        received += chunk
    os.close(read_fd)
    os.waitpid(pid, 0)
    passed = set()
    for line in received.split(b'\n'):
        parts = line.split(b' ')
        if len(parts) == 2 and parts[0] == token and parts[1].isdigit():
            passed.add(int(parts[1]))
    return passed


def main():
    with open('tests.txt', encoding='utf-8') as f:
        marker, setup, *tests = f.read().split('\0')
    with open('solution.py', encoding='utf-8') as f:
        solution = f.read()
    for name in ('tests.txt', 'solution.py', 'harness.py'):
        os.unlink(name)
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: /proc/<harness>/fd is closed to the tests
    except Exception:
        pass
    results_fd = os.dup(1)
    os.dup2(2, 1)
    passed = run_tests(solution, setup, tests, marker.encode(), results_fd)
    for index in range(len(tests)):
        os.write(results_fd, ('\n%s %d %s\n' % (marker, index, 'PASS' if index in passed else 'FAIL')).encode())
    os._exit(0)


main()
)PY";

}  // namespace

std::string extract_code(const std::string& response) {
  const auto close = response.rfind("```");
  if (close == std::string::npos || close == 0) return response;
  const auto open = response.rfind("```", close - 1);
  if (open == std::string::npos) return response;
  const auto body = response.find('\n', open);
  if (body == std::string::npos || body >= close) return response;
  return response.substr(body + 1, close - body - 1);
}

// tests.txt: the marker, the setup and each test, separated by NUL (which Python source cannot
// hold: compile() refuses it, so a test that had one could never pass anyway).
std::map<std::string, std::string> TestProgram::files() const {
  auto piece = [](const std::string& text) { return text.find('\0') == std::string::npos ? text : "raise SyntaxError"; };
  std::string spec = marker + '\0' + piece(setup);
  for (const auto& test : tests) spec += '\0' + piece(test);
  return {{kMain, kHarness}, {"solution.py", solution}, {"tests.txt", spec}};
}

TestProgram humaneval_program(const std::string& prompt, const std::string& solution, const std::string& test,
                              const std::string& entry_point, const std::string& marker) {
  const bool defines_entry = solution.find("def " + entry_point + "(") != std::string::npos;
  return {defines_entry ? import_lines(prompt) + solution : prompt + solution, test, {"check(" + entry_point + ")"}, marker};
}

TestProgram assert_list_program(const std::string& solution, const std::vector<std::string>& asserts,
                                const std::string& setup, const std::string& marker) {
  return {solution, setup, asserts, marker};
}

std::vector<bool> read_results(const std::string& stdout_text, const TestProgram& program) {
  const auto tests = static_cast<int64_t>(program.tests.size());
  std::vector<bool> passed(tests, false);
  std::vector<bool> seen(tests, false);
  std::istringstream in(stdout_text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string marker, verdict;
    int64_t index = -1;
    if (!(fields >> marker >> index >> verdict) || marker != program.marker) continue;
    if (index < 0 || index >= tests) continue;
    // The harness prints each index once: a second line means the program forged results.
    passed[index] = !seen[index] && verdict == "PASS";
    seen[index] = true;
  }
  return passed;
}

std::vector<double> verpo_rewards(const std::vector<std::vector<bool>>& passes, double lambda) {
  const std::size_t g = passes.size();
  if (g == 0) return {};
  const std::size_t j_count = passes[0].size();
  std::vector<double> weight(j_count, 0.0);
  for (std::size_t j = 0; j < j_count; ++j) {
    double rate = 0.0;
    for (const auto& row : passes) rate += row[j] ? 1.0 : 0.0;
    weight[j] = 1.0 - rate / static_cast<double>(g);
  }
  double weight_sum = 0.0;
  for (double w : weight) weight_sum += w;
  std::vector<double> rewards(g, 0.0);
  for (std::size_t i = 0; i < g; ++i) {
    bool all = j_count > 0;
    double dense = 0.0;
    for (std::size_t j = 0; j < j_count; ++j) {
      all = all && passes[i][j];
      dense += passes[i][j] ? weight[j] : 0.0;
    }
    rewards[i] = (all ? 1.0 : 0.0) + lambda * (weight_sum > 0 ? dense / weight_sum : 0.0);
  }
  return rewards;
}

}  // namespace vecrl::rewards::code
