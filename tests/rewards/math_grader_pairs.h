#pragma once
// The math grader's labelled table: hand-labelled pairs (tests/rewards/data/math_equivalence_pairs.tsv)
// plus pairs made from the real MATH-500 and GSM8K reference answers by rewrites whose label is known
// by construction (a rewrite that keeps the value, or a hard negative that changes it). Header-only
// and free of the grader, so scripts/math_grader_report.sh can score any version of the grader.
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace vecrl::test::math_pairs {

struct LabelledPair {
  std::string given, reference;
  bool equivalent = false;
  std::string category;
};

inline std::vector<LabelledPair> read_table(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<LabelledPair> pairs;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    for (std::size_t start = 0;;) {
      const auto tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() != 4 || (fields[2] != "0" && fields[2] != "1"))
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected given<TAB>reference<TAB>0|1<TAB>category");
    pairs.push_back({fields[0], fields[1], fields[2] == "1", prefix + fields[3]});
  }
  return pairs;
}

inline std::vector<std::string> read_field(const std::string& jsonl, const std::string& field) {
  std::ifstream in(jsonl);
  if (!in) throw std::runtime_error("cannot open " + jsonl);
  std::vector<std::string> values;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) values.push_back(nlohmann::json::parse(line).at(field).get<std::string>());
  return values;
}

// Whether `s` has a ',' outside brackets (a list or a tuple's inside).
inline bool has_top_level_comma(const std::string& s) {
  int depth = 0;
  for (char c : s) {
    depth += (c == '(' || c == '[' || c == '{') - (c == ')' || c == ']' || c == '}');
    if (c == ',' && depth == 0) return true;
  }
  return false;
}

