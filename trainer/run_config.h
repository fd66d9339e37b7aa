#pragma once
// The run configuration: one YAML file, parsed once into these structs. Defaults live here only.
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>

#include "algorithms/kl.h"
#include "models/device.h"
#include "models/sampler.h"
#include "core/config.h"
#include "rewards/scoring_options.h"
#include "trainer/chat_prompt.h"
#include "trainer/evaluator.h"
#include "models/lora_options.h"
#include "trainer/few_shot.h"
#include "trainer/lr_schedule.h"

namespace vecrl::trainer {

struct RunOptions {
  std::string name = "run";          // run directory is <output_dir>/<name>
  std::string output_dir = "runs";
  uint64_t seed = 1;
  int threads = 0;                   // LibTorch intra-op threads; 0 = all cores
  std::string log_level = "info";

  template <class V>
  void visit(V& v) {
    v.field("name", name);
    v.field("output_dir", output_dir);
    v.field("seed", seed);
    v.field("threads", threads);
    v.field("log_level", log_level);
    v.require(!name.empty() && name.find('/') == std::string::npos, "name",
              "must be a non-empty name without '/'");
    v.require(threads >= 0 && threads <= 1024, "threads", core::str_cat("must be in [0, 1024] (0: all cores), got ", threads));
  }
};

struct ModelOptions {
  std::string path;  // HuggingFace model folder (config.json, model.safetensors, a tokenizer)
  bool activation_checkpointing = false;  // recompute each layer's activations in backward
  bool fused_attention = true;            // ATen's scaled_dot_product_attention (false: written out)
  // float32, or bfloat16: activations and matmuls in bf16, float32 master weights, gradients and
  // optimizer state.
  c10::ScalarType compute_dtype = c10::ScalarType::Float;
  // auto: this rank's GPU (cuda:<LOCAL_RANK>) when the build and machine have CUDA, else cpu; or
  // cpu, cuda, cuda:N.
  std::string device = "auto";
  models::LoraOptions lora;  // rank > 0 (or a PEFT path): train LoRA adapters on a frozen base

  template <class V>
  void visit(V& v) {
    v.field("path", path);
    v.section("lora", lora);
    v.require(!(lora.dropout > 0 && activation_checkpointing), "lora.dropout",
              "must be 0 with activation_checkpointing (the recomputed layer would draw another dropout mask)");
    v.field("activation_checkpointing", activation_checkpointing);
    v.field("fused_attention", fused_attention);
    v.choice("compute_dtype", compute_dtype, models::compute_dtype_names());
    v.field("device", device);
    v.require(models::is_device_spec(device), "device", "expected auto, cpu, cuda or cuda:N, found '" + device + "'");
    v.require(!path.empty(), "path", "is required (a HuggingFace model folder)");
  }
};

struct DataOptions {
  std::string path;                    // .jsonl, .jsonl.gz or .json (a list of objects)
  std::string prompt_field = "prompt"; // the prompt, when no template is given
  std::string prompt_template;         // e.g. "Question: {question}\nAnswer:"; {field} inserts a field
  bool add_bos = true;                 // when the tokenizer has a BOS (Qwen's has none)
  ChatPromptOptions chat;              // chat_template, system_prompt, enable_thinking
  bool shuffle = true;                 // reshuffled every epoch from the run seed
  bool skip_bad_records = false;       // skip (and count) malformed records instead of failing
  FewShotOptions few_shot;             // exemplars put before every prompt

  template <class V>
  void visit(V& v) {
    v.field("path", path);
    v.field("prompt_field", prompt_field);
    v.field("prompt_template", prompt_template);
    v.field("add_bos", add_bos);
    chat.visit(v);
    v.field("shuffle", shuffle);
    v.field("skip_bad_records", skip_bad_records);
    v.section("few_shot", few_shot);
    v.require(!path.empty(), "path", "is required (a .jsonl, .jsonl.gz or .json file of prompts)");
  }
};

struct RolloutOptions {
  static constexpr int64_t kMaxRollouts = 1 << 20;  // per step, over all ranks
  int64_t prompts_per_step = 8;
  int64_t group_size = 8;      // G samples per prompt
  int64_t max_new_tokens = 48;
  double temperature = 1.0;
  int64_t top_k = 0;
  double top_p = 1.0;
  double min_p = 0.0;
  bool dynamic_sampling = false;   // DAPO: drop groups whose total reward has zero variance, resample
  int64_t max_sampling_rounds = 4; // cap on generation rounds per step when dynamic_sampling is on
  bool overlong_filter = false;    // DAPO: responses cut by max_new_tokens get no loss

