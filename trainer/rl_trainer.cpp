#include "trainer/rl_trainer.h"
#include "trainer/grad_norm_monitor.h"
#include "trainer/run_folder.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <random>
#include <sstream>
#include <sys/resource.h>
#include <thread>

#include "algorithms/advantage.h"
#include "algorithms/policy_loss.h"
#include "core/plugin.h"
#include "core/runtime.h"
#include "core/safetensors.h"
#include "core/tensorboard.h"
#include "distributed/communicator.h"
#include "distributed/gradient_sync.h"
#include "distributed/process_info.h"
#include "models/generation.h"
#include "models/hf_checkpoint.h"
#include "models/hf_export.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"
#include "rewards/reward_set.h"
#include "trainer/checkpoint.h"
#include "trainer/prompt_dataset.h"
#include "trainer/rollout_generator.h"

namespace vecrl::trainer {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A micro-batch: some rows of the batch, cut to their own longest prompt and response so padding
// of other rows costs nothing.
struct MicroBatch {
  torch::Tensor rows;      // [m] int64
  int64_t prompt_len = 0;  // columns kept at the right of the left-padded prompts
  int64_t response_len = 0;
  // [N, Lp] prompt-shaped and [N, T] response-shaped tensors restricted to this micro-batch.
  torch::Tensor prompt_part(const torch::Tensor& x) const {
    return x.index_select(0, rows).narrow(1, x.size(1) - prompt_len, prompt_len);
  }
  torch::Tensor response_part(const torch::Tensor& x) const { return x.index_select(0, rows).narrow(1, 0, response_len); }
};

// Consecutive rows grouped into micro-batches of at most `max_rows` rows and, when max_tokens > 0,
// at most max_tokens padded tokens (rows x (longest prompt + longest response)); a single row over
// the budget is a micro-batch of its own. Gradients add up over micro-batches, so neither limit
// changes the update.
std::vector<MicroBatch> plan_micro_batches(const torch::Tensor& rows, const core::Rollouts& r, int64_t max_rows,
                                           int64_t max_tokens) {
  // Extents, not counts: the last real column + 1 (a mask may have holes, e.g. masked tool output).
  auto extent = [](const torch::Tensor& mask, bool from_right) {
    const int64_t width = mask.size(1);
    auto index = torch::arange(1, width + 1, torch::TensorOptions().dtype(torch::kLong).device(mask.device()));
    if (from_right) index = index.flip(0);
    return (index.unsqueeze(0) * mask.to(torch::kLong)).amax(1).to(torch::kCPU);
  };
  auto prompt_lengths = extent(r.prompt_mask, /*from_right=*/true);
  auto response_lengths = extent(r.response_mask, /*from_right=*/false);
  auto row_ids = rows.to(torch::kCPU).contiguous();
  const int64_t* ids = row_ids.data_ptr<int64_t>();
  std::vector<MicroBatch> out;
  std::vector<int64_t> current;
  int64_t lp = 0, lr = 0;
  auto flush = [&] {
    if (current.empty()) return;
    out.push_back({torch::tensor(current, torch::kLong).to(rows.device()), std::max<int64_t>(lp, 1), std::max<int64_t>(lr, 1)});
    current.clear();
    lp = lr = 0;
  };
  for (int64_t k = 0; k < row_ids.numel(); ++k) {
    const int64_t row = ids[k];
    const int64_t p = prompt_lengths[row].item<int64_t>(), q = response_lengths[row].item<int64_t>();
    const int64_t n = static_cast<int64_t>(current.size()) + 1;
    const bool over_rows = n > max_rows;
    const bool over_tokens = max_tokens > 0 && n * (std::max(lp, p) + std::max(lr, q)) > max_tokens;
    if (!current.empty() && (over_rows || over_tokens)) flush();
    current.push_back(row);
    lp = std::max(lp, p);
    lr = std::max(lr, q);
  }
  flush();
  return out;
}

int64_t bucket_bytes(double mebibytes) { return std::max<int64_t>(1, std::llround(mebibytes * (1 << 20))); }

// "1:02:03" / "2:03" for an ETA in seconds.
std::string clock_time(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  std::ostringstream os;
  if (s >= 3600) os << s / 3600 << ":" << std::setw(2) << std::setfill('0') << (s / 60) % 60;
  else os << s / 60;
  os << ":" << std::setw(2) << std::setfill('0') << s % 60;
  return os.str();
}

// Steps listed in an environment variable ("2,5"), for fault injection in tests.
std::vector<int64_t> steps_from_env(const char* name) {
  std::vector<int64_t> steps;
  if (const char* list = std::getenv(name)) {
    std::istringstream in(list);
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) steps.push_back(std::stoll(item));
  }
  return steps;
}

// One console line per step: progress, trained reward dimensions, KL, length, throughput, ETA.
std::string format_line(int64_t step, int64_t total, const core::MetricMap& m, const std::vector<std::string>& dims,
                        double seconds_per_step) {
  std::ostringstream os;
  const int width = 12;
  const auto filled = static_cast<int>(width * step / std::max<int64_t>(1, total));
  os << "[" << std::string(filled, '#') << std::string(width - filled, '.') << "] ";
  os << std::fixed << "step " << std::setw(3) << step << "/" << total;
  for (const auto& d : dims) os << " | " << d << " " << std::setprecision(3) << m.at("rewards/" + d + "/mean");
  os << " | total " << std::setprecision(3) << m.at("critic/score/mean");
  auto kl = m.find("actor/kl_loss");
  os << " | kl " << (kl != m.end() ? (std::ostringstream() << std::setprecision(4) << std::fixed << kl->second).str() : "-");
  os << " | len " << std::setprecision(1) << m.at("response_length/mean");
  os << " | " << std::setprecision(0) << m.at("perf/throughput") << " tok/s";
  os << " | " << std::setprecision(2) << seconds_per_step << " s/step, ETA "
     << clock_time(seconds_per_step * static_cast<double>(total - step));
  return os.str();
}

}  // namespace

