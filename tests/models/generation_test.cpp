#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/test_paths.h"
#include "core/error.h"
#include "models/generation.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"

using namespace vecrl;

namespace {


models::GenerationOptions greedy(int64_t n) {
  models::GenerationOptions o;
  o.sampler.temperature = 0;
  o.max_new_tokens = n;
  o.pad_token_id = 0;
  return o;
}

std::vector<int64_t> generated(const models::Generation& g, int64_t i) {
  std::vector<int64_t> out;
  for (int64_t t = 0; t < g.tokens.size(1); ++t)
    if (g.mask[i][t].item<bool>()) out.push_back(g.tokens[i][t].item<int64_t>());
  return out;
}

class Generation : public ::testing::Test {
 protected:
  models::PolicyRunner runner{test::stories260k(), false};
};

}  // namespace

TEST_F(Generation, KvCacheEqualsFullRecomputation) {
  auto& model = runner.policy();
  const std::vector<int64_t> prompt = {1, 403, 407, 261};
  auto gen = models::generate(model, {prompt}, 1, greedy(24));
  // Recompute the whole sequence at every step, no cache.
  torch::NoGradGuard no_grad;
  std::vector<int64_t> seq = prompt;
  for (int64_t t = 0; t < 24; ++t) {
    auto tokens = torch::tensor(seq).view({1, -1});
    auto hidden = model->hidden({tokens, torch::arange(tokens.size(1)).view({1, -1}),
                                 torch::ones_like(tokens).to(torch::kBool)});
    auto logits = model->logits(hidden.select(1, tokens.size(1) - 1));
    const int64_t next = logits.argmax(-1).item<int64_t>();
    EXPECT_EQ(gen.tokens[0][t].item<int64_t>(), next) << "step " << t;
    EXPECT_NEAR(gen.logprobs[0][t].item<double>(), torch::log_softmax(logits, -1)[0][next].item<double>(), 1e-5);
    seq.push_back(next);
  }
}

TEST_F(Generation, BatchedEqualsUnbatchedForRaggedPrompts) {
  const std::vector<std::vector<int64_t>> prompts = {{1}, {1, 403, 407, 261, 378}, {1, 286, 29}};
  auto batched = models::generate(runner.policy(), prompts, 1, greedy(20));
  for (std::size_t p = 0; p < prompts.size(); ++p) {
    auto alone = models::generate(runner.policy(), {prompts[p]}, 1, greedy(20));
    EXPECT_EQ(generated(batched, static_cast<int64_t>(p)), generated(alone, 0)) << "prompt " << p;
  }
}

TEST_F(Generation, SameSeedSameSamplesAndLogprobsMatchRecomputation) {
  models::GenerationOptions o;
  o.sampler.temperature = 0.9;
  o.sampler.top_p = 0.95;
  o.max_new_tokens = 16;
  o.stop_token_ids = {2};
  o.pad_token_id = 2;
  o.seed = 42;
  const std::vector<std::vector<int64_t>> prompts = {{1, 403}, {1}};
  auto a = models::generate(runner.policy(), prompts, 4, o);
  auto b = models::generate(runner.policy(), prompts, 4, o);
  EXPECT_TRUE(torch::equal(a.tokens, b.tokens));
  EXPECT_TRUE(torch::equal(a.logprobs, b.logprobs));
  EXPECT_EQ(a.tokens.size(0), 8);
  o.seed = 43;
  auto c = models::generate(runner.policy(), prompts, 4, o);
  EXPECT_FALSE(torch::equal(a.tokens.narrow(1, 0, std::min(a.tokens.size(1), c.tokens.size(1))),
                            c.tokens.narrow(1, 0, std::min(a.tokens.size(1), c.tokens.size(1)))));
  // Behaviour log-probs equal the trainer's recomputation.
  torch::NoGradGuard no_grad;
  auto scores = models::score_responses(runner.policy(), a.prompt_ids, a.prompt_mask, a.tokens, 0.9, false);
  auto diff = (scores.logprobs - a.logprobs).abs().masked_select(a.mask);
  EXPECT_LT(diff.max().item<double>(), 1e-4);
}

TEST_F(Generation, StopsAtEosAndMarksTruncation) {
  models::GenerationOptions o = greedy(8);
  o.stop_token_ids = {407};  // "upon" comes right after "Once" from BOS
  auto g = models::generate(runner.policy(), {{1}, {1, 403}}, 1, o);
  EXPECT_EQ(g.tokens[0][0].item<int64_t>(), 403);
  EXPECT_EQ(g.tokens[0][1].item<int64_t>(), 407);
  EXPECT_EQ(g.tokens.size(1), 2);  // both rows stopped, so generation ended early
  EXPECT_FALSE(g.truncated[0].item<bool>());
  EXPECT_EQ(g.tokens[1][0].item<int64_t>(), 407);
}

