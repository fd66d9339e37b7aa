// The math answer extractor and equivalence on arbitrary model output: no crash, no hang on
// nested or unbalanced braces, and a non-empty extracted answer is equivalent to itself.
#include "rewards/verifiable/math_answer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto answer = vecrl::rewards::math::extract_final_answer(text);
  (void)vecrl::rewards::math::last_boxed(text);
  const auto normalized = vecrl::rewards::math::normalize_answer(text);
  (void)vecrl::rewards::math::parse_number(normalized);
  // An answer that normalises to nothing matches nothing (deliberately); any other matches itself.
  if (answer && !vecrl::rewards::math::normalize_answer(*answer).empty() &&
      !vecrl::rewards::math::answers_equivalent(*answer, *answer))
    __builtin_trap();
  (void)vecrl::rewards::math::answers_equivalent(text, "42");
  return 0;
}