  models::SamplerOptions sampler() const { return {temperature, top_k, top_p, min_p}; }

  template <class V>
  void visit(V& v) {
    v.field("prompts_per_step", prompts_per_step);
    v.field("group_size", group_size);
    v.field("max_new_tokens", max_new_tokens);
    v.field("temperature", temperature);
    v.field("top_k", top_k);
    v.field("top_p", top_p);
    v.field("min_p", min_p);
    v.field("dynamic_sampling", dynamic_sampling);
    v.require(top_k >= 0, "top_k", core::str_cat("must be >= 0, got ", top_k));
    v.require(min_p >= 0 && min_p < 1, "min_p", core::str_cat("must be in [0, 1), got ", min_p));
    v.field("max_sampling_rounds", max_sampling_rounds);
    v.field("overlong_filter", overlong_filter);
    v.require(max_sampling_rounds >= 1, "max_sampling_rounds",
              core::str_cat("must be >= 1, got ", max_sampling_rounds));
    v.require(prompts_per_step >= 1 && prompts_per_step <= kMaxRollouts, "prompts_per_step",
              core::str_cat("must be in [1, ", kMaxRollouts, "], got ", prompts_per_step));
    v.require(group_size >= 1 && group_size <= 65536, "group_size", core::str_cat("must be in [1, 65536], got ", group_size));
    v.require(prompts_per_step * group_size <= kMaxRollouts, "group_size",
              core::str_cat(prompts_per_step, " prompts x ", group_size, " samples = ", prompts_per_step * group_size,
                            " rollouts per step; the limit is ", kMaxRollouts));
    v.require(max_new_tokens >= 1 && max_new_tokens <= (1 << 20), "max_new_tokens",
              core::str_cat("must be in [1, 1048576] (and fit the model's context), got ", max_new_tokens));
    v.require(temperature > 0, "temperature", core::str_cat("must be > 0 for RL rollouts, got ", temperature));
    v.require(top_p > 0 && top_p <= 1, "top_p", core::str_cat("must be in (0, 1], got ", top_p));
  }
};

// Multi-turn tool-use rollouts (agents/agent_loop.h). Without `environment` rollouts are one turn.
struct AgentOptions {
  core::ComponentSpec environment;         // e.g. {type: tools, tools: [{type: calculator}]}
  int64_t max_turns = 4;                   // assistant turns per rollout, the answer included
  int64_t max_tool_response_tokens = 256;  // a longer tool output is cut
  int64_t workers = 4;                     // threads running tool calls

  bool enabled() const { return environment.node != nullptr; }

  template <class V>
  void visit(V& v) {
    if (v.has("environment")) v.component("environment", environment);
    v.field("max_turns", max_turns);
    v.field("max_tool_response_tokens", max_tool_response_tokens);
    v.field("workers", workers);
    v.require(max_turns >= 1, "max_turns", core::str_cat("must be >= 1, got ", max_turns));
    v.require(max_tool_response_tokens >= 1, "max_tool_response_tokens",
              core::str_cat("must be >= 1, got ", max_tool_response_tokens));
    v.require(workers >= 1, "workers", core::str_cat("must be >= 1, got ", workers));
  }
};

// A KL penalty in the reward (PPO-RLHF style; verl's use_kl_in_reward): coef * k(logp_old, logp_ref)
// per response token, subtracted from the reward after the estimator combines the reward vector —
// from the scalar reward of GRPO/RC/Dr. GRPO/RLOO/REINFORCE++-baseline/DVAO/VPO and HDPO's primary
// channel, per token into REINFORCE++'s returns. AC, GDPO and JEPO have no combined reward to put
// it on: the combination is an error naming both keys (use loss.kl_coef).
struct KlInRewardOptions {
  double coef = 0.0;
  algorithms::KlEstimator estimator = algorithms::KlEstimator::kK1;

  template <class V>
  void visit(V& v) {
    v.field("coef", coef);
    v.choice("estimator", estimator, algorithms::kl_estimator_names());
    v.require(coef >= 0, "coef", core::str_cat("must be >= 0, got ", coef));
  }
};

// Multi-process data parallel. The launcher (torchrun, Slurm) provides ranks; these set the rest.
struct DistributedOptions {
  std::string backend = "auto";  // auto, gloo or nccl
  int64_t timeout_s = 300;       // rendezvous and collective timeout
  std::string master_addr;       // empty: MASTER_ADDR or the first host of SLURM_JOB_NODELIST
  int64_t master_port = 0;       // 0: MASTER_PORT
  double bucket_mb = 25;         // gradient all-reduce bucket size (MiB)
  // Buckets start their all-reduce as the backward pass completes them (false: after it).
  bool overlap_grad_reduce = true;

