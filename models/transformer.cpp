#include "models/transformer.h"

#include <c10/core/InferenceMode.h>
#include <torch/autograd.h>
#include <torch/nn/functional/linear.h>
#include <torch/types.h>
#include <torch/version.h>

#include <array>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "models/decode_attention.h"
#include "models/lora.h"
#include "models/decode_linear.h"

namespace vecrl::models {

KvCache KvCache::allocate(const ModelConfig& c, int64_t batch, int64_t capacity, at::TensorOptions options) {
  KvCache cache;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    cache.keys.push_back(torch::empty({batch, c.num_kv_heads, capacity, c.head_dim}, options));
    cache.values.push_back(torch::empty({batch, c.num_kv_heads, capacity, c.head_dim}, options));
  }
  return cache;
}

at::Tensor WeightCasts::get(const at::Tensor& weight, at::ScalarType dtype) {
  if (weight.scalar_type() == dtype) return weight;
  if (torch::GradMode::is_enabled()) return weight.to(dtype);
  std::lock_guard<std::mutex> lock(mutex_);
  auto& entry = cache_[weight.unsafeGetTensorImpl()];
  if (!entry.second.defined() || entry.first != weight._version() || entry.second.scalar_type() != dtype ||
      entry.second.device() != weight.device())
    entry = {weight._version(), weight.to(dtype)};
  return entry.second;
}

namespace {
// Set while an activation-checkpointed layer runs its forward without gradients: its backward pass
// recomputes the layer with gradients (unfused, ATen's linear), and both passes must round alike.
thread_local bool unfused_here = false;
}  // namespace

at::Tensor dense(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return !unfused_here && decode_linear_applies(x, weight) ? decode_linear(x, weight, bias)
                                                                : torch::nn::functional::linear(x, weight, bias);
}

FusedProjection::FusedProjection(std::vector<torch::nn::Linear> parts) : parts_(std::move(parts)) { fuse(); }

at::Tensor FusedProjection::forward(const at::Tensor& x) {
  if (torch::GradMode::is_enabled() || unfused_here) return {};
  std::lock_guard<std::mutex> lock(mutex_);
  if (!aliased()) return {};
  if (x.scalar_type() == buffer_.scalar_type()) return dense(x, buffer_);
  std::vector<int64_t> versions;
  for (const auto& part : parts_) versions.push_back(part->weight._version());
  if (!cast_.defined() || cast_.scalar_type() != x.scalar_type() || versions != cast_versions_) {
    cast_ = buffer_.to(x.scalar_type());
    cast_versions_ = std::move(versions);
  }
  return dense(x, cast_);
}

bool FusedProjection::aliased() const {
  if (!buffer_.defined()) return false;
  int64_t offset = buffer_.storage_offset();
  for (const auto& part : parts_) {
    const auto& w = part->weight;
    if (!w.storage().is_alias_of(buffer_.storage()) || w.storage_offset() != offset || !w.is_contiguous()) return false;
    offset += w.numel();
  }
  return true;
}

// Copies the parts' weights into one buffer and points each weight at its rows. Layers with biases
// (Qwen2's q/k/v) stay as they are: their forward never takes the fused path.
void FusedProjection::fuse() {
  if (aliased()) return;
  for (const auto& part : parts_)
    if (part->bias.defined()) return;
  const c10::InferenceMode normal_tensors(false);  // the parameters will live in the buffer
  torch::NoGradGuard no_grad;                      // (after: the line above turns gradients on)
  const auto& first = parts_.front()->weight;
  int64_t rows = 0;
  for (const auto& part : parts_) {
    VECRL_CHECK(part->weight.size(1) == first.size(1) && part->weight.options().type_equal(first.options()),
                "fused projection: parts of different shapes or types");
    rows += part->weight.size(0);
  }
  buffer_ = torch::empty({rows, first.size(1)}, first.options());
  int64_t row = 0;
  for (const auto& part : parts_) {
    auto& w = part->weight;
    const int64_t n = w.size(0);
    buffer_.narrow(0, row, n).copy_(w);
    w.set_(buffer_.storage(), buffer_.storage_offset() + row * buffer_.size(1), w.sizes(), buffer_.narrow(0, row, n).strides());
    row += n;
  }
  cast_ = at::Tensor();
}

