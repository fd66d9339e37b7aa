#pragma once
// Few-shot exemplars put before every prompt (`data.few_shot`, `eval.few_shot`): the first `count`
// records of `path`, each rendered with `template` ({field} placeholders), joined by `separator`.
#include <cstdint>
#include <string>

#include "core/config.h"

namespace vecrl::trainer {

struct FewShotOptions {
  std::string path;  // exemplar records (.jsonl, .jsonl.gz, .json); empty = no exemplars
  int64_t count = 0;
  std::string template_text;  // e.g. "Question: {question}\nAnswer: {answer}"
  std::string separator = "\n\n";

  template <class V>
  void visit(V& v) {
    v.field("path", path);
    v.field("count", count);
    v.field("template", template_text);
    v.field("separator", separator);
    v.require(path.empty() || count >= 1, "count", core::str_cat("must be >= 1 with a path, got ", count));
    v.require(path.empty() || !template_text.empty(), "template", "is required with a path (e.g. \"Q: {question}\\nA: {answer}\")");
  }
};

// The exemplar block (ending with the separator), or "" when no path is set. Errors name the
// exemplar file and line.
std::string render_few_shot(const FewShotOptions& options);

}  // namespace vecrl::trainer
