#include "rewards/verifiable/code_program.h"

#include <nlohmann/json.hpp>

#include <sstream>

namespace vecrl::rewards::code {
namespace {

// A JSON string literal is also a valid Python string literal (nlohmann does not escape '/').
std::string python_string(const std::string& s) { return nlohmann::json(s).dump(); }

std::string import_lines(const std::string& source) {
  std::istringstream in(source);
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("import ", 0) == 0 || line.rfind("from ", 0) == 0) out += line + "\n";
  return out;
}

// Runs each test string with exec() in the program's globals, one result line each, then leaves
// with os._exit so that nothing the solution registered (atexit, threads) can add lines.
std::string harness(const std::vector<std::string>& tests, const std::string& marker) {
  std::string list = "[";
  for (const auto& t : tests) list += python_string(t) + ",\n";
  list += "]";
  return "\n\nimport os as __vecrl_os, sys as __vecrl_sys\n"
         "__vecrl_tests = " + list + "\n"
         "for __vecrl_i, __vecrl_t in enumerate(__vecrl_tests):\n"
         "    try:\n"
         "        exec(__vecrl_t, globals())\n"
         "        __vecrl_ok = 'PASS'\n"
         "    except BaseException:\n"
         "        __vecrl_ok = 'FAIL'\n"
         "    __vecrl_sys.__stdout__.write('\\n" + marker + " %d %s\\n' % (__vecrl_i, __vecrl_ok))\n"
         "    __vecrl_sys.__stdout__.flush()\n"
         "__vecrl_os._exit(0)\n";
}

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

TestProgram humaneval_program(const std::string& prompt, const std::string& solution, const std::string& test,
                              const std::string& entry_point, const std::string& marker) {
  const bool defines_entry = solution.find("def " + entry_point + "(") != std::string::npos;
  TestProgram program;
  program.marker = marker;
  program.tests = 1;
  program.source = (defines_entry ? import_lines(prompt) + solution : prompt + solution) + "\n\n" + test +
                   harness({"check(" + entry_point + ")"}, marker);
  return program;
}

TestProgram assert_list_program(const std::string& solution, const std::vector<std::string>& asserts,
                                const std::string& setup, const std::string& marker) {
  TestProgram program;
  program.marker = marker;
  program.tests = static_cast<int64_t>(asserts.size());
  program.source = solution + "\n\n" + setup + harness(asserts, marker);
  return program;
}

std::vector<bool> read_results(const std::string& stdout_text, const TestProgram& program) {
  std::vector<bool> passed(program.tests, false);
  std::vector<bool> seen(program.tests, false);
  std::istringstream in(stdout_text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string marker, verdict;
    int64_t index = -1;
    if (!(fields >> marker >> index >> verdict) || marker != program.marker) continue;
    if (index < 0 || index >= program.tests) continue;
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