std::pair<at::Tensor, at::Tensor> RotaryTable::lookup(const at::Tensor& positions, int64_t keys, at::ScalarType dtype) {
  const int64_t B = positions.size(0), T = positions.size(1);
  at::Tensor table;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Positions are < the keys' count, so that many rows cover them (index_select checks it on the
    // CPU); the table grows by doubling.
    const int64_t wanted = std::max<int64_t>(256, keys);
    if (!table_.defined() || table_.device() != positions.device() || table_.size(0) < wanted) {
      const c10::InferenceMode normal_tensors(false);  // training forwards read it too
      torch::NoGradGuard no_grad;
      int64_t rows = table_.defined() ? table_.size(0) : 256;
      while (rows < wanted) rows *= 2;
      // HF computes the angles in float32 from integer positions; so do we.
      auto angles = torch::arange(rows, torch::kLong).to(torch::kFloat).unsqueeze(-1) * inverse_frequencies_;  // [P, d/2]
      auto emb = torch::cat({angles, angles}, -1);                                                            // [P, d]
      table_ = torch::cat({emb.cos(), emb.sin()}, -1).to(positions.device());                                  // [P, 2d]
    }
    table = table_;
  }
  const int64_t d = table.size(1) / 2;
  auto rows = table.index_select(0, positions.reshape({-1}));  // [B*T, 2d]
  return {rows.narrow(-1, 0, d).view({B, T, 1, d}).to(dtype), rows.narrow(-1, d, d).view({B, T, 1, d}).to(dtype)};
}

KvCache KvCache::repeat_rows(int64_t times) const {
  KvCache out;
  out.length = length;
  for (std::size_t l = 0; l < keys.size(); ++l) {
    out.keys.push_back(keys[l].repeat_interleave(times, 0));
    out.values.push_back(values[l].repeat_interleave(times, 0));
  }
  return out;
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x) {
  // Normalised in float32 at least, as HF does for bfloat16 (a float64 model stays float64: its
  // finite-difference checks need a smooth function). The casts are skipped, not dispatched, when
  // everything is float32 already (decode steps are made of small ops, where each dispatch counts).
  const bool all_float = x.scalar_type() == torch::kFloat && weight.scalar_type() == torch::kFloat;
  const auto xf = all_float ? x : x.to(x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat);
  const auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return all_float ? weight * normed : weight.to(x.scalar_type()) * normed.to(x.scalar_type());
}

namespace {

at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

torch::nn::Linear linear(int64_t in, int64_t out, bool bias = false) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// x·Wᵀ + b in x's dtype: a float32 master weight is cast for a bfloat16 forward (differentiably,
// so its gradient arrives in float32); plus the layer's LoRA update when it has one.
at::Tensor project(const torch::nn::Linear& layer, const at::Tensor& x, WeightCasts* casts, const LoraAdapters* lora,
                   bool training) {
  const auto dtype = x.scalar_type();
  auto cast = [&](const at::Tensor& w) { return casts != nullptr ? casts->get(w, dtype) : w.to(dtype); };
  const auto& b = layer->bias;
  auto out = dense(x, cast(layer->weight), b.defined() ? cast(b) : at::Tensor());
  if (lora != nullptr) add_lora_update(*lora, layer.get(), x, out, casts, training);
  return out;
}

}  // namespace

AttentionImpl::AttentionImpl(const ModelConfig& c)
    : heads_(c.num_heads), kv_heads_(c.num_kv_heads), head_dim_(c.head_dim) {
  q_proj = register_module("q_proj", linear(c.hidden_size, c.num_heads * c.head_dim, c.attention_bias));
  k_proj = register_module("k_proj", linear(c.hidden_size, c.num_kv_heads * c.head_dim, c.attention_bias));
  v_proj = register_module("v_proj", linear(c.hidden_size, c.num_kv_heads * c.head_dim, c.attention_bias));
  o_proj = register_module("o_proj", linear(c.num_heads * c.head_dim, c.hidden_size, c.output_bias));
  if (c.qk_norm) {
    q_norm_ = register_module("q_norm", RMSNorm(c.head_dim, c.rms_norm_eps));
    k_norm_ = register_module("k_norm", RMSNorm(c.head_dim, c.rms_norm_eps));
  }
  qkv_ = std::make_unique<FusedProjection>(std::vector<torch::nn::Linear>{q_proj, k_proj, v_proj});
}

