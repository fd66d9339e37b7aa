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
// \dfrac/\tfrac, short "x =" and "x \in" prefixes, units (in \text, or a known unit word after a
// number), trailing full stops and spaces removed; π √ × · − ∞ ∪ written as LaTeX; {,} as a comma.
std::string normalize_answer(const std::string& answer);

// Whether `s` is a number written with thousands commas ("1,000", "-12,345.5").
bool is_thousands_number(const std::string& s);

// Whether two final answers are the same (math_equivalence.cpp): equal normalised strings, or the
// same structure — matrices cell by cell, unions of intervals and sets in any order, tuples and
// intervals in order with the same brackets, comma lists in any order with \pm expanded,
// equations side by side ("y = …" against "…") — whose elements have the same value as
// expressions (math_expr.h: exact for rationals, else numeric, variables at random points).
bool answers_equivalent(const std::string& given, const std::string& reference);

}  // namespace vecrl::rewards::math
