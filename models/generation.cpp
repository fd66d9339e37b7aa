#include "models/generation.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/types.h>

#include <optional>

#include "core/error.h"
#include "core/runtime.h"
#include "core/seeds.h"
#include "models/tokenizer.h"

namespace vecrl::models {
namespace {

// Draws are made on the host a stretch of steps at a time (one small copy, no generator state).
constexpr int64_t kUniformChunk = 64;
constexpr int64_t kGpuFinishedCheckInterval = 8;

// Watches each row's text for stop strings. A string completed by the newest token lies within the
// last (its length + 2) tokens, so only that tail is decoded per token, never the whole row. It is
// fed the steps since the last finished-rows check in one piece, so on a GPU the tokens are read
// back once per check instead of once per token; a row whose text completed a stop string within
// that stretch went on decoding until the check, and those later steps are erased.
class StopStringMatcher {
 public:
  StopStringMatcher(const std::vector<std::string>& strings, std::function<std::string(const std::vector<int64_t>&)> decode,
                    int64_t rows)
      : strings_(strings), decode_(std::move(decode)), rows_(static_cast<std::size_t>(rows)),
        stopped_(static_cast<std::size_t>(rows), false) {
    for (const auto& s : strings_) {
      VECRL_CHECK(!s.empty(), "generate: an empty stop string");
      window_ = std::max(window_, s.size() + 2);
    }
  }
  bool active() const { return !strings_.empty(); }

  struct Result {
    at::Tensor stopped;  // [N] bool: rows whose text completed a stop string within the steps fed
    at::Tensor erase;    // [N, k] bool: the steps after that completion, which must not count
  };
  // tokens [N, k] int64 and alive [N, k] bool (the generation mask) of k consecutive steps, on the CPU.
  Result feed(const at::Tensor& tokens, const at::Tensor& alive) {
    const int64_t n = tokens.size(0), k = tokens.size(1);
    Result result{torch::zeros({n}, torch::kBool), torch::zeros({n, k}, torch::kBool)};
    auto token = tokens.accessor<int64_t, 2>();
    auto live = alive.accessor<bool, 2>();
    auto stopped = result.stopped.accessor<bool, 1>();
    auto erase = result.erase.accessor<bool, 2>();
    for (int64_t i = 0; i < n; ++i) {
      const auto row_index = static_cast<std::size_t>(i);
      for (int64_t step = 0; step < k; ++step) {
        if (stopped_[row_index]) {
          erase[i][step] = live[i][step];
          continue;
        }
        if (!live[i][step]) break;
        auto& row = rows_[row_index];
        row.push_back(token[i][step]);
        const std::size_t from = row.size() > window_ ? row.size() - window_ : 0;
        const auto tail = decode_(std::vector<int64_t>(row.begin() + static_cast<std::ptrdiff_t>(from), row.end()));
        for (const auto& s : strings_) stopped_[row_index] = stopped_[row_index] || tail.find(s) != std::string::npos;
        stopped[i] = stopped_[row_index];
      }
    }
    return result;
  }

