// answers_equivalent (math_answer.h): the structure of an answer first — matrices, unions,
// bracketed groups, lists, equations — then its elements as expressions (math_expr.h).
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "rewards/verifiable/math_answer.h"
#include "rewards/verifiable/math_expr.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards::math {
namespace {

constexpr int kMaxNesting = 8;
constexpr std::size_t kMaxItems = 64;
constexpr std::size_t kMaxAnswerChars = 4096;
// Structure comparisons one answers_equivalent call may make: nested lists compared in any order
// multiply, so the work is bounded by a count rather than by the text's length alone.
constexpr int kMaxComparisons = 4096;
thread_local int comparisons_left = 0;

bool equivalent(const std::string& a, const std::string& b, int depth);

bool has_prefix(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Splits at `separator` outside (), [] and {} (an interval's "[0,1)" counts as one bracket pair).
std::vector<std::string> split_top_level(const std::string& s, const std::string& separator) {
  std::vector<std::string> parts;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (depth == 0 && s.compare(i, separator.size(), separator) == 0) {
      parts.push_back(s.substr(start, i - start));
      start = i + separator.size();
      i = start - 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

// Each item of `a` matched to a different equivalent item of `b`.
bool same_items_any_order(const std::vector<std::string>& a, const std::vector<std::string>& b, int depth) {
  if (a.size() != b.size() || a.size() > kMaxItems) return false;
  std::vector<bool> used(b.size(), false);
  for (const auto& x : a) {
    bool matched = false;
    for (std::size_t j = 0; j < b.size() && !matched; ++j)
      if (!used[j] && equivalent(x, b[j], depth + 1)) used[j] = matched = true;
    if (!matched) return false;
  }
  return true;
}

bool same_items_in_order(const std::vector<std::string>& a, const std::vector<std::string>& b, int depth) {
  if (a.size() != b.size() || a.size() > kMaxItems) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!equivalent(a[i], b[i], depth + 1)) return false;
  return true;
}

// "(1,2)", "[0,1)", "\{1,2\}" as one bracketed group of two or more items (a set may have one).
struct Group {
  char open = 0, close = 0;
  bool set = false;
  std::vector<std::string> items;
};

std::optional<Group> whole_group(const std::string& s) {
  if (has_prefix(s, "\\{") && has_suffix(s, "\\}") && s.size() >= 4)
    return Group{'{', '}', true, split_top_level(s.substr(2, s.size() - 4), ",")};
  if (s.size() < 2 || (s.front() != '(' && s.front() != '[') || (s.back() != ')' && s.back() != ']')) return std::nullopt;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(' || s[i] == '[' || s[i] == '{') ++depth;
    if (s[i] == ')' || s[i] == ']' || s[i] == '}') --depth;
    if (depth == 0 && i + 1 < s.size()) return std::nullopt;  // "(0,1)\cup(2,3)", "(a)(b)"
  }
  Group g{s.front(), s.back(), false, split_top_level(s.substr(1, s.size() - 2), ",")};
  if (g.items.size() < 2) return std::nullopt;  // "(B)", "(x+1)": a parenthesised expression
  return g;
}

// \begin{pmatrix}…\end{pmatrix} (also bmatrix, matrix) as rows of cells.
std::optional<std::vector<std::vector<std::string>>> matrix_cells(const std::string& s) {
  for (const std::string kind : {"pmatrix", "bmatrix", "matrix"}) {
    const std::string begin = "\\begin{" + kind + "}", end = "\\end{" + kind + "}";
    if (!has_prefix(s, begin) || !has_suffix(s, end) || s.size() < begin.size() + end.size()) continue;
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : split_top_level(s.substr(begin.size(), s.size() - begin.size() - end.size()), "\\\\"))
      rows.push_back(split_top_level(row, "&"));
    return rows;
  }
  return std::nullopt;
}

// "a \pm b" (and ∓ paired with it) as its two values; other text as itself.
std::vector<std::string> plus_minus_values(const std::string& s) {
  if (s.find("\\pm") == std::string::npos && s.find("\\mp") == std::string::npos) return {s};
  std::vector<std::string> values;
  for (const bool plus_first : {true, false}) {
    std::string v;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const bool pm = s.compare(i, 3, "\\pm") == 0, mp = s.compare(i, 3, "\\mp") == 0;
      if ((pm || mp) && s.compare(i, 5, "\\pmod") != 0) {
        v += (pm == plus_first) ? '+' : '-';
        i += 2;
      } else {
        v += s[i];
      }
    }
    values.push_back(v);
  }
  return values;
}

// The items of a comma list, each \pm expanded ("1\pm\sqrt2" is the list of its two values).
std::vector<std::string> list_items(const std::string& s) {
  std::vector<std::string> items;
  for (const auto& part : split_top_level(s, ","))
    for (const auto& value : plus_minus_values(part)) items.push_back(value);
  return items;
}

bool is_word(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalpha(c) != 0; });
}

bool is_lone_variable(const std::string& s) {
  if (s.size() == 1) return std::isalpha(static_cast<unsigned char>(s[0])) != 0;
  if (s.size() >= 3 && std::isalpha(static_cast<unsigned char>(s[0])) && s[1] == '_') return true;  // x_1, a_{n}
  if (s.size() < 2 || s[0] != '\\') return false;
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!std::isalpha(static_cast<unsigned char>(s[i]))) return false;
  return true;  // \theta
}

// An equation's two sides, or nullopt when the text has no single '='.
std::optional<std::pair<std::string, std::string>> equation_sides(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || s.find('=', eq + 1) != std::string::npos) return std::nullopt;
  return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
}

