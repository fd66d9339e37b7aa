#include "rewards/verifiable/math_answer.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards::math {
namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
}

// Index of the brace closing the one at `open`, or npos.
std::size_t matching_brace(const std::string& s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      ++i;  // escaped brace
      continue;
    }
    if (s[i] == '{') ++depth;
    if (s[i] == '}' && --depth == 0) return i;
  }
  return std::string::npos;
}

// Replaces every `\command{X}` by X (for \text, \mbox, \mathrm, ...).
void unwrap_command(std::string& s, const std::string& command) {
  const std::string open = command + "{";
  for (auto pos = s.find(open); pos != std::string::npos; pos = s.find(open, pos)) {
    const auto close = matching_brace(s, pos + command.size());
    if (close == std::string::npos) return;
    s = s.substr(0, pos) + s.substr(pos + open.size(), close - pos - open.size()) + s.substr(close + 1);
  }
}

// "\frac12" -> "\frac{1}{2}", "\sqrt2" -> "\sqrt{2}": single-character arguments without braces.
void brace_short_arguments(std::string& s, const std::string& command, int arguments) {
  for (auto pos = s.find(command); pos != std::string::npos; pos = s.find(command, pos + 1)) {
    std::size_t at = pos + command.size();
    for (int a = 0; a < arguments && at < s.size(); ++a) {
      if (s[at] == '{') {
        const auto close = matching_brace(s, at);
        if (close == std::string::npos) return;
        at = close + 1;
      } else if (std::isalnum(static_cast<unsigned char>(s[at]))) {
        s.insert(at + 1, "}");
        s.insert(at, "{");
        at += 3;
      } else {
        break;
      }
    }
  }
}

std::string last_match_after(const std::string& text, const std::string& lower, const std::string& marker) {
  const auto pos = lower.rfind(marker);
  if (pos == std::string::npos) return "";
  std::string rest = text.substr(pos + marker.size());
  // The answer ends at the end of its line or sentence (a full stop followed by space or the end).
  const auto newline = rest.find('\n');
  if (newline != std::string::npos) rest = rest.substr(0, newline);
  for (std::size_t i = 0; i < rest.size(); ++i)
    if (rest[i] == '.' && (i + 1 == rest.size() || std::isspace(static_cast<unsigned char>(rest[i + 1]))) &&
        !(i > 0 && is_digit(rest[i - 1]) && i + 1 < rest.size() && is_digit(rest[i + 1]))) {
      rest = rest.substr(0, i);
      break;
    }
  return trim(rest);
}

std::optional<std::string> last_number(const std::string& text) {
  std::optional<std::string> found;
  for (std::size_t i = 0; i < text.size();) {
    if (is_digit(text[i]) || (text[i] == '.' && i + 1 < text.size() && is_digit(text[i + 1]))) {
      std::size_t j = i;
      while (j < text.size() && (is_digit(text[j]) || ((text[j] == ',' || text[j] == '.') && j + 1 < text.size() &&
                                                       is_digit(text[j + 1]))))
        ++j;
      const bool negative = i > 0 && text[i - 1] == '-' && (i == 1 || !std::isalnum(static_cast<unsigned char>(text[i - 2])));
      found = (negative ? "-" : "") + text.substr(i, j - i);
      i = j;
    } else {
      ++i;
    }
  }
  return found;
}

// π √ × · − ∞ ∪ as the LaTeX the parser reads.
void write_symbols_as_latex(std::string& s) {
  for (const auto& [symbol, latex] : std::vector<std::pair<std::string, std::string>>{
           {"π", "\\pi "}, {"√", "\\sqrt"}, {"×", "\\times "}, {"·", "\\cdot "}, {"−", "-"}, {"∞", "\\infty "}, {"∪", "\\cup "}})
    replace_all(s, symbol, latex);
}

bool ends_a_number(const std::string& before) {
  return !before.empty() && (is_digit(before.back()) || before.back() == '}');
}

// A unit after a number is not part of the answer: "5.4 \text{ cents}", "10\text{ inches}",
// "18 dollars", "3 cm".
void drop_trailing_unit(std::string& s) {
  const auto text = s.rfind("\\text{");
  if (text != std::string::npos && text > 0 && matching_brace(s, text + 5) == s.size() - 1 &&
      ends_a_number(trim(s.substr(0, text)))) {
    s = trim(s.substr(0, text));
    return;
  }
  static const std::vector<std::string> units = {
      "dollars", "dollar", "usd", "cents", "cent", "inches", "inch", "feet", "foot", "ft", "miles", "mile", "meters",
      "meter", "metres", "metre", "cm", "mm", "km", "kg", "grams", "gram", "pounds", "lbs", "hours", "hour", "minutes",
      "minute", "mins", "seconds", "days", "day", "weeks", "years", "units", "degrees", "mph"};
  const auto space = s.find_last_of(' ');
  if (space == std::string::npos) return;
  std::string word = to_lower_ascii(s.substr(space + 1));
  while (!word.empty() && word.back() == '.') word.pop_back();
  if (std::find(units.begin(), units.end(), word) != units.end() && ends_a_number(trim(s.substr(0, space))))
    s = trim(s.substr(0, space));
}