 private:
  std::vector<std::string> strings_;
  std::function<std::string(const std::vector<int64_t>&)> decode_;
  std::vector<std::vector<int64_t>> rows_;
  std::vector<bool> stopped_;
  std::size_t window_ = 0;
};

// Below this many floating-point operations per decode step, each op's work is shorter than waking
// a second thread for it, so the loop runs on one (stories260K, G = 16: ~17 MFLOP, 2.1x faster on 2
// cores; the llama-42m shape at G = 16: ~2.7 GFLOP, faster on all cores).
constexpr double kSingleThreadStepFlops = 1e8;

int decode_thread_count(CausalLM& model, int64_t rows) {
  if (!model->model->embed_tokens->weight.is_cpu()) return at::get_num_threads();
  double weights = 0;  // multiply-adds per token, roughly: every matrix (an untied input embedding too)
  for (const auto& p : model->parameters())
    if (p.dim() == 2) weights += static_cast<double>(p.numel());
  return 2.0 * weights * static_cast<double>(rows) < kSingleThreadStepFlops ? 1 : at::get_num_threads();
}

}  // namespace


GenerationOptions generation_options(const SamplerOptions& sampler, int64_t max_new_tokens, const Tokenizer& tokenizer,
                                     std::vector<int64_t> stop_token_ids, std::vector<std::string> stop_strings) {
  GenerationOptions options;
  options.sampler = sampler;
  options.max_new_tokens = max_new_tokens;
  options.stop_token_ids = std::move(stop_token_ids);
  options.stop_strings = std::move(stop_strings);
  options.decode = [&tokenizer](const std::vector<int64_t>& ids) { return tokenizer.decode(ids); };
  options.pad_token_id = tokenizer.eos_id();
  return options;
}

uint64_t sample_seed(uint64_t prompt_seed, int64_t j) { return core::mix_seed(prompt_seed, j); }

uint64_t prompt_seed(const GenerationOptions& options, int64_t p) {
  return options.prompt_seeds.empty() ? options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(p)
                                      : options.prompt_seeds.at(static_cast<std::size_t>(p));
}

std::pair<at::Tensor, at::Tensor> left_pad(const std::vector<std::vector<int64_t>>& rows, int64_t pad_id) {
  int64_t width = 0;
  for (const auto& r : rows) width = std::max<int64_t>(width, static_cast<int64_t>(r.size()));
  const auto P = static_cast<int64_t>(rows.size());
  auto ids = torch::full({P, width}, pad_id, torch::kLong);
  auto mask = torch::zeros({P, width}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<bool, 2>();
  for (int64_t p = 0; p < P; ++p) {
    const auto len = static_cast<int64_t>(rows[p].size());
    for (int64_t j = 0; j < len; ++j) {
      ids_a[p][width - len + j] = rows[p][j];
      mask_a[p][width - len + j] = true;
    }
  }
  return {ids, mask};
}

at::Tensor positions_from_mask(const at::Tensor& mask) {
  return (mask.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
}

Generation generate(CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                    int64_t samples_per_prompt, const GenerationOptions& options) {
  VECRL_CHECK(!prompts.empty(), "generate: no prompts");
  VECRL_CHECK(samples_per_prompt >= 1, "generate: samples_per_prompt must be >= 1, got ", samples_per_prompt);
  VECRL_CHECK(options.max_new_tokens >= 1, "generate: max_new_tokens must be >= 1, got ", options.max_new_tokens);
  for (std::size_t p = 0; p < prompts.size(); ++p)
    VECRL_CHECK(!prompts[p].empty(), "generate: prompt ", p, " is empty (add BOS)");
  torch::NoGradGuard no_grad;
  const auto device = model->model->embed_tokens->weight.device();
  const auto dtype = model->compute_dtype();  // of the activations and the KV cache
  const int64_t G = samples_per_prompt, P = static_cast<int64_t>(prompts.size()), N = P * G;

  auto [prompt_ids, prompt_mask] = left_pad(prompts, options.pad_token_id);
  prompt_ids = prompt_ids.to(device);
  prompt_mask = prompt_mask.to(device);
  const int64_t Lp = prompt_ids.size(1), T = options.max_new_tokens;
  VECRL_CHECK(Lp + T <= model->config().max_position_embeddings, "generate: prompt length ", Lp,
              " + max_new_tokens ", T, " exceeds the model's max_position_embeddings ",
              model->config().max_position_embeddings);

  // Prefill each prompt once, then share its cache across the group.
  KvCache prefill = KvCache::allocate(model->config(), P, Lp + T, torch::TensorOptions().dtype(dtype).device(device));
  auto hidden = model->hidden({prompt_ids, positions_from_mask(prompt_mask), prompt_mask}, &prefill);
  auto next_logits = model->step_logits(hidden.select(1, Lp - 1)).repeat_interleave(G, 0);  // [N, V]
  KvCache cache = G == 1 ? std::move(prefill) : prefill.repeat_rows(G);

  auto key_valid = torch::ones({N, Lp + T}, torch::TensorOptions().dtype(torch::kBool).device(device));
  key_valid.narrow(1, 0, Lp).copy_(prompt_mask.repeat_interleave(G, 0));
  auto next_position = prompt_mask.to(torch::kLong).sum(1).repeat_interleave(G, 0);  // [N]
  // The mask of every decode step at once: a step's query is the newest key and every generated key
  // is valid, so step t's mask is the first Lp + t + 1 columns of the last step's.
  const auto decode_bias = causal_bias(key_valid, Lp + T - 1, 1, dtype);  // [N, 1, 1, Lp + T]

  auto stop_ids = torch::tensor(options.stop_token_ids, torch::kLong).to(device);
  auto tokens = torch::full({N, T}, options.pad_token_id, torch::TensorOptions().dtype(torch::kLong).device(device));
  auto logprobs = torch::zeros({N, T}, torch::TensorOptions().dtype(torch::kFloat).device(device));
  auto mask = torch::zeros({N, T}, torch::TensorOptions().dtype(torch::kBool).device(device));
  auto done = torch::zeros({N}, torch::TensorOptions().dtype(torch::kBool).device(device));
  VECRL_CHECK(options.prompt_seeds.empty() || static_cast<int64_t>(options.prompt_seeds.size()) == P,
              "generate: ", options.prompt_seeds.size(), " prompt seeds for ", P, " prompts");
  VECRL_CHECK(options.sample_seeds.empty() || static_cast<int64_t>(options.sample_seeds.size()) == N,
              "generate: ", options.sample_seeds.size(), " sample seeds for ", N, " samples");
  std::vector<uint64_t> seeds;  // one per sample
  for (int64_t p = 0; p < P; ++p)
    for (int64_t j = 0; j < G; ++j)
      seeds.push_back(options.sample_seeds.empty() ? sample_seed(prompt_seed(options, p), j) : options.sample_seeds[p * G + j]);
  const bool greedy = options.sampler.temperature == 0;
  at::Tensor uniforms;  // [N, up to kUniformChunk] this stretch of steps' draws, on the device

  VECRL_CHECK(options.stop_strings.empty() || options.decode, "generate: stop strings need a decode function");
  StopStringMatcher stop_strings(options.stop_strings, options.decode, N);
  // Between two checks, rows that finished decode padding that is trimmed below.
  VECRL_CHECK(options.finished_check_interval >= 0, "generate: finished_check_interval must be >= 0, got ",
              options.finished_check_interval);
  const int64_t finished_check_every = options.finished_check_interval > 0 ? options.finished_check_interval
                                       : device.is_cpu()                    ? 1
                                                                            : kGpuFinishedCheckInterval;
  int64_t checked_steps = 0;  // steps the stop-string matcher has seen
  const core::ThreadsInScope decode_threads(decode_thread_count(model, N));
  // No autograd or version-counter bookkeeping per op: the loop's own tensors never reach a graph
  // (what it writes goes into tensors made above, and `done` is read back outside it).
  std::optional<c10::InferenceMode> inference(std::in_place);
  for (int64_t t = 0; t < T; ++t) {
    if (!greedy && t % kUniformChunk == 0)
      uniforms = counter_uniforms(seeds, t, std::min(kUniformChunk, T - t)).to(device);
    auto sampled = sample_tokens(next_logits, options.sampler, greedy ? at::Tensor() : uniforms.select(1, t % kUniformChunk));
    auto alive = done.logical_not();
    tokens.select(1, t).copy_(sampled.tokens.masked_fill(done, options.pad_token_id));
    logprobs.select(1, t).copy_(sampled.logprobs.masked_fill(done, 0.0));
    mask.select(1, t).copy_(alive);
    if (stop_ids.numel() > 0) done = done.logical_or(alive.logical_and(torch::isin(sampled.tokens, stop_ids)));
    const bool last_step = t + 1 == T;
    if (last_step || (t + 1) % finished_check_every == 0) {  // a check: waits for the device
      if (stop_strings.active()) {  // text matching on the host, over the steps since the last check
        const int64_t first = checked_steps, k = t + 1 - checked_steps;
        auto found = stop_strings.feed(tokens.narrow(1, first, k).to(torch::kCPU), mask.narrow(1, first, k).to(torch::kCPU));
        if (found.erase.any().item<bool>()) {
          const auto erase = found.erase.to(device);
          tokens.narrow(1, first, k).masked_fill_(erase, options.pad_token_id);
          logprobs.narrow(1, first, k).masked_fill_(erase, 0.0);
          mask.narrow(1, first, k).masked_fill_(erase, false);
        }
        done = done.logical_or(found.stopped.to(device));
        checked_steps = t + 1;
      }
      if (last_step || done.all().item<bool>()) break;
    }
    auto input = tokens.select(1, t).unsqueeze(1);  // [N, 1]
    auto hidden_step = model->hidden(
        {input, next_position.unsqueeze(1), key_valid.narrow(1, 0, Lp + t + 1), decode_bias.narrow(3, 0, Lp + t + 1)},
        &cache);
    next_logits = model->step_logits(hidden_step.select(1, 0));
    next_position = next_position + 1;
  }
  inference.reset();
  // Steps after the last row finished (between two checks) hold only padding.
  const int64_t steps = mask.any(0).nonzero().max().item<int64_t>() + 1;
  Generation out;
  out.prompt_ids = prompt_ids.repeat_interleave(G, 0);
  out.prompt_mask = prompt_mask.repeat_interleave(G, 0);
  out.tokens = tokens.narrow(1, 0, steps).contiguous();
  out.mask = mask.narrow(1, 0, steps).contiguous();
  out.logprobs = logprobs.narrow(1, 0, steps).contiguous();
  out.truncated = done.logical_not();
  return out;
}

}  // namespace vecrl::models
