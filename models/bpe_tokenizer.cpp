// Byte-level BPE. Encoding: added tokens are cut out first (leftmost, longest), the rest is
// Unicode-normalised, split into pre-tokens by the file's regex (PCRE2, which has the Unicode
// classes and the look-ahead these patterns use), and each pre-token's bytes are merged by rank.
// Everything works on raw bytes: the file's printable byte map is undone once, at load.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "models/bpe_tokenizer.h"

#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <queue>
#include <unordered_map>

#include "core/error.h"

namespace vecrl::models {
namespace {

// GPT-2's map from bytes to printable code points (printable Latin-1 bytes map to themselves,
// the others to U+0100 onwards), as UTF-8 strings.
std::array<std::string, 256> printable_bytes() {
  std::array<std::string, 256> table;
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const int code_point = printable ? b : next++;
    utf8proc_uint8_t buffer[4];
    const auto n = utf8proc_encode_char(code_point, buffer);
    table[static_cast<std::size_t>(b)] = std::string(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(n));
  }
  return table;
}

// Undoes the byte map: a vocabulary string back to the bytes it stands for.
class PrintableByteDecoder {
 public:
  PrintableByteDecoder() {
    const auto table = printable_bytes();
    for (int b = 0; b < 256; ++b) to_byte_[table[static_cast<std::size_t>(b)]] = static_cast<char>(b);
  }
  bool decode(const std::string& printable, std::string& bytes) const {
    bytes.clear();
    for (std::size_t i = 0; i < printable.size();) {
      std::size_t len = 1;
      const auto lead = static_cast<unsigned char>(printable[i]);
      if (lead >= 0xC0) len = lead >= 0xE0 ? (lead >= 0xF0 ? 4 : 3) : 2;
      const auto it = to_byte_.find(printable.substr(i, len));
      if (it == to_byte_.end()) return false;
      bytes.push_back(it->second);
      i += len;
    }
    return true;
  }

 private:
  std::unordered_map<std::string, char> to_byte_;
};

class SplitRegex {
 public:
  SplitRegex(const std::string& pattern, const std::string& source) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (code_ == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      VECRL_CHECK(false, source, ": pre-tokenizer pattern does not compile at offset ", offset, ": ",
                  reinterpret_cast<char*>(message), " (pattern: ", pattern, ")");
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // faster when available; the interpreter otherwise
  }
  ~SplitRegex() { pcre2_code_free(code_); }
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // "Isolated" splitting: every match is a piece, and so is every stretch between matches.
  void split(const std::string& text, std::vector<std::string>& pieces) const {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(code_, nullptr);
    std::size_t start = 0, emitted = 0;
    while (start < text.size()) {
      const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, 0, match, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match);
      if (span[0] > emitted) pieces.push_back(text.substr(emitted, span[0] - emitted));
      if (span[1] > span[0]) pieces.push_back(text.substr(span[0], span[1] - span[0]));
      emitted = std::max<std::size_t>(emitted, span[1]);
      start = span[1] > span[0] ? span[1] : span[1] + 1;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
    }
    pcre2_match_data_free(match);
    if (emitted < text.size()) pieces.push_back(text.substr(emitted));
  }

 private:
  pcre2_code* code_ = nullptr;
};

std::string normalize(const std::string& text, const std::string& form) {
  if (form.empty()) return text;
  int options = UTF8PROC_STABLE;
  if (form == "NFC" || form == "NFKC") options |= UTF8PROC_COMPOSE;
  if (form == "NFD" || form == "NFKD") options |= UTF8PROC_DECOMPOSE;
  if (form == "NFKC" || form == "NFKD") options |= UTF8PROC_COMPAT;
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                              static_cast<utf8proc_ssize_t>(text.size()), &out, static_cast<utf8proc_option_t>(options));
  if (n < 0) return text;  // not valid UTF-8: left as it is, its bytes still encode
  std::string result(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
  std::free(out);
  return result;
}

