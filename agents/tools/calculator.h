#pragma once
// Exact arithmetic for the calculator tool: integers and decimals as exact fractions (128-bit
// numerator and denominator, overflow is an error, never a wrong digit). Grammar: numbers such as
// 12, 3.25 or .5; + - * / % (integers only); ^ or ** with an integer exponent; parentheses; unary
// minus. Anything else — names, function calls, code — is refused with the position of the
// offending character: nothing is ever evaluated as a program.
#include <string>

namespace vecrl::agents {

// The exact value of `expression`: "42", "-3.125", or "1/3 (≈ 0.333333333333)" when the decimal
// expansion does not terminate. Throws core::Error with the reason (syntax, division by zero,
// overflow, too long or too deeply nested).
std::string calculate(const std::string& expression);

}  // namespace vecrl::agents