struct RlTrainer::State {
  RunConfig config;
  std::string run_dir;
  distributed::ProcessInfo process;
  c10::Device device{c10::kCPU};  // the models'; rollouts and rewards stay on the host
  std::unique_ptr<distributed::Communicator> comm;
  int64_t local_prompts = 0;  // prompts_per_step / world size
  std::vector<std::string> loss_metric_keys;  // the metric names the loss reports
  GradNormMonitor grad_monitor;
  std::unique_ptr<models::PolicyRunner> runner;
  std::unique_ptr<RolloutGenerator> generator;  // one-turn generation or the agent loop
  std::unique_ptr<PromptDataset> data;
  std::unique_ptr<rewards::RewardSet> rewards;
  std::unique_ptr<algorithms::AdvantageEstimator> estimator;
  std::unique_ptr<algorithms::PolicyLoss> loss;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::unique_ptr<distributed::OverlappedGradientReducer> grad_reducer;  // several ranks
  std::vector<std::unique_ptr<core::MetricSink>> sinks;  // rank 0 only
  std::vector<std::string> display_dims;
  std::string resolved_config;
  int64_t completed = 0;  // last completed step
  int64_t last_saved = -1;
  int64_t consecutive_skipped = 0;  // steps in a row whose updates were all skipped
  std::vector<int64_t> poisoned_steps, spiked_steps;  // fault injection for tests

  void save_checkpoint();
  // Rank 0 evaluates on eval.path, logs eval/<name>/... metrics at `step` and writes the report.
  void run_eval(int64_t step, const std::function<void(const std::string&)>& on_line);
  // Appends a few completions (prompt, response, reward vector, advantage) to samples.jsonl.
  void log_samples(int64_t step, const core::Rollouts& r, const core::RewardMatrix& rewards,
                   const core::Advantages& advantages);
  void resume_from(const CheckpointPaths& checkpoint);

  core::Rollouts rollout(const std::vector<uint64_t>& prompt_seeds, const std::vector<nlohmann::json>& batch);
  // Generates and scores one step's batch; with dynamic sampling, resamples until the batch has
  // prompts_per_step groups whose total reward varies (or the round cap is hit).
  std::pair<core::Rollouts, core::RewardMatrix> sample_batch(int64_t step, core::MetricMap& metrics);
  core::MetricMap update(const core::Rollouts& rollouts, const core::Advantages& advantages,
                         const torch::Tensor& loss_mask, const torch::Tensor& old_logprobs,
                         const torch::Tensor& ref_logprobs, const std::vector<rewards::AnswerLikelihoodTerm>& extra,
                         int64_t step);
  torch::Tensor score_all(models::CausalLM& model, const core::Rollouts& r);
  torch::Tensor total_reward(const core::RewardMatrix& rewards) const;
  // Rank 0's parameters everywhere, verified by a checksum.
  void sync_parameters();
  // Per-rollout tensors of every rank, concatenated in rank order (the global batch).
  torch::Tensor gather(const torch::Tensor& rows) { return comm->all_gather_rows(rows); }
  double global_sum(double local) {
    auto t = torch::tensor({local}, torch::kDouble);
    comm->all_reduce_sum(t);
    return t.item<double>();
  }
};

