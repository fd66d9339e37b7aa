#include "rewards/ifeval/checks.h"
#include "core/json_input.h"

#include <re2/re2.h>

#include <algorithm>
#include <functional>
#include <map>

#include "core/error.h"
#include "rewards/ifeval/language.h"

namespace vecrl::rewards::ifeval {
namespace {

using Check = std::function<bool(const nlohmann::json& kwargs, const std::string& response)>;

const nlohmann::json& arg(const nlohmann::json& kwargs, const char* key) {
  VECRL_CHECK(kwargs.is_object() && kwargs.contains(key) && !kwargs[key].is_null(), "ifeval: kwarg '", key,
              "' is missing (kwargs: ", kwargs.dump(), ")");
  return kwargs[key];
}
int64_t int_arg(const nlohmann::json& kwargs, const char* key) { return arg(kwargs, key).get<int64_t>(); }
std::string string_arg(const nlohmann::json& kwargs, const char* key) { return arg(kwargs, key).get<std::string>(); }

// IFEval's relations: "less than" is strict, "at least" inclusive.
bool compare(int64_t value, const std::string& relation, int64_t threshold) {
  if (relation == "less than") return value < threshold;
  VECRL_CHECK(relation == "at least", "ifeval: relation must be 'less than' or 'at least', got '", relation, "'");
  return value >= threshold;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string strip(const std::string& s, const std::string& chars = " \t\n\r\f\v") {
  const auto begin = s.find_first_not_of(chars);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(chars) - begin + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t count_matches(const std::string& text, const RE2& re) {
  re2::StringPiece rest(text);
  int64_t n = 0;
  while (RE2::FindAndConsume(&rest, re)) {
    ++n;
    if (rest.empty()) break;
  }
  return n;
}

std::vector<std::string> all_matches(const std::string& text, const RE2& re) {
  re2::StringPiece rest(text);
  std::vector<std::string> out;
  std::string match;
  while (RE2::FindAndConsume(&rest, re, &match)) out.push_back(match);
  return out;
}

std::vector<std::string> split_on(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto pos = text.find(separator); pos != std::string::npos; pos = text.find(separator, start)) {
    parts.push_back(text.substr(start, pos - start));
    start = pos + separator.size();
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::vector<std::string> split_regex(const std::string& text, const RE2& separator) {
  std::vector<std::string> parts;
  re2::StringPiece input(text), match;
  std::size_t start = 0;
  while (start <= text.size() &&
         separator.Match(input, start, text.size(), RE2::UNANCHORED, &match, 1)) {
    const auto at = static_cast<std::size_t>(match.data() - text.data());
    if (match.empty()) {  // never split on an empty match
      if (at >= text.size()) break;
      start = at + 1;
      continue;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + match.size();
  }
  parts.push_back(text.substr(std::min(start, text.size())));
  return parts;
}

// Python str.isupper / str.islower on ASCII letters (other characters are uncased here).
bool is_upper(const std::string& s) {
  bool cased = false;
  for (char c : s) {
    if (c >= 'a' && c <= 'z') return false;
    cased = cased || (c >= 'A' && c <= 'Z');
  }
  return cased;
}
bool is_lower(const std::string& s) {
  bool cased = false;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return false;
    cased = cased || (c >= 'a' && c <= 'z');
  }
  return cased;
}

const RE2 kWord("([\\pL\\pN_]+)");

int64_t count_words(const std::string& text) { return count_matches(text, kWord); }

std::string regex_escape(const std::string& s) { return RE2::QuoteMeta(s); }

const std::map<std::string, Check>& checks() {
  static const std::map<std::string, Check> table = {
      {"keywords:existence",
       [](const nlohmann::json& k, const std::string& r) {
         for (const auto& keyword : arg(k, "keywords"))
           if (!RE2::PartialMatch(r, RE2("(?i)" + regex_escape(keyword.get<std::string>())))) return false;
         return true;
       }},
      {"keywords:frequency",
       [](const nlohmann::json& k, const std::string& r) {
         const RE2 re("(?i)" + regex_escape(string_arg(k, "keyword")));
         return compare(count_matches(r, re), string_arg(k, "relation"), int_arg(k, "frequency"));
       }},
      {"keywords:forbidden_words",
       [](const nlohmann::json& k, const std::string& r) {
         for (const auto& word : arg(k, "forbidden_words"))
           if (RE2::PartialMatch(r, RE2("(?i)\\b" + regex_escape(word.get<std::string>()) + "\\b"))) return false;
         return true;
       }},
      {"keywords:letter_frequency",
       [](const nlohmann::json& k, const std::string& r) {
         const std::string letter = lower(string_arg(k, "letter"));
         VECRL_CHECK(letter.size() == 1, "ifeval: letter must be one character, got '", letter, "'");
         const auto n = std::count(r.begin(), r.end(), letter[0]) +
                        (letter[0] >= 'a' && letter[0] <= 'z' ? std::count(r.begin(), r.end(), letter[0] - 'a' + 'A') : 0);
         return compare(n, string_arg(k, "let_relation"), int_arg(k, "let_frequency"));
       }},
      {"language:response_language",
       [](const nlohmann::json& k, const std::string& r) { return detect_language(r) == string_arg(k, "language"); }},
      {"length_constraints:number_sentences",
       [](const nlohmann::json& k, const std::string& r) {
         return compare(static_cast<int64_t>(split_sentences(r).size()), string_arg(k, "relation"),
                        int_arg(k, "num_sentences"));
       }},
      {"length_constraints:number_paragraphs",
       [](const nlohmann::json& k, const std::string& r) {
         static const RE2 divider("(\\s?\\*\\*\\*\\s?)");
         const auto paragraphs = split_regex(r, divider);
         auto count = static_cast<int64_t>(paragraphs.size());
         for (std::size_t i = 0; i < paragraphs.size(); ++i) {
           if (!strip(paragraphs[i]).empty()) continue;
           if (i == 0 || i + 1 == paragraphs.size()) --count;
           else return false;
         }
         return count == int_arg(k, "num_paragraphs");
       }},
      {"length_constraints:number_words",
       [](const nlohmann::json& k, const std::string& r) {
         return compare(count_words(r), string_arg(k, "relation"), int_arg(k, "num_words"));
       }},
      {"length_constraints:nth_paragraph_first_word",
       [](const nlohmann::json& k, const std::string& r) {
         const auto paragraphs = split_on(r, "\n\n");
         auto count = static_cast<int64_t>(paragraphs.size());
         for (const auto& p : paragraphs) count -= strip(p).empty();
         const int64_t nth = int_arg(k, "nth_paragraph");
         if (nth < 1 || nth > count) return false;
         const std::string paragraph = strip(paragraphs[nth - 1]);
         if (paragraph.empty()) return false;
         std::string word = paragraph.substr(0, paragraph.find_first_of(" \t\n\r\f\v"));
         while (!word.empty() && (word[0] == '\'' || word[0] == '"')) word.erase(0, 1);
         std::string first;
         for (char c : word) {
           if (std::string(".,?!'\"").find(c) != std::string::npos) break;
           first += c;
         }
         return count == int_arg(k, "num_paragraphs") && lower(first) == lower(string_arg(k, "first_word"));
       }},
      {"detectable_content:number_placeholders",
       [](const nlohmann::json& k, const std::string& r) {
         static const RE2 placeholder("(\\[.*?\\])");
         return count_matches(r, placeholder) >= int_arg(k, "num_placeholders");
       }},
      {"detectable_content:postscript",
       [](const nlohmann::json& k, const std::string& r) {
         const std::string marker = string_arg(k, "postscript_marker");
         std::string pattern;
         if (marker == "P.P.S") pattern = "(?m)\\s*p\\.\\s?p\\.\\s?s.*$";
         else if (marker == "P.S.") pattern = "(?m)\\s*p\\.\\s?s\\..*$";
         else pattern = "(?m)\\s*" + regex_escape(lower(marker)) + ".*$";
         return RE2::PartialMatch(lower(r), RE2(pattern));
       }},
      {"detectable_format:number_bullet_lists",
       [](const nlohmann::json& k, const std::string& r) {
         static const RE2 star("(?m)(^\\s*\\*[^\\*].*$)"), dash("(?m)(^\\s*-.*$)");
         return count_matches(r, star) + count_matches(r, dash) == int_arg(k, "num_bullets");
       }},
      {"detectable_format:constrained_response",
       [](const nlohmann::json&, const std::string& r) {
         const std::string value = strip(r);
         for (const char* option : {"My answer is yes.", "My answer is no.", "My answer is maybe."})
           if (value.find(option) != std::string::npos) return true;
         return false;
       }},
      {"detectable_format:number_highlighted_sections",
       [](const nlohmann::json& k, const std::string& r) {
         static const RE2 single("(\\*[^\\n\\*]*\\*)"), twice("(\\*\\*[^\\n\\*]*\\*\\*)");
         int64_t n = 0;
         for (const auto& h : all_matches(r, single)) n += !strip(strip(h, "*")).empty();
         for (const auto& h : all_matches(r, twice)) n += !strip(h.substr(2, h.size() - 4)).empty();
         return n >= int_arg(k, "num_highlights");
       }},
      {"detectable_format:multiple_sections",
       [](const nlohmann::json& k, const std::string& r) {
         const RE2 splitter("(\\s?" + regex_escape(string_arg(k, "section_spliter")) + "\\s?\\d+\\s?)");
         return static_cast<int64_t>(split_regex(r, splitter).size()) - 1 >= int_arg(k, "num_sections");
       }},
      {"detectable_format:json_format",
       [](const nlohmann::json&, const std::string& r) {
         std::string value = strip(r);
         for (const char* prefix : {"```json", "```Json", "```JSON", "```"})
           if (starts_with(value, prefix)) {
             value = value.substr(std::string(prefix).size());
             break;
           }
         if (ends_with(value, "```")) value = value.substr(0, value.size() - 3);
         return !core::try_parse_json(strip(value)).is_discarded();
       }},
      {"detectable_format:title",
       [](const nlohmann::json&, const std::string& r) {
         static const RE2 title("(<<[^\\n]+>>)");
         for (const auto& t : all_matches(r, title)) {
           std::string inner = t;
           inner.erase(0, inner.find_first_not_of('<'));
           inner.erase(inner.find_last_not_of('>') + 1);
           if (!strip(inner).empty()) return true;
         }
         return false;
       }},
      {"combination:two_responses",
       [](const nlohmann::json&, const std::string& r) {
         const auto parts = split_on(r, "******");
         std::vector<std::string> valid;
         for (std::size_t i = 0; i < parts.size(); ++i) {
           if (strip(parts[i]).empty()) {
             if (i != 0 && i + 1 != parts.size()) return false;
           } else {
             valid.push_back(parts[i]);
           }
         }
         return valid.size() == 2 && strip(valid[0]) != strip(valid[1]);
       }},
      {"combination:repeat_prompt",
       [](const nlohmann::json& k, const std::string& r) {
         return starts_with(lower(strip(r)), lower(strip(string_arg(k, "prompt_to_repeat"))));
       }},
      {"startend:end_checker",
       [](const nlohmann::json& k, const std::string& r) {
         return ends_with(lower(strip(strip(r), "\"")), lower(strip(string_arg(k, "end_phrase"))));
       }},
      {"startend:quotation",
       [](const nlohmann::json&, const std::string& r) {
         const std::string value = strip(r);
         return value.size() > 1 && value.front() == '"' && value.back() == '"';
       }},
      {"change_case:capital_word_frequency",
       [](const nlohmann::json& k, const std::string& r) {
         static const RE2 token("([\\pL\\pN_]+|[^\\pL\\pN_\\s]+)");
         int64_t n = 0;
         for (const auto& t : all_matches(r, token)) n += is_upper(t);
         return compare(n, string_arg(k, "capital_relation"), int_arg(k, "capital_frequency"));
       }},
      {"change_case:english_capital",
       [](const nlohmann::json&, const std::string& r) { return is_upper(r) && detect_language(r) == "en"; }},
      {"change_case:english_lowercase",
       [](const nlohmann::json&, const std::string& r) { return is_lower(r) && detect_language(r) == "en"; }},
      {"punctuation:no_comma",
       [](const nlohmann::json&, const std::string& r) { return r.find(',') == std::string::npos; }},
  };
  return table;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
}

}  // namespace

const std::vector<std::string>& instruction_ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const auto& [id, check] : checks()) out.push_back(id);
    return out;
  }();
  return ids;
}

bool follows_strict(const std::string& id, const nlohmann::json& kwargs, const std::string& response) {
  const auto& table = checks();
  const auto it = table.find(id);
  VECRL_CHECK(it != table.end(), "ifeval: unknown instruction id '", id, "'");
  return it->second(kwargs, response);
}

bool follows_loose(const std::string& id, const nlohmann::json& kwargs, const std::string& response) {
  const auto lines = split_on(response, "\n");
  auto join = [&](std::size_t begin, std::size_t end) {
    std::string out;
    for (std::size_t i = begin; i < end && i < lines.size(); ++i) out += (i > begin ? "\n" : "") + lines[i];
    return strip(out);
  };
  const std::size_t n = lines.size();
  std::vector<std::string> variants{response, join(1, n), n > 0 ? join(0, n - 1) : "", n > 1 ? join(1, n - 1) : ""};
  for (std::size_t i = 0, count = variants.size(); i < count; ++i) {
    std::string without_stars = variants[i];
    without_stars.erase(std::remove(without_stars.begin(), without_stars.end(), '*'), without_stars.end());
    variants.push_back(without_stars);
  }
  for (const auto& v : variants)
    if (!strip(v).empty() && follows_strict(id, kwargs, v)) return true;
  return false;
}

std::vector<std::string> split_sentences(const std::string& input) {
  const std::string alphabets = "([A-Za-z])", prefixes = "(Mr|St|Mrs|Ms|Dr)[.]", suffixes = "(Inc|Ltd|Jr|Sr|Co)",
                    starters = "(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\\s|She\\s|It\\s|They\\s|Their\\s|Our\\s|We\\s|But\\s|"
                               "However\\s|That\\s|This\\s|Wherever)",
                    acronyms = "([A-Z][.][A-Z][.](?:[A-Z][.])?)", websites = "[.](com|net|org|io|gov|edu|me)",
                    digits = "([0-9])";
  std::string text = " " + input + "  ";
  replace_all(text, "\n", " ");
  auto sub = [&](const std::string& pattern, const std::string& rewrite) {
    RE2::GlobalReplace(&text, RE2(pattern), rewrite);
  };
  sub(prefixes, "\\1<prd>");
  sub(websites, "<prd>\\1");
  sub(digits + "[.]" + digits, "\\1<prd>\\2");
  {  // "..." -> "<prd><prd><prd><stop>"
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
      std::size_t j = i;
      while (j < text.size() && text[j] == '.') ++j;
      if (j - i >= 2) {
        for (std::size_t k = i; k < j; ++k) out += "<prd>";
        out += "<stop>";
        i = j;
      } else {
        out += text[i++];
      }
    }
    text = out;
  }
  replace_all(text, "Ph.D.", "Ph<prd>D<prd>");
  sub("\\s" + alphabets + "[.] ", " \\1<prd> ");
  sub(acronyms + " " + starters, "\\1<stop> \\2");
  sub(alphabets + "[.]" + alphabets + "[.]" + alphabets + "[.]", "\\1<prd>\\2<prd>\\3<prd>");
  sub(alphabets + "[.]" + alphabets + "[.]", "\\1<prd>\\2<prd>");
  sub(" " + suffixes + "[.] " + starters, " \\1<stop> \\2");
  sub(" " + suffixes + "[.]", " \\1<prd>");
  sub(" " + alphabets + "[.]", " \\1<prd>");
  replace_all(text, ".\xE2\x80\x9D", "\xE2\x80\x9D.");
  replace_all(text, ".\"", "\".");
  replace_all(text, "!\"", "\"!");
  replace_all(text, "?\"", "\"?");
  replace_all(text, ".", ".<stop>");
  replace_all(text, "?", "?<stop>");
  replace_all(text, "!", "!<stop>");
  replace_all(text, "<prd>", ".");
  auto sentences = split_on(text, "<stop>");
  for (auto& s : sentences) s = strip(s);
  if (!sentences.empty() && sentences.back().empty()) sentences.pop_back();
  return sentences;
}

}  // namespace vecrl::rewards::ifeval
