// `vecrl bench generate|train`: throughput figures next to the machine's ceilings measured in the
// same process, and optionally a naive baseline run in the same process for a ratio.
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/error.h"
#include "core/hardware_limits.h"
#include "core/host_block_cache.h"
#include "core/runtime.h"
#include "models/benchmarks.h"
#include "models/device.h"
#include "models/hf_checkpoint.h"
#include "models/lora.h"
#include "models/model_presets.h"
#include "trainer/rl_trainer.h"

namespace vecrl::apps {
namespace {

struct BenchSetup {
  models::CausalLM model{nullptr};
  c10::Device device{c10::kCPU};
  int threads = 1;
  core::HardwareLimits limits;
  nlohmann::json header;
};

models::CausalLM load_model(const BenchArgs& args) {
  const bool is_folder = std::filesystem::is_regular_file(std::filesystem::path(args.model) / "config.json");
  return is_folder ? models::load_causal_lm(args.model) : models::random_model(args.model, args.seed);
}

void prepare(models::CausalLM& model, const BenchArgs& args, c10::Device device) {
  model->to(device);
  model->fuse_projections();
  model->set_fused_attention(args.attention == "fused");
  model->set_compute_dtype(models::compute_dtype_named(args.dtype, "--dtype"));
}

BenchSetup set_up(const BenchArgs& args) {
  core::configure_logging("warn");
  BenchSetup s;
  s.threads = core::configure_threads(args.threads);
  const bool cuda = args.device.empty() ? torch::cuda::is_available() : args.device == "cuda";
  VECRL_CHECK(args.device.empty() || args.device == "cpu" || args.device == "cuda", "--device: expected cpu or cuda, got '",
              args.device, "'");
  VECRL_CHECK(!cuda || torch::cuda::is_available(), "--device cuda: this build or machine has no CUDA device");
  s.device = cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  s.model = load_model(args);
  prepare(s.model, args, s.device);
  s.limits = core::measure_hardware_limits(s.device, s.model->compute_dtype());  // the ceiling in the model's dtype
  core::trim_host_block_cache();  // the ceilings' buffers (256 MB) would sit in the cache the model's blocks need
  const auto cost = models::model_cost(s.model);
  s.header = {{"model", args.model},
              {"parameters", cost.parameters},
              {"device", cuda ? "cuda" : "cpu"},
              {"threads", s.threads},
              {"attention", args.attention},
              {"dtype", args.dtype},
              {"cpu_blas", core::cpu_blas_description()},
              {"matmul_gflops", s.limits.matmul_flops_per_s / 1e9},
              {"read_bandwidth_gbs", s.limits.read_bytes_per_s / 1e9}};
  return s;
}

void print_header(const nlohmann::json& h) {
  std::cout << std::fixed << std::setprecision(1) << "model " << h["model"].get<std::string>() << " ("
            << h["parameters"].get<double>() / 1e6 << "M parameters) on " << h["device"].get<std::string>() << ", "
            << h["threads"] << " threads, " << h["dtype"].get<std::string>() << " compute, " << h["attention"].get<std::string>()
            << " attention; CPU BLAS: " << h["cpu_blas"].get<std::string>() << "\n"
            << "ceilings measured now: " << h["dtype"].get<std::string>() << " matmul "
            << h["matmul_gflops"].get<double>() << " GFLOP/s, memory read "
            << h["read_bandwidth_gbs"].get<double>() << " GB/s\n";
}

nlohmann::json generate_row(const models::GenerateBenchResult& r, const core::HardwareLimits& limits, int64_t rows) {
  const double bandwidth_bound = static_cast<double>(rows) * limits.read_bytes_per_s / r.bytes_per_step;
  const double compute_bound = limits.matmul_flops_per_s / r.flops_per_token;
  return {{"group_size", r.group_size},
          {"tokens", r.tokens},
          {"seconds", r.seconds},
          {"tokens_per_s", r.tokens_per_s},
          {"bandwidth_bound_tokens_per_s", bandwidth_bound},
          {"compute_bound_tokens_per_s", compute_bound},
          {"fraction_of_bound", r.tokens_per_s / std::min(bandwidth_bound, compute_bound)}};
}

// The process's peak resident memory (VmHWM) since the last reset_peak_rss(), in GB.
double peak_rss_gb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / (1024.0 * 1024.0);  // kB
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB
}

// Starts the peak over from the current resident size (Linux >= 4.0; elsewhere a no-op, and the
// peak is the process's so far).
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Weights, gradients and AdamW's two moments, exactly: what LoRA saves, whatever the allocator keeps.
double training_state_gb(const models::CausalLM& model) {
  double bytes = 0;
  for (const auto& p : model->parameters()) bytes += static_cast<double>(p.numel() * p.element_size());
  for (const auto& p : models::trainable_parameters(model)) bytes += 3.0 * static_cast<double>(p.numel() * p.element_size());
  return bytes / 1e9;
}

// With --json the whole result as one line (true); else the setup and batch lines (false).
bool print_train_json_or_header(const BenchArgs& args, const BenchSetup& s, const nlohmann::json& result,
                                const models::TrainBenchOptions& o) {
  if (args.json) {
    std::cout << nlohmann::json({{"bench", "train"}, {"setup", s.header}, {"results", result}}).dump() << "\n";
    return true;
  }
  print_header(s.header);
  std::cout << std::setprecision(1) << "batch " << o.batch << " x (" << o.prompt_tokens << " prompt + " << o.response_tokens
            << " response) tokens; forward, backward and AdamW per step\n";
  return false;
}

// LoRA first, so that its peak memory is not hidden under the full run's (the peak of a process
// only grows), then full fine-tuning of a fresh copy of the same model.
template <class Describe>
int bench_lora_against_full(const BenchArgs& args, BenchSetup& s, const models::TrainBenchOptions& o,
                            const Describe& describe) {
  VECRL_CHECK(args.vs.empty(), "bench train: --lora and --vs are separate comparisons; give one");
  models::LoraOptions lora;
  lora.rank = args.lora;
  lora.alpha = 2.0 * static_cast<double>(args.lora);
  models::add_lora(s.model, lora);
  prepare(s.model, args, s.device);
  int64_t adapter_parameters = 0;
  for (const auto& p : models::trainable_parameters(s.model)) adapter_parameters += p.numel();
  reset_peak_rss();
  nlohmann::json result = describe(models::bench_train(s.model, o));
  result["training_state_gb"] = training_state_gb(s.model);
  s.model = load_model(args);
  prepare(s.model, args, s.device);
  reset_peak_rss();
  result["baseline"] = describe(models::bench_train(s.model, o));
  result["baseline"]["training_state_gb"] = training_state_gb(s.model);
  result["lora_rank"] = args.lora;
  result["trainable_parameters"] = adapter_parameters;
  result["speedup_vs_baseline"] = result["tokens_per_s"].get<double>() / result["baseline"]["tokens_per_s"].get<double>();
  result["memory_vs_baseline"] = result["peak_rss_gb"].get<double>() / result["baseline"]["peak_rss_gb"].get<double>();
  result["state_vs_baseline"] =
      result["training_state_gb"].get<double>() / result["baseline"]["training_state_gb"].get<double>();
  if (print_train_json_or_header(args, s, result, o)) return 0;
  std::cout << std::setprecision(1)
            << "LoRA rank " << args.lora << " (" << static_cast<double>(adapter_parameters) / 1e6
            << "M trainable parameters): tokens/s " << result["tokens_per_s"].get<double>() << ", peak memory "
            << std::setprecision(2) << result["peak_rss_gb"].get<double>() << " GB, weights + gradients + AdamW state "
            << result["training_state_gb"].get<double>() << " GB\n"
            << std::setprecision(1) << "full fine-tuning: tokens/s " << result["baseline"]["tokens_per_s"].get<double>()
            << ", peak memory " << std::setprecision(2) << result["baseline"]["peak_rss_gb"].get<double>()
            << " GB, weights + gradients + AdamW state " << result["baseline"]["training_state_gb"].get<double>() << " GB\n"
            << "LoRA: " << result["speedup_vs_baseline"].get<double>() << "x the tokens/s, "
            << result["memory_vs_baseline"].get<double>() << "x the peak memory (resident, since each run began), "
            << result["state_vs_baseline"].get<double>() << "x the training state\n";
  return 0;
}

// The baselines `bench train --vs NAME` measures in the same run: how they are printed, how their
// options differ from ours, and whether they run on glibc's allocator — first, so that no memory
// ours retained serves them (their large blocks are unmapped when freed).
struct TrainBaseline {
  const char* name;
  const char* label;
  void (*adjust)(models::TrainBenchOptions&);
  bool system_allocator = false;
};
const TrainBaseline kTrainBaselines[] = {
    // The whole [B, T, V] logits at once, kept by autograd for the backward pass.
    {"unfused", "unfused LM head (plain autograd)", [](models::TrainBenchOptions& o) { o.chunk_tokens = 0; }},
    {"system-allocator", "glibc's default allocator (mmap per large block)", [](models::TrainBenchOptions&) {}, true},
    {"aten-adamw", "LibTorch's AdamW (op by op)", [](models::TrainBenchOptions& o) { o.aten_optimizer = true; }},
};

// The baseline named by --vs; nullptr when none is asked for.
const TrainBaseline* train_baseline(const std::string& vs) {
  if (vs.empty()) return nullptr;
  std::string names;
  for (const auto& b : kTrainBaselines) {
    if (vs == b.name) return &b;
    names += names.empty() ? "" : (&b == std::end(kTrainBaselines) - 1 ? " or " : ", ");
    names += b.name;
  }
  throw core::Error(core::str_cat("bench train --vs: expected ", names, ", got '", vs, "'"));
}

}  // namespace