// "x=5", "k=2", "x\in[2,5)": a short variable name before a single '=' or \in is not part of
// the answer.
void drop_variable_prefix(std::string& s) {
  const auto eq = s.find('=');
  if (eq != std::string::npos && eq <= 2 && s.find('=', eq + 1) == std::string::npos) {
    s = s.substr(eq + 1);
    return;
  }
  const auto in = s.find("\\in");
  if (in != std::string::npos && in > 0 && in <= 2 && !(in + 3 < s.size() && std::isalpha(static_cast<unsigned char>(s[in + 3]))))
    s = s.substr(in + 3);
}

}  // namespace

bool is_thousands_number(const std::string& s) {
  // -?d{1,3}(,ddd)+(.d+)?
  std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  std::size_t lead = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++lead;
  if (lead < 1 || lead > 3 || i >= s.size() || s[i] != ',') return false;
  while (i < s.size() && s[i] == ',') {
    for (int d = 1; d <= 3; ++d)
      if (i + d >= s.size() || !is_digit(s[i + d])) return false;
    i += 4;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size()) return false;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return i == s.size();
}

std::optional<std::string> last_boxed(const std::string& text) {
  std::size_t best = std::string::npos, command_length = 0;
  for (const std::string command : {"\\boxed", "\\fbox"}) {
    const auto pos = text.rfind(command);
    if (pos != std::string::npos && (best == std::string::npos || pos > best)) best = pos, command_length = command.size();
  }
  if (best == std::string::npos) return std::nullopt;
  std::size_t open = best + command_length;
  while (open < text.size() && text[open] == ' ') ++open;
  if (open >= text.size()) return std::nullopt;
  if (text[open] != '{') {  // "\boxed 5"
    std::size_t end = open;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '$') ++end;
    return text.substr(open, end - open);
  }
  const auto close = matching_brace(text, open);
  if (close == std::string::npos) return std::nullopt;
  return text.substr(open + 1, close - open - 1);
}

std::optional<std::string> extract_final_answer(const std::string& text) {
  if (auto boxed = last_boxed(text)) return trim(*boxed);
  const auto hashes = text.rfind("####");
  if (hashes != std::string::npos) {
    std::string rest = text.substr(hashes + 4);
    const auto newline = rest.find('\n');
    if (newline != std::string::npos) rest = rest.substr(0, newline);
    rest = trim(rest);
    if (!rest.empty()) return rest;
  }
  const std::string lower = to_lower_ascii(text);
  for (const std::string marker : {"the answer is", "final answer is", "answer:", "answer is"}) {
    std::string found = last_match_after(text, lower, marker);
    if (!found.empty() && found[0] == ':') found = trim(found.substr(1));
    if (!found.empty()) return found;
  }
  return last_number(text);
}

std::string normalize_answer(const std::string& answer) {
  std::string s = trim(answer);
  write_symbols_as_latex(s);
  // A matrix's row break "\\ " is not the control space "\ ": set it aside while spacing goes.
  replace_all(s, "\\\\", "\x01");
  for (const std::string spacing : {"\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\displaystyle", "\\ "})
    replace_all(s, spacing, spacing == "\\ " ? " " : "");
  replace_all(s, "\\dfrac", "\\frac");
  replace_all(s, "\\tfrac", "\\frac");
  for (const std::string degree : {"^{\\circ}", "^\\circ", "\\circ", "°", "\\degree"}) replace_all(s, degree, "");
  for (const std::string currency : {"\\$", "$", "€", "£"}) replace_all(s, currency, "");
  replace_all(s, "\\%", "%");
  replace_all(s, "{,}", ",");
  drop_trailing_unit(s);
  for (const std::string command : {"\\boxed", "\\text", "\\textbf", "\\mbox", "\\mathrm", "\\mathbf"}) unwrap_command(s, command);
  brace_short_arguments(s, "\\frac", 2);
  brace_short_arguments(s, "\\sqrt", 1);
  // Spaces carry no meaning in these answers.
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; }), s.end());
  while (!s.empty() && (s.back() == '.' || s.back() == ',')) s.pop_back();
  replace_all(s, "\x01", "\\\\");
  drop_variable_prefix(s);
  // ".5" -> "0.5"
  if (s.size() > 1 && s[0] == '.' && is_digit(s[1])) s = "0" + s;
  replace_all(s, "-.", "-0.");
  return s;
}

}  // namespace vecrl::rewards::math
