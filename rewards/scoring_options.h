#pragma once
// The `scoring:` section of a run config (kept apart from reward_set.h so configs stay light).
#include <cstdint>
#include <string>

#include "core/config.h"

namespace vecrl::rewards {

// Cuts one response into up to `max_answers` answers, the contents of each <tag>…</tag> (VPO
// scores several answers per response). Disabled when `tag` is empty.
struct SplitOptions {
  std::string tag;
  int64_t max_answers = 1;

  template <class V>
  void visit(V& v) {
    v.field("tag", tag);
    v.field("max_answers", max_answers);
    v.require(max_answers >= 1, "max_answers", core::str_cat("must be >= 1, got ", max_answers));
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