RlTrainer::RlTrainer(LoadedConfig loaded) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.config = std::move(loaded.config);
  const auto& c = s.config;
  core::configure_logging(c.run.log_level);
  core::load_plugins(c.plugins);
  s.process = distributed::process_info_from_env();
  // threads: 0 shares the cores among this machine's ranks instead of oversubscribing them.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = core::configure_threads(
      c.run.threads > 0 ? c.run.threads : std::max(1, cores / static_cast<int>(s.process.local_world_size)));
  torch::manual_seed(c.run.seed);
  VECRL_CHECK(c.rollout.prompts_per_step % s.process.world_size == 0, "config key 'rollout.prompts_per_step': ",
              c.rollout.prompts_per_step, " prompts do not split over ", s.process.world_size,
              " ranks; every rank owns whole groups");
  s.local_prompts = c.rollout.prompts_per_step / s.process.world_size;
  s.device = models::resolve_device(c.model.device, s.process.local_rank, "config key 'model.device'");
  distributed::RendezvousOptions rdv;
  rdv.backend = c.distributed.backend;
  rdv.cuda_device = s.device.is_cuda();
  rdv.timeout_s = c.distributed.timeout_s;
  rdv.master_addr = c.distributed.master_addr;
  rdv.master_port = c.distributed.master_port;
  s.comm = distributed::make_communicator(s.process, rdv);

  // Components read their own options now, so every config error appears before any work.
  s.rewards = std::make_unique<rewards::RewardSet>(c.rewards, c.scoring);
  s.estimator = core::create_component(algorithms::advantage_registry(), c.advantage);
  s.loss = core::create_component(algorithms::policy_loss_registry(), c.loss);
  s.data = std::make_unique<PromptDataset>(c.data, c.run.seed, c.model.path);
  if (s.data->skipped() > 0) spdlog::warn("{}: skipped {} malformed records", c.data.path, s.data->skipped());
  {  // Learn the loss's metric names once, so ranks can reduce a fixed list of them.
    algorithms::LossInput probe;
    probe.logprobs = probe.old_logprobs = probe.behaviour_logprobs = probe.ref_logprobs = probe.entropy =
        probe.advantages = torch::zeros({1, 1});
    probe.mask = torch::ones({1, 1}, torch::kBool);
    for (const auto& [k, v] : s.loss->compute(probe).metrics) s.loss_metric_keys.push_back(k);
  }
  s.runner = std::make_unique<models::PolicyRunner>(c.model.path,
                                                    s.loss->needs_reference() || c.kl_in_reward.coef > 0 ||
                                                        s.rewards->needs_reference());
  s.runner->policy()->set_activation_checkpointing(c.model.activation_checkpointing);
  s.runner->set_fused_attention(c.model.fused_attention);
  s.runner->set_compute_dtype(c.model.compute_dtype);
  s.runner->to(s.device);
  s.generator = std::make_unique<RolloutGenerator>(*s.runner, c.agent, c.data.chat.enable_thinking);
  // Fault injection for tests: gradients turned NaN, or multiplied 10^4, at the listed steps.
  s.poisoned_steps = steps_from_env("VECRL_TEST_NAN_GRAD_STEPS");
  s.spiked_steps = steps_from_env("VECRL_TEST_GRAD_SPIKE_STEPS");
  s.grad_monitor = GradNormMonitor(c.optim.grad_spike_factor);
  s.rewards->set_models({s.runner->policy().ptr(), s.runner->reference() ? s.runner->reference()->ptr() : nullptr,
                         &s.runner->tokenizer()});
  auto& policy = s.runner->policy();
  policy->train();
  if (s.comm->world_size() > 1) s.sync_parameters();
  s.optimizer = std::make_unique<torch::optim::AdamW>(
      policy->parameters(), torch::optim::AdamWOptions(c.optim.lr)
                                .betas({c.optim.beta1, c.optim.beta2})
                                .eps(c.optim.eps)
                                .weight_decay(c.optim.weight_decay));
  if (s.comm->world_size() > 1)
    s.grad_reducer = std::make_unique<distributed::OverlappedGradientReducer>(*s.comm, policy->parameters(),
                                                                              bucket_bytes(c.distributed.bucket_mb));

  s.run_dir = (fs::path(c.run.output_dir) / c.run.name).string();
  s.resolved_config = core::to_yaml_string(loaded.root->resolved());
  // Rank 0 writes; every rank computes the same global metrics.
  const auto checkpoint = prepare_run_folder(s.run_dir, s.resolved_config, c.checkpoint.resume, s.comm->is_main());
  const auto metrics_path = fs::path(s.run_dir) / "metrics.jsonl";
  if (checkpoint) s.resume_from(*checkpoint);
  s.comm->barrier();  // rank 0 has prepared the run folder
  if (s.comm->is_main()) {
    s.sinks.push_back(std::make_unique<core::JsonlMetricSink>(metrics_path.string()));
    s.sinks.push_back(std::make_unique<core::TensorBoardSink>((fs::path(s.run_dir) / "tensorboard").string()));
  }
  for (std::size_t d = 0; d < s.rewards->dim_names().size(); ++d)  // trained dimensions only
    if (s.rewards->weights()[d] != 0) s.display_dims.push_back(s.rewards->dim_names()[d]);
  int64_t num_params = 0;
  for (const auto& p : policy->parameters()) num_params += p.numel();
  if (!s.comm->is_main()) spdlog::set_level(spdlog::level::warn);
  spdlog::info("run '{}': model {} ({} parameters) on {}, {} rank(s) x {} threads, {} prompts x {} samples per step, {} steps",
               c.run.name, c.model.path, num_params, s.device.str(), s.comm->world_size(), threads,
               c.rollout.prompts_per_step, c.rollout.group_size, c.train.steps);
}

RlTrainer::~RlTrainer() = default;

const std::string& RlTrainer::run_dir() const { return state_->run_dir; }

int64_t RlTrainer::rank() const { return state_->comm->rank(); }

int64_t RlTrainer::completed_steps() const { return state_->completed; }

std::vector<double> RlTrainer::parameter_vector() const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const auto& p : state_->runner->policy()->parameters())
    flat.push_back(p.detach().reshape({-1}).to(torch::kCPU, torch::kDouble));
  auto all = torch::cat(flat).contiguous();
  return std::vector<double>(all.data_ptr<double>(), all.data_ptr<double>() + all.numel());
}

core::Rollouts RlTrainer::State::rollout(const std::vector<uint64_t>& prompt_seeds,
                                         const std::vector<nlohmann::json>& batch) {
  const auto& c = config;
  const auto& tok = runner->tokenizer();
  models::GenerationOptions g;
  g.sampler.temperature = c.rollout.temperature;
  g.sampler.top_k = c.rollout.top_k;
  g.sampler.top_p = c.rollout.top_p;
  g.sampler.min_p = c.rollout.min_p;
  g.max_new_tokens = c.rollout.max_new_tokens;
  data->set_stops(g, tok);
  g.pad_token_id = tok.eos_id();
  g.prompt_seeds = prompt_seeds;
  return generator->generate(*data, batch, c.data.add_bos, c.rollout.group_size, g);
}

void RlTrainer::State::log_samples(int64_t step, const core::Rollouts& r, const core::RewardMatrix& rewards,
                                   const core::Advantages& advantages) {
  std::ofstream out(fs::path(run_dir) / "samples.jsonl", std::ios::app);
  const int64_t n = std::min(config.train.samples_per_log, r.size());
  for (int64_t i = 0; i < n; ++i) {
    nlohmann::json line = {{"step", step}, {"rollout", i}, {"prompt", r.prompts[i]}, {"response", r.responses[i]},
                           {"truncated", r.truncated[i].item<bool>()},
                           {"advantage", advantages.values[0][i].item<double>()}};
    for (int64_t k = 0; k < rewards.dims(); ++k)
      line["rewards"][rewards.names[k]] =
          rewards.valid[i][0][k].item<bool>() ? nlohmann::json(rewards.values[i][0][k].item<double>()) : nullptr;
    out << line.dump() << '\n';
  }
}

