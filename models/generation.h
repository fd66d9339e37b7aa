#pragma once
// Batched generation with a static KV cache. Each prompt is prefilled once and its cache shared by
// the group's samples.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/sampler.h"
#include "models/transformer.h"

namespace vecrl::models {

class Tokenizer;

struct GenerationOptions {
  SamplerOptions sampler;
  int64_t max_new_tokens = 64;
  std::vector<int64_t> stop_token_ids;  // generation of a row ends after one of these (kept in the output)
  // A row also ends once its text contains one of these (the tokens that complete it are kept);
  // `decode` turns a row's token ids into text and is required with stop strings.
  std::vector<std::string> stop_strings;
  std::function<std::string(const std::vector<int64_t>&)> decode;
  int64_t pad_token_id = 0;
  uint64_t seed = 0;
  // One seed per prompt (empty: derived from `seed`). Step t of sample j of prompt p draws with
  // counter_uniforms(sample_seed(prompt_seeds[p], j)) at t, so a sample depends neither on the other
  // prompts in the batch (or on the rank) nor on whether its group shares the prompt's prefill.
  std::vector<uint64_t> prompt_seeds;
  // Explicit per-sample seeds (N = prompts x samples_per_prompt); overrides the derivation above.
  std::vector<uint64_t> sample_seeds;
  // Decode steps between two checks whether every row has finished (a check waits for the device);
  // stop strings are matched at each check over the steps since the previous one. 0 = every step
  // on the CPU, where it is free, and every 8 on a GPU. Results do not depend on it.
  int64_t finished_check_interval = 0;
};

// The options every caller starts from (training rollouts, evaluation, `vecrl generate`, `vecrl
// serve`): the sampler and budget, the stops, padding with the tokenizer's EOS, and stop strings
// matched on text the tokenizer decodes (the tokenizer must outlive the options). Seeds are the
// caller's.
GenerationOptions generation_options(const SamplerOptions& sampler, int64_t max_new_tokens, const Tokenizer& tokenizer,
                                     std::vector<int64_t> stop_token_ids, std::vector<std::string> stop_strings);

// The seed of sample j of a prompt whose seed is prompt_seed (a splitmix64 mix).
uint64_t sample_seed(uint64_t prompt_seed, int64_t j);

// The seed of prompt p under `options`: prompt_seeds[p], or derived from `seed`.
uint64_t prompt_seed(const GenerationOptions& options, int64_t p);

struct Generation {
  at::Tensor prompt_ids;   // [N, Lp] int64, left-padded with pad_token_id
  at::Tensor prompt_mask;  // [N, Lp] bool
  at::Tensor tokens;       // [N, T] int64, right-padded with pad_token_id
  at::Tensor mask;         // [N, T] bool, generated tokens including the stop token
  at::Tensor logprobs;     // [N, T] float32 behaviour log-probs (0 on padding)
  at::Tensor truncated;    // [N] bool, no stop token within max_new_tokens
};

// prompts: P token lists (non-empty). Returns N = P * samples_per_prompt rows; rows of one prompt
// are contiguous. Same seed and inputs give the same outputs.
Generation generate(CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                    int64_t samples_per_prompt, const GenerationOptions& options);

// Left-pads token lists: ids [P, L] and mask [P, L].
std::pair<at::Tensor, at::Tensor> left_pad(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id);

// Rotary positions of a left-padded batch: 0 at each row's first real token. mask [B, L] -> [B, L].
at::Tensor positions_from_mask(const at::Tensor& mask);

}  // namespace vecrl::models
