#include "trainer/rl_trainer.h"

#include <spdlog/spdlog.h>
#include <torch/types.h>

#include <chrono>
#include <filesystem>
#include <numeric>
#include <thread>

#include "algorithms/advantage.h"
#include "algorithms/policy_loss.h"
#include "core/plugin.h"
#include "core/runtime.h"
#include "distributed/communicator.h"
#include "distributed/gradient_sync.h"
#include "distributed/process_info.h"
#include "models/policy_runner.h"
#include "models/tokenizer.h"
#include "rewards/reward_set.h"
#include "trainer/advantage_stage.h"
#include "trainer/batch_sampler.h"
#include "trainer/logprob_pass.h"
#include "trainer/policy_update.h"
#include "trainer/prompt_dataset.h"
#include "trainer/rollout_generator.h"
#include "trainer/step_metrics.h"
#include "trainer/training_session.h"

namespace vecrl::trainer {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Runs one stage of a step; an error names the step and the stage it came from.
template <class F>
void stage(int64_t step, const char* name, F&& run) {
  try {
    run();
  } catch (const std::exception& e) {
    throw core::Error(core::str_cat("step ", step, ", stage '", name, "': ", e.what()));
  }
}

// The prompts, each checked at load to leave room for max_new_tokens in the model's context: an
// over-long prompt is a bad record (named by file and line, or skipped and counted under
// data.skip_bad_records), not the failure of whichever step first draws it.
std::unique_ptr<PromptDataset> load_prompts(const RunConfig& c, models::PolicyRunner& runner) {
  const int64_t context = runner.policy()->config().max_position_embeddings;
  VECRL_CHECK(c.rollout.max_new_tokens < context, "config key 'rollout.max_new_tokens': ", c.rollout.max_new_tokens,
              " new tokens leave no room for a prompt in the model's context of ", context,
              " positions (max_position_embeddings in ", c.model.path, "/config.json)");
  const auto& tokenizer = runner.tokenizer();
  auto fits = [&](const PromptDataset& d, const nlohmann::json& record) {
    const std::string input = d.model_input_of(record);
    // No tokenizer's piece is 64 bytes long: a longer text cannot fit, and tokenizing tens of MB
    // would take GBs.
    VECRL_CHECK(static_cast<int64_t>(input.size()) <= 64 * context, "the prompt is ", input.size(),
                " bytes, far past the model's context of ", context, " tokens");
    const auto tokens = static_cast<int64_t>(models::encode_prompt(tokenizer, input, c.data.add_bos).size());
    VECRL_CHECK(tokens + c.rollout.max_new_tokens <= context, "the prompt is ", tokens, " tokens: with ",
                c.rollout.max_new_tokens, " new tokens (rollout.max_new_tokens) it does not fit the model's context of ",
                context, " positions");
  };
  auto data = std::make_unique<PromptDataset>(c.data, c.run.seed, c.model.path, fits);
  if (data->skipped() > 0) spdlog::warn("{}: skipped {} malformed or over-long records", c.data.path, data->skipped());
  return data;
}

}  // namespace

struct RlTrainer::State {
  RunConfig config;
  std::unique_ptr<distributed::Communicator> comm;
  std::unique_ptr<rewards::RewardSet> rewards;
  std::unique_ptr<algorithms::AdvantageEstimator> estimator;
  std::unique_ptr<algorithms::PolicyLoss> loss;
  std::unique_ptr<PromptDataset> data;
  std::unique_ptr<TrainingSession> session;
  std::unique_ptr<RolloutGenerator> generator;
  std::unique_ptr<BatchSampler> sampler;
  std::unique_ptr<LogprobPass> logprobs;
  std::unique_ptr<PolicyUpdate> updater;
  TrainerHooks hooks;
  std::vector<std::string> display_dims;  // the trained reward dimensions
  int64_t consecutive_skipped = 0;        // steps in a row whose updates were all skipped
  // What a checkpoint of the completed steps needs while a step runs: the cursors as they were
  // before it, and whether it has reached the weights yet.
  nlohmann::json state_before_step;
  bool step_reached_weights = false;

