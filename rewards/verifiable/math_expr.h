#pragma once
// Whether two final answers, each a single expression, have the same value: a bounded parser for
// LaTeX and plain-text expressions (numbers, fractions, mixed numbers, roots, powers with or
// without braces, \cdot / \times / implicit multiplication, \pi, i, \infty, variables, functions,
// |x|, n!, a trailing %) and an evaluator. Pure: no I/O.
#include <cstddef>
#include <string>

namespace vecrl::rewards::math {

enum class Comparison { equal, different, unparsable };

// Inputs past this many characters are not parsed (the caller compares them as strings).
inline constexpr std::size_t kMaxExpressionChars = 512;

// Both arguments as normalize_answer returns them (no spaces), without top-level commas or \pm.
// Constants compare exactly when both are rationals (so 0.33 is not 1/3), otherwise within 1e-9
// relative; with variables, the two sides are evaluated in complex arithmetic at 8 fixed
// pseudo-random points (|v| in [0.4, 2.6], either sign) and must agree at every point where both
// are finite (at least 3). A trailing % may be read as /100 or dropped ("50%" = 0.5 = 50).
// unparsable when either side is not an expression this parser reads (words of three or more
// letters, unknown commands, unbalanced brackets, over the size or nesting bounds).
Comparison compare_expressions(const std::string& a, const std::string& b);

}  // namespace vecrl::rewards::math