std::array<at::Tensor, 3> AttentionImpl::project_qkv(const at::Tensor& x) {
  const bool training = is_training();
  const auto fused = lora == nullptr ? qkv_->forward(x) : at::Tensor();
  if (!fused.defined())
    return {project(q_proj, x, casts, lora, training), project(k_proj, x, casts, lora, training),
            project(v_proj, x, casts, lora, training)};
  const int64_t q_width = heads_ * head_dim_, kv_width = kv_heads_ * head_dim_;
  return {fused.narrow(-1, 0, q_width), fused.narrow(-1, q_width, kv_width),
          fused.narrow(-1, q_width + kv_width, kv_width)};
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                  const at::Tensor& bias, KvCache* cache, int64_t layer) {
  const int64_t B = x.size(0), T = x.size(1);
  auto [q, k, v] = project_qkv(x);
  q = q.view({B, T, heads_, head_dim_});     // [B, T, H, d]
  k = k.view({B, T, kv_heads_, head_dim_});  // [B, T, Hkv, d]
  if (q_norm_) {  // qwen3: normalise each head's q and k before RoPE
    q = std::static_pointer_cast<RMSNormImpl>(q_norm_)->forward(q);
    k = std::static_pointer_cast<RMSNormImpl>(k_norm_)->forward(k);
  }
  q = (q * cos + rotate_half(q) * sin).transpose(1, 2);  // [B, H, T, d]
  k = (k * cos + rotate_half(k) * sin).transpose(1, 2);  // [B, Hkv, T, d]
  v = v.view({B, T, kv_heads_, head_dim_}).transpose(1, 2);  // [B, Hkv, T, d]
  if (cache != nullptr) {
    const int64_t start = cache->length;
    VECRL_CHECK(start + T <= cache->capacity(), "KV cache overflow: ", start, " + ", T, " > capacity ",
                cache->capacity());
    cache->keys[layer].narrow(2, start, T).copy_(k);
    cache->values[layer].narrow(2, start, T).copy_(v);
    k = cache->keys[layer].narrow(2, 0, start + T);
    v = cache->values[layer].narrow(2, 0, start + T);
  }
  const int64_t S = k.size(2), rep = heads_ / kv_heads_;
  at::Tensor out;
  if (cache != nullptr && T == 1 && fused_ && decode_attention_applies(q)) {
    // A CPU decode step: one pass per (row, kv head) over the cache, its query heads together.
    out = decode_attention(q.reshape({B, kv_heads_, rep, head_dim_}), cache->keys[layer], cache->values[layer], S,
                           bias);  // [B, Hkv, rep, d]
  } else if (rep > 1 && T == 1) {
    // Grouped-query decode: the `rep` query heads of a kv head are its queries [B, Hkv, rep, d], so the
    // cached keys and values are read where they lie instead of being copied `rep` times per step.
    out = attend(q.reshape({B, kv_heads_, rep, head_dim_}), k, v, bias, fused_);  // [B, Hkv, rep, d]
  } else {
    if (rep > 1) {  // grouped-query attention: each kv head serves `rep` query heads
      k = k.unsqueeze(2).expand({B, kv_heads_, rep, S, head_dim_}).reshape({B, heads_, S, head_dim_});
      v = v.unsqueeze(2).expand({B, kv_heads_, rep, S, head_dim_}).reshape({B, heads_, S, head_dim_});
    }
    out = attend(q, k, v, bias, fused_).transpose(1, 2);  // [B, T, H, d]
  }
  return project(o_proj, out.reshape({B, T, heads_ * head_dim_}), casts, lora, is_training());
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias, bool fused) {
  if (fused) {
#if TORCH_VERSION_MAJOR >= 2
    return at::scaled_dot_product_attention(q, k, v, bias);
#else
    return std::get<0>(at::_scaled_dot_product_attention(q, k, v, bias));
#endif
  }
  auto scores = torch::matmul(q, k.transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  // The softmax in float32 at least, as HF's eager attention does for bfloat16 models.
  const auto softmax_dtype = q.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  return torch::matmul(torch::softmax(scores + bias, -1, softmax_dtype).to(q.scalar_type()), v);
}

MlpImpl::MlpImpl(const ModelConfig& c) {
  gate_proj = register_module("gate_proj", linear(c.hidden_size, c.intermediate_size));
  up_proj = register_module("up_proj", linear(c.hidden_size, c.intermediate_size));
  down_proj = register_module("down_proj", linear(c.intermediate_size, c.hidden_size));
  gate_up_ = std::make_unique<FusedProjection>(std::vector<torch::nn::Linear>{gate_proj, up_proj});
}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  const bool training = is_training();
  const auto fused = lora == nullptr ? gate_up_->forward(x) : at::Tensor();  // [.., 2 I], no gradients
  if (fused.defined()) {
    const int64_t width = fused.size(-1) / 2;
    auto gate = fused.narrow(-1, 0, width);
    return project(down_proj, torch::silu_(gate).mul_(fused.narrow(-1, width, width)), casts, lora, training);
  }
  return project(down_proj,
                 torch::silu(project(gate_proj, x, casts, lora, training)) * project(up_proj, x, casts, lora, training),
                 casts, lora, training);
}

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c) {
  self_attn = register_module("self_attn", Attention(c));
  mlp = register_module("mlp", Mlp(c));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

at::Tensor DecoderLayerImpl::forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                                     const at::Tensor& bias, KvCache* cache, int64_t layer) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, bias, cache, layer);
  return h + mlp(post_attention_layernorm(h));
}

