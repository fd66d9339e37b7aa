#pragma once
// Llama-family decoder written with torch::nn modules. Module names mirror HuggingFace's
// (model.layers.N.self_attn.q_proj ...), so named_parameters() are the HF tensor names.
// Legend: B batch, T new tokens, S keys (cached + new), D hidden, H heads, Hkv kv heads, d head_dim.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "models/model_config.h"

namespace vecrl::models {

struct LoraAdapters;  // models/lora.h

// Static, pre-allocated KV cache: writes go in place at [length, length + T).
struct KvCache {
  std::vector<at::Tensor> keys;    // per layer [B, Hkv, capacity, d]
  std::vector<at::Tensor> values;  // per layer [B, Hkv, capacity, d]
  int64_t length = 0;

  static KvCache allocate(const ModelConfig& config, int64_t batch, int64_t capacity, at::TensorOptions options);
  int64_t capacity() const { return keys.empty() ? 0 : keys[0].size(2); }
  // Repeats every batch row `times` times (row b becomes rows b*times .. b*times+times-1), so a
  // prompt prefilled once serves all G samples of its group.
  KvCache repeat_rows(int64_t times) const;
};

struct ForwardInput {
  at::Tensor tokens;     // [B, T] int64
  at::Tensor positions;  // [B, T] int64, rotary positions, each < S
  at::Tensor key_valid;  // [B, S] bool, false on padding keys (S = cache length + T)
  // Optional [B, 1, T, S] additive mask, equal to causal_bias(key_valid, cache length, T): a decode
  // loop builds it once for all its steps instead of once per step.
  at::Tensor bias;
};

// Master weights cast to the compute dtype at each use. Without autograd (generation, scoring) a
// cast is kept until its weight changes (an in-place update bumps the weight's version); with
// autograd every use casts afresh, so the gradient flows to the float32 master.
class WeightCasts {
 public:
  at::Tensor get(const at::Tensor& weight, at::ScalarType dtype);

 private:
  std::mutex mutex_;  // reward workers may score with the model while it is idle elsewhere
  std::unordered_map<const void*, std::pair<int64_t, at::Tensor>> cache_;  // impl -> (version, cast)
};

// Linear layers that read the same input (q, k, v; gate, up) with their weights moved into one
// [sum of outputs, in] buffer that each layer's weight is a view of. Without gradients one matmul
// serves them all; with gradients each layer runs alone, so autograd, the optimizer, checkpoints
// and HF export see the HF-named parameters as before.
// The buffer is made when the layers are (and again by fuse() after a device move): set_ keeps each
// parameter's identity, but must run before an optimizer step or a gradient hook holds it.
class FusedProjection {
 public:
  explicit FusedProjection(std::vector<torch::nn::Linear> parts);
  // x [.., in] -> [.., sum of outputs], or an undefined tensor where this call cannot be fused
  // (gradients on, or the weights are not in the buffer: a part has a bias, or moved since).
  at::Tensor forward(const at::Tensor& x);
  void fuse();

 private:
  bool aliased() const;
  std::vector<torch::nn::Linear> parts_;
  std::mutex mutex_;
  at::Tensor buffer_;                  // [sum of outputs, in]: the parts' weights
  at::Tensor cast_;                    // buffer_ in the last compute dtype other than its own
  std::vector<int64_t> cast_versions_;  // the parts' weight versions when cast_ was made
};

// cos and sin of every rotary position up to the largest asked for so far, computed once: a
// forward looks its positions up instead of recomputing them.
class RotaryTable {
 public:
  explicit RotaryTable(at::Tensor inverse_frequencies) : inverse_frequencies_(std::move(inverse_frequencies)) {}
  // positions [B, T], each < keys -> cos, sin [B, T, 1, d] in `dtype` on the positions' device.
  std::pair<at::Tensor, at::Tensor> lookup(const at::Tensor& positions, int64_t keys, at::ScalarType dtype);

 private:
  at::Tensor inverse_frequencies_;  // [d/2]
  std::mutex mutex_;
  at::Tensor table_;  // [P, 2d]: cos then sin, float32
};

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  at::Tensor forward(const at::Tensor& x);
  at::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const ModelConfig& c);
  // x [B, T, D]; cos/sin [B, T, 1, d]; bias [B, 1, T, S] additive mask. Writes k/v into the cache.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& bias,
                     KvCache* cache, int64_t layer);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  void set_fused(bool on) { fused_ = on; }
  void fuse_projections() { qkv_->fuse(); }
  WeightCasts* casts = nullptr;         // the model's
  const LoraAdapters* lora = nullptr;  // the model's adapters, when it has any

 private:
  int64_t heads_, kv_heads_, head_dim_;
  std::array<at::Tensor, 3> project_qkv(const at::Tensor& x);  // q [B, T, H d], k and v [B, T, Hkv d]
  bool fused_ = true;
  std::shared_ptr<torch::nn::Module> q_norm_, k_norm_;  // per-head RMSNorm (qwen3), else null
  std::unique_ptr<FusedProjection> qkv_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const ModelConfig& c);
  at::Tensor forward(const at::Tensor& x);  // SwiGLU: down(silu(gate(x)) * up(x))
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  void fuse_projections() { gate_up_->fuse(); }
  WeightCasts* casts = nullptr;         // the model's
  const LoraAdapters* lora = nullptr;  // the model's adapters, when it has any

 private:
  std::unique_ptr<FusedProjection> gate_up_;
};
TORCH_MODULE(Mlp);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const ModelConfig& c);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& bias,
                     KvCache* cache, int64_t layer);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