void RlTrainer::State::run_eval(int64_t step, const std::function<void(const std::string&)>& on_line) {
  if (!comm->is_main()) return;
  const auto t = Clock::now();
  auto result = evaluate(*runner, *rewards, config.eval, config.data.chat, config.rollout.max_new_tokens, step, *generator);
  result.metrics["timing_s/eval"] = seconds_since(t);
  for (auto& sink : sinks) sink->write(step, result.metrics);
  const auto dir = fs::path(run_dir) / "eval";
  fs::create_directories(dir);
  const auto file = dir / (result.report["name"].get<std::string>() + "_step_" + std::to_string(step) + ".json");
  std::ofstream(file) << result.report.dump(1) << "\n";
  std::ostringstream line;
  line << "eval " << result.report["name"].get<std::string>() << " at step " << step << ":";
  for (const auto& [k, v] : result.metrics)
    if (k.find("/pass@") != std::string::npos || k.find("/mean@") != std::string::npos || k.find("/score/mean") != std::string::npos)
      line << " " << (k.find("/score/mean") != std::string::npos ? "score" : k.substr(k.rfind('/') + 1)) << " "
           << std::setprecision(4) << v;
  on_line(line.str());
}

void RlTrainer::State::save_checkpoint() {
  if (!comm->is_main() || last_saved == completed) return;
  last_saved = completed;
  CheckpointContents contents;
  for (const auto& item : runner->policy()->named_parameters()) contents.policy.emplace(item.key(), item.value().detach());
  contents.state = {{"format_version", kCheckpointFormatVersion}, {"step", completed}, {"data", data->state()},
                    {"world_size", comm->world_size()}, {"advantage", estimator->state()},
                    {"grad_norms", grad_monitor.history()}};
  contents.config_yaml = resolved_config;
  const auto dir = write_checkpoint(run_dir, completed, contents, *optimizer, config.checkpoint.keep_last);
  spdlog::info("checkpoint: {}", dir);
}

void RlTrainer::State::resume_from(const CheckpointPaths& checkpoint) {
  auto contents = read_checkpoint(checkpoint.dir, *optimizer);
  models::load_state(runner->policy(), contents.policy, checkpoint.dir);
  try {
    data->restore(contents.state.at("data"));
    completed = contents.state.at("step").get<int64_t>();
    // Every rank draws the same number of weight vectors per step, so rank 0's state is everyone's.
    if (contents.state.contains("advantage")) estimator->restore(contents.state["advantage"].get<std::string>());
    if (contents.state.contains("grad_norms")) grad_monitor.restore(contents.state["grad_norms"].get<std::vector<double>>());
  } catch (const nlohmann::json::exception& e) {
    throw core::Error(core::str_cat(checkpoint.dir, "/state.json: ", e.what()));
  }
  if (comm->is_main()) drop_metrics_after(run_dir, completed);
  spdlog::info("resumed from {} (step {})", checkpoint.dir, completed);
}

void RlTrainer::State::sync_parameters() {
  torch::NoGradGuard no_grad;
  double checksum = 0;
  for (auto& p : runner->policy()->parameters()) {
    comm->broadcast(p, 0);
    checksum += p.to(torch::kDouble).sum().item<double>();
  }
  auto extremes = torch::tensor({checksum, -checksum}, torch::kDouble);
  comm->all_reduce_max(extremes);
  VECRL_CHECK(extremes[0].item<double>() == -extremes[1].item<double>(), "rank ", comm->rank(),
              ": parameters differ across ranks after the broadcast (checksums up to ", extremes[0].item<double>(),
              " and ", -extremes[1].item<double>(), ")");
}

torch::Tensor RlTrainer::State::total_reward(const core::RewardMatrix& r) const {
  auto w = torch::tensor(rewards->weights(), torch::kDouble).to(torch::kFloat);
  return (r.values.select(1, 0).masked_fill(r.valid.select(1, 0).logical_not(), 0) * w).sum(1);  // [N]
}