bool is_word_byte(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class BpeTokenizer : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeSpec spec) : spec_(std::move(spec)) {
    const auto& byte_decoder = byte_decoder_;
    for (const auto& added : spec_.added_tokens)
      VECRL_CHECK(added.id >= 0, spec_.source, ": added token '", added.content, "' has a negative id ", added.id);
    int64_t largest = -1;
    std::string bytes;
    for (const auto& [token, id] : spec_.vocab) {
      VECRL_CHECK(id >= 0, spec_.source, ": token '", token, "' has a negative id ", id);
      VECRL_CHECK(byte_decoder.decode(token, bytes), spec_.source, ": vocabulary token '", token,
                  "' is not in the byte-level alphabet (is this a byte-level BPE tokenizer?)");
      VECRL_CHECK(id_of_bytes_.emplace(bytes, id).second, spec_.source, ": two vocabulary tokens spell the same bytes, one of them '", token, "'");
      largest = std::max(largest, id);
    }
    for (const auto& added : spec_.added_tokens) largest = std::max(largest, added.id);
    // Ids index dense tables: a stray huge id (a corrupt file) must be an error, not a huge allocation.
    const auto tokens = static_cast<int64_t>(spec_.vocab.size() + spec_.added_tokens.size());
    VECRL_CHECK(largest < 2 * tokens + 1024, spec_.source, ": token id ", largest, " is far beyond the ", tokens,
                " tokens the file defines");
    pieces_.resize(static_cast<std::size_t>(largest + 1));
    for (const auto& [token, id] : spec_.vocab) pieces_[static_cast<std::size_t>(id)] = token;
    bytes_of_id_.resize(pieces_.size());
    for (const auto& [b, id] : id_of_bytes_) bytes_of_id_[static_cast<std::size_t>(id)] = b;
    for (int b = 0; b < 256; ++b) {
      const auto it = id_of_bytes_.find(std::string(1, static_cast<char>(b)));
      VECRL_CHECK(it != id_of_bytes_.end(), spec_.source, ": the vocabulary lacks the token for byte ", b);
      byte_ids_[static_cast<std::size_t>(b)] = it->second;
    }
    std::string left, right;
    for (std::size_t rank = 0; rank < spec_.merges.size(); ++rank) {
      const auto& [a, b] = spec_.merges[rank];
      const bool known = byte_decoder.decode(a, left) && byte_decoder.decode(b, right);
      const auto l = id_of_bytes_.find(left), r = id_of_bytes_.find(right), m = id_of_bytes_.find(left + right);
      VECRL_CHECK(known && l != id_of_bytes_.end() && r != id_of_bytes_.end() && m != id_of_bytes_.end(), spec_.source,
                  ": merge ", rank, " ('", a, "' '", b, "') uses or makes a token missing from the vocabulary");
      merges_.emplace(pair_key(l->second, r->second), Merge{static_cast<int64_t>(rank), m->second});
    }
    for (auto& added : spec_.added_tokens) {
      VECRL_CHECK(!added.content.empty(), spec_.source, ": added token ", added.id, " is empty");
      pieces_[static_cast<std::size_t>(added.id)] = added.content;
      bytes_of_id_[static_cast<std::size_t>(added.id)] = added.content;
      if (added.special) special_ids_.push_back(added.id);
    }
    std::sort(special_ids_.begin(), special_ids_.end());
    for (const auto& pattern : spec_.split_patterns) splitters_.push_back(std::make_unique<SplitRegex>(pattern, spec_.source));
    bos_ = id_of_content(spec_.bos_token, "bos_token");
    eos_ = id_of_content(spec_.eos_token, "eos_token");
    VECRL_CHECK(eos_ >= 0, spec_.source, ": no end-of-sequence token (set eos_token in tokenizer_config.json)");
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto [start, end, token] = next_added_token(text, pos);
      encode_ordinary(text.substr(pos, start - pos), ids);
      if (token == nullptr) break;
      ids.push_back(token->id);
      pos = end;
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string bytes;
    for (const auto id : ids) {
      // Models pad their embedding past the tokenizer (Qwen3: 151,936 rows for 151,669 tokens); a
      // sampled padding id has no text, as in HF's decode.
      VECRL_CHECK(id >= 0, spec_.source, ": negative token id ", id);
      if (id >= vocab_size() || std::binary_search(special_ids_.begin(), special_ids_.end(), id)) continue;
      bytes += bytes_of_id_[static_cast<std::size_t>(id)];
    }
    return utf8_lossy(bytes);
  }

  std::string id_to_piece(int64_t id) const override {
    check_id(id);
    return pieces_[static_cast<std::size_t>(id)];
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  int64_t bos_id() const override { return bos_; }
  int64_t eos_id() const override { return eos_; }
  int64_t token_id(const std::string& content) const override {
    for (const auto& added : spec_.added_tokens)
      if (added.content == content) return added.id;
    std::string bytes;
    if (!byte_decoder_.decode(content, bytes)) return -1;
    const auto it = id_of_bytes_.find(bytes);
    return it == id_of_bytes_.end() ? -1 : it->second;
  }

 private:
  struct Merge {
    int64_t rank;
    int64_t merged;
  };
  struct Match {
    std::size_t start, end;
    const AddedToken* token;
  };

  static uint64_t pair_key(int64_t left, int64_t right) {
    return (static_cast<uint64_t>(left) << 32) | static_cast<uint64_t>(right);
  }

  void check_id(int64_t id) const {
    VECRL_CHECK(id >= 0 && id < vocab_size() && !bytes_of_id_[static_cast<std::size_t>(id)].empty(), spec_.source,
                ": token id ", id, " is outside the vocabulary of ", vocab_size());
  }

  int64_t id_of_content(const std::string& content, const char* key) const {
    if (content.empty()) return -1;
    const int64_t id = token_id(content);
    VECRL_CHECK(id >= 0, spec_.source, ": ", key, " '", content, "' is not a token of the vocabulary");
    return id;
  }

  // The leftmost added token at or after `from` (the longest one where several start there), with
  // the whitespace its lstrip/rstrip absorb; {size, size, nullptr} when there is none.
  Match next_added_token(const std::string& text, std::size_t from) const {
    Match best{text.size(), text.size(), nullptr};
    for (const auto& added : spec_.added_tokens) {
      for (std::size_t at = text.find(added.content, from); at != std::string::npos && at <= best.start;
           at = text.find(added.content, at + 1)) {
        const std::size_t end = at + added.content.size();
        if (added.single_word && ((at > 0 && is_word_byte(text[at - 1])) || (end < text.size() && is_word_byte(text[end]))))
          continue;
        if (at < best.start || (at == best.start && best.token != nullptr && added.content.size() > best.token->content.size()))
          best = {at, end, &added};
        break;
      }
    }
    if (best.token == nullptr) return best;
    if (best.token->lstrip)
      while (best.start > from && is_space_byte(text[best.start - 1])) --best.start;
    if (best.token->rstrip)
      while (best.end < text.size() && is_space_byte(text[best.end])) ++best.end;
    return best;
  }

  void encode_ordinary(const std::string& raw, std::vector<int64_t>& ids) const {
    if (raw.empty()) return;
    std::string text = normalize(raw, spec_.unicode_normalization);
    if (spec_.add_prefix_space && text.front() != ' ') text.insert(text.begin(), ' ');
    std::vector<std::string> pieces{std::move(text)};
    for (const auto& splitter : splitters_) {
      std::vector<std::string> finer;
      for (const auto& piece : pieces) splitter->split(piece, finer);
      pieces = std::move(finer);
    }
    for (const auto& piece : pieces) merge_piece(piece, ids);
  }

  // Merges the piece's bytes, lowest rank first and leftmost among equal ranks, as HF tokenizers do.
  void merge_piece(const std::string& piece, std::vector<int64_t>& ids) const {
    if (spec_.ignore_merges) {
      const auto whole = id_of_bytes_.find(piece);
      if (whole != id_of_bytes_.end()) {
        ids.push_back(whole->second);
        return;
      }
    }
    struct Symbol {
      int64_t id;
      int prev, next;
    };
    std::vector<Symbol> symbols;
    symbols.reserve(piece.size());
    for (std::size_t i = 0; i < piece.size(); ++i)
      symbols.push_back({byte_ids_[static_cast<unsigned char>(piece[i])], static_cast<int>(i) - 1,
                         i + 1 < piece.size() ? static_cast<int>(i) + 1 : -1});
    struct Candidate {
      int64_t rank;
      int left;
      int64_t left_id, right_id;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    auto consider = [&](int left) {
      if (left < 0 || symbols[static_cast<std::size_t>(left)].next < 0) return;
      const auto& l = symbols[static_cast<std::size_t>(left)];
      const auto& r = symbols[static_cast<std::size_t>(l.next)];
      const auto it = merges_.find(pair_key(l.id, r.id));
      if (it != merges_.end()) queue.push({it->second.rank, left, l.id, r.id});
    };
    for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      auto& l = symbols[static_cast<std::size_t>(c.left)];
      if (l.id != c.left_id || l.next < 0 || symbols[static_cast<std::size_t>(l.next)].id != c.right_id) continue;  // stale
      auto& r = symbols[static_cast<std::size_t>(l.next)];
      l.id = merges_.at(pair_key(c.left_id, c.right_id)).merged;
      r.id = -1;  // removed
      l.next = r.next;
      if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = c.left;
      consider(l.prev);
      consider(c.left);
    }
    for (int i = 0; i >= 0 && !symbols.empty(); i = symbols[static_cast<std::size_t>(i)].next)
      ids.push_back(symbols[static_cast<std::size_t>(i)].id);
  }

  BpeSpec spec_;
  PrintableByteDecoder byte_decoder_;
  std::unordered_map<std::string, int64_t> id_of_bytes_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int64_t, 256> byte_ids_{};
  std::vector<std::string> pieces_, bytes_of_id_;
  std::vector<int64_t> special_ids_;
  std::vector<std::unique_ptr<SplitRegex>> splitters_;
  int64_t bos_ = -1, eos_ = -1;
};

}  // namespace

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    utf8proc_int32_t code_point = 0;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(bytes.data()) + i,
                                    static_cast<utf8proc_ssize_t>(bytes.size() - i), &code_point);
    if (n > 0) {
      out.append(bytes, i, static_cast<std::size_t>(n));
      i += static_cast<std::size_t>(n);
      continue;
    }
    // One replacement per maximal invalid subsequence: a lead byte with the continuation bytes
    // that were valid so far, or a single stray byte.
    out += "\xEF\xBF\xBD";
    const auto lead = static_cast<unsigned char>(bytes[i]);
    const std::size_t wanted = lead >= 0xC2 && lead <= 0xDF ? 1 : lead >= 0xE0 && lead <= 0xEF ? 2 : lead >= 0xF0 && lead <= 0xF4 ? 3 : 0;
    ++i;
    for (std::size_t k = 0; k < wanted && i < bytes.size() && (static_cast<unsigned char>(bytes[i]) & 0xC0) == 0x80; ++k) ++i;
  }
  return out;
}

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeSpec spec) { return std::make_unique<BpeTokenizer>(std::move(spec)); }

}  // namespace vecrl::models
