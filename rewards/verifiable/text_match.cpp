#include "rewards/verifiable/text_match.h"

#include <cctype>
#include <sstream>

namespace vecrl::rewards {

std::string to_lower_ascii(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool contains_whole_word(const std::string& text, const std::string& needle) {
  if (needle.empty()) return false;
  auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    const bool left_ok = pos == 0 || !is_word_char(text[pos - 1]);
    const auto after = pos + needle.size();
    const bool right_ok = after >= text.size() || !is_word_char(text[after]);
    if (left_ok && right_ok) return true;
  }
  return false;
}

double linear_limit_score(int64_t n, int64_t min, int64_t max, int64_t zero_at) {
  if (n < min) return 0.0;
  if (n <= max) return 1.0;
  if (zero_at <= max || n >= zero_at) return 0.0;
  return static_cast<double>(zero_at - n) / static_cast<double>(zero_at - max);
}

}  // namespace vecrl::rewards