int run_bench_generate(const BenchArgs& args) {
  VECRL_CHECK(args.vs.empty() || args.vs == "per-sample", "bench generate --vs: expected per-sample, got '", args.vs, "'");
  auto s = set_up(args);
  nlohmann::json rows = nlohmann::json::array();
  if (!args.json) {
    print_header(s.header);
    std::cout << "prompts " << args.prompts << " x " << args.prompt_tokens << " tokens, " << args.new_tokens
              << " new tokens per sample, temperature 1\n"
              << "    G   tokens/s   bound (bandwidth / compute)   of bound" << (args.vs.empty() ? "" : "   per-sample tok/s   speed-up") << "\n";
  }
  for (const auto g : args.group_sizes) {
    models::GenerateBenchOptions o;
    o.prompts = args.prompts;
    o.prompt_tokens = args.prompt_tokens;
    o.new_tokens = args.new_tokens;
    o.group_size = g;
    o.seed = args.seed;
    auto row = generate_row(models::bench_generate(s.model, o), s.limits, o.prompts * g);
    if (!args.vs.empty()) {
      const auto naive = models::bench_generate_per_sample(s.model, o);
      row["baseline"] = generate_row(naive, s.limits, 1);
      row["speedup_vs_baseline"] = row["tokens_per_s"].get<double>() / naive.tokens_per_s;
    }
    if (!args.json) {
      std::cout << std::setw(5) << g << std::setw(11) << std::setprecision(1) << row["tokens_per_s"].get<double>()
                << std::setw(14) << row["bandwidth_bound_tokens_per_s"].get<double>() << " / " << std::setw(10)
                << row["compute_bound_tokens_per_s"].get<double>() << std::setw(14) << std::setprecision(3)
                << row["fraction_of_bound"].get<double>();
      if (!args.vs.empty())
        std::cout << std::setw(19) << std::setprecision(1) << row["baseline"]["tokens_per_s"].get<double>() << std::setw(10)
                  << std::setprecision(2) << row["speedup_vs_baseline"].get<double>() << "x";
      std::cout << std::endl;
    }
    rows.push_back(row);
  }
  if (args.json) std::cout << nlohmann::json({{"bench", "generate"}, {"setup", s.header}, {"results", rows}}).dump() << "\n";
  return 0;
}

