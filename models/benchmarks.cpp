#include "models/benchmarks.h"
#include "models/lora.h"

#include <torch/optim/adamw.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <memory>

#include "core/error.h"
#include "core/hardware_limits.h"
#include "core/runtime.h"
#include "models/fused_adamw.h"
#include "models/generation.h"
#include "models/logprobs.h"

namespace vecrl::models {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<std::vector<int64_t>> random_prompts(const ModelConfig& c, int64_t count, int64_t length, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto ids = torch::randint(c.vocab_size, {count, length}, generator, torch::kLong);
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t p = 0; p < count; ++p) prompts.emplace_back(ids[p].data_ptr<int64_t>(), ids[p].data_ptr<int64_t>() + length);
  return prompts;
}

GenerationOptions sampling(const GenerateBenchOptions& o) {
  GenerationOptions g;
  g.sampler.temperature = 1.0;
  g.max_new_tokens = o.new_tokens;  // no stop tokens: every row generates all of them
  g.seed = o.seed;
  return g;
}

void fill_costs(CausalLM& model, const GenerateBenchOptions& o, int64_t rows, GenerateBenchResult& r) {
  const auto cost = model_cost(model);
  const auto& c = model->config();
  const double mean_context = static_cast<double>(o.prompt_tokens) + static_cast<double>(o.new_tokens) / 2;
  r.bytes_per_step = cost.weight_bytes + static_cast<double>(rows) * mean_context * cost.kv_bytes_per_token;
  const double matmul_parameters = static_cast<double>(cost.parameters - cost.embedding_parameters) +
                                   (c.tie_word_embeddings ? static_cast<double>(cost.lm_head_parameters) : 0.0);
  r.flops_per_token = 2 * matmul_parameters +
                      4 * static_cast<double>(c.num_layers * c.num_heads * c.head_dim) * mean_context;
}

}  // namespace

ModelCost model_cost(CausalLM& model) {
  ModelCost cost;
  const auto& c = model->config();
  for (const auto& p : model->parameters()) cost.parameters += p.numel();
  cost.embedding_parameters = c.vocab_size * c.hidden_size;
  cost.lm_head_parameters = c.vocab_size * c.hidden_size;
  const auto element = static_cast<int64_t>(c10::elementSize(model->compute_dtype()));  // what decode reads
  // A decode step reads every matrix once, except an untied input embedding (only its looked-up rows).
  const int64_t read = cost.parameters - (c.tie_word_embeddings ? 0 : cost.embedding_parameters);
  cost.weight_bytes = static_cast<double>(read * element);
  cost.kv_bytes_per_token = static_cast<double>(2 * c.num_layers * c.num_kv_heads * c.head_dim * element);
  return cost;
}

GenerateBenchResult bench_generate(CausalLM& model, const GenerateBenchOptions& o) {
  VECRL_CHECK(o.prompts >= 1 && o.group_size >= 1 && o.new_tokens >= 1 && o.prompt_tokens >= 1,
              "bench generate: prompts, group size, prompt and new tokens must be >= 1");
  torch::NoGradGuard no_grad;
  const auto prompts = random_prompts(model->config(), o.prompts, o.prompt_tokens, o.seed);
  const auto start = std::chrono::steady_clock::now();
  auto gen = generate(model, prompts, o.group_size, sampling(o));
  core::synchronize_device(gen.tokens.device());
  GenerateBenchResult r;
  r.group_size = o.group_size;
  r.seconds = seconds_since(start);
  r.tokens = gen.mask.sum().item<int64_t>();
  r.tokens_per_s = static_cast<double>(r.tokens) / r.seconds;
  fill_costs(model, o, o.prompts * o.group_size, r);
  return r;
}

