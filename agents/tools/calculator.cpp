// calculator: exact integer and decimal arithmetic (calculator.h). Arguments: {"expression": "..."}.
#include "agents/tools/calculator.h"

#include <cmath>
#include <cstdio>

#include "agents/tool.h"
#include "core/error.h"

namespace vecrl::agents {
namespace {

using Int = __int128;

constexpr std::size_t kMaxLength = 1000;
constexpr int kMaxDepth = 64;
constexpr Int kMaxExponent = 4096;

Int checked_mul(Int a, Int b) {
  Int out;
  VECRL_CHECK(!__builtin_mul_overflow(a, b, &out), "calculator: the result is too large to be exact");
  return out;
}
Int checked_add(Int a, Int b) {
  Int out;
  VECRL_CHECK(!__builtin_add_overflow(a, b, &out), "calculator: the result is too large to be exact");
  return out;
}
Int abs_value(Int a) { return a < 0 ? -a : a; }
Int gcd(Int a, Int b) {
  a = abs_value(a);
  b = abs_value(b);
  while (b != 0) {
    const Int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

std::string to_string(Int v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string digits;
  // Digit by digit on the magnitude's negation-safe form: -(v % 10) for negatives.
  while (v != 0) {
    const int d = static_cast<int>(v % 10);
    digits.insert(digits.begin(), static_cast<char>('0' + (d < 0 ? -d : d)));
    v /= 10;
  }
  return negative ? "-" + digits : digits;
}

// num/den in lowest terms with den > 0.
struct Fraction {
  Int num = 0, den = 1;

  static Fraction of(Int num, Int den) {
    VECRL_CHECK(den != 0, "calculator: division by zero");
    if (den < 0) {
      num = checked_mul(num, -1);
      den = checked_mul(den, -1);
    }
    const Int g = gcd(num, den);
    return g > 1 ? Fraction{num / g, den / g} : Fraction{num, den};
  }
  bool is_integer() const { return den == 1; }
};

Fraction operator+(Fraction a, Fraction b) {
  const Int g = gcd(a.den, b.den);
  const Int lcm_part = b.den / g;
  return Fraction::of(checked_add(checked_mul(a.num, lcm_part), checked_mul(b.num, a.den / g)), checked_mul(a.den, lcm_part));
}
Fraction operator-(Fraction a) { return Fraction{checked_mul(a.num, -1), a.den}; }
Fraction operator*(Fraction a, Fraction b) {
  const Int g1 = gcd(a.num, b.den), g2 = gcd(b.num, a.den);  // cross-reduce first to delay overflow
  return Fraction::of(checked_mul(a.num / g1, b.num / g2), checked_mul(a.den / g2, b.den / g1));
}
Fraction reciprocal(Fraction a) {
  VECRL_CHECK(a.num != 0, "calculator: division by zero");
  return Fraction::of(a.den, a.num);
}

std::string format(const Fraction& f) {
  if (f.is_integer()) return to_string(f.num);
  Int rest = f.den;
  int twos = 0, fives = 0;
  while (rest % 2 == 0) rest /= 2, ++twos;
  while (rest % 5 == 0) rest /= 5, ++fives;
  if (rest == 1) {  // terminates: scale to a power of ten and place the point
    const int places = std::max(twos, fives);
    Int scale = 1;
    for (int i = 0; i < places; ++i) scale = checked_mul(scale, 10);
    const Int scaled = checked_mul(f.num, scale / f.den);
    std::string digits = to_string(abs_value(scaled));
    if (static_cast<int>(digits.size()) <= places) digits.insert(0, static_cast<std::size_t>(places + 1) - digits.size(), '0');
    digits.insert(digits.size() - static_cast<std::size_t>(places), ".");
    return (f.num < 0 ? "-" : "") + digits;
  }
  char approx[64];
  std::snprintf(approx, sizeof(approx), "%.12Lg", static_cast<long double>(f.num) / static_cast<long double>(f.den));
  return to_string(f.num) + "/" + to_string(f.den) + " (\u2248 " + approx + ")";
}

// Recursive descent over the grammar in calculator.h.
class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  Fraction parse() {
    Fraction value = expression();
    skip_spaces();
    if (pos_ < text_.size()) fail_here();
    return value;
  }

 private:
  Fraction expression() {
    Fraction value = term();
    for (;;) {
      if (accept("+")) value = value + term();
      else if (accept("-")) value = value + -term();
      else return value;
    }
  }
  Fraction term() {
    Fraction value = unary();
    for (;;) {
      if (accept("*")) value = value * unary();
      else if (accept("/")) value = value * reciprocal(unary());
      else if (accept("%")) value = modulo(value, unary());
      else return value;
    }
  }
  Fraction unary() {
    if (accept("-")) return -unary();
    if (accept("+")) return unary();
    return power();
  }
  Fraction power() {
    Fraction base = primary();
    if (!accept("**") && !accept("^")) return base;
    const Fraction exponent = unary();  // right-associative: 2^3^2 = 2^9
    VECRL_CHECK(exponent.is_integer(), "calculator: exponents must be integers, got ", format(exponent));
    VECRL_CHECK(abs_value(exponent.num) <= kMaxExponent, "calculator: exponent ", to_string(exponent.num),
                " is too large");
    Fraction result{1, 1};
    for (Int i = 0; i < abs_value(exponent.num); ++i) result = result * base;
    return exponent.num < 0 ? reciprocal(result) : result;
  }
  Fraction primary() {
    skip_spaces();
    if (accept("(")) {
      VECRL_CHECK(++depth_ <= kMaxDepth, "calculator: parentheses nested deeper than ", kMaxDepth);
      Fraction value = expression();
      if (!accept(")")) fail_here("expected ')'");
      --depth_;
      return value;
    }
    return number();
  }
  Fraction number() {
    skip_spaces();
    Int num = 0, den = 1;
    bool digits = false, point = false;
    for (; pos_ < text_.size(); ++pos_) {
      const char c = text_[pos_];
      if (c >= '0' && c <= '9') {
        num = checked_add(checked_mul(num, 10), c - '0');
        if (point) den = checked_mul(den, 10);
        digits = true;
      } else if (c == '.' && !point) {
        point = true;
      } else {
        break;
      }
    }
    if (!digits) fail_here("expected a number");
    return Fraction::of(num, den);
  }
  static Fraction modulo(const Fraction& a, const Fraction& b) {
    VECRL_CHECK(a.is_integer() && b.is_integer(), "calculator: % needs integers, got ", format(a), " % ", format(b));
    VECRL_CHECK(b.num != 0, "calculator: modulo by zero");
    return Fraction{a.num % b.num, 1};
  }

  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n')) ++pos_;
  }
  bool peek(const char* token) {
    skip_spaces();
    return text_.compare(pos_, std::char_traits<char>::length(token), token) == 0;
  }
  bool accept(const char* token) {
    if (!peek(token)) return false;
    pos_ += std::char_traits<char>::length(token);
    return true;
  }
  [[noreturn]] void fail_here(const char* expected = nullptr) {
    skip_spaces();
    const std::string found = pos_ < text_.size() ? "'" + text_.substr(pos_, 1) + "'" : "the end";
    throw core::Error(core::str_cat("calculator: ", expected ? std::string(expected) + ", found " : "unexpected ", found,
                                    " at position ", pos_ + 1, " of '", text_,
                                    "' (only numbers, + - * / % ^ ** and parentheses are allowed)"));
  }

  const std::string& text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

struct CalculatorOptions {
  template <class V>
  void visit(V&) {}
};

class Calculator : public Tool {
 public:
  explicit Calculator(CalculatorOptions) {}
  std::string description() const override {
    return "calculator: exact arithmetic on integers and decimals. Arguments: {\"expression\": \"12*(3+4.5)\"}";
  }
  ToolResult call(const nlohmann::json& arguments) const override {
    return {calculate(string_argument(arguments, "expression", "calculator")), true};
  }
};

}  // namespace

std::string calculate(const std::string& expression) {
  VECRL_CHECK(expression.size() <= kMaxLength, "calculator: expression of ", expression.size(),
              " characters (at most ", kMaxLength, ")");
  return format(Parser(expression).parse());
}

VECRL_REGISTER(tool_registry(), "calculator", (core::make_configured<Tool, CalculatorOptions, Calculator>));

}  // namespace vecrl::agents
