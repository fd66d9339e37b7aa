#include "models/lora.h"

#include <torch/autograd.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/linear.h>
#include <torch/types.h>

#include <algorithm>

#include "core/error.h"
#include "models/hf_checkpoint.h"

namespace vecrl::models {
namespace {

thread_local bool adapters_off_here = false;

// The target layers of one decoder layer by their HF names.
std::vector<std::pair<std::string, torch::nn::Linear>> projections(DecoderLayerImpl& layer) {
  auto& a = *layer.self_attn;
  auto& m = *layer.mlp;
  return {{"q_proj", a.q_proj},       {"k_proj", a.k_proj}, {"v_proj", a.v_proj},    {"o_proj", a.o_proj},
          {"gate_proj", m.gate_proj}, {"up_proj", m.up_proj}, {"down_proj", m.down_proj}};
}

}  // namespace

const std::vector<std::string>& lora_module_names() {
  static const std::vector<std::string> names = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return names;
}

AdaptersOff::AdaptersOff(bool on) : previous_(adapters_off_here) {
  if (on) adapters_off_here = true;
}
AdaptersOff::~AdaptersOff() { adapters_off_here = previous_; }

void add_lora_update(const LoraAdapters& adapters, const torch::nn::LinearImpl* layer, const at::Tensor& x,
                     at::Tensor& out, WeightCasts* casts, bool training) {
  if (adapters_off_here) return;
  const auto it = adapters.by_layer.find(layer);
  if (it == adapters.by_layer.end()) return;
  const LoraAdapter& a = it->second;
  const auto dtype = x.scalar_type();
  auto cast = [&](const at::Tensor& w) { return casts != nullptr ? casts->get(w, dtype) : w.to(dtype); };
  // Dropout only where gradients flow: generation and the old/ref log-probs see the adapter whole.
  const bool drop = a.dropout > 0 && training && torch::GradMode::is_enabled();
  const auto input = drop ? torch::nn::functional::dropout(x, torch::nn::functional::DropoutFuncOptions().p(a.dropout)) : x;
  const auto down = torch::nn::functional::linear(input, cast(a.A->weight));  // [.., r]
  out = out + a.scale * torch::nn::functional::linear(down, cast(a.B->weight));
}

void add_lora(CausalLM& model, const LoraOptions& options) {
  VECRL_CHECK(options.rank > 0, "model.lora.rank: must be > 0 to add adapters, found ", options.rank);
  VECRL_CHECK(!model->lora(), "the model already has LoRA adapters");
  std::vector<std::string> unknown;
  for (const auto& name : options.target_modules)
    if (std::find(lora_module_names().begin(), lora_module_names().end(), name) == lora_module_names().end())
      unknown.push_back(name);
  if (!unknown.empty()) {
    std::string list, known;
    for (const auto& n : unknown) list += (list.empty() ? "'" : ", '") + n + "'";
    for (const auto& n : lora_module_names()) known += (known.empty() ? "" : ", ") + n;
    throw core::Error(core::str_cat("model.lora.target_modules: no such layer ", list, " (the layers are ", known, ")"));
  }
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  auto adapters = std::make_shared<LoraAdapters>();
  adapters->options = options;
  const double scale = options.alpha / static_cast<double>(options.rank);
  for (std::size_t l = 0; l < model->model->layers->size(); ++l)
    for (auto& [name, linear] : projections(*model->model->layers[l]->as<DecoderLayer>())) {
      if (std::find(options.target_modules.begin(), options.target_modules.end(), name) == options.target_modules.end())
        continue;
      const auto& w = linear->weight;  // [out, in]
      auto A = torch::nn::Linear(torch::nn::LinearOptions(w.size(1), options.rank).bias(false));
      auto B = torch::nn::Linear(torch::nn::LinearOptions(options.rank, w.size(0)).bias(false));
      if (options.init == "gaussian") A->weight.normal_(0.0, 1.0 / static_cast<double>(options.rank));
      B->weight.zero_();  // (A keeps torch's Linear init: kaiming-uniform, a = √5, as PEFT's)
      // float32 masters (float64 under a float64 base, as the tests' finite differences need)
      const auto master = w.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
      A->to(w.device(), master);
      B->to(w.device(), master);
      linear->register_module("lora_A", A);
      linear->register_module("lora_B", B);
      adapters->by_layer[linear.get()] = {A, B, scale, options.dropout};
    }
  model->set_lora(std::move(adapters));
}

CausalLM base_view(const CausalLM& model) {
  return CausalLM(std::make_shared<CausalLMImpl>(CausalLMImpl::SharedWeights{}, *model));
}

bool is_lora_parameter(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

std::vector<at::Tensor> trainable_parameters(const CausalLM& model) {
  if (!model->lora()) return model->parameters();
  std::vector<at::Tensor> out;
  for (const auto& item : model->named_parameters())
    if (is_lora_parameter(item.key())) out.push_back(item.value());
  return out;
}

std::map<std::string, at::Tensor> trainable_state(const CausalLM& model) {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : model->named_parameters())
    if (!model->lora() || is_lora_parameter(item.key())) out.emplace(item.key(), item.value().detach());
  return out;
}

void load_trainable_state(CausalLM& model, const std::map<std::string, at::Tensor>& tensors, const std::string& where) {
  if (!model->lora()) return load_state(model, tensors, where);
  load_state(model, tensors, where, is_lora_parameter);
}

std::vector<std::pair<std::string, at::Tensor>> merged_state(const CausalLM& model) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::string, at::Tensor>> out;
  std::map<std::string, std::size_t> index;
  for (const auto& item : model->named_parameters())
    if (!is_lora_parameter(item.key())) {
      index[item.key()] = out.size();
      out.emplace_back(item.key(), item.value().detach());
    }
  if (!model->lora()) return out;
  for (const auto& item : model->named_modules("", /*include_self=*/false)) {
    const auto* linear = item.value()->as<torch::nn::Linear>();
    if (linear == nullptr) continue;
    const auto it = model->lora()->by_layer.find(linear);
    if (it == model->lora()->by_layer.end()) continue;
    auto& weight = out[index.at(item.key() + ".weight")].second;
    const auto delta = torch::matmul(it->second.B->weight.to(torch::kFloat), it->second.A->weight.to(torch::kFloat));
    weight = (weight.to(torch::kFloat) + it->second.scale * delta.to(weight.device())).to(weight.dtype());
  }
  return out;
}

}  // namespace vecrl::models