  void build_components(const distributed::ProcessInfo& process, const LoadedConfig& loaded);
  void build_stages();
  void resume();
  void sample(StepContext& ctx);
  void estimate_advantages(StepContext& ctx);
  void update(StepContext& ctx);
  void report(StepContext& ctx, Clock::time_point start);
  nlohmann::json checkpoint_state() const;
  void checkpoint_after_failed_step();
  void run_eval(int64_t step, const std::function<void(const std::string&)>& on_line);
};

void RlTrainer::State::build_components(const distributed::ProcessInfo& process, const LoadedConfig& loaded) {
  const auto& c = config;
  VECRL_CHECK(c.rollout.prompts_per_step % process.world_size == 0, "config key 'rollout.prompts_per_step': ",
              c.rollout.prompts_per_step, " prompts do not split over ", process.world_size,
              " ranks; every rank owns whole groups");
  SessionOptions o{c.run, c.model, c.optim, c.checkpoint};
  o.device = models::resolve_device(c.model.device, process.local_rank, "config key 'model.device'");
  distributed::RendezvousOptions rdv{c.distributed.master_addr, c.distributed.master_port, c.distributed.timeout_s,
                                     c.distributed.backend, o.device.is_cuda()};
  comm = distributed::make_communicator(process, rdv);
  // Components read their own options now, so every config error appears before any work.
  rewards = std::make_unique<rewards::RewardSet>(c.rewards, c.scoring);
  estimator = core::create_component(algorithms::advantage_registry(), c.advantage);
  loss = core::create_component(algorithms::policy_loss_registry(), c.loss);
  check_kl_in_reward(c, *estimator);
  // threads 0 shares the cores among this machine's ranks instead of oversubscribing them.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.threads = c.run.threads > 0 ? c.run.threads : std::max(1, cores / static_cast<int>(process.local_world_size));
  o.total_steps = c.train.steps;
  o.load_reference = loss->needs_reference() || c.kl_in_reward.coef > 0 || rewards->needs_reference();
  o.is_main = comm->is_main();
  o.resolved_config = core::to_yaml_string(loaded.root->resolved());  // with the components' defaults
  session = std::make_unique<TrainingSession>(std::move(o));
  data = load_prompts(c, session->runner());  // before the run folder is touched
}

void RlTrainer::State::build_stages() {
  auto& runner = session->runner();
  generator = std::make_unique<RolloutGenerator>(runner, config.agent, config.data.chat.enable_thinking);
  rewards->set_models({runner.policy().ptr(), runner.reference() ? runner.reference()->ptr() : nullptr,
                       &runner.tokenizer()});
  sampler = std::make_unique<BatchSampler>(config, *data, *generator, *rewards, *estimator, *comm, runner.tokenizer());
  logprobs = std::make_unique<LogprobPass>(config, runner, runner.device());
  updater = std::make_unique<PolicyUpdate>(config, *session, *loss, *comm);
  for (std::size_t d = 0; d < rewards->dim_names().size(); ++d)
    if (rewards->weights()[d] != 0) display_dims.push_back(rewards->dim_names()[d]);
}

void RlTrainer::State::resume() {
  const auto state = session->open_run_folder();
  if (state) {
    try {
      data->restore(state->at("data"));
      if (state->contains("advantage")) estimator->restore((*state)["advantage"].get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw core::Error(core::str_cat(session->run_dir(), ": the checkpoint's state.json: ", e.what()));
    }
  }
  comm->barrier();  // rank 0 has prepared the run folder
  session->open_sinks();
}

RlTrainer::RlTrainer(LoadedConfig loaded) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.config = std::move(loaded.config);
  const auto& c = s.config;
  core::configure_logging(c.run.log_level);
  core::load_plugins(c.plugins);
  const auto process = distributed::process_info_from_env();
  s.build_components(process, loaded);
  if (s.comm->world_size() > 1) distributed::broadcast_parameters(*s.comm, s.session->parameters());
  s.build_stages();
  s.resume();
  int64_t num_params = 0;
  for (const auto& p : s.session->parameters()) num_params += p.numel();
  if (!s.comm->is_main()) spdlog::set_level(spdlog::level::warn);
  spdlog::info("run '{}': model {} ({} parameters) on {}, {} rank(s) x {} threads, {} prompts x {} samples per step, {} steps",
               c.run.name, c.model.path, num_params, s.session->runner().device().str(), s.comm->world_size(),
               s.session->threads(), c.rollout.prompts_per_step, c.rollout.group_size, c.train.steps);
}

