#pragma once
// Final-answer extraction and equivalence for math rewards (GSM8K, MATH-500 style). Pure string
// functions: no model, no I/O.
#include <optional>
#include <string>

namespace vecrl::rewards::math {

// The final answer of a solution text, trying in order: the last \boxed{…} / \fbox{…} (nested
// braces), the text after the last "####", the last "the answer is …" / "answer: …", and finally
// the last number. nullopt when none is found.
std::optional<std::string> extract_final_answer(const std::string& text);

// The contents of the last \boxed{…} (or \fbox{…}), with nested braces; nullopt when absent or
// unbalanced.
std::optional<std::string> last_boxed(const std::string& text);

// A canonical form for comparison: LaTeX spacing, \left/\right, \text{}, degrees, dollar signs,
// \dfrac/\tfrac, short "x =" prefixes, units in \text, trailing full stops and spaces removed.
std::string normalize_answer(const std::string& answer);

// A number written as an integer (with or without thousands commas), decimal, percentage, simple
// fraction (3/4, \frac{3}{4}, \frac34), possibly signed or with a currency sign.
std::optional<double> parse_number(const std::string& normalized);

// Whether two final answers are the same: numerically (relative tolerance 1e-6; "50%" also equals
// 0.5), element-wise for tuples, intervals (brackets must agree) and comma lists, else as
// normalised strings.
bool answers_equivalent(const std::string& given, const std::string& reference);

}  // namespace vecrl::rewards::math