int run_bench_train(const BenchArgs& args) {
  const auto* vs = train_baseline(args.vs);
  auto s = set_up(args);
  models::TrainBenchOptions o;
  o.batch = args.batch;
  o.prompt_tokens = args.prompt_tokens;
  o.response_tokens = args.response_tokens;
  o.steps = args.steps;
  o.chunk_tokens = args.chunk_tokens;
  o.activation_checkpointing = args.activation_checkpointing;
  o.seed = args.seed;
  auto describe = [&](const models::TrainBenchResult& r) {
    const double flops = r.flops_per_step / r.seconds_per_step;
    return nlohmann::json{{"tokens_per_step", r.tokens_per_step},
                          {"seconds_per_step", r.seconds_per_step},
                          {"seconds_forward", r.seconds_forward},
                          {"seconds_backward", r.seconds_backward},
                          {"seconds_optimizer", r.seconds_optimizer},
                          {"page_faults_per_step", r.page_faults_per_step},
                          {"tokens_per_s", r.tokens_per_s},
                          {"model_gflops", flops / 1e9},
                          {"fraction_of_matmul_rate", flops / s.limits.matmul_flops_per_s},
                          {"peak_rss_gb", peak_rss_gb()}};  // of the process so far: unfused runs second, system-allocator first
  };
  if (args.lora > 0) return bench_lora_against_full(args, s, o, describe);
  auto run_baseline = [&] {
    auto options = o;
    vs->adjust(options);
    if (vs->system_allocator) core::configure_host_allocator(core::HostAllocator::kSystem);
    auto baseline = describe(models::bench_train(s.model, options));
    core::configure_host_allocator(core::HostAllocator::kRetained);
    return baseline;
  };
  nlohmann::json baseline;
  if (vs != nullptr && vs->system_allocator) baseline = run_baseline();
  auto result = describe(models::bench_train(s.model, o));
  if (vs != nullptr && !vs->system_allocator) baseline = run_baseline();
  if (vs != nullptr) {
    result["baseline"] = baseline;
    result["speedup_vs_baseline"] = result["tokens_per_s"].get<double>() / result["baseline"]["tokens_per_s"].get<double>();
  }
  if (print_train_json_or_header(args, s, result, o)) return 0;
  std::cout << std::setprecision(1)
            << "tokens/s " << result["tokens_per_s"].get<double>() << ", " << result["model_gflops"].get<double>()
            << " model GFLOP/s (6 x parameters x tokens, LM head on response tokens), " << std::setprecision(3)
            << result["fraction_of_matmul_rate"].get<double>() << " of the matmul rate; peak memory "
            << std::setprecision(2) << result["peak_rss_gb"].get<double>() << " GB\n"
            << std::setprecision(3) << "per step: forward " << result["seconds_forward"].get<double>() << " s, backward "
            << result["seconds_backward"].get<double>() << " s, optimizer " << result["seconds_optimizer"].get<double>()
            << " s, of " << result["seconds_per_step"].get<double>() << " s; " << std::setprecision(0) << std::fixed
            << result["page_faults_per_step"].get<double>() << " page faults" << std::defaultfloat << "\n";
  if (vs != nullptr)
    std::cout << std::setprecision(1) << vs->label
              << ": tokens/s " << result["baseline"]["tokens_per_s"].get<double>()
              << ", peak memory " << std::setprecision(2) << result["baseline"]["peak_rss_gb"].get<double>()
              << " GB; ours is " << result["speedup_vs_baseline"].get<double>() << "x\n";
  return 0;
}