RlTrainer::~RlTrainer() = default;

void RlTrainer::set_hooks(TrainerHooks hooks) {
  state_->session->set_hooks(hooks);
  state_->hooks = std::move(hooks);
}

const std::string& RlTrainer::run_dir() const { return state_->session->run_dir(); }

int64_t RlTrainer::rank() const { return state_->comm->rank(); }

int64_t RlTrainer::completed_steps() const { return state_->session->completed_steps(); }

std::vector<double> RlTrainer::parameter_vector() const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat;
  for (const auto& p : state_->session->parameters()) flat.push_back(p.detach().reshape({-1}).to(torch::kCPU, torch::kDouble));
  auto all = torch::cat(flat).contiguous();
  return std::vector<double>(all.data_ptr<double>(), all.data_ptr<double>() + all.numel());
}

void RlTrainer::State::sample(StepContext& ctx) {
  const auto start = Clock::now();
  auto batch = sampler->sample(ctx.step, ctx.metrics);
  ctx.metrics["timing_s/gen"] = seconds_since(start) - ctx.metrics["timing_s/reward"];
  ctx.rollouts = std::move(batch.rollouts);
  ctx.rewards = std::move(batch.rewards);
  ctx.top_up = std::move(batch.top_up);
  ctx.group_keys = std::move(batch.group_keys);
  ctx.weights = rewards->weights();
}

void RlTrainer::State::estimate_advantages(StepContext& ctx) {
  const auto start = Clock::now();
  compute_advantages(ctx, *estimator, *comm, config.rollout.overlong_filter);
  ctx.answer_terms = rewards->loss_terms(ctx.rollouts);
  ctx.metrics["timing_s/adv"] = seconds_since(start);
}

void RlTrainer::State::update(StepContext& ctx) {
  const auto start = Clock::now();
  auto m = updater->run(ctx);
  const bool all_skipped = m.at("actor/skipped_updates") >= static_cast<double>(updater->updates_per_step());
  consecutive_skipped = all_skipped ? consecutive_skipped + 1 : 0;
  m["timing_s/update_actor"] = seconds_since(start);
  ctx.metrics.insert(m.begin(), m.end());
}

void RlTrainer::State::report(StepContext& ctx, Clock::time_point start) {
  add_batch_metrics(ctx, *comm, rewards->failures(), config.kl_in_reward.coef);
  add_timing_metrics(ctx.metrics, *comm, seconds_since(start));
  session->write_metrics(ctx.step, ctx.metrics);
  const auto every = config.train.samples_every;
  if (comm->is_main() && every > 0 && (ctx.step == 1 || ctx.step % every == 0))
    append_samples((fs::path(session->run_dir()) / "samples.jsonl").string(), ctx, config.train.samples_per_log);
}

core::MetricMap RlTrainer::step(int64_t step) {
  auto& s = *state_;
  StepContext ctx;
  ctx.step = step;
  const auto start = Clock::now();
  s.state_before_step = s.checkpoint_state();
  s.step_reached_weights = false;
  stage(step, "sample", [&] { s.sample(ctx); });
  stage(step, "log-probs", [&] { s.logprobs->run(ctx); });
  stage(step, "advantages", [&] { s.estimate_advantages(ctx); });
  s.step_reached_weights = true;
  stage(step, "update", [&] { s.update(ctx); });
  stage(step, "metrics", [&] { s.report(ctx, start); });
  if (s.hooks.after_step) s.hooks.after_step(ctx);
  return std::move(ctx.metrics);
}