BackboneImpl::BackboneImpl(const ModelConfig& c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t l = 0; l < c.num_layers; ++l) layers->push_back(DecoderLayer(c));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

CausalLMImpl::CausalLMImpl(const ModelConfig& c) : config_(c) {
  c.validate("model config");
  model = register_module("model", Backbone(c));
  if (!c.tie_word_embeddings) lm_head = register_module("lm_head", linear(c.hidden_size, c.vocab_size));
  rotary_ = std::make_shared<RotaryTable>(rope_inverse_frequencies(c));
  for (std::size_t l = 0; l < model->layers->size(); ++l) {
    auto* layer = model->layers[l]->as<DecoderLayer>();
    layer->self_attn->casts = casts_.get();
    layer->mlp->casts = casts_.get();
  }
}

CausalLMImpl::CausalLMImpl(SharedWeights, const CausalLMImpl& base)
    : config_(base.config_), activation_checkpointing_(false), compute_dtype_(base.compute_dtype_), lora_(base.lora_),
      adapters_off_(true) {
  model = register_module("model", base.model);
  if (base.lm_head) lm_head = register_module("lm_head", base.lm_head);
  rotary_ = base.rotary_;
}

void CausalLMImpl::set_lora(std::shared_ptr<LoraAdapters> adapters) {
  lora_ = std::move(adapters);
  for (std::size_t l = 0; l < model->layers->size(); ++l) {
    auto* layer = model->layers[l]->as<DecoderLayer>();
    layer->self_attn->lora = lora_.get();
    layer->mlp->lora = lora_.get();
  }
}

at::Tensor rope_inverse_frequencies(const ModelConfig& c) {
  // HF computes inv_freq in float32 from an int64 arange; we do the same so positions match exactly.
  auto inv = 1.0 / torch::pow(c.rope_theta, torch::arange(0, c.head_dim, 2, torch::kLong).to(torch::kFloat) /
                                                static_cast<double>(c.head_dim));
  if (c.rope_scaling.type != "llama3") return inv;
  // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, the band between blended.
  const auto& s = c.rope_scaling;
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
  auto wavelen = 2 * M_PI / inv;
  auto smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  auto blended = (1 - smooth) * inv / s.factor + smooth * inv;
  auto scaled = torch::where(wavelen > low_wavelen, inv / s.factor, inv);
  auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return torch::where(medium, blended, scaled);
}