  template <class V>
  void visit(V& v) {
    v.field("backend", backend);
    v.field("timeout_s", timeout_s);
    v.field("master_addr", master_addr);
    v.field("master_port", master_port);
    v.field("bucket_mb", bucket_mb);
    v.field("overlap_grad_reduce", overlap_grad_reduce);
    v.require(backend == "auto" || backend == "gloo" || backend == "nccl", "backend",
              "expected auto, gloo or nccl, found '" + backend + "'");
    v.require(timeout_s >= 1, "timeout_s", core::str_cat("must be >= 1, got ", timeout_s));
    v.require(master_port >= 0 && master_port < 65536, "master_port", core::str_cat("must be a port, got ", master_port));
    v.require(bucket_mb > 0, "bucket_mb", core::str_cat("must be > 0, got ", bucket_mb));
  }
};

struct OptimOptions {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;  // 0 disables clipping
  LrSchedule schedule = LrSchedule::kConstant;
  int64_t warmup_steps = 0;    // linear warm-up over the first steps
  double min_lr_ratio = 0.0;   // floor of linear / cosine decay, as a fraction of lr
  double grad_spike_factor = 10.0;  // a gradient norm this many times the recent median is flagged; 0 = off

  template <class V>
  void visit(V& v) {
    v.field("lr", lr);
    v.field("beta1", beta1);
    v.field("beta2", beta2);
    v.field("eps", eps);
    v.field("weight_decay", weight_decay);
    v.field("max_grad_norm", max_grad_norm);
    v.choice("schedule", schedule, lr_schedule_names());
    v.field("warmup_steps", warmup_steps);
    v.field("min_lr_ratio", min_lr_ratio);
    v.field("grad_spike_factor", grad_spike_factor);
    v.require(grad_spike_factor == 0 || grad_spike_factor > 1, "grad_spike_factor",
              core::str_cat("must be 0 (off) or > 1, got ", grad_spike_factor));
    v.require(warmup_steps >= 0, "warmup_steps", core::str_cat("must be >= 0, got ", warmup_steps));
    v.require(min_lr_ratio >= 0 && min_lr_ratio <= 1, "min_lr_ratio",
              core::str_cat("must be in [0, 1], got ", min_lr_ratio));
    v.require(lr > 0, "lr", core::str_cat("must be > 0, got ", lr));
    v.require(beta1 >= 0 && beta1 < 1, "beta1", core::str_cat("must be in [0, 1), got ", beta1));
    v.require(beta2 >= 0 && beta2 < 1, "beta2", core::str_cat("must be in [0, 1), got ", beta2));
    v.require(eps > 0, "eps", core::str_cat("must be > 0, got ", eps));
    v.require(weight_decay >= 0, "weight_decay", core::str_cat("must be >= 0, got ", weight_decay));
    v.require(max_grad_norm >= 0, "max_grad_norm", core::str_cat("must be >= 0, got ", max_grad_norm));
  }
};

struct TrainOptions {
  int64_t steps = 50;
  int64_t mini_batches = 1;      // optimizer steps per rollout batch
  int64_t epochs = 1;            // passes over each rollout batch
  int64_t micro_batch_size = 16; // rollouts per forward/backward (does not change the result)
  int64_t micro_batch_tokens = 0; // also cap a micro-batch's padded tokens (0 = no cap; no effect on results)
  int64_t summary_window = 10;   // steps averaged in the first/last reward summary
  int64_t samples_every = 10;    // write sample completions to samples.jsonl every N steps; 0 = never
  int64_t samples_per_log = 4;   // how many rollouts each time
  int64_t max_skipped_steps = 5; // consecutive steps whose updates were all skipped (non-finite) before stopping

