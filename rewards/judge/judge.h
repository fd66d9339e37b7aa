#pragma once
// Judges answer questions about a response for rubric and artifact rewards. Backends are
// registered by name (one file each): `local` scores P(yes) from a model's next-token
// distribution in-process; `http` asks any OpenAI-compatible server (`vecrl serve`, vLLM, an API).
#include <memory>
#include <string>

#include "core/config.h"
#include "core/registry.h"
#include "rewards/reward_module.h"

namespace vecrl::rewards {

class Judge {
 public:
  virtual ~Judge() = default;
  // P(yes) for a yes/no question, from the probabilities of "yes" and "no" as the next token
  // (softmax restricted to the two; a backend without log-probs parses the reply instead).
  virtual double p_yes(const std::string& question, const ScoringModels* models) const = 0;
  // A short free-text reply (greedy), for Likert scores.
  virtual std::string reply(const std::string& question, int64_t max_tokens, const ScoringModels* models) const = 0;
  // Whether it judges with the trainer's frozen reference model.
  virtual bool needs_reference() const { return false; }
};

using JudgeRegistry = core::Registry<Judge, core::ConfigNode&>;
JudgeRegistry& judge_registry();

// P(yes) from the log-probs of "yes" and "no" (either may be absent: yes absent -> 0, no absent
// -> 1, both absent -> error): 1 / (1 + exp(lp_no - lp_yes)).
double p_yes_from_logprobs(double lp_yes, double lp_no);

// The judge's verdict read from a reply's first word ("Yes."/"no" ...); throws when it is neither.
double p_yes_from_reply(const std::string& reply);

// The first integer in a reply within [low, high]; throws when there is none.
int64_t parse_score(const std::string& reply, int64_t low, int64_t high);

}  // namespace vecrl::rewards
