#pragma once
// Small text helpers shared by the verifiable text-constraint modules.
#include <string>
#include <vector>

namespace vecrl::rewards {

std::string to_lower_ascii(std::string s);
std::string trim(const std::string& s);
// Whitespace-separated words.
std::vector<std::string> split_words(const std::string& s);
// Whether `needle` occurs in `text` as a whole word (neighbours are not letters or digits).
bool contains_whole_word(const std::string& text, const std::string& needle);

}  // namespace vecrl::rewards