  template <class V>
  void visit(V& v) {
    v.field("steps", steps);
    v.field("mini_batches", mini_batches);
    v.field("epochs", epochs);
    v.field("micro_batch_size", micro_batch_size);
    v.field("micro_batch_tokens", micro_batch_tokens);
    v.require(micro_batch_tokens >= 0, "micro_batch_tokens", core::str_cat("must be >= 0, got ", micro_batch_tokens));
    v.field("summary_window", summary_window);
    v.field("samples_every", samples_every);
    v.field("samples_per_log", samples_per_log);
    v.field("max_skipped_steps", max_skipped_steps);
    v.require(max_skipped_steps >= 1, "max_skipped_steps", core::str_cat("must be >= 1, got ", max_skipped_steps));
    v.require(samples_every >= 0, "samples_every", core::str_cat("must be >= 0, got ", samples_every));
    v.require(samples_per_log >= 1, "samples_per_log", core::str_cat("must be >= 1, got ", samples_per_log));
    v.require(steps >= 1, "steps", core::str_cat("must be >= 1, got ", steps));
    v.require(mini_batches >= 1, "mini_batches", core::str_cat("must be >= 1, got ", mini_batches));
    v.require(epochs >= 1, "epochs", core::str_cat("must be >= 1, got ", epochs));
    v.require(micro_batch_size >= 1, "micro_batch_size", core::str_cat("must be >= 1, got ", micro_batch_size));
    v.require(summary_window >= 1, "summary_window", core::str_cat("must be >= 1, got ", summary_window));
  }
};

enum class ResumeMode { kNever, kAuto, kRequired };

struct CheckpointOptions {
  int64_t every = 0;      // steps between checkpoints; 0 = only at the end (and on SIGTERM)
  int64_t keep_last = 3;  // older checkpoints are deleted
  ResumeMode resume = ResumeMode::kNever;  // never, auto (latest if any), required (`--resume`)
  // Config keys (and everything below them) a resume may change besides the safe ones
  // (trainer/resume_check.h): the user accepts that the run is no longer the one checkpointed.
  std::vector<std::string> allow_changes;

  template <class V>
  void visit(V& v) {
    v.field("every", every);
    v.field("keep_last", keep_last);
    v.field("allow_changes", allow_changes);
    v.choice("resume", resume,
             {{"never", ResumeMode::kNever}, {"auto", ResumeMode::kAuto}, {"required", ResumeMode::kRequired}});
    v.require(every >= 0, "every", core::str_cat("must be >= 0, got ", every));
    v.require(keep_last >= 1, "keep_last", core::str_cat("must be >= 1, got ", keep_last));
  }
};

struct RunConfig {
  std::vector<std::string> plugins;  // shared libraries that register extra components
  RunOptions run;
  ModelOptions model;
  DataOptions data;
  RolloutOptions rollout;
  AgentOptions agent;
  std::vector<core::ComponentSpec> rewards;
  rewards::ScoringOptions scoring;
  core::ComponentSpec advantage;
  core::ComponentSpec loss;
  KlInRewardOptions kl_in_reward;
  OptimOptions optim;
  DistributedOptions distributed;
  CheckpointOptions checkpoint;
  TrainOptions train;
  EvalOptions eval;

  template <class V>
  void visit(V& v) {
    v.field("plugins", plugins);
    v.section("run", run);
    v.section("model", model);
    v.section("data", data);
    v.section("rollout", rollout);
    v.section("agent", agent);
    v.component_list("rewards", rewards);
    v.section("scoring", scoring);
    v.component("advantage", advantage, "grpo");
    v.component("loss", loss, "ppo_clip");
    v.section("kl_in_reward", kl_in_reward);
    v.section("optim", optim);
    v.section("train", train);
    v.section("distributed", distributed);
    v.section("checkpoint", checkpoint);
    v.section("eval", eval);
    v.require(rollout.prompts_per_step * rollout.group_size % train.mini_batches == 0, "train",
              core::str_cat("mini_batches (", train.mini_batches, ") must divide the ",
                            rollout.prompts_per_step * rollout.group_size, " rollouts of a step"));
  }
};

// A parsed run config plus the document it came from; components still read their own options.
struct LoadedConfig {
  RunConfig config;
  std::shared_ptr<core::ConfigNode> root;  // root->resolved() is the resolved document
};

// The document of `file` with `key.path=value` overrides applied, ready for a config's visit().
std::shared_ptr<core::ConfigNode> open_config(const std::string& file, const std::vector<std::string>& overrides);

// Reads `file`, applies `key.path=value` overrides, and parses it. Throws core::Error with the
// file, line and key of the first problem.
LoadedConfig load_run_config(const std::string& file, const std::vector<std::string>& overrides);

}  // namespace vecrl::trainer
