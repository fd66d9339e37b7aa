// local judge: the policy or the frozen reference model (or a model folder of its own) answers in
// process. P(yes) compares the next-token log-probs of the yes and no spellings (" yes", "Yes", ...)
// after the question.
#include <torch/types.h>

#include <cmath>
#include <mutex>

#include "models/next_token.h"
#include "models/policy_runner.h"
#include "models/tokenizer.h"
#include "rewards/judge/judge.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

enum class LocalModel { kReference, kPolicy, kPath };

struct LocalJudgeOptions {
  LocalModel model = LocalModel::kReference;
  std::string path;  // a model folder (model: path)
  std::vector<std::string> yes{"yes", "Yes", "YES"};  // token texts (trimmed) that count as yes
  std::vector<std::string> no{"no", "No", "NO"};

  template <class V>
  void visit(V& v) {
    v.choice("model", model, {{"reference", LocalModel::kReference}, {"policy", LocalModel::kPolicy}, {"path", LocalModel::kPath}});
    v.field("path", path);
    v.field("yes", yes);
    v.field("no", no);
    v.require(model != LocalModel::kPath || !path.empty(), "path", "set the judge model folder (model: path)");
  }
};

class LocalJudge : public Judge {
 public:
  explicit LocalJudge(LocalJudgeOptions o) : o_(std::move(o)) {
    if (o_.model == LocalModel::kPath) own_ = std::make_unique<models::PolicyRunner>(o_.path, false);
  }

  bool needs_reference() const override { return o_.model == LocalModel::kReference; }

  double p_yes(const std::string& question, const ScoringModels* models) const override {
    auto [model, tokenizer] = pick(models);
    auto tokens = models::encode_prompt(*tokenizer, question, true);
    std::lock_guard<std::mutex> lock(mutex_);  // one forward at a time per judge
    auto logprobs = models::next_token_logprobs(model, tokens, static_cast<int64_t>(tokens.size()) - 1)[0];
    const auto& ids = spelling_ids(*tokenizer);
    return p_yes_from_logprobs(logsumexp(logprobs, ids.first), logsumexp(logprobs, ids.second));
  }

  std::string reply(const std::string& question, int64_t max_tokens, const ScoringModels* models) const override {
    auto [model, tokenizer] = pick(models);
    auto tokens = models::encode_prompt(*tokenizer, question, true);
    std::vector<int64_t> generated;
    std::lock_guard<std::mutex> lock(mutex_);
    for (int64_t t = 0; t < max_tokens; ++t) {  // greedy; judge replies are a few tokens
      auto lp = models::next_token_logprobs(model, tokens, static_cast<int64_t>(tokens.size()) - 1)[0];
      const int64_t next = lp.argmax().item<int64_t>();
      if (next == tokenizer->eos_id()) break;
      tokens.push_back(next);
      generated.push_back(next);
    }
    return tokenizer->decode(generated);
  }

 private:
  std::pair<models::CausalLM, const models::Tokenizer*> pick(const ScoringModels* models) const {
    if (own_) return {own_->policy(), &own_->tokenizer()};
    VECRL_CHECK(models && models->tokenizer, "local judge: no model to judge with (in `vecrl reward`, pass --model)");
    auto impl = o_.model == LocalModel::kPolicy ? models->policy : models->reference;
    VECRL_CHECK(impl, "local judge: the ", o_.model == LocalModel::kPolicy ? "policy" : "reference", " model is not loaded");
    return {models::CausalLM(impl), models->tokenizer};
  }

  // Ids whose token text (trimmed) is one of the yes / no spellings, found once per tokenizer.
  const std::pair<std::vector<int64_t>, std::vector<int64_t>>& spelling_ids(const models::Tokenizer& tokenizer) const {
    std::lock_guard<std::mutex> lock(ids_mutex_);
    if (ids_tokenizer_ != &tokenizer) {
      ids_ = {};
      for (int64_t id = 0; id < tokenizer.vocab_size(); ++id) {
        const std::string text = trim(tokenizer.decode({id}));
        if (std::find(o_.yes.begin(), o_.yes.end(), text) != o_.yes.end()) ids_.first.push_back(id);
        if (std::find(o_.no.begin(), o_.no.end(), text) != o_.no.end()) ids_.second.push_back(id);
      }
      ids_tokenizer_ = &tokenizer;
    }
    return ids_;
  }

  static double logsumexp(const at::Tensor& logprobs, const std::vector<int64_t>& ids) {
    if (ids.empty()) return -INFINITY;
    return logprobs.index_select(0, torch::tensor(ids)).logsumexp(0).item<double>();
  }

  LocalJudgeOptions o_;
  std::unique_ptr<models::PolicyRunner> own_;
  mutable std::mutex mutex_, ids_mutex_;
  mutable const models::Tokenizer* ids_tokenizer_ = nullptr;
  mutable std::pair<std::vector<int64_t>, std::vector<int64_t>> ids_;
};

VECRL_REGISTER(judge_registry(), "local", (core::make_configured<Judge, LocalJudgeOptions, LocalJudge>));

}  // namespace
}  // namespace vecrl::rewards
