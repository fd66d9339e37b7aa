#pragma once
// The subcommands of the `vecrl` executable; each returns the process exit code.
#include <cstdint>
#include <string>
#include <vector>

namespace vecrl::apps {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;  // key.path=value
  bool resume = false;                 // = checkpoint.resume=required
};
int run_train(const TrainArgs& args);

struct GenerateArgs {
  std::string model;
  std::vector<std::string> prompts;
  int64_t max_new_tokens = 64;
  double temperature = 1.0;  // 0 = greedy
  int64_t top_k = 0;
  double top_p = 1.0;
  double min_p = 0.0;
  uint64_t seed = 0;
  bool json = false;
  int threads = 0;
  std::string device = "auto";     // auto (the GPU when there is one), cpu, cuda, cuda:N
  std::string dtype = "float32";   // compute dtype: float32 or bfloat16
  std::string chat = "plain";  // chat format of the prompts: plain, auto (the model's), chatml, llama3, llama2
  std::string system;          // system message (chat formats)
  std::vector<std::string> stop;  // stop strings
};
int run_generate(const GenerateArgs& args);

struct InitModelArgs {
  std::string preset;
  std::string out;
  std::string tokenizer;  // folder whose tokenizer files are copied
  uint64_t seed = 0;
  double init_std = 0.02;
};
int run_init_model(const InitModelArgs& args);

struct ScoreArgs {
  std::string model;
  std::string text;
  int threads = 0;
  std::string device = "auto";
  std::string dtype = "float32";
};
int run_score(const ScoreArgs& args);

struct TokenizeArgs {
  std::string tokenizer;  // a model folder or a tokenizer file
  std::string text;
  bool add_special = false;  // BOS/EOS around the ids
};
int run_tokenize(const TokenizeArgs& args);

struct DetokenizeArgs {
  std::string tokenizer;
  std::string ids;  // JSON list or comma/space separated ids
};
int run_detokenize(const DetokenizeArgs& args);

struct ExportArgs {
  std::string checkpoint;  // a checkpoint folder, or a run folder (its latest checkpoint)
  std::string out;
  int64_t max_shard_mb = 5 * 1024;
  bool merge = false;  // a LoRA checkpoint: a full model with the adapters merged, not a PEFT folder
};
int run_export(const ExportArgs& args);

struct SftArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
};
int run_sft(const SftArgs& args);

struct BenchArgs {
  std::string model = "qwen3-50m";  // a HuggingFace folder or a preset (vecrl init-model)
  std::string device;               // cpu or cuda; empty = cuda when available
  std::string vs;                   // baseline in the same run: per-sample (generate), unchunked (train)
  std::string attention = "fused";  // fused (ATen's scaled_dot_product_attention) or math
  std::string dtype = "float32";    // compute dtype: float32, or bfloat16 with float32 master weights
  int threads = 0;
  bool json = false;
  uint64_t seed = 0;
  // generate
  std::vector<int64_t> group_sizes{1, 8, 16};
  int64_t prompts = 2;
  int64_t prompt_tokens = 64;
  int64_t new_tokens = 32;
  // train
  int64_t batch = 8;
  int64_t response_tokens = 64;
  int64_t steps = 3;
  int64_t chunk_tokens = 1024;
  bool activation_checkpointing = false;
  int64_t lora = 0;  // > 0: LoRA adapters of this rank, against full fine-tuning in the same run
};
int run_bench_generate(const BenchArgs& args);
struct BenchStepArgs {
  std::string config;                 // an RL run config
  std::vector<std::string> overrides;
  int64_t steps = 3;                  // timed steps, after one warm-up step
  bool json = false;
};
int run_bench_step(const BenchStepArgs& args);
int run_bench_train(const BenchArgs& args);

struct PlotArgs {
  std::vector<std::string> runs;  // run folders (each with metrics.jsonl)
  std::string out;                // output folder; empty = <first run>/plots
};
int run_plot(const PlotArgs& args);

struct AdvantageArgs {
  std::string estimator;
  std::vector<std::string> sets;     // estimator options, key=value
  std::vector<std::string> plugins;  // shared libraries to load first
  std::string file;                  // JSON input; empty or "-" = stdin
};
int run_advantage(const AdvantageArgs& args);

struct RewardArgs {
  std::string config;  // YAML with a `rewards:` section (a run config works too)
  std::string file;    // records (.jsonl, .jsonl.gz, .json); empty or "-" = JSON lines on stdin
  std::string prompt_field = "prompt";
  std::string response_field = "response";
  std::string tokenizer;  // counts response tokens for token-based modules (or give `response_tokens`)
  std::string model;      // for modules that score with a model (likelihood, local judge)
  int threads = 0;
  int64_t group_size = 1;  // consecutive records form a group (group-relative modules such as code's verpo)
  int workers = 0;         // 0 = the config's scoring.workers
};
int run_reward(const RewardArgs& args);

struct ServeArgs {
  std::string model;
  std::string name;  // model id reported by /v1/models (default: the folder name)
  std::string host = "127.0.0.1";
  int port = 8000;   // 0 = any free port (printed at start)
  int64_t max_body_kb = 1024;
  int64_t max_tokens = 1024;
  int threads = 0;
  int max_connections = 64;         // connections served at once (more wait for a free worker)
  double request_timeout_s = 10.0;  // for a request to arrive, and for its response to leave
};
int run_serve(const ServeArgs& args);

struct EvalArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;  // report file; default <output_dir>/<run name>/eval/<name>_step_0.json
};
int run_eval(const EvalArgs& args);

}  // namespace vecrl::apps