inline std::vector<std::string> split_top_level_plus(const std::string& s) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string current;
  for (char c : s) {
    depth += (c == '(' || c == '[' || c == '{') - (c == ')' || c == ']' || c == '}');
    if (c == '+' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

inline std::string trim_spaces(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// Rewrites of one MATH-500 reference answer: category, rewritten text, whether it keeps the value.
struct Rewrite {
  std::string category;
  bool keeps_value;
  std::function<std::string(const std::string&)> apply;  // "" when it does not apply
};

inline std::string regex_rewrite(const std::string& s, const std::string& pattern, const std::string& format) {
  const std::regex re(pattern);
  if (!std::regex_search(s, re)) return "";
  return std::regex_replace(s, re, format);
}

inline const std::vector<Rewrite>& math500_rewrites() {
  static const std::vector<Rewrite> rewrites = {
      {"fraction as a/b", true, [](const std::string& s) { return regex_rewrite(s, R"(^(-?)\\frac\{(\d+)\}\{(\d+)\}$)", "$1$2/$3"); }},
      {"fraction as decimal", true,
       [](const std::string& s) -> std::string {
         std::smatch m;
         if (!std::regex_match(s, m, std::regex(R"(^(-?)\\frac\{(\d+)\}\{(\d+)\}$)"))) return "";
         const long long num = std::stoll(m[2]), den = std::stoll(m[3]);
         long long scale = 1;
         int digits = 0;
         while (digits < 6 && (scale % den) != 0) scale *= 10, ++digits;
         if (scale % den != 0 || digits == 0) return "";
         const long long scaled = num * (scale / den);
         std::string d = std::to_string(scaled);
         while (static_cast<int>(d.size()) <= digits) d = "0" + d;
         return std::string(m[1]) + d.substr(0, d.size() - digits) + "." + d.substr(d.size() - digits);
       }},
      {"power without braces", true, [](const std::string& s) { return regex_rewrite(s, R"(\^\{(\w)\})", "^$1"); }},
      {"root in plain text", true, [](const std::string& s) { return regex_rewrite(s, R"(\\sqrt\{(\d+)\})", "sqrt($1)"); }},
      {"explicit product", true,
       [](const std::string& s) { return regex_rewrite(s, R"((\d) ?\\(sqrt|pi))", "$1 \\cdot \\$2"); }},
      {"times product", true, [](const std::string& s) { return regex_rewrite(s, R"((\d) ?\\(sqrt|pi))", "$1\\times\\$2"); }},
      {"terms reordered", true,
       [](const std::string& s) -> std::string {
         if (has_top_level_comma(s) || s.find('=') != std::string::npos || s.find("\\pm") != std::string::npos) return "";
         const auto terms = split_top_level_plus(s);
         if (terms.size() != 2 || trim_spaces(terms[0]).empty() || trim_spaces(terms[1]).empty()) return "";
         if (trim_spaces(terms[1])[0] == '-' || terms[1].find('-') != std::string::npos) return "";
         return trim_spaces(terms[1]) + " + " + trim_spaces(terms[0]);
       }},
      {"list reordered", true,
       [](const std::string& s) -> std::string {
         if (!has_top_level_comma(s) || s.find("\\text") != std::string::npos || s.find("\\!") != std::string::npos) return "";
         std::vector<std::string> items;
         int depth = 0;
         std::string current;
         for (char c : s) {
           depth += (c == '(' || c == '[' || c == '{') - (c == ')' || c == ']' || c == '}');
           if (c == ',' && depth == 0) items.push_back(trim_spaces(current)), current.clear();
           else current += c;
         }
         items.push_back(trim_spaces(current));
         if (std::regex_match(items[0], std::regex(R"(^\d{1,3}$)")) && std::regex_match(items[1], std::regex(R"(^\d{3}$)")))
           return "";  // "1,000" is a number
         std::string out;
         for (auto it = items.rbegin(); it != items.rend(); ++it) out += (out.empty() ? "" : ", ") + *it;
         return out == s ? "" : out;
       }},
      {"integer as decimal", true, [](const std::string& s) { return regex_rewrite(s, R"(^(-?\d+)$)", "$1.0"); }},
      {"pi as unicode", true, [](const std::string& s) { return regex_rewrite(s, R"(\\pi\b)", "π"); }},
      {"fraction inverted", false,
       [](const std::string& s) -> std::string {
         std::smatch m;
         if (!std::regex_match(s, m, std::regex(R"(^(-?)\\frac\{(\d+)\}\{(\d+)\}$)")) || m[2] == m[3]) return "";
         return std::string(m[1]) + "\\frac{" + std::string(m[3]) + "}{" + std::string(m[2]) + "}";
       }},
      {"pair swapped", false,
       [](const std::string& s) -> std::string {
         std::smatch m;
         if (!std::regex_match(s, m, std::regex(R"(^\(([^,()]+),([^,()]+)\)$)"))) return "";
         if (trim_spaces(m[1]) == trim_spaces(m[2])) return "";
         return "(" + std::string(m[2]) + "," + std::string(m[1]) + ")";
       }},
      {"bracket changed", false,
       [](const std::string& s) -> std::string {
         if (!std::regex_match(s, std::regex(R"(^\((.*),(.*)\)$)"))) return "";
         return "[" + s.substr(1);
       }},
      {"off by one", false,
       [](const std::string& s) -> std::string {
         if (!std::regex_match(s, std::regex(R"(^-?\d{1,15}$)"))) return "";
         return std::to_string(std::stoll(s) + 1);
       }},
      {"sign flipped", false,
       [](const std::string& s) -> std::string {
         if (s.empty() || s[0] == '-' || has_top_level_comma(s) || s.find("\\text") != std::string::npos ||
             s.find('=') != std::string::npos || s.find("\\pm") != std::string::npos || s.find("\\begin") != std::string::npos ||
             s.find("\\infty") != std::string::npos || s.find("\\in") != std::string::npos || std::regex_match(s, std::regex(R"(^0+(\.0*)?$)")))
           return "";
         return "-" + s;
       }},
      {"root dropped", false, [](const std::string& s) { return regex_rewrite(s, R"(\\sqrt\{([2-9]|\d\d+)\})", "$1"); }},
      {"power changed", false, [](const std::string& s) { return regex_rewrite(s, R"(\^\{?2\}?)", "^{3}"); }},
  };
  return rewrites;
}

inline std::vector<LabelledPair> math500_pairs(const std::vector<std::string>& answers) {
  std::vector<LabelledPair> pairs;
  for (const auto& answer : answers)
    for (const auto& rewrite : math500_rewrites()) {
      const std::string given = rewrite.apply(answer);
      if (!given.empty() && given != answer) pairs.push_back({given, answer, rewrite.keeps_value, "math500:" + rewrite.category});
    }
  return pairs;
}

inline std::string with_thousands(const std::string& digits) {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// GSM8K references are whole numbers ("#### 72"): the forms models write them in, and near misses.
inline std::vector<LabelledPair> gsm8k_pairs(const std::vector<std::string>& solutions, std::size_t count) {
  std::vector<LabelledPair> pairs;
  for (std::size_t i = 0; i < solutions.size() && i < count; ++i) {
    const auto hashes = solutions[i].rfind("####");
    if (hashes == std::string::npos) continue;
    const std::string n = trim_spaces(solutions[i].substr(hashes + 4));
    if (!std::regex_match(n, std::regex(R"(^\d{1,12}$)"))) continue;
    pairs.push_back({"\\$" + with_thousands(n), n, true, "gsm8k:currency and thousands"});
    pairs.push_back({n + ".00", n, true, "gsm8k:decimal"});
    pairs.push_back({n + " dollars", n, true, "gsm8k:unit"});
    pairs.push_back({std::to_string(std::stoll(n) + 1), n, false, "gsm8k:off by one"});
    pairs.push_back({n + "0", n, false, "gsm8k:times ten"});
  }
  return pairs;
}

inline std::vector<LabelledPair> all_pairs(const std::string& source_dir, const std::string& shared_data) {
  auto pairs = read_table(source_dir + "/tests/rewards/data/math_equivalence_pairs.tsv", "hand:");
  for (auto& p : read_table(source_dir + "/tests/rewards/data/math_equivalence_heldout.tsv", "held-out:")) pairs.push_back(p);
  for (auto& p : math500_pairs(read_field(shared_data + "/datasets/math500/test.jsonl", "answer"))) pairs.push_back(p);
  for (auto& p : gsm8k_pairs(read_field(shared_data + "/datasets/gsm8k/test.jsonl", "answer"), 100)) pairs.push_back(p);
  return pairs;
}

struct Counts {
  int true_positive = 0, false_positive = 0, false_negative = 0, true_negative = 0;
  double precision() const { return true_positive + false_positive ? double(true_positive) / (true_positive + false_positive) : 1.0; }
  double recall() const { return true_positive + false_negative ? double(true_positive) / (true_positive + false_negative) : 1.0; }
  int total() const { return true_positive + false_positive + false_negative + true_negative; }
};

// Counts per category and in all ("all"); `mistakes` receives every wrong verdict.
inline std::map<std::string, Counts> score(const std::vector<LabelledPair>& pairs,
                                           const std::function<bool(const std::string&, const std::string&)>& grader,
                                           std::vector<LabelledPair>* mistakes = nullptr) {
  std::map<std::string, Counts> counts;
  for (const auto& p : pairs) {
    const bool said = grader(p.given, p.reference);
    for (const std::string& key : {p.category, std::string("all")}) {
      Counts& c = counts[key];
      (said ? (p.equivalent ? c.true_positive : c.false_positive) : (p.equivalent ? c.false_negative : c.true_negative))++;
    }
    if (mistakes && said != p.equivalent) mistakes->push_back(p);
  }
  return counts;
}

}  // namespace vecrl::test::math_pairs
