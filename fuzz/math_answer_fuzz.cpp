// The math answer extractor and grader on arbitrary model output: no crash, no hang on nested or
// unbalanced braces, deep brackets, huge exponents or long lists, and a non-empty extracted answer
// is equivalent to itself. The input's first line is also compared with the rest as two answers.
#include "rewards/verifiable/math_answer.h"
#include "rewards/verifiable/math_expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto answer = vecrl::rewards::math::extract_final_answer(text);
  (void)vecrl::rewards::math::last_boxed(text);
  (void)vecrl::rewards::math::normalize_answer(text);
  // An answer that normalises to nothing matches nothing (deliberately); any other matches itself.
  if (answer && !vecrl::rewards::math::normalize_answer(*answer).empty() &&
      !vecrl::rewards::math::answers_equivalent(*answer, *answer))
    __builtin_trap();
  (void)vecrl::rewards::math::answers_equivalent(text, "42");
  const auto newline = text.find('\n');
  if (newline != std::string::npos) {
    const std::string first = text.substr(0, newline), rest = text.substr(newline + 1);
    (void)vecrl::rewards::math::answers_equivalent(first, rest);
    (void)vecrl::rewards::math::compare_expressions(vecrl::rewards::math::normalize_answer(first),
                                                    vecrl::rewards::math::normalize_answer(rest));
  }
  return 0;
}
