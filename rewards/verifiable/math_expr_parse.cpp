// Recursive-descent parser for final answers (math_expr.h). Precedence, loosest first: sums,
// products (explicit \cdot \times * / \div and implicit juxtaposition, left to right), unary
// signs, powers (right to left), postfix !, primaries. LaTeX arguments without braces take one
// character (\frac12, \sqrt2), except that ^ takes a whole number (2^10 is 1024, as plain text
// means it). i is the imaginary unit and e Euler's number. An integer directly followed by \frac of two integers is a mixed number (1\frac45).
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "rewards/verifiable/math_expr.h"
#include "rewards/verifiable/math_expr_tree.h"

namespace vecrl::rewards::math {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 2048;

struct ParseFailure {};

const std::vector<std::string>& function_names() {
  static const std::vector<std::string> names = {"arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sin", "cos",
                                                 "tan",    "cot",    "sec",    "csc",  "ln",   "log",  "exp"};
  return names;
}
const std::vector<std::string>& greek_names() {
  static const std::vector<std::string> names = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta",
                                                 "eta",   "theta", "vartheta", "kappa", "lambda", "mu", "nu", "xi",
                                                 "rho",   "sigma", "tau", "phi", "varphi", "chi", "psi", "omega"};
  return names;
}
// Commands after a backslash the parser knows; others make the text unparsable.
const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all = {"frac", "sqrt", "pi", "infty", "cdot", "times", "div"};
    for (const auto* list : {&function_names(), &greek_names()}) all.insert(all.end(), list->begin(), list->end());
    return all;
  }();
  return names;
}
// Words accepted without a backslash, as models write them in plain text.
const std::vector<std::string>& plain_words() {
  static const std::vector<std::string> names = {"sqrt", "pi", "sin", "cos", "tan", "ln", "log", "exp"};
  return names;
}

