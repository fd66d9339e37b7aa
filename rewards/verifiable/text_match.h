#pragma once
// Small text helpers shared by the verifiable text-constraint modules.
#include <cstdint>
#include <string>
#include <vector>

namespace vecrl::rewards {

std::string to_lower_ascii(std::string s);
std::string trim(const std::string& s);
// Whitespace-separated words.
std::vector<std::string> split_words(const std::string& s);
// Whether `needle` occurs in `text` as a whole word (neighbours are not letters or digits).
bool contains_whole_word(const std::string& text, const std::string& needle);

// 1 for min <= n <= max; above max a linear decay to 0 at zero_at (0 = a hard limit); 0 below min.
double linear_limit_score(int64_t n, int64_t min, int64_t max, int64_t zero_at);

}  // namespace vecrl::rewards