// "2x+1=y" is the value 2x+1; other equations stay equations.
std::string value_of_definition(const std::string& s) {
  const auto sides = equation_sides(s);
  if (sides && is_lone_variable(sides->second)) return sides->first;
  if (sides && is_lone_variable(sides->first)) return sides->second;
  return s;
}

bool equations_equivalent(const std::string& a, const std::string& b, int depth) {
  const auto x = equation_sides(a), y = equation_sides(b);
  if (!x || !y) return false;
  return (equivalent(x->first, y->first, depth + 1) && equivalent(x->second, y->second, depth + 1)) ||
         (equivalent(x->first, y->second, depth + 1) && equivalent(x->second, y->first, depth + 1));
}

bool matrices_equivalent(const std::string& a, const std::string& b, int depth) {
  const auto x = matrix_cells(a), y = matrix_cells(b);
  if (!x || !y || x->size() != y->size()) return false;
  for (std::size_t r = 0; r < x->size(); ++r)
    if (!same_items_in_order((*x)[r], (*y)[r], depth)) return false;
  return true;
}

bool groups_equivalent(const Group& x, const Group& y, int depth) {
  if (x.set || y.set) return x.set && y.set && same_items_any_order(x.items, y.items, depth);
  return x.open == y.open && x.close == y.close && same_items_in_order(x.items, y.items, depth);
}

bool equivalent(const std::string& given, const std::string& reference, int depth) {
  if (given == reference) return !given.empty();
  if (depth > kMaxNesting || given.empty() || reference.empty() || --comparisons_left < 0) return false;
  if (matrix_cells(given) || matrix_cells(reference)) return matrices_equivalent(given, reference, depth);
  std::string a = value_of_definition(given), b = value_of_definition(reference);
  for (std::string* s : {&a, &b})
    if (is_thousands_number(*s)) s->erase(std::remove(s->begin(), s->end(), ','), s->end());
  const auto union_a = split_top_level(a, "\\cup"), union_b = split_top_level(b, "\\cup");
  if (union_a.size() > 1 || union_b.size() > 1) return same_items_any_order(union_a, union_b, depth);
  const auto group_a = whole_group(a), group_b = whole_group(b);
  if (group_a && group_b) return groups_equivalent(*group_a, *group_b, depth);
  const auto items_a = group_a && group_a->set ? group_a->items : list_items(a);
  const auto items_b = group_b && group_b->set ? group_b->items : list_items(b);
  if (items_a.size() > 1 || items_b.size() > 1) {
    if ((group_a && !group_a->set) || (group_b && !group_b->set)) return false;  // a tuple is not a list
    return same_items_any_order(items_a, items_b, depth);
  }
  if (equation_sides(a) || equation_sides(b)) return equations_equivalent(a, b, depth);
  const Comparison c = compare_expressions(a, b);
  if (c == Comparison::unparsable) return is_word(a) && to_lower_ascii(a) == to_lower_ascii(b);  // "Yes" = "yes"
  return c == Comparison::equal;
}

}  // namespace

bool answers_equivalent(const std::string& given, const std::string& reference) {
  const std::string a = normalize_answer(given), b = normalize_answer(reference);
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  if (a.size() > kMaxAnswerChars || b.size() > kMaxAnswerChars) return false;
  comparisons_left = kMaxComparisons;
  return equivalent(a, b, 0);
}

}  // namespace vecrl::rewards::math