std::pair<core::Rollouts, core::RewardMatrix> RlTrainer::State::sample_batch(int64_t step, core::MetricMap& m) {
  const auto& c = config;
  const int64_t P = local_prompts, G = c.rollout.group_size;
  const int64_t rounds = c.rollout.dynamic_sampling ? c.rollout.max_sampling_rounds : 1;
  std::vector<core::Rollouts> kept, spare;
  std::vector<core::RewardMatrix> kept_rewards, spare_rewards;
  int64_t kept_groups = 0, round = 0;
  double reward_seconds = 0;
  // Every rank runs the same number of rounds (collectives must match): until every rank is full.
  auto all_full = [&] { return global_sum(static_cast<double>(kept_groups)) >= static_cast<double>(P * comm->world_size()); };
  for (; round < rounds && (round == 0 || !all_full()); ++round) {
    // All ranks draw the same global batch and keep their slice; seeds go per global prompt index,
    // so results do not depend on the world size.
    auto global = data->next_batch(c.rollout.prompts_per_step);
    const int64_t first = comm->rank() * P;
    std::vector<nlohmann::json> batch(global.begin() + first, global.begin() + first + P);
    std::vector<uint64_t> seeds;
    for (int64_t p = 0; p < P; ++p)
      seeds.push_back(c.run.seed * 1000003ULL + static_cast<uint64_t>(step) * 7919ULL +
                      static_cast<uint64_t>(round) * 104729ULL + static_cast<uint64_t>(first + p) * 15485863ULL);
    auto r = rollout(seeds, batch);
    const auto t = Clock::now();
    auto scored = rewards->score(r);
    reward_seconds += seconds_since(t);
    if (!c.rollout.dynamic_sampling) {
      m["timing_s/reward"] = reward_seconds;
      return {std::move(r), std::move(scored)};
    }
    auto varies = (total_reward(scored).view({P, G}).std(1, /*unbiased=*/false) > 1e-8);
    std::vector<int64_t> good, flat;
    for (int64_t g = 0; g < P; ++g) (varies[g].item<bool>() ? good : flat).push_back(g);
    const auto take = std::min<int64_t>(static_cast<int64_t>(good.size()), P - kept_groups);
    good.resize(static_cast<std::size_t>(take));
    auto rows_of = [&](const std::vector<int64_t>& groups) { return core::Rollouts::group_rows(groups, G); };
    if (kept_groups >= P) good.clear();  // this rank is full; it only keeps the others company
    if (!good.empty()) {
      kept.push_back(r.select_groups(good));
      kept_rewards.push_back(scored.select_rows(rows_of(good)));
      kept_groups += take;
    }
    if (!flat.empty()) {
      spare.push_back(r.select_groups(flat));
      spare_rewards.push_back(scored.select_rows(rows_of(flat)));
    }
  }
  m["timing_s/reward"] = reward_seconds;
  m["sampling/rounds"] = static_cast<double>(round);
  m["sampling/kept_group_frac"] = global_sum(static_cast<double>(kept_groups)) / static_cast<double>(P * comm->world_size());
  // Fill up with zero-variance groups so every step has the same shape (their advantage is 0).
  for (std::size_t i = 0; i < spare.size() && kept_groups < P; ++i) {
    const int64_t take = std::min(spare[i].num_groups(), P - kept_groups);
    std::vector<int64_t> groups(static_cast<std::size_t>(take));
    std::iota(groups.begin(), groups.end(), 0);
    kept.push_back(spare[i].select_groups(groups));
    kept_rewards.push_back(spare_rewards[i].select_rows(torch::arange(take * G)));
    kept_groups += take;
  }
  return {core::Rollouts::concat(kept, runner->tokenizer().eos_id()), core::RewardMatrix::stack_rows(kept_rewards)};
}

torch::Tensor RlTrainer::State::score_all(models::CausalLM& model, const core::Rollouts& r) {
  torch::NoGradGuard no_grad;
  auto out = torch::zeros(r.response_ids.sizes(), r.behaviour_logprobs.options());
  for (const auto& micro : plan_micro_batches(torch::arange(r.size()), r, config.train.micro_batch_size,
                                              config.train.micro_batch_tokens)) {
    auto lp = models::score_responses(model, micro.prompt_part(r.prompt_ids).to(device),
                                      micro.prompt_part(r.prompt_mask).to(device),
                                      micro.response_part(r.response_ids).to(device), config.rollout.temperature, false)
                  .logprobs.to(torch::kCPU);
    out.index_copy_(0, micro.rows, torch::constant_pad_nd(lp, {0, r.response_ids.size(1) - micro.response_len}));
  }
  return out;
}

