// Evaluation and comparison of parsed answers (math_expr.h): exact rationals where the whole
// expression is rational, complex floating point otherwise.
#include "rewards/verifiable/math_expr.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "rewards/verifiable/math_expr_tree.h"

namespace vecrl::rewards::math {
namespace {

using Int = __int128;
using Complex = std::complex<double>;
using Assignment = std::map<std::string, double>;

constexpr int kPoints = 8;
constexpr int kMinComparablePoints = 3;
constexpr int kMaxExactExponent = 256;  // overflow ends it sooner
constexpr double kRelativeTolerance = 1e-9;

Int magnitude(Int x) { return x < 0 ? -x : x; }
Int gcd(Int a, Int b) {
  a = magnitude(a), b = magnitude(b);
  while (b != 0) {
    const Int t = a % b;
    a = b, b = t;
  }
  return a;
}

// ---- exact ----

std::optional<Rational> exact_power(const Rational& base, Int exponent) {
  if (magnitude(exponent) > kMaxExactExponent) return std::nullopt;
  std::optional<Rational> result = Rational{1, 1};
  for (Int i = 0; i < magnitude(exponent) && result; ++i) result = multiply(*result, base);
  if (!result || exponent >= 0) return result;
  return divide(Rational{1, 1}, *result);
}

std::optional<Rational> exact_value(const Expression& e, int index) {
  const Node& n = e.nodes[index];
  auto arg = [&](std::size_t i) { return exact_value(e, n.args[i]); };
  switch (n.op) {
    case Op::number:
      return n.exact;
    case Op::add:
    case Op::multiply: {
      std::optional<Rational> total = Rational{n.op == Op::add ? 0 : 1, 1};
      for (std::size_t i = 0; i < n.args.size() && total; ++i) {
        const auto x = arg(i);
        total = !x ? std::nullopt : n.op == Op::add ? add(*total, *x) : multiply(*total, *x);
      }
      return total;
    }
    case Op::negate: {
      const auto x = arg(0);
      return x ? std::optional<Rational>(Rational{-x->num, x->den}) : std::nullopt;
    }
    case Op::divide: {
      const auto a = arg(0), b = arg(1);
      return a && b ? divide(*a, *b) : std::nullopt;
    }
    case Op::power: {
      const auto a = arg(0), b = arg(1);
      return a && b && b->den == 1 ? exact_power(*a, b->num) : std::nullopt;
    }
    case Op::factorial: {
      const auto x = arg(0);
      if (!x || x->den != 1 || x->num < 0 || x->num > 30) return std::nullopt;
      Int f = 1;
      for (Int k = 2; k <= x->num; ++k) f *= k;
      return Rational{f, 1};
    }
    case Op::abs: {
      const auto x = arg(0);
      return x ? std::optional<Rational>(Rational{magnitude(x->num), x->den}) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// ---- numeric ----

Complex integer_power(Complex base, long exponent) {
  Complex result = 1.0;
  for (long bit = std::labs(exponent); bit > 0; bit >>= 1, base *= base)
    if (bit & 1) result *= base;
  return exponent < 0 ? 1.0 / result : result;
}

Complex apply_function(const std::string& name, Complex x) {
  if (name == "sin") return std::sin(x);
  if (name == "cos") return std::cos(x);
  if (name == "tan") return std::tan(x);
  if (name == "cot") return 1.0 / std::tan(x);
  if (name == "sec") return 1.0 / std::cos(x);
  if (name == "csc") return 1.0 / std::sin(x);
  if (name == "arcsin") return std::asin(x);
  if (name == "arccos") return std::acos(x);
  if (name == "arctan") return std::atan(x);
  if (name == "sinh") return std::sinh(x);
  if (name == "cosh") return std::cosh(x);
  if (name == "tanh") return std::tanh(x);
  if (name == "ln") return std::log(x);
  return std::exp(x);  // the parser emits no other name
}

Complex nan_value() { return {std::numeric_limits<double>::quiet_NaN(), 0.0}; }

Complex numeric_value(const Expression& e, int index, const Assignment& at) {
  const Node& n = e.nodes[index];
  auto arg = [&](std::size_t i) { return numeric_value(e, n.args[i], at); };
  switch (n.op) {
    case Op::number: return n.value;
    case Op::symbol: return at.at(n.name);
    case Op::pi: return M_PI;
    case Op::imaginary: return {0.0, 1.0};
    case Op::infinity: return std::numeric_limits<double>::infinity();
    case Op::add:
    case Op::multiply: {
      Complex total = n.op == Op::add ? 0.0 : 1.0;
      for (std::size_t i = 0; i < n.args.size(); ++i) total = n.op == Op::add ? total + arg(i) : total * arg(i);
      return total;
    }
    case Op::negate: return -arg(0);
    case Op::divide: {
      const Complex d = arg(1);
      return d == 0.0 ? nan_value() : arg(0) / d;
    }
    case Op::power: {
      const Complex base = arg(0), exponent = arg(1);
      if (exponent.imag() == 0 && std::abs(exponent.real()) <= 1024 && exponent.real() == std::round(exponent.real()))
        return integer_power(base, static_cast<long>(exponent.real()));
      return base == 0.0 ? Complex(0.0) : std::pow(base, exponent);
    }
    case Op::root: {
      const Complex x = arg(0), index_value = arg(1);
      if (index_value == 2.0) return std::sqrt(x);
      // An odd root of a negative real is the real root (\sqrt[3]{-8} = -2), as in school math.
      const double k = index_value.real();
      if (x.imag() == 0 && x.real() < 0 && index_value.imag() == 0 && k == std::round(k) && std::fmod(std::abs(k), 2.0) == 1.0)
        return -std::pow(-x.real(), 1.0 / k);
      return x == 0.0 ? Complex(0.0) : std::pow(x, 1.0 / index_value);
    }
    case Op::function: return apply_function(n.name, arg(0));
    case Op::factorial: {
      const Complex x = arg(0);
      return x.imag() == 0 && x.real() >= 0 ? Complex(std::tgamma(x.real() + 1.0)) : nan_value();
    }
    case Op::abs: return std::abs(arg(0));
  }
  return nan_value();
}

bool finite(Complex z) { return std::isfinite(z.real()) && std::isfinite(z.imag()); }

bool close(Complex a, Complex b) {
  const double scale = std::max({1.0, std::abs(a), std::abs(b)});
  return std::abs(a - b) <= kRelativeTolerance * scale;
}

// splitmix64: a fixed, portable sequence for the evaluation points.
double unit_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<double>((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

std::vector<Assignment> evaluation_points(const std::set<std::string>& symbols) {
  std::vector<Assignment> points(symbols.empty() ? 1 : kPoints);
  uint64_t state = 20260105;
  for (auto& point : points)
    for (const auto& name : symbols) {
      const double size = 0.4 + 2.2 * unit_random(state);
      point[name] = unit_random(state) < 0.5 ? -size : size;
    }
  return points;
}

bool same_value(const Expression& a, const Expression& b, double scale_a, double scale_b) {
  std::set<std::string> symbols = a.symbols;
  symbols.insert(b.symbols.begin(), b.symbols.end());
  if (symbols.empty()) {
    const auto x = exact_value(a, a.root), y = exact_value(b, b.root);
    const auto scale = [](double s) { return s == 1.0 ? Rational{1, 1} : Rational{1, 100}; };
    if (x && y) {
      const auto sx = multiply(*x, scale(scale_a)), sy = multiply(*y, scale(scale_b));
      if (sx && sy) return *sx == *sy;
    }
  }
  const bool infinity_is_an_answer = a.has_infinity || b.has_infinity;
  int comparable = 0;
  for (const auto& point : evaluation_points(symbols)) {
    const Complex x = numeric_value(a, a.root, point) * scale_a, y = numeric_value(b, b.root, point) * scale_b;
    if (finite(x) && finite(y)) {
      if (!close(x, y)) return false;
      ++comparable;
    } else if (infinity_is_an_answer && !std::isnan(x.real()) && !std::isnan(y.real())) {
      if (x != y) return false;
      ++comparable;
    } else if (finite(x) != finite(y)) {
      return false;
    }
  }
  return comparable >= std::min<int>(kMinComparablePoints, symbols.empty() ? 1 : kPoints);
}

}  // namespace

std::optional<Rational> make_rational(Int num, Int den) {
  if (den == 0) return std::nullopt;
  if (den < 0) num = -num, den = -den;
  const Int g = gcd(num, den);
  return g > 1 ? Rational{num / g, den / g} : Rational{num, den};
}

std::optional<Rational> multiply(const Rational& a, const Rational& b) {
  Int num, den;
  if (__builtin_mul_overflow(a.num, b.num, &num) || __builtin_mul_overflow(a.den, b.den, &den)) return std::nullopt;
  return make_rational(num, den);
}

std::optional<Rational> add(const Rational& a, const Rational& b) {
  Int left, right, num, den;
  if (__builtin_mul_overflow(a.num, b.den, &left) || __builtin_mul_overflow(b.num, a.den, &right) ||
      __builtin_add_overflow(left, right, &num) || __builtin_mul_overflow(a.den, b.den, &den))
    return std::nullopt;
  return make_rational(num, den);
}

std::optional<Rational> divide(const Rational& a, const Rational& b) {
  if (b.num == 0) return std::nullopt;
  return multiply(a, Rational{b.den, b.num});
}

Comparison compare_expressions(const std::string& a, const std::string& b) {
  const auto x = parse_expression(a), y = parse_expression(b);
  if (!x || !y) return Comparison::unparsable;
  // A trailing % may be read as /100 or dropped: each side's readings, each pair compared once.
  auto readings = [](const Expression& e) { return e.percent ? std::vector<double>{1.0, 0.01} : std::vector<double>{1.0}; };
  for (const double scale_x : readings(*x))
    for (const double scale_y : readings(*y))
      if (same_value(*x, *y, scale_x, scale_y)) return Comparison::equal;
  return Comparison::different;
}

}  // namespace vecrl::rewards::math