int run_bench_step(const BenchStepArgs& args) {
  VECRL_CHECK(args.steps >= 1, "bench step --steps must be >= 1, got ", args.steps);
  auto overrides = args.overrides;
  const auto scratch = std::filesystem::temp_directory_path() / ("vecrl_bench_step_" + std::to_string(getpid()));
  // A throw-away run folder, one warm-up step plus the timed ones, no checkpoints or evaluation.
  for (const auto& o : {"run.output_dir=" + scratch.string(), std::string("run.log_level=warn"),
                        "train.steps=" + std::to_string(args.steps + 1), std::string("checkpoint.every=0"),
                        std::string("checkpoint.resume=never"), std::string("eval.every=0"),
                        std::string("eval.before_train=false"), std::string("train.samples_every=0")})
    overrides.push_back(o);
  trainer::RlTrainer trainer(trainer::load_run_config(args.config, overrides));
  trainer.step(1);
  std::map<std::string, double> sums;
  for (int64_t step = 2; step <= args.steps + 1; ++step)
    for (const auto& [key, value] : trainer.step(step))
      if (key.rfind("timing_s/", 0) == 0 || key.rfind("perf/", 0) == 0 || key == "response_length/mean") sums[key] += value;
  std::filesystem::remove_all(scratch);
  nlohmann::json result;
  for (const auto& [key, value] : sums) result[key] = value / static_cast<double>(args.steps);
  if (args.json) {
    std::cout << nlohmann::json({{"bench", "step"}, {"config", args.config}, {"steps", args.steps}, {"results", result}}).dump()
              << "\n";
    return 0;
  }
  const double step_s = result.value("timing_s/step", 0.0);
  std::cout << std::fixed << std::setprecision(3) << "bench step " << args.config << ": mean of " << args.steps
            << " steps after a warm-up\n";
  for (const auto& [key, value] : result.items()) {
    if (key.rfind("timing_s/", 0) != 0) continue;
    std::cout << "  " << std::left << std::setw(26) << key << std::right << std::setw(9) << value.get<double>() << " s";
    if (key != "timing_s/step" && step_s > 0) std::cout << std::setw(7) << std::setprecision(1) << 100 * value.get<double>() / step_s << "%";
    std::cout << std::setprecision(3) << "\n";
  }
  std::cout << std::setprecision(1) << "  perf/throughput " << result.value("perf/throughput", 0.0)
            << " tokens/s per device, response length " << result.value("response_length/mean", 0.0) << "\n";
  return 0;
}

}  // namespace vecrl::apps