class BackboneImpl : public torch::nn::Module {
 public:
  explicit BackboneImpl(const ModelConfig& c);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
};
TORCH_MODULE(Backbone);

class CausalLMImpl : public torch::nn::Module {
 public:
  explicit CausalLMImpl(const ModelConfig& c);
  // A second model over the same modules (no weight is copied) that runs with the LoRA adapters
  // off: the frozen base, as the reference of a LoRA policy (models/lora.h: base_view).
  struct SharedWeights {};
  CausalLMImpl(SharedWeights, const CausalLMImpl& base);
  // Final hidden states [B, T, D]. With a cache, keys/values of these tokens are appended to it.
  at::Tensor hidden(const ForwardInput& input, KvCache* cache = nullptr);
  // LM head: [..., D] -> [..., V].
  at::Tensor logits(const at::Tensor& hidden);
  // The LM head of a generation step, hidden [N, D] one position per sequence -> [N, V]: on the CPU
  // the decode kernel (models/decode_linear.h), whose rows do not depend on each other.
  at::Tensor step_logits(const at::Tensor& hidden);
  // The LM head's weight [V, D] (the input embedding when tied) in the compute dtype:
  // logits = hidden · weightᵀ.
  at::Tensor output_weight() const;
  const ModelConfig& config() const { return config_; }
  // Activation checkpointing: in training with gradients, each decoder layer keeps only its input
  // and recomputes its activations in the backward pass (memory for ~1/3 more compute).
  void set_activation_checkpointing(bool on) { activation_checkpointing_ = on; }
  bool activation_checkpointing() const { return activation_checkpointing_; }
  // Activations and matmuls in `dtype` (bfloat16: the parameters stay float32 masters, cast at
  // each use, so gradients and optimizer state are float32). Default: the parameters' dtype.
  void set_compute_dtype(at::ScalarType dtype);
  at::ScalarType compute_dtype() const;
  // Fused attention: ATen's scaled_dot_product_attention (flash / memory-efficient kernels on CUDA
  // with LibTorch 2.x) instead of softmax(q·kᵀ/√d + mask)·v written out. Same results.
  void set_fused_attention(bool on);
  // Puts q/k/v and gate/up weights back into one buffer each after the parameters moved to another
  // device (Module::to gives them new storage); call before building an optimizer over them.
  void fuse_projections();

  Backbone model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when the embeddings are tied

  // LoRA adapters (models/lora.h: add_lora); null for full fine-tuning.
  const std::shared_ptr<LoraAdapters>& lora() const { return lora_; }
  void set_lora(std::shared_ptr<LoraAdapters> adapters);
  bool adapters_off() const { return adapters_off_; }

 private:
  ModelConfig config_;
  std::shared_ptr<RotaryTable> rotary_;
  bool activation_checkpointing_ = false;
  std::optional<at::ScalarType> compute_dtype_;
  std::unique_ptr<WeightCasts> casts_ = std::make_unique<WeightCasts>();
  std::shared_ptr<LoraAdapters> lora_;
  bool adapters_off_ = false;
};
TORCH_MODULE(CausalLM);

// RoPE inverse frequencies [head_dim / 2], with the config's scaling (llama3) applied.
at::Tensor rope_inverse_frequencies(const ModelConfig& config);

// x [.., K]·weight [N, K]ᵀ + bias: the small-batch CPU kernel where it applies (a decode step), else
// ATen's linear.
at::Tensor dense(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {});

// Attention of q [B, H, T, d] over k, v [B, H, S, d] with the additive mask [B, 1, T, S]:
// [B, H, T, d]. `fused` picks ATen's scaled_dot_product_attention over the written-out math.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias, bool fused);

// Additive attention mask [B, 1, T, S]: a query at absolute index q sees keys s <= q that are valid;
// it always sees itself so that padding rows stay finite.
at::Tensor causal_bias(const at::Tensor& key_valid, int64_t query_start, int64_t num_queries,
                       at::ScalarType dtype);

}  // namespace vecrl::models
