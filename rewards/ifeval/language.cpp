#include "rewards/ifeval/language.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace vecrl::rewards::ifeval {
namespace {

std::vector<char32_t> code_points(const std::string& s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + length > s.size()) length = 1;
    char32_t cp = length == 1 ? c : c & (0x7F >> length);
    for (int k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += length;
  }
  return out;
}

bool in(char32_t c, char32_t low, char32_t high) { return c >= low && c <= high; }

std::size_t count_of(const std::vector<char32_t>& text, const std::u32string& letters) {
  std::size_t n = 0;
  for (char32_t c : text) n += letters.find(c) != std::u32string::npos;
  return n;
}

std::size_t count_words(const std::string& text, const std::vector<std::string>& words) {
  // Counts occurrences of each marker as a whole space-separated word (punctuation trimmed).
  std::set<std::string> wanted(words.begin(), words.end());
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string w; in >> w;) {
    while (!w.empty() && std::string(".,;:!?\"'()[]|।॥").find(w.back()) != std::string::npos) w.pop_back();
    n += wanted.count(w);
  }
  return n;
}

std::string lower_ascii(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string best_by_words(const std::string& text, const std::map<std::string, std::vector<std::string>>& profiles,
                          const std::string& fallback) {
  std::string best = fallback;
  std::size_t best_count = 0;
  for (const auto& [language, words] : profiles) {
    const auto n = count_words(text, words);
    if (n > best_count) best = language, best_count = n;
  }
  return best;
}

std::string latin_language(const std::string& text, const std::vector<char32_t>& cps) {
  // Vietnamese is unmistakable by its stacked diacritics.
  std::size_t vietnamese = 0;
  for (char32_t c : cps) vietnamese += in(c, 0x1EA0, 0x1EF9) || c == U'ư' || c == U'ơ' || c == U'đ' || c == U'Ư' || c == U'Ơ';
  if (vietnamese * 50 > cps.size()) return "vi";
  static const std::map<std::string, std::vector<std::string>> profiles = {
      {"en", {"the", "and", "is", "of", "to", "in", "that", "it", "you", "for", "with", "this", "are", "was", "be", "have", "not", "on", "as", "your"}},
      {"de", {"der", "die", "und", "das", "ist", "nicht", "ich", "sie", "es", "zu", "den", "mit", "ein", "eine", "auf", "für", "sich", "dem", "auch", "wir"}},
      {"fr", {"le", "la", "les", "et", "est", "des", "une", "un", "du", "que", "pour", "dans", "pas", "qui", "sur", "vous", "avec", "au", "ce", "je"}},
      {"es", {"el", "la", "los", "las", "y", "es", "de", "que", "en", "un", "una", "por", "para", "con", "no", "del", "se", "su", "como", "más"}},
      {"it", {"il", "la", "di", "che", "e", "è", "un", "una", "per", "non", "con", "del", "della", "sono", "gli", "le", "si", "al", "anche", "nel"}},
      {"pt", {"o", "a", "os", "as", "e", "é", "de", "que", "do", "da", "em", "um", "uma", "para", "com", "não", "no", "na", "se", "mais"}},
      {"fi", {"ja", "on", "ei", "se", "että", "hän", "oli", "ovat", "mutta", "kuin", "tai", "myös", "voi", "kun", "niin", "joka", "tämä", "ovat", "sen", "minä"}},
      {"sw", {"na", "ya", "wa", "za", "kwa", "ni", "katika", "la", "kuwa", "hii", "cha", "pia", "au", "lakini", "sana", "wako", "yako", "vya", "kama", "hiyo"}},
      {"vi", {"và", "là", "của", "có", "không", "một", "những", "được", "cho", "người", "với", "này", "các", "trong", "đã"}}};
  return best_by_words(lower_ascii(text), profiles, "en");
}

}  // namespace

std::string detect_language(const std::string& text) {
  const auto cps = code_points(text);
  std::map<std::string, std::size_t> scripts;
  for (char32_t c : cps) {
    if (in(c, 0xAC00, 0xD7A3) || in(c, 0x1100, 0x11FF) || in(c, 0x3130, 0x318F)) ++scripts["ko"];
    else if (in(c, 0x0E00, 0x0E7F)) ++scripts["th"];
    else if (in(c, 0x0980, 0x09FF)) ++scripts["bn"];
    else if (in(c, 0x0A00, 0x0A7F)) ++scripts["pa"];
    else if (in(c, 0x0A80, 0x0AFF)) ++scripts["gu"];
    else if (in(c, 0x0B80, 0x0BFF)) ++scripts["ta"];
    else if (in(c, 0x0C00, 0x0C7F)) ++scripts["te"];
    else if (in(c, 0x0C80, 0x0CFF)) ++scripts["kn"];
    else if (in(c, 0x0900, 0x097F)) ++scripts["devanagari"];
    else if (in(c, 0x0600, 0x06FF) || in(c, 0x0750, 0x077F) || in(c, 0xFB50, 0xFDFF) || in(c, 0xFE70, 0xFEFF)) ++scripts["arabic"];
    else if (in(c, 0x0400, 0x04FF)) ++scripts["cyrillic"];
    else if (in(c, 'a', 'z') || in(c, 'A', 'Z') || in(c, 0x00C0, 0x024F) || in(c, 0x1E00, 0x1EFF)) ++scripts["latin"];
  }
  std::string script;
  std::size_t most = 0;
  for (const auto& [name, n] : scripts)
    if (n > most) script = name, most = n;
  if (script.empty()) return "";
  if (script == "latin") return latin_language(text, cps);
  if (script == "cyrillic") {
    // Russian writes ы and э, Bulgarian does not (and uses ъ as a vowel).
    const auto russian = count_of(cps, U"ыЫэЭёЁ"), bulgarian = count_of(cps, U"ъЪ");
    return russian == 0 && bulgarian > 0 ? "bg" : "ru";
  }
  if (script == "arabic") {
    if (count_of(cps, U"ےٹڈڑںھ") > 0) return "ur";
    if (count_of(cps, U"پچژگیک") > count_of(cps, U"ةىي")) return "fa";
    return "ar";
  }
  if (script == "devanagari") {
    static const std::map<std::string, std::vector<std::string>> profiles = {
        {"hi", {"है", "हैं", "और", "के", "में", "की", "का", "से", "को", "यह", "था", "नहीं", "भी", "पर", "लिए"}},
        {"mr", {"आहे", "आणि", "हे", "या", "आहेत", "की", "नाही", "तो", "ती", "त्या", "मी", "होते", "केले", "व", "पण"}},
        {"ne", {"छ", "हो", "र", "को", "मा", "लाई", "पनि", "गर्न", "छन्", "थियो", "भएको", "यो", "हुन्छ", "गरेको", "छैन"}}};
    const std::string guess = best_by_words(text, profiles, "hi");
    // ळ is common in Marathi and absent from Hindi.
    if (guess == "hi" && count_of(cps, U"ळ") > 0) return "mr";
    return guess;
  }
  return script;
}

}  // namespace vecrl::rewards::ifeval