nlohmann::json RlTrainer::State::checkpoint_state() const {
  return {{"data", data->state()}, {"world_size", comm->world_size()}, {"advantage", estimator->state()}};
}

// A step that fails after earlier ones completed (a prompt too long, a reward module's error)
// leaves a checkpoint of those before the error goes up, even with checkpoint.every 0. Not when
// the failure came during the update: the weights may be half-way into the failed step.
void RlTrainer::State::checkpoint_after_failed_step() {
  if (step_reached_weights || session->completed_steps() == 0 || state_before_step.is_null()) return;
  try {
    session->save_checkpoint(state_before_step);
  } catch (const std::exception& e) {
    spdlog::error("could not checkpoint the completed steps after the failure: {}", e.what());
  }
}

void RlTrainer::State::run_eval(int64_t step, const std::function<void(const std::string&)>& on_line) {
  if (!comm->is_main()) return;
  const auto start = Clock::now();
  auto result = evaluate(session->runner(), *rewards, config.eval, config.data.chat, config.rollout.max_new_tokens,
                         step, *generator);
  result.metrics["timing_s/eval"] = seconds_since(start);
  session->write_metrics(step, result.metrics);
  on_line(write_eval_report(result, session->run_dir(), step));
}

TrainSummary RlTrainer::run(const std::function<void(const std::string&)>& on_line,
                            const std::function<void(int64_t, int64_t)>& on_step,
                            const std::function<bool()>& should_stop) {
  auto& s = *state_;
  const auto& c = s.config;
  const auto start = Clock::now();
  const int64_t completed = s.session->completed_steps();
  VECRL_CHECK(completed < c.train.steps, "nothing left to train: the checkpoint is at step ", completed,
              " and train.steps is ", c.train.steps, " (raise train.steps to continue)");
  TrainSummary summary;
  summary.first_step = completed + 1;
  std::vector<double> totals;
  const bool eval_on = !c.eval.path.empty();
  if (eval_on && c.eval.before_train && completed == 0) s.run_eval(0, on_line);
  for (int64_t i = summary.first_step; i <= c.train.steps; ++i) {
    core::MetricMap m;
    try {
      m = step(i);
    } catch (...) {
      s.checkpoint_after_failed_step();
      throw;
    }
    s.session->set_completed_steps(i);
    if (s.consecutive_skipped >= c.train.max_skipped_steps) {
      s.session->save_checkpoint(s.checkpoint_state());
      VECRL_CHECK(false, "step ", i, ": the updates of the last ", s.consecutive_skipped,
                  " steps were all skipped for non-finite gradients or advantages (train.max_skipped_steps = ",
                  c.train.max_skipped_steps, "); stopped with a checkpoint in ", s.session->run_dir(),
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
      s.session->save_checkpoint(s.checkpoint_state());
      break;
    }
    if (c.checkpoint.every > 0 && i % c.checkpoint.every == 0 && i < c.train.steps)
      s.session->save_checkpoint(s.checkpoint_state());
  }
  const int64_t done = s.session->completed_steps();
  if (!summary.stopped_early && done == c.train.steps) s.session->save_checkpoint(s.checkpoint_state());
  s.session->export_final_model();
  s.session->release_run_folder();
  s.comm->barrier();
  summary.steps = done;
  summary.run_dir = s.session->run_dir();
  summary.seconds = seconds_since(start);
  const auto w = std::min<std::size_t>(static_cast<std::size_t>(c.train.summary_window), totals.size());
  summary.window = static_cast<int64_t>(w);
  summary.first_window_reward = std::accumulate(totals.begin(), totals.begin() + w, 0.0) / static_cast<double>(w);
  summary.last_window_reward = std::accumulate(totals.end() - w, totals.end(), 0.0) / static_cast<double>(w);
  return summary;
}

}  // namespace vecrl::trainer
