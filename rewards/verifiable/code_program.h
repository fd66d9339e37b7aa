#pragma once
// Pure pieces of the code-execution reward: the program text to run, the per-test results read
// back from its output, and VeRPO's difficulty-weighted partial credit.
#include <optional>
#include <string>
#include <vector>

namespace vecrl::rewards::code {

// The code of a response: the last ``` fenced block (```python or bare) if any, else the response.
std::string extract_code(const std::string& response);

struct TestProgram {
  std::string source;    // Python source to run
  int64_t tests = 0;     // number of test results it reports
  std::string marker;    // result lines are "<marker> <index> PASS|FAIL"
};

// A program that defines the solution and then runs each test statement on its own, printing one
// result line per test with a per-run marker. `prompt` (HumanEval's signature and docstring) is put
// before the solution unless the solution defines `entry_point` itself (its imports are kept).
// HumanEval style: `test` holds `def check(candidate)` and the single test is `check(entry_point)`.
// MBPP style: `test_list` holds assert statements, each its own test, run after `setup`.
TestProgram humaneval_program(const std::string& prompt, const std::string& solution, const std::string& test,
                              const std::string& entry_point, const std::string& marker);
TestProgram assert_list_program(const std::string& solution, const std::vector<std::string>& asserts,
                                const std::string& setup, const std::string& marker);

// Per-test pass flags read from the program's stdout; tests without a result line, or with more
// than one (forged by the program), failed.
std::vector<bool> read_results(const std::string& stdout_text, const TestProgram& program);

// VeRPO (algorithms.md §9.5, reconstruction): for a group's pass matrix [G][J], test weights
// w_j = 1 − (pass rate of test j in the group); dense_i = sum_j w_j pass_ij / sum_j w_j (0 when all
// weights are 0); r_i = outcome_i + lambda · dense_i with outcome_i = all tests passed.
std::vector<double> verpo_rewards(const std::vector<std::vector<bool>>& passes, double lambda = 1.0);

}  // namespace vecrl::rewards::code