TEST_F(Generation, GroupPrefixSharingEqualsGeneratingEachSampleSeparately) {
  models::GenerationOptions o;
  o.sampler.temperature = 0.9;
  o.sampler.top_p = 0.95;
  o.max_new_tokens = 12;
  o.stop_token_ids = {2};
  o.pad_token_id = 2;
  o.prompt_seeds = {11, 22};
  const std::vector<std::vector<int64_t>> prompts = {{1, 403, 407}, {1}};
  const int64_t G = 4;
  auto shared = models::generate(runner.policy(), prompts, G, o);  // one prefill per prompt
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t j = 0; j < G; ++j) {
      models::GenerationOptions alone = o;
      alone.prompt_seeds.clear();
      alone.sample_seeds = {models::sample_seed(o.prompt_seeds[p], j)};
      auto single = models::generate(runner.policy(), {prompts[p]}, 1, alone);
      const int64_t row = p * G + j;
      EXPECT_EQ(generated(shared, row), generated(single, 0)) << "prompt " << p << " sample " << j;
      const int64_t T = std::min(shared.logprobs.size(1), single.logprobs.size(1));
      EXPECT_TRUE(torch::allclose(shared.logprobs[row].narrow(0, 0, T), single.logprobs[0].narrow(0, 0, T), 1e-5, 1e-5));
    }
}

TEST_F(Generation, StopStringsEndARowOnceItsTextHoldsThem) {
  const auto& tok = runner.tokenizer();
  models::GenerationOptions o = greedy(40);
  o.decode = [&tok](const std::vector<int64_t>& ids) { return tok.decode(ids); };
  auto full = models::generate(runner.policy(), {{1}}, 1, o);
  const auto text = tok.decode(generated(full, 0));
  ASSERT_EQ(text.rfind("Once upon a time, there was a little girl", 0), 0u) << text;

  // "le gi" spans the tokens of "little girl": the row ends at the token that completes it.
  o.stop_strings = {"le gi", "never appears"};
  auto stopped = models::generate(runner.policy(), {{1}, {1}}, 1, o);
  const auto ids = generated(stopped, 0);
  const auto stopped_text = tok.decode(ids);
  EXPECT_NE(stopped_text.find("le gi"), std::string::npos) << stopped_text;
  EXPECT_EQ(tok.decode(std::vector<int64_t>(ids.begin(), ids.end() - 1)).find("le gi"), std::string::npos);
  EXPECT_EQ(text.rfind(stopped_text, 0), 0u);  // the same tokens as without the stop, cut short
  EXPECT_FALSE(stopped.truncated[0].item<bool>());
  EXPECT_LT(stopped.tokens.size(1), full.tokens.size(1));

  o.decode = nullptr;
  EXPECT_THROW(models::generate(runner.policy(), {{1}}, 1, o), std::exception);
}

// Generating with each finished-rows check interval gives exactly `every_step`.
void expect_same_at_intervals(models::PolicyRunner& runner, const std::vector<std::vector<int64_t>>& prompts,
                              models::GenerationOptions o, const models::Generation& every_step,
                              const std::vector<int64_t>& intervals) {
  for (int64_t interval : intervals) {
    o.finished_check_interval = interval;
    auto sparse = models::generate(runner.policy(), prompts, 3, o);
    EXPECT_TRUE(torch::equal(sparse.tokens, every_step.tokens)) << interval;
    EXPECT_TRUE(torch::equal(sparse.mask, every_step.mask)) << interval;
    EXPECT_TRUE(torch::equal(sparse.logprobs, every_step.logprobs)) << interval;
    EXPECT_TRUE(torch::equal(sparse.truncated, every_step.truncated)) << interval;
  }
}

TEST_F(Generation, CheckingForFinishedRowsLessOftenChangesNothing) {
  // A GPU checks every few steps; rows that finished in between decode padding that is trimmed.
  models::GenerationOptions o;
  o.sampler.temperature = 0.9;
  o.max_new_tokens = 40;
  o.stop_token_ids = {runner.tokenizer().encode(".").back(), runner.tokenizer().encode(",").back()};
  o.pad_token_id = 0;
  o.seed = 5;
  const std::vector<std::vector<int64_t>> prompts = {{1}, {1, 403}, {1, 286, 29}};
  auto every_step = models::generate(runner.policy(), prompts, 3, o);
  ASSERT_LT(every_step.tokens.size(1), 40) << "every row should stop early for this test to mean anything";
  expect_same_at_intervals(runner, prompts, o, every_step, {3, 7, 64});
  o.finished_check_interval = -1;
  EXPECT_THROW(models::generate(runner.policy(), prompts, 3, o), core::Error);
}

TEST_F(Generation, StopStringsMatchedOnlyAtChecksChangeNothing) {
  // On a GPU the text is matched once per check: a row that completed a stop string in between
  // decoded on until the check, and those steps are erased.
  const auto& tok = runner.tokenizer();
  models::GenerationOptions o;
  o.sampler.temperature = 0.9;
  o.max_new_tokens = 40;
  o.stop_token_ids = {tok.encode(".").back()};
  o.stop_strings = {"ed ", "ing"};
  o.decode = [&tok](const std::vector<int64_t>& ids) { return tok.decode(ids); };
  o.seed = 9;
  const std::vector<std::vector<int64_t>> prompts = {{1}, {1, 403}, {1, 286, 29}};
  o.finished_check_interval = 1;
  auto every_step = models::generate(runner.policy(), prompts, 3, o);
  int64_t ended_by_string = 0;
  for (int64_t row = 0; row < every_step.tokens.size(0); ++row) {
    const auto ids = generated(every_step, row);
    const auto text = tok.decode(ids);
    if (ids.back() != o.stop_token_ids[0] && !every_step.truncated[row].item<bool>()) {
      ++ended_by_string;
      EXPECT_TRUE(text.find("ed ") != std::string::npos || text.find("ing") != std::string::npos) << text;
    }
  }
  ASSERT_GE(ended_by_string, 3) << "rows should end on stop strings for this test to mean anything";
  expect_same_at_intervals(runner, prompts, o, every_step, {2, 5, 64});
}
