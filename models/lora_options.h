#pragma once
// The `model.lora` options (models/lora.h has the adapters themselves); free of LibTorch headers,
// so configs can include it.
#include <cstdint>
#include <string>
#include <vector>

namespace vecrl::models {

const std::vector<std::string>& lora_module_names();  // q_proj … down_proj

struct LoraOptions {
  int64_t rank = 0;  // 0: no adapters (full fine-tuning)
  double alpha = 16;  // the update is scaled by alpha / rank
  double dropout = 0.0;  // on the adapter's input, only in the forward passes with gradients
  std::vector<std::string> target_modules = lora_module_names();
  std::string init = "kaiming";  // kaiming (PEFT's default: A ~ kaiming-uniform) or gaussian (A ~ N(0, 1/r)); B = 0
  std::string path;  // a PEFT adapter folder to continue from (its r, alpha, dropout and targets are used)

  bool enabled() const { return rank > 0 || !path.empty(); }

  template <class V>
  void visit(V& v) {
    v.field("rank", rank);
    v.field("alpha", alpha);
    v.field("dropout", dropout);
    v.field("target_modules", target_modules);
    v.field("init", init);
    v.field("path", path);
    v.require(rank >= 0 && rank <= 65536, "rank", "must be in [0, 65536] (0: no adapters)");
    v.require(alpha > 0, "alpha", "must be > 0");
    v.require(dropout >= 0 && dropout < 1, "dropout", "must be in [0, 1)");
    v.require(init == "kaiming" || init == "gaussian", "init", "expected kaiming or gaussian, found '" + init + "'");
    v.require(!target_modules.empty(), "target_modules", "must name at least one layer");
  }
};

}  // namespace vecrl::models