bool is_ascii_letter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_decimal_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// The longest name in `names` that `run` starts with, or "".
std::string longest_prefix(const std::string& run, const std::vector<std::string>& names) {
  std::string best;
  for (const auto& n : names)
    if (run.compare(0, n.size(), n) == 0 && n.size() > best.size()) best = n;
  return best;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  Expression parse() {
    if (!s_.empty() && s_.back() == '%') {
      e_.percent = true;
      s_.pop_back();
    }
    e_.root = sum();
    if (pos_ != s_.size()) throw ParseFailure{};
    return std::move(e_);
  }

 private:
  // ---- cursor ----
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool accept(char c) {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }
  bool accept(const std::string& token) {
    if (s_.compare(pos_, token.size(), token) != 0) return false;
    pos_ += token.size();
    return true;
  }
  void expect(char c) {
    if (!accept(c)) throw ParseFailure{};
  }
  std::string letter_run(std::size_t from) const {
    std::size_t end = from;
    while (end < s_.size() && is_ascii_letter(s_[end])) ++end;
    return s_.substr(from, end - from);
  }
  // The known command at a backslash (longest match: "\pir" is \pi then r), or "".
  std::string command_here() const {
    if (!at('\\')) return "";
    return longest_prefix(letter_run(pos_ + 1), command_names());
  }

  // ---- tree ----
  int add_node(Node n) {
    if (e_.nodes.size() >= kMaxNodes) throw ParseFailure{};
    e_.nodes.push_back(std::move(n));
    return static_cast<int>(e_.nodes.size()) - 1;
  }
  int node(Op op, std::vector<int> args) {
    Node n;
    n.op = op;
    n.args = std::move(args);
    return add_node(std::move(n));
  }
  int named(Op op, std::string name, std::vector<int> args = {}) {
    Node n;
    n.op = op;
    n.name = std::move(name);
    n.args = std::move(args);
    return add_node(std::move(n));
  }
  int symbol(std::string name) {
    e_.symbols.insert(name);
    return named(Op::symbol, std::move(name));
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) {
      if (++depth > kMaxDepth) throw ParseFailure{};
    }
    ~DepthGuard() { --depth; }
    int& depth;
  };

  // ---- grammar ----
  int sum() {
    DepthGuard guard(depth_);
    std::vector<int> terms{signed_product()};
    for (;;) {
      if (accept('+')) {
        terms.push_back(signed_product());
      } else if (accept('-')) {
        terms.push_back(node(Op::negate, {signed_product()}));
      } else {
        break;
      }
    }
    return terms.size() == 1 ? terms[0] : node(Op::add, terms);
  }

  int signed_product() {
    if (accept('-')) return node(Op::negate, {signed_product()});
    accept('+');
    return product();
  }

  int product() {
    int left = power();
    for (;;) {
      if (accept("\\cdot") || accept("\\times") || accept('*')) {
        left = node(Op::multiply, {left, signed_power()});
      } else if (accept("\\div") || accept('/')) {
        left = node(Op::divide, {left, signed_power()});
      } else if (const auto whole = mixed_number_fraction(left)) {
        left = node(Op::add, {left, *whole});
      } else if (starts_factor()) {
        left = node(Op::multiply, {left, power()});
      } else {
        return left;
      }
    }
  }

  int signed_power() {
    if (accept('-')) return node(Op::negate, {signed_power()});
    accept('+');
    return power();
  }

  // After an integer literal, "\frac{a}{b}" with integer a and b is the fraction of a mixed number.
  std::optional<int> mixed_number_fraction(int left) {
    const Node& l = e_.nodes[left];
    if (l.op != Op::number || !l.exact || l.exact->den != 1 || s_.compare(pos_, 5, "\\frac") != 0) return std::nullopt;
    const std::size_t saved = pos_;
    pos_ += 5;
    const int numerator = argument(), denominator = argument();
    auto integer = [&](int i) {
      const Node& n = e_.nodes[i];
      return n.op == Op::number && n.exact && n.exact->den == 1;
    };
    if (integer(numerator) && integer(denominator)) return node(Op::divide, {numerator, denominator});
    pos_ = saved;
    return std::nullopt;
  }

  bool starts_factor() const {
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (is_ascii_letter(c) || c == '(' || c == '{') return true;
    if (c == '|') return abs_depth_ == 0;
    if (c == '\\') {
      const std::string command = command_here();
      return !command.empty() && command != "cdot" && command != "times" && command != "div";
    }
    return false;
  }

  int power() {
    DepthGuard guard(depth_);
    const int base = postfix();
    if (accept('^') || accept("**")) return node(Op::power, {base, exponent()});
    return base;
  }

  int exponent() {
    if (accept('-')) return node(Op::negate, {exponent()});
    if (pos_ < s_.size() && is_decimal_digit(s_[pos_])) return number();
    if (at('{') || at('(')) return postfix();
    if (pos_ < s_.size() && is_ascii_letter(s_[pos_])) return argument();
    return primary();
  }

  int postfix() {
    int x = primary();
    while (accept('!')) x = node(Op::factorial, {x});
    return x;
  }

  int primary() {
    DepthGuard guard(depth_);
    if (pos_ >= s_.size()) throw ParseFailure{};
    const char c = s_[pos_];
    if (is_decimal_digit(c) || (c == '.' && pos_ + 1 < s_.size() && is_decimal_digit(s_[pos_ + 1]))) return number();
    if (accept('(')) return closed_by(')');
    if (accept('[')) return closed_by(']');
    if (accept('{')) return closed_by('}');
    if (accept('|')) {
      ++abs_depth_;
      const int inner = sum();
      --abs_depth_;
      expect('|');
      return node(Op::abs, {inner});
    }
    if (c == '\\') return command();
    if (is_ascii_letter(c)) return word();
    throw ParseFailure{};
  }

  int closed_by(char close) {
    const int saved_abs = abs_depth_;
    abs_depth_ = 0;
    const int inner = sum();
    abs_depth_ = saved_abs;
    expect(close);
    return inner;
  }

  // 12, 0.5, .5, and repeating decimals 0.\overline{3} (= 1/3) and 0.1\overline{6} (= 1/6).
  int number() {
    const std::size_t start = pos_;
    std::string digits, repeating;
    int decimals = 0;
    while (pos_ < s_.size() && is_decimal_digit(s_[pos_])) digits += s_[pos_++];
    if (at('.') && pos_ + 1 < s_.size() && (is_decimal_digit(s_[pos_ + 1]) || s_.compare(pos_ + 1, 10, "\\overline{") == 0)) {
      ++pos_;
      while (pos_ < s_.size() && is_decimal_digit(s_[pos_])) digits += s_[pos_++], ++decimals;
      if (accept("\\overline{")) {
        while (pos_ < s_.size() && is_decimal_digit(s_[pos_])) repeating += s_[pos_++];
        if (repeating.empty()) throw ParseFailure{};
        expect('}');
      }
    }
    Node n;
    n.op = Op::number;
    const auto exact = decimal_value(digits, decimals, repeating);
    n.exact = exact;
    n.value = exact ? static_cast<double>(exact->num) / static_cast<double>(exact->den)
                    : std::strtod(s_.substr(start, pos_ - start).c_str(), nullptr);
    return add_node(std::move(n));
  }

  // digits with `decimals` of them after the point, then `repeating` forever; nullopt past 36 digits.
  static std::optional<Rational> decimal_value(const std::string& digits, int decimals, const std::string& repeating) {
    const auto first = digits.find_first_not_of('0');
    const std::size_t significant = first == std::string::npos ? 0 : digits.size() - first;
    if (significant + repeating.size() > 36 || decimals + repeating.size() > 36) return std::nullopt;
    __int128 whole = 0, scale = 1;
    for (char d : digits) whole = whole * 10 + (d - '0');
    for (int i = 0; i < decimals; ++i) scale *= 10;
    if (repeating.empty()) return make_rational(whole, scale);
    // x = whole/scale + R/(scale·(10^r − 1)) = (whole·(10^r − 1) + R) / (scale·(10^r − 1))
    __int128 cycle = 1, repeated = 0;
    for (char d : repeating) cycle *= 10, repeated = repeated * 10 + (d - '0');
    Rational a{whole, scale};
    const auto b = make_rational(repeated, scale * (cycle - 1));
    return b ? add(a, *b) : std::nullopt;
  }

  // A letter: a variable (with an optional subscript), i, or a plain-text function or constant.
  int word() {
    const std::string run = letter_run(pos_);
    const std::string known = longest_prefix(run, plain_words());
    if (!known.empty()) {
      pos_ += known.size();
      return named_command(known);
    }
    if (run.size() >= 3) throw ParseFailure{};  // a word, not a product of variables
    std::string name(1, s_[pos_++]);
    if (name == "i") return node(Op::imaginary, {});
    if (name == "e") return euler();
    return variable(std::move(name));
  }

  int variable(std::string name) {
    if (accept('_')) {
      if (accept('{')) {
        const auto close = s_.find('}', pos_);
        if (close == std::string::npos) throw ParseFailure{};
        name += "_" + s_.substr(pos_, close - pos_);
        pos_ = close + 1;
      } else if (pos_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[pos_]))) {
        name += "_" + std::string(1, s_[pos_++]);
      } else {
        throw ParseFailure{};
      }
    }
    return symbol(std::move(name));
  }

  int command() {
    const std::string name = command_here();
    if (name.empty()) throw ParseFailure{};
    pos_ += 1 + name.size();
    return named_command(name);
  }

  int named_command(const std::string& name) {
    if (name == "frac") {
      const int numerator = argument();
      return node(Op::divide, {numerator, argument()});
    }
    if (name == "sqrt") return root();
    if (name == "pi") return node(Op::pi, {});
    if (name == "infty") {
      e_.has_infinity = true;
      return node(Op::infinity, {});
    }
    if (std::find(function_names().begin(), function_names().end(), name) != function_names().end()) return function(name);
    if (std::find(greek_names().begin(), greek_names().end(), name) != greek_names().end()) return variable("\\" + name);
    throw ParseFailure{};
  }

  // A LaTeX argument: a braced group, or one character (digit or letter), or a command.
  int argument() {
    if (accept('{')) return closed_by('}');
    if (pos_ >= s_.size()) throw ParseFailure{};
    const char c = s_[pos_];
    if (is_decimal_digit(c)) {
      ++pos_;
      return number_literal(c - '0');
    }
    if (is_ascii_letter(c)) {
      ++pos_;
      return c == 'i' ? node(Op::imaginary, {}) : c == 'e' ? euler() : symbol(std::string(1, c));
    }
    if (c == '\\') return command();
    if (c == '(') return primary();
    throw ParseFailure{};
  }

  // "\sin 2x" is sin(2x): the factor and the variables written right after it, up to the next
  // command or operator ("\sin x\cos x" is sin(x)·cos(x)).
  int bare_argument() {
    int x = signed_power();
    while (pos_ < s_.size() && is_ascii_letter(s_[pos_]) && longest_prefix(letter_run(pos_), plain_words()).empty())
      x = node(Op::multiply, {x, power()});
    return x;
  }

  // e is Euler's number, as in the answers of MATH and in Math-Verify.
  int euler() {
    Node n;
    n.op = Op::number;
    n.value = 2.718281828459045235;
    return add_node(std::move(n));
  }

  int number_literal(int value) {
    Node n;
    n.op = Op::number;
    n.value = value;
    n.exact = Rational{value, 1};
    return add_node(std::move(n));
  }

  int root() {
    int index = -1;
    if (accept('[')) index = closed_by(']');
    const int radicand = argument();
    return node(Op::root, {radicand, index >= 0 ? index : number_literal(2)});
  }

  // \sin x, \sin(x), \sin^2 x (the power of the value), \log_2 8 (= ln 8 / ln 2).
  int function(const std::string& name) {
    int power_of_value = -1, base = -1;
    if (accept('^')) power_of_value = exponent();
    if (name == "log" && accept('_')) base = argument();
    const int x = at('(') ? primary() : bare_argument();
    int value = named(Op::function, name == "log" ? "ln" : name, {x});
    if (base >= 0) value = node(Op::divide, {value, named(Op::function, "ln", {base})});
    return power_of_value >= 0 ? node(Op::power, {value, power_of_value}) : value;
  }

  std::string s_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int abs_depth_ = 0;
  Expression e_;
};

}  // namespace

std::optional<Expression> parse_expression(const std::string& text) {
  if (text.empty() || text.size() > kMaxExpressionChars) return std::nullopt;
  try {
    return Parser(text).parse();
  } catch (const ParseFailure&) {
    return std::nullopt;
  }
}

}  // namespace vecrl::rewards::math
