#include "trainer/training_session.h"

#include <spdlog/spdlog.h>
#include <torch/optim/adamw.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <filesystem>
#include <limits>

#include "core/runtime.h"
#include "core/tensorboard.h"
#include "models/fused_adamw.h"
#include "models/hf_checkpoint.h"
#include "models/hf_export.h"
#include "models/lora.h"
#include "models/peft.h"
#include "models/policy_runner.h"
#include "trainer/checkpoint.h"
#include "trainer/lr_schedule.h"
#include "trainer/run_folder.h"

namespace vecrl::trainer {
namespace fs = std::filesystem;

TrainingSession::TrainingSession(SessionOptions options)
    : options_(std::move(options)), grad_monitor_(options_.optim.grad_spike_factor) {
  const auto& o = options_;
  core::configure_logging(o.run.log_level);
  threads_ = core::configure_threads(o.threads);
  torch::manual_seed(o.run.seed);
  run_dir_ = (fs::path(o.run.output_dir) / o.run.name).string();
  runner_ = std::make_unique<models::PolicyRunner>(o.model.path, o.load_reference, o.model.lora);
  auto& policy = runner_->policy();
  policy->set_activation_checkpointing(o.model.activation_checkpointing);
  runner_->set_fused_attention(o.model.fused_attention);
  runner_->set_compute_dtype(o.model.compute_dtype);
  runner_->to(o.device);
  policy->train();
  // Read once: the weights this run holds in memory are the ones loaded now.
  if (policy->lora()) lora_base_fingerprint_ = models::weights_fingerprint(o.model.path);
  // LibTorch's AdamW in one pass per parameter; its state and checkpoints are AdamW's.
  optimizer_ = std::make_unique<models::FusedAdamW>(parameters(), torch::optim::AdamWOptions(o.optim.lr)
                                                                      .betas({o.optim.beta1, o.optim.beta2})
                                                                      .eps(o.optim.eps)
                                                                      .weight_decay(o.optim.weight_decay));
}

TrainingSession::~TrainingSession() = default;

std::optional<nlohmann::json> TrainingSession::open_run_folder() {
  if (options_.is_main) lock_ = std::make_unique<RunFolderLock>(run_dir_);
  const auto checkpoint = prepare_run_folder(run_dir_, options_.resolved_config, options_.checkpoint, options_.is_main);
  if (!checkpoint) return std::nullopt;
  auto contents = read_checkpoint(checkpoint->dir, *optimizer_);
  check_lora_base(contents.state, checkpoint->dir);
  models::load_trainable_state(runner_->policy(), contents.policy, checkpoint->dir);
  try {
    completed_ = contents.state.at("step").get<int64_t>();
    if (contents.state.contains("grad_norms"))
      grad_monitor_.restore(contents.state["grad_norms"].get<std::vector<double>>());
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat(checkpoint->dir, "/state.json: ", e.what()));
  }
  last_saved_ = completed_;
  if (options_.is_main) drop_metrics_after(run_dir_, completed_);
  spdlog::info("resumed from {} (step {})", checkpoint->dir, completed_);
  return contents.state;
}

void TrainingSession::release_run_folder() {
  sinks_.clear();
  lock_.reset();
}

void TrainingSession::open_sinks() {
  if (!options_.is_main) return;
  sinks_.push_back(std::make_unique<core::JsonlMetricSink>((fs::path(run_dir_) / "metrics.jsonl").string()));
  sinks_.push_back(std::make_unique<core::TensorBoardSink>((fs::path(run_dir_) / "tensorboard").string()));
}

std::vector<at::Tensor> TrainingSession::parameters() const { return models::trainable_parameters(runner_->policy()); }

// A LoRA checkpoint holds only the adapters: the base they were trained on must be the same one.
void TrainingSession::check_lora_base(const nlohmann::json& state, const std::string& checkpoint_dir) const {
  if (!state.contains("lora_base")) return;
  const std::string recorded = state["lora_base"].value("fingerprint", std::string());
  VECRL_CHECK(recorded == lora_base_fingerprint_, checkpoint_dir,
              ": its LoRA adapters were trained on a base model whose weights were ", recorded, "; ",
              options_.model.path, " now holds ", lora_base_fingerprint_, " (a different or changed base)");
}

double TrainingSession::set_learning_rate(int64_t step) {
  const auto& o = options_.optim;
  const double lr = learning_rate({o.schedule, o.lr, o.warmup_steps, options_.total_steps, o.min_lr_ratio}, step);
  for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  return lr;
}

void TrainingSession::zero_grad() { models::clear_gradients(*optimizer_); }

GradientStep TrainingSession::apply_gradients(int64_t step) {
  auto params = parameters();
  if (options_.hooks.before_optimizer_step) options_.hooks.before_optimizer_step(step, params);
  const double max_norm =
      options_.optim.max_grad_norm > 0 ? options_.optim.max_grad_norm : std::numeric_limits<double>::infinity();
  GradientStep out;
  // Every rank holds the same reduced gradient, so all ranks skip or step together.
  out.grad_norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
  if (!std::isfinite(out.grad_norm)) {
    zero_grad();
    out.skipped = true;
    spdlog::warn("step {}: non-finite gradient norm ({}); update skipped", step, out.grad_norm);
    return out;
  }
  out.clipped = out.grad_norm > max_norm;
  const double typical = grad_monitor_.median();
  out.spike = grad_monitor_.observe(out.grad_norm);
  if (out.spike)
    spdlog::warn("step {}: gradient norm {:.4g} is {:.1f}x the recent median {:.4g}{}", step, out.grad_norm,
                 out.grad_norm / typical, typical, out.clipped ? " (clipped to optim.max_grad_norm)" : "");
  optimizer_->step();
  return out;
}

void TrainingSession::save_checkpoint(nlohmann::json state) {
  if (!options_.is_main || last_saved_ == completed_) return;
  last_saved_ = completed_;
  CheckpointContents contents;
  contents.policy = models::trainable_state(runner_->policy());  // a LoRA run: the adapters alone
  if (runner_->policy()->lora())
    state["lora_base"] = {{"path", options_.model.path},
                          {"fingerprint", lora_base_fingerprint_},
                          {"options", models::lora_options_json(runner_->policy()->lora()->options)}};
  state["format_version"] = kCheckpointFormatVersion;
  state["step"] = completed_;
  state["grad_norms"] = grad_monitor_.history();
  contents.state = std::move(state);
  contents.config_yaml = options_.resolved_config;
  std::function<void()> half_written;
  if (options_.hooks.during_checkpoint) half_written = [&] { options_.hooks.during_checkpoint(completed_); };
  const auto dir = write_checkpoint(run_dir_, completed_, contents, *optimizer_, options_.checkpoint.keep_last,
                                    half_written);
  spdlog::info("checkpoint: {}", dir);
}

void TrainingSession::write_metrics(int64_t step, const core::MetricMap& metrics) {
  for (auto& sink : sinks_) sink->write(step, metrics);
}

void TrainingSession::export_final_model() {
  if (!options_.is_main) return;
  models::save_hf_model(runner_->policy(), (fs::path(run_dir_) / "final").string(), options_.model.path);
  if (runner_->policy()->lora())
    models::save_peft_adapter(runner_->policy(), (fs::path(run_dir_) / "final_adapter").string(), options_.model.path);
}

}  // namespace vecrl::trainer