GenerateBenchResult bench_generate_per_sample(CausalLM& model, const GenerateBenchOptions& o) {
  torch::NoGradGuard no_grad;
  const auto prompts = random_prompts(model->config(), o.prompts, o.prompt_tokens, o.seed);
  GenerateBenchResult r;
  r.group_size = o.group_size;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t p = 0; p < o.prompts; ++p) {
    for (int64_t j = 0; j < o.group_size; ++j) {
      auto options = sampling(o);
      options.sample_seeds = {sample_seed(o.seed + static_cast<uint64_t>(p), j)};
      auto gen = generate(model, {prompts[static_cast<std::size_t>(p)]}, 1, options);
      core::synchronize_device(gen.tokens.device());
      r.tokens += gen.mask.sum().item<int64_t>();
    }
  }
  r.seconds = seconds_since(start);
  r.tokens_per_s = static_cast<double>(r.tokens) / r.seconds;
  fill_costs(model, o, 1, r);
  return r;
}

TrainBenchResult bench_train(CausalLM& model, const TrainBenchOptions& o) {
  VECRL_CHECK(o.batch >= 1 && o.prompt_tokens >= 1 && o.response_tokens >= 1 && o.steps >= 1,
              "bench train: batch, prompt and response tokens and steps must be >= 1");
  const auto& c = model->config();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const auto device = model->parameters().front().device();
  auto prompt_ids = torch::randint(c.vocab_size, {o.batch, o.prompt_tokens}, generator, torch::kLong).to(device);
  auto prompt_mask = torch::ones({o.batch, o.prompt_tokens}, torch::TensorOptions().dtype(torch::kBool).device(device));
  auto response_ids = torch::randint(c.vocab_size, {o.batch, o.response_tokens}, generator, torch::kLong).to(device);
  auto advantages = torch::randn({o.batch, 1}, generator, torch::kFloat).to(device);
  model->train();
  model->set_activation_checkpointing(o.activation_checkpointing);
  // LoRA: the adapters. The baseline optimizer is LibTorch's, op by op.
  std::unique_ptr<torch::optim::AdamW> optimizer =
      o.aten_optimizer ? std::make_unique<torch::optim::AdamW>(trainable_parameters(model), torch::optim::AdamWOptions(1e-6))
                       : std::make_unique<FusedAdamW>(trainable_parameters(model), torch::optim::AdamWOptions(1e-6));
  TrainBenchResult r;
  auto timed = [&](double& seconds, const auto& phase) {
    const auto start = std::chrono::steady_clock::now();
    phase();
    core::synchronize_device(prompt_ids.device());
    seconds += seconds_since(start);
  };
  auto step = [&] {
    clear_gradients(*optimizer);
    at::Tensor loss;
    timed(r.seconds_forward, [&] {
      auto scores = score_responses(model, prompt_ids, prompt_mask, response_ids, 1.0, /*with_entropy=*/false, o.chunk_tokens);
      loss = -(scores.logprobs * advantages).mean();
    });
    timed(r.seconds_backward, [&] { loss.backward(); });
    timed(r.seconds_optimizer, [&] { optimizer->step(); });
  };
  step();  // warm-up: the heap and the block cache take their size, first calls
  r = TrainBenchResult{};
  core::synchronize_device(prompt_ids.device());
  const auto start = std::chrono::steady_clock::now();
  const long faults_before = core::minor_page_faults();
  for (int64_t s = 0; s < o.steps; ++s) step();
  core::synchronize_device(prompt_ids.device());
  const auto steps = static_cast<double>(o.steps);
  r.page_faults_per_step = static_cast<double>(core::minor_page_faults() - faults_before) / steps;
  for (double* phase : {&r.seconds_forward, &r.seconds_backward, &r.seconds_optimizer}) *phase /= steps;
  r.seconds_per_step = seconds_since(start) / steps;
  r.tokens_per_step = o.batch * (o.prompt_tokens + o.response_tokens);
  r.tokens_per_s = static_cast<double>(r.tokens_per_step) / r.seconds_per_step;
  const auto cost = model_cost(model);
  const double body = static_cast<double>(cost.parameters - cost.embedding_parameters -
                                          (c.tie_word_embeddings ? 0 : cost.lm_head_parameters));
  r.flops_per_step = 6 * (body * static_cast<double>(r.tokens_per_step) +
                          static_cast<double>(cost.lm_head_parameters * o.batch * o.response_tokens));
  return r;
}

}  // namespace vecrl::models