core::MetricMap RlTrainer::State::update(const core::Rollouts& r, const core::Advantages& advantages,
                                         const torch::Tensor& loss_mask, const torch::Tensor& old_logprobs,
                                         const torch::Tensor& ref_logprobs,
                                         const std::vector<rewards::AnswerLikelihoodTerm>& extra, int64_t step) {
  const auto& c = config;
  auto& policy = runner->policy();
  const int64_t C = advantages.num_channels();
  std::vector<torch::Tensor> token_adv, channel_mask;  // per channel [N, T]
  for (int64_t ch = 0; ch < C; ++ch) {
    token_adv.push_back(advantages.per_token(ch, r.response_mask));
    channel_mask.push_back(advantages.loss_mask(ch, loss_mask));
  }
  auto channel_prefix = [&](int64_t ch) { return ch == 0 ? std::string("actor/") : "actor/" + advantages.channels[ch] + "/"; };
  core::MetricMap sums;
  int64_t updates = 0;
  // Mini-batches are drawn from one permutation of the global batch (same on every rank); each rank
  // works on the rows it owns, so the update does not depend on the world size.
  std::mt19937_64 rng(c.run.seed * 7919ULL + static_cast<uint64_t>(step));
  const int64_t N = r.size(), W = comm->world_size(), first_row = comm->rank() * N;
  const int64_t global_n = N * W, mini = global_n / c.train.mini_batches;
  auto params = policy->parameters();
  const double lr = learning_rate({c.optim.schedule, c.optim.lr, c.optim.warmup_steps, c.train.steps, c.optim.min_lr_ratio},
                                  step);
  for (auto& group : optimizer->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  for (int64_t epoch = 0; epoch < c.train.epochs; ++epoch) {
    std::vector<int64_t> order(global_n);
    std::iota(order.begin(), order.end(), 0);
    if (c.train.mini_batches > 1) std::shuffle(order.begin(), order.end(), rng);
    for (int64_t mb = 0; mb < c.train.mini_batches; ++mb) {
      std::vector<int64_t> local;
      for (int64_t j = mb * mini; j < (mb + 1) * mini; ++j)
        if (order[j] >= first_row && order[j] < first_row + N) local.push_back(order[j] - first_row);
      std::sort(local.begin(), local.end());
      auto rows = torch::tensor(local, torch::kLong);
      // Normalisers over the whole mini-batch on all ranks (per channel), so neither micro-batching
      // nor the world size changes the result.
      std::vector<algorithms::Normalizers> norms;
      for (int64_t ch = 0; ch < C; ++ch) {
        auto m = channel_mask[ch].index_select(0, rows);
        auto counts = torch::tensor({m.sum().item<double>(), m.any(1).sum().item<double>()}, torch::kDouble);
        comm->all_reduce_sum(counts);
        algorithms::Normalizers norm;
        norm.tokens = std::max(1.0, counts[0].item<double>());
        norm.sequences = std::max(1.0, counts[1].item<double>());
        norm.constant_length = static_cast<double>(c.rollout.max_new_tokens);
        norms.push_back(norm);
      }
      optimizer->zero_grad();
      core::MetricMap micro_sums;
      const auto parts = plan_micro_batches(rows, r, c.train.micro_batch_size, c.train.micro_batch_tokens);
      for (std::size_t part_index = 0; part_index < parts.size(); ++part_index) {
        const auto& part = parts[part_index];
        const auto& micro = part.rows;
        // The micro-batch goes to the model's device; the batch stays on the host.
        auto on_device = [&](const torch::Tensor& x) { return x.to(device); };
        auto scores = models::score_responses(policy, on_device(part.prompt_part(r.prompt_ids)),
                                              on_device(part.prompt_part(r.prompt_mask)),
                                              on_device(part.response_part(r.response_ids)), c.rollout.temperature, true);
        torch::Tensor total;
        for (int64_t ch = 0; ch < C; ++ch) {
          algorithms::LossInput in;
          in.logprobs = scores.logprobs;
          in.entropy = scores.entropy;
          in.old_logprobs = on_device(part.response_part(old_logprobs));
          in.behaviour_logprobs = on_device(part.response_part(r.behaviour_logprobs));
          if (ref_logprobs.defined()) in.ref_logprobs = on_device(part.response_part(ref_logprobs));
          in.advantages = on_device(part.response_part(token_adv[ch]));
          in.mask = on_device(part.response_part(channel_mask[ch]));
          in.normalizers = norms[ch];
          auto out = loss->compute(in);
          auto weighted = out.loss * advantages.weight(ch);
          total = total.defined() ? total + weighted : weighted;
          for (const auto& [k, v] : out.metrics) micro_sums[ch == 0 ? k : channel_prefix(ch) + k.substr(6)] += v;
        }
        // Loss terms from reward modules (the likelihood reward's answer log-likelihood, Lemma 1):
        // coef · mean over the mini-batch's rollouts (all ranks) of −log p(a* | prompt, reasoning).
        for (const auto& term : extra) {
          auto answer_mask = term.answer_mask.index_select(0, micro).to(device);
          auto lp = models::score_responses(policy, term.context_ids.index_select(0, micro).to(device),
                                            term.context_mask.index_select(0, micro).to(device),
                                            term.answer_ids.index_select(0, micro).to(device), 1.0, false)
                        .logprobs;
          auto nll = -(lp * answer_mask.to(lp.scalar_type())).sum() / static_cast<double>(mini);
          total = total + term.coef * nll;
          micro_sums["actor/answer_nll/" + term.name] += nll.item<double>();
        }
        // The last micro-batch's backward pass completes the gradients: buckets go out as it runs.
        if (grad_reducer && c.distributed.overlap_grad_reduce && part_index + 1 == parts.size()) grad_reducer->arm();
        total.backward();
        micro_sums["actor/entropy"] += algorithms::aggregate(scores.entropy.detach(), on_device(part.response_part(channel_mask[0])),
                                                             algorithms::Aggregation::kTokenMean, norms[0])
                                           .item<double>();
      }
      if (W > 1) {
        // Each rank's loss is its share of the global loss, so the global gradient is the sum.
        // timing_s/all_reduce is the wait after the backward pass (what overlap did not hide).
        const auto t = Clock::now();
        grad_reducer->finish();
        micro_sums["timing_s/all_reduce"] += seconds_since(t);
        if (c.distributed.overlap_grad_reduce) {
          const auto stats = grad_reducer->last_stats();
          micro_sums["perf/grad_buckets_overlapped_frac"] +=
              static_cast<double>(stats.started_during_backward) / static_cast<double>(stats.buckets);
        }
        // Loss metrics are contributions normalised globally: they add up over ranks too. The key list
        // is fixed (a rank may own no rows of a mini-batch), so every rank reduces the same vector.
        std::vector<std::string> keys{"actor/entropy"};
        for (const auto& term : extra) keys.push_back("actor/answer_nll/" + term.name);
        for (int64_t ch = 0; ch < C; ++ch)
          for (const auto& k : loss_metric_keys) keys.push_back(ch == 0 ? k : channel_prefix(ch) + k.substr(6));
        std::vector<double> values;
        for (const auto& k : keys) values.push_back(micro_sums.count(k) ? micro_sums[k] : 0.0);
        auto reduced = torch::tensor(values, torch::kDouble);
        comm->all_reduce_sum(reduced);
        for (std::size_t i = 0; i < keys.size(); ++i) micro_sums[keys[i]] = reduced[static_cast<int64_t>(i)].item<double>();
      }
      const double max_norm = c.optim.max_grad_norm > 0 ? c.optim.max_grad_norm : std::numeric_limits<double>::infinity();
      const bool poisoned = std::find(poisoned_steps.begin(), poisoned_steps.end(), step) != poisoned_steps.end();
      const bool spiked = std::find(spiked_steps.begin(), spiked_steps.end(), step) != spiked_steps.end();
      for (auto& p : params) {
        if (!p.grad().defined()) continue;
        if (poisoned) p.mutable_grad().fill_(NAN);
        if (spiked) p.mutable_grad().mul_(1e4);
      }
      // A non-finite gradient (NaN/Inf loss, reward or advantage upstream) never reaches the
      // weights: the update is skipped and counted. Every rank sees the same reduced gradient, so
      // all skip together.
      const double grad_norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
      if (std::isfinite(grad_norm)) {
        micro_sums["actor/grad_norm"] = grad_norm;
        micro_sums["actor/grad_clipped"] += grad_norm > max_norm ? 1.0 : 0.0;
        const double typical = grad_monitor.median();
        const bool spike = grad_monitor.observe(grad_norm);
        micro_sums["actor/grad_norm_spikes"] += spike ? 1.0 : 0.0;
        if (spike) {
          spdlog::warn("step {}: gradient norm {:.4g} is {:.1f}x the recent median {:.4g}{}", step, grad_norm,
                       grad_norm / typical, typical, max_norm < grad_norm ? " (clipped to optim.max_grad_norm)" : "");
        }
        optimizer->step();
      } else {
        optimizer->zero_grad();
        micro_sums["actor/skipped_updates"] += 1;
        spdlog::warn("step {}: non-finite gradient norm ({}); update skipped", step, grad_norm);
      }
      for (const auto& [k, v] : micro_sums) sums[k] += v;
      ++updates;
    }
  }
  for (auto& [k, v] : sums) v /= static_cast<double>(updates);
  sums["actor/lr"] = lr;
  return sums;
}

core::MetricMap RlTrainer::step(int64_t step) {
  auto& s = *state_;
  const auto& c = s.config;
  core::MetricMap m;
  const auto t_step = Clock::now();

  auto t = Clock::now();
  auto [rollouts, rewards] = s.sample_batch(step, m);
  m["timing_s/gen"] = seconds_since(t) - m["timing_s/reward"];

  t = Clock::now();
  auto old_logprobs = s.score_all(s.runner->policy(), rollouts);
  m["timing_s/old_log_prob"] = seconds_since(t);
  torch::Tensor ref_logprobs;
  if (auto* ref = s.runner->reference()) {
    t = Clock::now();
    ref_logprobs = s.score_all(*ref, rollouts);
    m["timing_s/ref"] = seconds_since(t);
  }

  const core::RewardMatrix task_rewards = rewards;
  auto weights = s.rewards->weights();
  if (c.kl_in_reward.coef > 0) {
    // The penalty becomes one more reward dimension, so every estimator sees it.
    auto kl = algorithms::kl_estimate(c.kl_in_reward.estimator, old_logprobs, ref_logprobs);
    auto penalty = core::RewardMatrix::zeros(rollouts.size(), rewards.answers(), {"kl/penalty"});
    penalty.values.copy_((-c.kl_in_reward.coef * (kl * rollouts.response_mask.to(torch::kFloat)).sum(1))
                             .view({-1, 1, 1})
                             .expand({-1, rewards.answers(), 1}));
    rewards = core::RewardMatrix::concat({rewards, penalty});
    weights.push_back(1.0);
  }

  t = Clock::now();
  auto advantages = s.estimator->compute({rewards, weights, rollouts.group_size, rollouts.response_mask,
                                          [&](at::Tensor& t) { s.comm->all_reduce_sum(t); }});
  m["timing_s/adv"] = seconds_since(t);

  // Overlong filtering (DAPO): truncated responses stay in the statistics but get no loss.
  auto loss_mask = rollouts.response_mask;
  if (c.rollout.overlong_filter) loss_mask = loss_mask.logical_and(rollouts.truncated.logical_not().unsqueeze(1));

  t = Clock::now();
  const auto answer_terms = s.rewards->loss_terms(rollouts);
  // Non-finite advantages (all ranks agree) skip the whole update rather than poison the weights.
  auto bad = torch::tensor({advantages.values.isfinite().all().item<bool>() ? 0.0 : 1.0}, torch::kDouble);
  s.comm->all_reduce_max(bad);
  core::MetricMap update_metrics;
  const int64_t updates = c.train.mini_batches * c.train.epochs;
  if (bad.item<double>() > 0) {
    spdlog::warn("step {}: non-finite advantages; update skipped", step);
    update_metrics["actor/skipped_updates"] = static_cast<double>(updates);
  } else {
    update_metrics = s.update(rollouts, advantages, loss_mask, old_logprobs, ref_logprobs, answer_terms, step);
    // update() averages its metrics over the updates; skipped ones are reported as a count.
    if (update_metrics.count("actor/skipped_updates")) update_metrics["actor/skipped_updates"] *= static_cast<double>(updates);
  }
  const double skipped = update_metrics.count("actor/skipped_updates") ? update_metrics["actor/skipped_updates"] : 0.0;
  update_metrics["actor/skipped_updates"] = skipped;
  s.consecutive_skipped = skipped >= static_cast<double>(updates) ? s.consecutive_skipped + 1 : 0;
  m["timing_s/update_actor"] = seconds_since(t);
  m.insert(update_metrics.begin(), update_metrics.end());

  // Metrics of the global batch (verl names): per-rollout quantities are gathered from all ranks,
  // so every rank computes exactly what one process would.
  core::RewardMatrix global_rewards{rewards.names, s.gather(rewards.values), s.gather(rewards.valid)};
  auto reward_metrics = rewards::RewardSet::metrics(global_rewards, weights);
  m.insert(reward_metrics.begin(), reward_metrics.end());
  auto global_adv = s.gather(advantages.values.t().contiguous()).t();  // [C, N_global]
  for (int64_t ch = 0; ch < advantages.num_channels(); ++ch) {
    const std::string prefix = ch == 0 ? "critic/advantages/" : "critic/advantages/" + advantages.channels[ch] + "/";
    m[prefix + "mean"] = global_adv[ch].mean().item<double>();
    m[prefix + "max"] = global_adv[ch].max().item<double>();
    m[prefix + "min"] = global_adv[ch].min().item<double>();
  }
  auto group_std = s.gather(s.total_reward(task_rewards)).view({-1, rollouts.group_size}).std(1, /*unbiased=*/false);
  m["frac_reward_zero_std"] = (group_std < 1e-8).to(torch::kDouble).mean().item<double>();
  auto lengths = s.gather(rollouts.response_mask.sum(1).to(torch::kDouble));
  m["response_length/mean"] = lengths.mean().item<double>();
  m["response_length/max"] = lengths.max().item<double>();
  m["response_length/min"] = lengths.min().item<double>();
  m["response_length/clip_ratio"] = s.gather(rollouts.truncated.to(torch::kDouble)).mean().item<double>();
  if (rollouts.has_agent_stats()) {
    const auto tools = agent_metrics(s.gather(rollouts.tool_calls), s.gather(rollouts.tool_failures), s.gather(rollouts.turns));
    m.insert(tools.begin(), tools.end());
  }
  auto diff = (rollouts.behaviour_logprobs - old_logprobs).abs().masked_fill(rollouts.response_mask.logical_not(), 0);
  auto diff_stats = s.gather(torch::stack({diff.sum(1), diff.amax(1), rollouts.response_mask.sum(1).to(diff.dtype())}, 1)
                                 .to(torch::kDouble));  // [N_global, 3]
  m["sampling/logp_diff/mean"] = diff_stats.select(1, 0).sum().item<double>() /
                                 std::max(1.0, diff_stats.select(1, 2).sum().item<double>());
  m["sampling/logp_diff/max"] = diff_stats.select(1, 1).max().item<double>();
  m["rewards/module_failures"] = s.global_sum(static_cast<double>(s.rewards->failures()));
  m["timing_s/step"] = seconds_since(t_step);
  {  // The slowest rank sets the pace.
    std::vector<std::string> keys;
    std::vector<double> values;
    for (const auto& [k, v] : m)
      if (k.rfind("timing_s/", 0) == 0) {
        keys.push_back(k);
        values.push_back(v);
      }
    auto slowest = torch::tensor(values, torch::kDouble);
    s.comm->all_reduce_max(slowest);
    for (std::size_t i = 0; i < keys.size(); ++i) m[keys[i]] = slowest[static_cast<int64_t>(i)].item<double>();
  }
  m["perf/throughput"] = lengths.sum().item<double>() / m["timing_s/step"] / static_cast<double>(s.comm->world_size());
  {  // Peak resident memory of this process (Linux reports ru_maxrss in KiB).
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto peak = torch::tensor({static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0)}, torch::kDouble);
    s.comm->all_reduce_max(peak);
    m["perf/max_memory_gb"] = peak.item<double>();
  }
  for (auto& sink : s.sinks) sink->write(step, m);
  if (s.comm->is_main() && c.train.samples_every > 0 && (step == 1 || step % c.train.samples_every == 0))
    s.log_samples(step, rollouts, task_rewards, advantages);
  return m;
}