at::Tensor causal_bias(const at::Tensor& key_valid, int64_t query_start, int64_t num_queries,
                       at::ScalarType dtype) {
  const int64_t S = key_valid.size(1);
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(key_valid.device());
  auto q_idx = torch::arange(query_start, query_start + num_queries, opts).view({1, 1, num_queries, 1});
  auto k_idx = torch::arange(0, S, opts).view({1, 1, 1, S});
  auto valid = key_valid.view({key_valid.size(0), 1, 1, S});
  auto allowed = (k_idx <= q_idx).logical_and(valid.logical_or(k_idx == q_idx));  // [B, 1, T, S]
  auto zeros = torch::zeros({}, torch::TensorOptions().dtype(dtype).device(key_valid.device()));
  auto neg_inf = torch::full({}, -std::numeric_limits<float>::infinity(),
                             torch::TensorOptions().dtype(dtype).device(key_valid.device()));
  return torch::where(allowed, zeros, neg_inf);
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One decoder layer run without keeping its activations: forward under no-grad, backward runs the
// layer again with gradients and back-propagates through that (accumulating the layer's parameter
// gradients as it goes), returning the gradient of the layer's input.
struct CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                               const at::Tensor& bias, DecoderLayerImpl* layer, int64_t index) {
    at::Tensor out;
    {
      torch::NoGradGuard no_grad;
      struct Restore {
        bool previous;
        ~Restore() { unfused_here = previous; }
      } restore{unfused_here};
      unfused_here = true;
      out = layer->forward(x, cos, sin, bias, nullptr, index);
    }
    ctx->save_for_backward({x, cos, sin, bias});
    // The layer outlives the graph (it belongs to the model being trained): kept by address.
    ctx->saved_data["layer"] = static_cast<int64_t>(reinterpret_cast<std::intptr_t>(layer));
    ctx->saved_data["index"] = index;
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    auto* layer = reinterpret_cast<DecoderLayerImpl*>(static_cast<std::intptr_t>(ctx->saved_data["layer"].toInt()));
    auto x = saved[0].detach().requires_grad_(true);
    {
      torch::AutoGradMode with_grad(true);
      auto out = layer->forward(x, saved[1], saved[2], saved[3], nullptr, ctx->saved_data["index"].toInt());
      torch::autograd::backward({out}, {grads[0]});
    }
    return {x.grad(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor CausalLMImpl::hidden(const ForwardInput& input, KvCache* cache) {
  const int64_t B = input.tokens.size(0), T = input.tokens.size(1);
  const int64_t start = cache != nullptr ? cache->length : 0;
  const AdaptersOff base_only(adapters_off_);
  VECRL_CHECK(input.positions.sizes() == input.tokens.sizes(), "positions ", input.positions.sizes(),
              " != tokens ", input.tokens.sizes());
  VECRL_CHECK(input.key_valid.dim() == 2 && input.key_valid.size(0) == B && input.key_valid.size(1) == start + T,
              "key_valid ", input.key_valid.sizes(), ", expected [", B, ", ", start + T, "]");
  auto x = model->embed_tokens(input.tokens).to(compute_dtype());  // [B, T, D]
  const auto [cos, sin] = rotary_->lookup(input.positions, start + T, x.scalar_type());  // [B, T, 1, d]
  at::Tensor bias = input.bias;
  if (bias.defined())
    VECRL_CHECK(bias.dim() == 4 && bias.size(0) == B && bias.size(2) == T && bias.size(3) == start + T, "bias ",
                bias.sizes(), ", expected [", B, ", 1, ", T, ", ", start + T, "]");
  else
    bias = causal_bias(input.key_valid, start, T, x.scalar_type());
  const bool checkpoint = activation_checkpointing_ && cache == nullptr && is_training() && torch::GradMode::is_enabled();
  for (std::size_t l = 0; l < model->layers->size(); ++l) {
    auto* layer = model->layers[l]->as<DecoderLayer>();
    const auto index = static_cast<int64_t>(l);
    x = checkpoint ? CheckpointedLayer::apply(x, cos, sin, bias, layer, index)[0]
                   : layer->forward(x, cos, sin, bias, cache, index);
  }
  if (cache != nullptr) cache->length += T;
  return model->norm(x);
}

void CausalLMImpl::fuse_projections() {
  for (std::size_t l = 0; l < model->layers->size(); ++l) {
    auto* layer = model->layers[l]->as<DecoderLayer>();
    layer->self_attn->fuse_projections();
    layer->mlp->fuse_projections();
  }
}

void CausalLMImpl::set_fused_attention(bool on) {
  for (std::size_t l = 0; l < model->layers->size(); ++l) model->layers[l]->as<DecoderLayer>()->self_attn->set_fused(on);
}

at::Tensor CausalLMImpl::output_weight() const {
  return casts_->get(lm_head ? lm_head->weight : model->embed_tokens->weight, compute_dtype());
}

at::Tensor CausalLMImpl::logits(const at::Tensor& hidden) { return torch::matmul(hidden, output_weight().t()); }

at::Tensor CausalLMImpl::step_logits(const at::Tensor& hidden) {
  VECRL_CHECK(hidden.dim() == 2, "step_logits: expected [N, D] (one position per sequence), got ", hidden.sizes());
  const auto weight = output_weight();  // [V, D]
  return decode_linear_applies(hidden, weight) ? decode_linear(hidden, weight) : logits(hidden);
}

at::ScalarType CausalLMImpl::compute_dtype() const {
  return compute_dtype_ ? *compute_dtype_ : model->embed_tokens->weight.scalar_type();
}

void CausalLMImpl::set_compute_dtype(at::ScalarType dtype) {
  VECRL_CHECK(dtype == torch::kFloat || dtype == torch::kBFloat16 || dtype == torch::kDouble,
              "compute dtype: expected float32, bfloat16 or float64, got ", dtype);
  compute_dtype_ = dtype;
}

}  // namespace vecrl::models
