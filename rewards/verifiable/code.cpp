// code: runs the response's Python code against the sample's tests in the sandbox
// (rewards/sandbox/). HumanEval records (`prompt`, `test` with check(candidate), `entry_point`) run
// check(entry_point); MBPP records (`test_list` of asserts, optional `test_setup_code`) run each
// assert as its own test. Dimensions: `passed` (all tests pass), `pass_frac`, and `verpo` —
// outcome plus VeRPO's difficulty-weighted partial credit within the group (algorithms.md §9.5, a
// reconstruction from the abstract; bounds [0, 1 + lambda]). A program that fails, times out or
// floods its output scores 0; a box that cannot be built marks the text not-valid.
#include <spdlog/spdlog.h>

#include <random>

#include "core/parallel.h"
#include "rewards/reward_module.h"
#include "sandbox/sandbox.h"
#include "rewards/verifiable/code_program.h"

namespace vecrl::rewards {
namespace {

struct CodeOptions {
  std::string python = "/usr/bin/python3";
  std::string prompt_field = "prompt";            // HumanEval: signature + docstring
  std::string test_field = "test";                // HumanEval: def check(candidate)
  std::string entry_point_field = "entry_point";  // HumanEval
  std::string test_list_field = "test_list";      // MBPP: assert statements
  std::string setup_field = "test_setup_code";    // MBPP
  bool prepend_prompt = true;                     // HumanEval completions continue the prompt
  bool extract_fenced = true;                     // take the last ``` block of the response
  double verpo_lambda = 1.0;
  sandbox::SandboxLimits limits;

  template <class V>
  void visit(V& v) {
    v.field("python", python);
    v.field("prompt_field", prompt_field);
    v.field("test_field", test_field);
    v.field("entry_point_field", entry_point_field);
    v.field("test_list_field", test_list_field);
    v.field("setup_field", setup_field);
    v.field("prepend_prompt", prepend_prompt);
    v.field("extract_fenced", extract_fenced);
    v.field("verpo_lambda", verpo_lambda);
    limits.visit(v);
    v.require(!python.empty() && python[0] == '/', "python", "must be an absolute path, got '" + python + "'");
    v.require(verpo_lambda >= 0, "verpo_lambda", core::str_cat("must be >= 0, got ", verpo_lambda));
  }
};

std::string random_marker() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return "__vecrl_result_" + std::to_string(rng()) + "__";
}

class CodeReward : public RewardModule {
 public:
  explicit CodeReward(CodeOptions o) : o_(std::move(o)) {}

  std::vector<RewardDim> dims() const override {
    return {{"passed", 0.0, 1.0}, {"pass_frac", 0.0, 1.0, 0.0}, {"verpo", 0.0, 1.0 + o_.verpo_lambda, 0.0}};
  }

  double item_time_limit_s() const override { return o_.limits.wall_s; }

  core::RewardMatrix score(const ScoreBatch& batch) const override {
    const auto& rollouts = batch.rollouts;
    const int64_t n = rollouts.size(), m = batch.answers_per_rollout;
    auto matrix = core::RewardMatrix::zeros(n, m, {"passed", "pass_frac", "verpo"});
    std::vector<std::optional<std::vector<bool>>> passes(n * m);
    std::atomic<int64_t> failed{0};
    core::parallel_for(n * m, batch.workers, [&](int64_t cell) {
      const int64_t i = cell / m, j = cell % m;
      if (j >= static_cast<int64_t>(batch.answers[i].size()) || batch.cancelled()) return;
      try {
        passes[cell] = run_tests(batch.answers[i][j], rollouts.samples[i], batch.cancel);
      } catch (const std::exception& e) {
        if (failed++ == 0) spdlog::warn("code: rollout {} could not be run and is marked not-valid: {}", i, e.what());
      }
    });
    failed_texts_ += failed;
    auto values = matrix.values.accessor<float, 3>();
    auto valid = matrix.valid.accessor<bool, 3>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        const auto& p = passes[i * m + j];
        for (int d = 0; d < 3; ++d) valid[i][j][d] = p.has_value();
        if (!p) continue;
        int64_t count = 0;
        for (bool b : *p) count += b;
        values[i][j][0] = !p->empty() && count == static_cast<int64_t>(p->size()) ? 1.0f : 0.0f;
        values[i][j][1] = p->empty() ? 0.0f : static_cast<float>(count) / static_cast<float>(p->size());
      }
    // VeRPO's weights come from the group's pass rates, over the rollouts whose tests ran.
    for (int64_t g = 0; g < rollouts.num_groups(); ++g)
      for (int64_t j = 0; j < m; ++j) {
        std::vector<std::vector<bool>> group;
        std::vector<int64_t> rows;
        for (int64_t i = g * rollouts.group_size; i < (g + 1) * rollouts.group_size; ++i)
          if (passes[i * m + j]) group.push_back(*passes[i * m + j]), rows.push_back(i);
        const auto shaped = code::verpo_rewards(group, o_.verpo_lambda);
        for (std::size_t r = 0; r < rows.size(); ++r) values[rows[r]][j][2] = static_cast<float>(shaped[r]);
      }
    return matrix;
  }

  int64_t failed_texts() const override { return failed_texts_; }

 private:
  std::vector<bool> run_tests(const std::string& answer, const nlohmann::json& sample,
                              const std::atomic<bool>* cancel) const {
    const std::string solution = o_.extract_fenced ? code::extract_code(answer) : answer;
    const std::string marker = random_marker();
    code::TestProgram program;
    if (sample.contains(o_.test_list_field)) {
      const auto& list = sample[o_.test_list_field];
      VECRL_CHECK(list.is_array() && !list.empty(), "code: dataset field '", o_.test_list_field,
                  "' should be a non-empty list of assert statements");
      std::vector<std::string> asserts;
      for (const auto& a : list) asserts.push_back(a.get<std::string>());
      const std::string setup = sample.contains(o_.setup_field) ? sample[o_.setup_field].get<std::string>() : "";
      program = code::assert_list_program(solution, asserts, setup, marker);
    } else {
      const std::string prompt = o_.prepend_prompt ? record_string(sample, o_.prompt_field, "code") : "";
      program = code::humaneval_program(prompt, solution, record_string(sample, o_.test_field, "code"),
                                        record_string(sample, o_.entry_point_field, "code"), marker);
    }
    const auto result = sandbox::run_sandboxed({o_.python, "-I", code::TestProgram::kMain}, program.files(), o_.limits, cancel);
    auto passed = code::read_results(result.stdout_text, program);
    if (std::find(passed.begin(), passed.end(), false) != passed.end())
      spdlog::debug("code: a test failed; the program {}; stderr: {}", result.describe(),
                    result.stderr_text.substr(0, 2000));
    return passed;
  }

  CodeOptions o_;
  mutable std::atomic<int64_t> failed_texts_{0};
};

VECRL_REGISTER(reward_registry(), "code", (core::make_configured<RewardModule, CodeOptions, CodeReward>));

}  // namespace
}  // namespace vecrl::rewards
