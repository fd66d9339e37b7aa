#pragma once
// The expression tree math_expr.cpp evaluates and math_expr_parse.cpp builds (internal to the
// math grader).
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vecrl::rewards::math {

// A rational in lowest terms, den > 0; every operation reports overflow as nullopt.
struct Rational {
  __int128 num = 0;
  __int128 den = 1;
  bool operator==(const Rational& o) const { return num == o.num && den == o.den; }
};
std::optional<Rational> make_rational(__int128 num, __int128 den);
std::optional<Rational> add(const Rational& a, const Rational& b);
std::optional<Rational> multiply(const Rational& a, const Rational& b);
std::optional<Rational> divide(const Rational& a, const Rational& b);

enum class Op {
  number,     // value (and exact when the literal has at most 36 digits)
  symbol,     // name: a variable (x, x_1, \theta)
  pi,
  imaginary,  // i
  infinity,
  add,        // args: terms
  multiply,   // args: factors
  negate,     // args: {x}
  divide,     // args: {numerator, denominator}
  power,      // args: {base, exponent}
  root,       // args: {radicand, index}
  function,   // name: sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh ln exp; args: {x}
  factorial,  // args: {x}
  abs,        // args: {x}
};

struct Node {
  Op op = Op::number;
  std::vector<int> args;
  std::optional<Rational> exact;  // number literals only
  double value = 0;               // number literals only
  std::string name;               // symbol and function names
};

struct Expression {
  std::vector<Node> nodes;  // args index into this
  int root = -1;
  bool percent = false;       // a trailing %, removed before parsing
  bool has_infinity = false;  // \infty occurs: infinite values are then answers, not overflow
  std::set<std::string> symbols;
};

// nullopt when the text is not an expression the grader reads (see compare_expressions).
std::optional<Expression> parse_expression(const std::string& text);

}  // namespace vecrl::rewards::math
