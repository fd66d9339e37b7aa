// vecrl: the command-line entry point. Parses arguments and dispatches; all work is in the layers.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>

#include "apps/commands.h"
#include "core/runtime.h"

#ifndef VECRL_VERSION
#define VECRL_VERSION "unknown"
#endif

namespace {

// --device and --dtype of the inference commands.
void add_inference_options(CLI::App* cmd, std::string& device, std::string& dtype) {
  cmd->add_option("--device", device, "auto (this machine's GPU when there is one), cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd->add_option("--dtype", dtype, "compute dtype: float32, or bfloat16 (float32 weights cast at use)")
      ->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16"}));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vecrl::apps;
  vecrl::core::log_to_stderr();
  CLI::App app{"vecrl: reinforcement-learning post-training of language models with vector rewards"};
  app.set_version_flag("--version", std::string("vecrl ") + VECRL_VERSION);
  app.require_subcommand(1);

  TrainArgs train;
  auto* train_cmd = app.add_subcommand("train", "Train a policy with RL from a YAML run config");
  train_cmd->add_option("config", train.config, "run config (YAML)")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("overrides", train.overrides, "overrides, key.path=value (e.g. optim.lr=1e-5)");
  train_cmd->add_flag("--resume", train.resume,
                      "continue from the run's latest checkpoint (an error if there is none or nothing is left)");
  train_cmd->footer("SIGTERM or Ctrl-C finishes the current step, writes a checkpoint and exits 0.");

  SftArgs sft;
  auto* sft_cmd = app.add_subcommand("sft", "Supervised fine-tuning (loss on the response) from a YAML config");
  sft_cmd->add_option("config", sft.config, "SFT config (YAML)")->required()->check(CLI::ExistingFile);
  sft_cmd->add_option("overrides", sft.overrides, "overrides, key.path=value");
  sft_cmd->add_flag("--resume", sft.resume, "continue from the run's latest checkpoint");

  GenerateArgs gen;
  auto* gen_cmd = app.add_subcommand("generate", "Generate continuations of prompts");
  gen_cmd->add_option("--model", gen.model, "HuggingFace model folder")->required();
  gen_cmd->add_option("--prompt", gen.prompts, "prompt text (repeatable); BOS is prepended when the model has one")->required();
  gen_cmd->add_option("--chat", gen.chat, "chat format of the prompt: plain, auto (the model's), chatml, llama3, llama2")
      ->capture_default_str();
  gen_cmd->add_option("--system", gen.system, "system message (with a chat format)");
  gen_cmd->add_option("--stop", gen.stop, "stop string (repeatable): a completion ends once its text holds one");
  gen_cmd->add_option("--max-new-tokens", gen.max_new_tokens, "tokens to generate at most")
      ->capture_default_str()->check(CLI::PositiveNumber);
  gen_cmd->add_option("--temperature", gen.temperature, "sampling temperature; 0 = greedy")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  gen_cmd->add_option("--top-p", gen.top_p, "nucleus sampling mass in (0, 1]")->capture_default_str()->check(CLI::Range(1e-9, 1.0));
  gen_cmd->add_option("--top-k", gen.top_k, "keep the k most likely tokens; 0 = all")->capture_default_str()->check(CLI::NonNegativeNumber);
  gen_cmd->add_option("--min-p", gen.min_p, "drop tokens below min-p x the top probability")->capture_default_str()->check(CLI::Range(0.0, 0.999999));
  gen_cmd->add_option("--seed", gen.seed, "sampling seed")->capture_default_str();
  gen_cmd->add_flag("--json", gen.json, "print JSON with ids and log-probs instead of text");
  gen_cmd->add_option("--threads", gen.threads, "CPU threads; 0 = all cores")->capture_default_str();
  add_inference_options(gen_cmd, gen.device, gen.dtype);

  InitModelArgs init_model;
  auto* init_cmd = app.add_subcommand("init-model", "Write a HuggingFace model folder of a named shape with random weights");
  init_cmd->add_option("preset", init_model.preset, "qwen3-tiny, qwen3-50m, qwen3-500m (Qwen3-0.6B), llama-42m (llama2.c's 42M TinyStories shape) or llama-1b (Llama-3.2-1B)")
      ->required();
  init_cmd->add_option("out", init_model.out, "output folder")->required();
  init_cmd->add_option("--tokenizer", init_model.tokenizer, "folder whose tokenizer files are copied beside the weights");
  init_cmd->add_option("--seed", init_model.seed, "weight seed")->capture_default_str();
  init_cmd->add_option("--init-std", init_model.init_std, "standard deviation of the weights")
      ->capture_default_str()->check(CLI::PositiveNumber);

  BenchArgs bench;
  auto* bench_cmd = app.add_subcommand("bench", "Throughput against the machine's ceilings measured in the same run");
  bench_cmd->require_subcommand(1);
  auto add_bench_options = [&bench](CLI::App* cmd) {
    cmd->add_option("--model", bench.model, "HuggingFace folder or preset (qwen3-tiny, qwen3-50m, qwen3-500m, llama-42m, llama-1b)")
        ->capture_default_str();
    cmd->add_option("--device", bench.device, "cpu or cuda (default: cuda when available)");
    cmd->add_option("--threads", bench.threads, "CPU threads; 0 = all cores")->capture_default_str();
    cmd->add_option("--seed", bench.seed, "seed of the random weights and inputs")->capture_default_str();
    cmd->add_option("--prompt-tokens", bench.prompt_tokens, "prompt length")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--attention", bench.attention, "fused (scaled_dot_product_attention) or math (written out)")
        ->capture_default_str()->check(CLI::IsMember({"fused", "math"}));
    cmd->add_option("--dtype", bench.dtype, "compute dtype: float32, or bfloat16 (float32 master weights)")
        ->capture_default_str()->check(CLI::IsMember({"float32", "bfloat16"}));
    cmd->add_flag("--json", bench.json, "print one JSON object");
  };
  auto* bench_gen_cmd = bench_cmd->add_subcommand("generate", "Rollout tokens/s per group size vs the bandwidth and compute bounds");
  add_bench_options(bench_gen_cmd);
  bench_gen_cmd->add_option("--group-sizes", bench.group_sizes, "samples per prompt (G), one run each")
      ->capture_default_str()->delimiter(',');
  bench_gen_cmd->add_option("--prompts", bench.prompts, "prompts per batch")->capture_default_str()->check(CLI::PositiveNumber);
  bench_gen_cmd->add_option("--new-tokens", bench.new_tokens, "tokens generated per sample")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench_gen_cmd->add_option("--vs", bench.vs, "baseline in the same run: per-sample (each sample generated alone)");
  auto* bench_train_cmd = bench_cmd->add_subcommand("train", "Policy-update tokens/s and the fraction of the matmul rate");
  add_bench_options(bench_train_cmd);
  bench_train_cmd->add_option("--batch", bench.batch, "sequences per step")->capture_default_str()->check(CLI::PositiveNumber);
  bench_train_cmd->add_option("--response-tokens", bench.response_tokens, "response length")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench_train_cmd->add_option("--steps", bench.steps, "timed steps after one warm-up")->capture_default_str()->check(CLI::PositiveNumber);
  bench_train_cmd->add_option("--chunk-tokens", bench.chunk_tokens, "LM-head chunk of the log-prob recomputation")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench_train_cmd->add_flag("--activation-checkpointing", bench.activation_checkpointing,
                            "recompute each layer's activations in the backward pass");
  bench_train_cmd->add_option("--lora", bench.lora,
                              "LoRA adapters of this rank (alpha 2 x rank) against full fine-tuning in the same run: tokens/s and peak memory")
      ->check(CLI::PositiveNumber);
  bench_train_cmd->add_option("--vs", bench.vs, "baseline in the same run: unfused (the whole [B, T, V] logits under plain autograd), system-allocator (glibc's mmap per large block, run first) or aten-adamw (LibTorch's AdamW, op by op)");

  BenchStepArgs bench_step;
  auto* bench_step_cmd = bench_cmd->add_subcommand("step", "A full RL step of a run config with its timing_s/* breakdown");
  bench_step_cmd->add_option("config", bench_step.config, "RL run config (YAML)")->required()->check(CLI::ExistingFile);
  bench_step_cmd->add_option("overrides", bench_step.overrides, "overrides, key.path=value");
  bench_step_cmd->add_option("--steps", bench_step.steps, "timed steps after one warm-up")
      ->capture_default_str()->check(CLI::PositiveNumber);
  bench_step_cmd->add_flag("--json", bench_step.json, "print one JSON object");

  ScoreArgs score;
  auto* score_cmd = app.add_subcommand("score", "Per-token log-probs of a text as JSON");
  score_cmd->add_option("--model", score.model, "HuggingFace model folder")->required();
  score_cmd->add_option("--text", score.text, "text to score; BOS is prepended")->required();
  score_cmd->add_option("--threads", score.threads, "CPU threads; 0 = all cores")->capture_default_str();
  add_inference_options(score_cmd, score.device, score.dtype);

  TokenizeArgs tokenize;
  auto* tok_cmd = app.add_subcommand("tokenize", "Token ids of a text as JSON: {\"ids\": [...]}");
  tok_cmd->add_option("--tokenizer", tokenize.tokenizer, "model folder or tokenizer file")->required();
  tok_cmd->add_option("--text", tokenize.text, "text to encode")->required();
  tok_cmd->add_flag("--add-special", tokenize.add_special, "add BOS and EOS");

  DetokenizeArgs detokenize;
  auto* detok_cmd = app.add_subcommand("detokenize", "Text of token ids as JSON: {\"text\": ...}");
  detok_cmd->add_option("--tokenizer", detokenize.tokenizer, "model folder or tokenizer file")->required();
  detok_cmd->add_option("--ids", detokenize.ids, "ids as a JSON list or separated by commas/spaces")->required();

  ExportArgs export_args;
  auto* export_cmd = app.add_subcommand("export", "Write a checkpoint as a HuggingFace model folder (a LoRA checkpoint: a PEFT adapter folder, or merged)");
  export_cmd->add_option("checkpoint", export_args.checkpoint, "checkpoint folder, or a run folder (latest checkpoint)")
      ->required();
  export_cmd->add_option("out", export_args.out, "output folder")->required();
  export_cmd->add_option("--max-shard-mb", export_args.max_shard_mb, "shard size above which weights are split")
      ->capture_default_str()->check(CLI::PositiveNumber);
  export_cmd->add_flag("--merge", export_args.merge,
                       "for a LoRA checkpoint: a full HF model with the adapters merged (default: a PEFT adapter folder)");

  PlotArgs plot;
  auto* plot_cmd = app.add_subcommand("plot", "PNG charts of runs (reward per dimension, KL, entropy, length, trade-off)");
  plot_cmd->add_option("runs", plot.runs, "run folders to compare")->required();
  plot_cmd->add_option("--out", plot.out, "output folder (default: <first run>/plots)");

  AdvantageArgs adv;
  auto* adv_cmd = app.add_subcommand("advantage", "Advantages of reward vectors given as JSON (a file or stdin)");
  adv_cmd->footer(R"(Input (JSON):
  {"reward_names": ["correct", "format"], "weights": [0.5, 0.5],
   "groups": [ {"rewards": [[1, 0.5], [1, 1], [0, 1], [0, 0]]},
               {"rewards": [[0, 1], [1, 0], [1, 1], [0, 0]], "valid": [[1,1],[1,1],[1,0],[1,1]]} ]}
  Every group has the same number of rollouts G; each row has K = len(reward_names) values.
  "valid" (optional, 0/1 per value) marks values that are not applicable: they are left out of
  the statistics, never counted as 0. "weights" defaults to 1/K each. "lengths" (optional, per
  group) gives response lengths in tokens for token-level estimators (reinforce_pp).
  For vpo a group is {"answers": [ [[1,0],[0,1]], [[0.5,0.5]], [] ]}: per rollout a list of
  answer reward vectors, [] meaning no parsed answer.
Output (JSON on stdout):
  {"advantages": [[...G numbers...], ...one list per group...]}
  Multi-channel estimators (hdpo) also print "channels": {"primary": [[...]], "conditional": [[...]]}
  and "channel_weights"; "advantages" is then the primary channel. Token-level estimators add
  "token_advantages" (one list per rollout).
Options (--set, the same names as the YAML `advantage:` section), for example:
  --set std=population --set eps=1e-6
  --set 'condition=correct>=1' --set conditional=efficiency --set conditional_weight=0.15 (hdpo)
  --set weight_samples=[[1,0],[0.5,0.5],[0,1]]                                           (vpo)
Estimators: grpo, dr_grpo, rc, rloo, reinforce_pp, reinforce_pp_baseline, ac, gdpo, dvao, hdpo, vpo, jepo
and any registered by --plugin libraries.)");
  adv_cmd->add_option("--estimator", adv.estimator, "registered estimator name (e.g. grpo)")->required();
  adv_cmd->add_option("--set", adv.sets, "estimator option key=value (repeatable)");
  adv_cmd->add_option("--plugin", adv.plugins, "plugin library to load first (repeatable)");
  adv_cmd->add_option("file", adv.file, "JSON input file; stdin when absent or -");

  RewardArgs reward;
  auto* reward_cmd = app.add_subcommand("reward", "Score records with the configured reward modules (one JSON line each)");
  reward_cmd->add_option("--config", reward.config, "YAML with a `rewards:` section (a run config works)")
      ->required()->check(CLI::ExistingFile);
  reward_cmd->add_option("file", reward.file, "records: .jsonl, .jsonl.gz or .json; stdin (JSON lines) when absent or -");
  reward_cmd->add_option("--prompt-field", reward.prompt_field, "record field with the prompt")->capture_default_str();
  reward_cmd->add_option("--response-field", reward.response_field, "record field with the response")->capture_default_str();
  reward_cmd->add_option("--tokenizer", reward.tokenizer, "model folder or tokenizer file, to count response tokens");
  reward_cmd->add_option("--model", reward.model, "HuggingFace model folder for model-based modules (likelihood, judge)");
  reward_cmd->add_option("--threads", reward.threads, "CPU threads for the model; 0 = all cores")->capture_default_str();
  reward_cmd->add_option("--group-size", reward.group_size, "consecutive records forming one group")
      ->capture_default_str()->check(CLI::PositiveNumber);
  reward_cmd->add_option("--workers", reward.workers, "scoring threads; 0 = scoring.workers from the config")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  reward_cmd->footer(R"(Each record has the response (and prompt) plus the fields the modules read: `answer` (math,
choice, exact_match), `test`/`entry_point`/`prompt` (HumanEval) or `test_list` (MBPP),
`instruction_id_list`/`kwargs` (ifeval), ... Optional: `truncated` (bool), `response_tokens`.
Output: {"index": i, "rewards": {"<module>/<dim>": value or null}, "valid": {...: bool}} per record;
a per-dimension summary goes to stderr.)");

  EvalArgs eval;
  auto* eval_cmd = app.add_subcommand("eval", "Evaluate model.path on eval.path with the run's reward modules (mean@n, pass@k)");
  eval_cmd->add_option("config", eval.config, "run config (YAML) with an `eval:` section")->required()->check(CLI::ExistingFile);
  eval_cmd->add_option("overrides", eval.overrides, "overrides, key.path=value (e.g. model.path=runs/x/final eval.n=8)");
  eval_cmd->add_option("--out", eval.out, "report file (default: <output_dir>/<run name>/eval/<name>_step_0.json)");

  ServeArgs serve;
  auto* serve_cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (/v1/models, /v1/completions, /v1/chat/completions)");
  serve_cmd->add_option("--model", serve.model, "HuggingFace model folder")->required();
  serve_cmd->add_option("--name", serve.name, "model id in responses (default: the folder name)");
  serve_cmd->add_option("--host", serve.host, "address to bind; keep 127.0.0.1 unless the network is trusted")->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "port; 0 = any free port (printed at start)")->capture_default_str()->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--max-body-kb", serve.max_body_kb, "largest request body (larger: HTTP 413)")->capture_default_str()->check(CLI::PositiveNumber);
  serve_cmd->add_option("--max-tokens", serve.max_tokens, "largest max_tokens a request may ask for")->capture_default_str()->check(CLI::PositiveNumber);
  serve_cmd->add_option("--threads", serve.threads, "CPU threads; 0 = all cores")->capture_default_str();
  serve_cmd->add_option("--max-connections", serve.max_connections, "connections served at once; more wait")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  serve_cmd->add_option("--request-timeout-s", serve.request_timeout_s,
                        "seconds for a request's headers and body to arrive (and its response to leave); a slower client is disconnected")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));

  CLI11_PARSE(app, argc, argv);
  try {
    const char* allocator = std::getenv("VECRL_HOST_ALLOCATOR");
    vecrl::core::configure_host_allocator(
        vecrl::core::host_allocator_named(allocator != nullptr ? allocator : "retained", "VECRL_HOST_ALLOCATOR"));
    if (train_cmd->parsed()) return run_train(train);
    if (gen_cmd->parsed()) return run_generate(gen);
    if (score_cmd->parsed()) return run_score(score);
    if (init_cmd->parsed()) return run_init_model(init_model);
    if (sft_cmd->parsed()) return run_sft(sft);
    if (bench_gen_cmd->parsed()) return run_bench_generate(bench);
    if (bench_train_cmd->parsed()) return run_bench_train(bench);
    if (bench_step_cmd->parsed()) return run_bench_step(bench_step);
    if (adv_cmd->parsed()) return run_advantage(adv);
    if (tok_cmd->parsed()) return run_tokenize(tokenize);
    if (plot_cmd->parsed()) return run_plot(plot);
    if (export_cmd->parsed()) return run_export(export_args);
    if (detok_cmd->parsed()) return run_detokenize(detokenize);
    if (reward_cmd->parsed()) return run_reward(reward);
    if (serve_cmd->parsed()) return run_serve(serve);
    if (eval_cmd->parsed()) return run_eval(eval);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
