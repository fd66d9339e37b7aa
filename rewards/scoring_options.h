#pragma once
// The `scoring:` section of a run config (kept apart from reward_set.h so configs stay light).
#include <cstdint>
#include <string>

#include "core/config.h"

namespace vecrl::rewards {

// Cuts one response into up to `max_answers` answers (VPO scores several answers per response):
// the contents of each <tag>…</tag>, or with `separator` the pieces that end with it (sentences
// for "."; the separator is not kept, empty pieces are skipped, an unterminated tail is not an
// answer, as an unclosed tag is not). Disabled when both are empty.
struct SplitOptions {
  std::string tag;
  std::string separator;
  int64_t max_answers = 1;

  bool enabled() const { return !tag.empty() || !separator.empty(); }

  template <class V>
  void visit(V& v) {
    v.field("tag", tag);
    v.field("separator", separator);
    v.field("max_answers", max_answers);
    v.require(max_answers >= 1, "max_answers", core::str_cat("must be >= 1, got ", max_answers));
    v.require(tag.empty() || separator.empty(), "separator", "set either `tag` or `separator`, not both");
  }
};

struct ScoringOptions {
  int workers = 4;  // threads per module for text scoring (sandboxed programs, judge calls, ...)
  SplitOptions split;

  template <class V>
  void visit(V& v) {
    v.field("workers", workers);
    v.section("split", split);
    v.require(workers >= 1, "workers", core::str_cat("must be >= 1, got ", workers));
  }
};

}  // namespace vecrl::rewards