TrainSummary RlTrainer::run(const std::function<void(const std::string&)>& on_line,
                           const std::function<void(int64_t, int64_t)>& on_step,
                           const std::function<bool()>& should_stop) {
  auto& s = *state_;
  const auto& c = s.config;
  const auto start = Clock::now();
  VECRL_CHECK(s.completed < c.train.steps, "nothing left to train: the checkpoint is at step ", s.completed,
              " and train.steps is ", c.train.steps, " (raise train.steps to continue)");
  TrainSummary summary;
  summary.first_step = s.completed + 1;
  std::vector<double> totals;
  const bool eval_on = !c.eval.path.empty();
  if (eval_on && c.eval.before_train && s.completed == 0) s.run_eval(0, on_line);
  for (int64_t i = s.completed + 1; i <= c.train.steps; ++i) {
    auto m = step(i);
    s.completed = i;
    if (s.consecutive_skipped >= c.train.max_skipped_steps) {
      s.save_checkpoint();
      VECRL_CHECK(false, "step ", i, ": the updates of the last ", s.consecutive_skipped,
                  " steps were all skipped for non-finite gradients or advantages (train.max_skipped_steps = ",
                  c.train.max_skipped_steps, "); stopped with a checkpoint in ", s.run_dir,
                  "/checkpoints. Check the rewards for NaN/Inf, lower optim.lr or tighten optim.max_grad_norm");
    }
    totals.push_back(m.at("critic/score/mean"));
    const double per_step = seconds_since(start) / static_cast<double>(i - summary.first_step + 1);
    if (s.comm->is_main()) on_line(format_line(i, c.train.steps, m, s.display_dims, per_step));
    if (eval_on && c.eval.every > 0 && i % c.eval.every == 0) s.run_eval(i, on_line);
    if (on_step) on_step(i, s.comm->rank());
    // Every rank must agree to stop at the same step, so the request is reduced across ranks.
    auto stop = torch::tensor({should_stop && should_stop() ? 1.0 : 0.0}, torch::kDouble);
    s.comm->all_reduce_max(stop);
    if (stop.item<double>() > 0) {
      summary.stopped_early = i < c.train.steps;
      s.save_checkpoint();
      break;
    }
    if (c.checkpoint.every > 0 && i % c.checkpoint.every == 0 && i < c.train.steps) s.save_checkpoint();
  }
  if (!summary.stopped_early && s.completed == c.train.steps) s.save_checkpoint();
  if (s.comm->is_main()) {  // save the trained policy as a HuggingFace folder next to the metrics
    models::save_hf_model(s.runner->policy(), (fs::path(s.run_dir) / "final").string(), c.model.path);
  }
  s.comm->barrier();

  summary.steps = s.completed;
  summary.run_dir = s.run_dir;
  summary.seconds = seconds_since(start);
  const auto w = std::min<std::size_t>(static_cast<std::size_t>(c.train.summary_window), totals.size());
  summary.window = static_cast<int64_t>(w);
  summary.first_window_reward = std::accumulate(totals.begin(), totals.begin() + w, 0.0) / static_cast<double>(w);
  summary.last_window_reward = std::accumulate(totals.end() - w, totals.end(), 0.0) / static_cast<double>(w);
  return summary;
}

}  // namespace vecrl::trainer
