#pragma once
// Pure pieces of the code-execution reward: the program text to run, the per-test results read
// back from its output, and VeRPO's difficulty-weighted partial credit.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vecrl::rewards::code {

// The code of a response: the last ``` fenced block (```python or bare) if any, else the response.
std::string extract_code(const std::string& response);

// What the harness runs, as files for the sandbox's working directory. The harness (harness.py, the
// program to start) never runs the solution itself: it forks a child that runs the solution in a
// fresh namespace, then the setup and each test statement in a copy of that namespace whose
// builtins were copied before the solution ran, with its stdout moved onto stderr. The child proves
// each test it got through by writing "<marker> <index>" into a pipe only it and the harness hold;
// the harness reports "<marker> <index> PASS|FAIL" from those proofs on the stdout that only it
// holds (it is non-dumpable, so a child cannot reach it through /proc either). Rebinding exec or a
// builtin, exiting early, printing result lines or reading the program's files forges nothing.
// Left open: a solution that digs the marker out of the interpreter's frames or memory (one Python
// process cannot be protected from itself), and results that cheat the test's own logic (an object
// equal to everything).
struct TestProgram {
  std::string solution;            // the code under test
  std::string setup;               // run before each test, in the tests' namespace
  std::vector<std::string> tests;  // one statement each
  std::string marker;              // result lines are "<marker> <index> PASS|FAIL"

  static constexpr const char* kMain = "harness.py";
  std::map<std::string, std::string> files() const;  // harness.py, solution.py, tests.txt
};

// The tests of a solution. `prompt` (HumanEval's signature and docstring) is put before the
// solution unless the solution defines `entry_point` itself (its imports are kept).
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
