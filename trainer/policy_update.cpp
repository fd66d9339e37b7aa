#include "trainer/policy_update.h"

#include <spdlog/spdlog.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include "algorithms/policy_loss.h"
#include "core/seeds.h"
#include "distributed/communicator.h"
#include "distributed/gradient_sync.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"
#include "rewards/likelihood/likelihood_rewards.h"
#include "trainer/micro_batches.h"
#include "trainer/training_session.h"

namespace vecrl::trainer {

// The step's tensors as the update uses them, and the normalisers of the current mini-batch.
struct UpdateBatch {
  const StepContext& ctx;
  std::vector<at::Tensor> token_advantages;  // per channel [N, T]
  std::vector<at::Tensor> channel_masks;     // per channel [N, T] bool
  at::Tensor aux_mask;                       // [N, T] bool: the loss tokens, for the auxiliary terms
  at::Tensor term_weights;                   // [N] reward loss-term weights, 0 on rows without loss tokens
  std::vector<algorithms::Normalizers> norms;  // per channel, this mini-batch
  algorithms::Normalizers aux_norm;            // the auxiliary terms', this mini-batch
};

namespace {

using Clock = std::chrono::steady_clock;

int64_t bucket_bytes(double mebibytes) { return std::max<int64_t>(1, std::llround(mebibytes * (1 << 20))); }

std::string channel_key(const core::Advantages& advantages, int64_t channel, const std::string& key) {
  return channel == 0 ? key : "actor/" + advantages.channels[channel] + "/" + key.substr(6);
}

std::vector<std::string> keys_of(const algorithms::LossOutput& out) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : out.metrics) keys.push_back(k);
  return keys;
}

UpdateBatch prepare(const StepContext& ctx) {
  UpdateBatch b{ctx, {}, {}, ctx.loss_mask, {}, {}, {}};
  for (int64_t ch = 0; ch < ctx.advantages.num_channels(); ++ch) {
    b.token_advantages.push_back(ctx.advantages.per_token(ch, ctx.rollouts.response_mask));
    b.channel_masks.push_back(ctx.advantages.loss_mask(ch, ctx.loss_mask));
  }
  auto rows_with_loss = ctx.loss_mask.any(1).to(torch::kFloat);
  b.term_weights = ctx.likelihood_weights.defined() ? ctx.likelihood_weights.to(torch::kFloat) * rows_with_loss
                                                    : rows_with_loss;
  return b;
}

// Loss tokens and sequences of each mask over `rows` on all ranks: one reduction for all of them.
std::vector<algorithms::Normalizers> normalizers(const std::vector<at::Tensor>& masks, const at::Tensor& rows,
                                                 distributed::Communicator& comm, double constant_length) {
  std::vector<at::Tensor> counts;
  for (const auto& mask : masks) {
    auto m = mask.index_select(0, rows);
    counts.push_back(m.sum().to(torch::kDouble));
    counts.push_back(m.any(1).sum().to(torch::kDouble));
  }
  auto all = torch::stack(counts);
  comm.all_reduce_sum(all);
  std::vector<algorithms::Normalizers> out;
  for (std::size_t i = 0; i < masks.size(); ++i) {
    algorithms::Normalizers norm;
    norm.tokens = std::max(1.0, all[static_cast<int64_t>(2 * i)].item<double>());
    norm.sequences = std::max(1.0, all[static_cast<int64_t>(2 * i + 1)].item<double>());
    norm.constant_length = constant_length;
    out.push_back(norm);
  }
  return out;
}

// The reward modules' loss terms on a micro-batch: coef * sum_i w_i * (-sum_v w_v R_v(theta)) over
// the mini-batch's loss rows (all ranks).
at::Tensor answer_terms(const UpdateBatch& b, const MicroBatch& part, models::CausalLM& policy, c10::Device device,
                        core::MetricMap& metrics) {
  at::Tensor total;
  for (const auto& term : b.ctx.answer_terms) {
    auto pick = [&](const at::Tensor& x) { return x.index_select(0, part.rows).to(device); };
    auto lp = models::score_responses(policy, pick(term.context_ids), pick(term.context_mask), pick(term.answer_ids),
                                      1.0, false)
                  .logprobs;
    auto per_row = rewards::likelihood_loss_rows(lp, pick(term.answer_mask), term.weights);  // [m]
    auto value = (per_row * pick(b.term_weights).to(per_row.scalar_type())).sum() / b.aux_norm.sequences;
    metrics["actor/answer_loss/" + term.name] += value.item<double>();
    total = total.defined() ? total + term.coef * value : term.coef * value;
  }
  return total;
}

}  // namespace

PolicyUpdate::PolicyUpdate(const RunConfig& config, TrainingSession& session, const algorithms::PolicyLoss& loss,
                           distributed::Communicator& comm)
    : config_(config), session_(session), loss_(loss), comm_(comm) {
  if (comm.world_size() > 1)
    grad_reducer_ = std::make_unique<distributed::OverlappedGradientReducer>(comm, session.parameters(),
                                                                             bucket_bytes(config.distributed.bucket_mb));
  // The loss's metric names, so that ranks can reduce one fixed list of them.
  algorithms::LossInput probe;
  probe.logprobs = probe.old_logprobs = probe.behaviour_logprobs = probe.ref_logprobs = probe.entropy =
      probe.advantages = torch::zeros({1, 1});
  probe.mask = torch::ones({1, 1}, torch::kBool);
  surrogate_keys_ = keys_of(loss.surrogate(probe));
  regularizer_keys_ = keys_of(loss.regularizers(probe));
}

PolicyUpdate::~PolicyUpdate() = default;

int64_t PolicyUpdate::updates_per_step() const { return config_.train.mini_batches * config_.train.epochs; }

core::MetricMap PolicyUpdate::run(const StepContext& ctx) {
  const auto& c = config_;
  core::MetricMap sums;
  const double lr = session_.set_learning_rate(ctx.step);
  // Non-finite advantages (all ranks agree) skip the whole update rather than poison the weights.
  auto bad = torch::tensor({ctx.advantages.values.isfinite().all().item<bool>() ? 0.0 : 1.0}, torch::kDouble);
  comm_.all_reduce_max(bad);
  double skipped = 0;
  if (bad.item<double>() > 0) {
    spdlog::warn("step {}: non-finite advantages; update skipped", ctx.step);
    skipped = static_cast<double>(updates_per_step());
  } else {
    auto batch = prepare(ctx);
    // Mini-batches are drawn from one permutation of the global batch (same on every rank); each
    // rank works on the rows it owns, so the update does not depend on the world size.
    std::mt19937_64 rng(core::minibatch_order_seed(c.run.seed, ctx.step));
    const int64_t N = ctx.size(), first_row = comm_.rank() * N, global_n = N * comm_.world_size();
    const int64_t mini = global_n / c.train.mini_batches;
    for (int64_t epoch = 0; epoch < c.train.epochs; ++epoch) {
      std::vector<int64_t> order(global_n);
      std::iota(order.begin(), order.end(), 0);
      if (c.train.mini_batches > 1) std::shuffle(order.begin(), order.end(), rng);
      for (int64_t mb = 0; mb < c.train.mini_batches; ++mb) {
        std::vector<int64_t> local;
        for (int64_t j = mb * mini; j < (mb + 1) * mini; ++j)
          if (order[j] >= first_row && order[j] < first_row + N) local.push_back(order[j] - first_row);
        std::sort(local.begin(), local.end());
        auto metrics = update(batch, torch::tensor(local, torch::kLong));
        skipped += metrics["actor/skipped_updates"];
        metrics.erase("actor/skipped_updates");
        for (const auto& [k, v] : metrics) sums[k] += v;
      }
    }
    for (auto& [k, v] : sums) v /= static_cast<double>(updates_per_step());
  }
  sums["actor/skipped_updates"] = skipped;
  sums["actor/lr"] = lr;
  return sums;
}

core::MetricMap PolicyUpdate::update(UpdateBatch& batch, const at::Tensor& rows) {
  auto masks = batch.channel_masks;
  masks.push_back(batch.aux_mask);
  auto norms = normalizers(masks, rows, comm_, static_cast<double>(config_.rollout.max_new_tokens));
  batch.aux_norm = norms.back();
  norms.pop_back();
  batch.norms = std::move(norms);
  session_.zero_grad();
  core::MetricMap m;
  const auto parts = plan_micro_batches(rows, batch.ctx.rollouts, config_.train.micro_batch_size,
                                        config_.train.micro_batch_tokens);
  for (std::size_t i = 0; i < parts.size(); ++i)
    for (const auto& [k, v] : backward(batch, parts[i], i + 1 == parts.size())) m[k] += v;
  reduce_across_ranks(batch, m);
  const auto g = session_.apply_gradients(batch.ctx.step);
  if (g.skipped) {
    m["actor/skipped_updates"] = 1;
  } else {
    m["actor/grad_norm"] = g.grad_norm;
    m["actor/grad_clipped"] = g.clipped ? 1.0 : 0.0;
    m["actor/grad_norm_spikes"] = g.spike ? 1.0 : 0.0;
  }
  return m;
}

core::MetricMap PolicyUpdate::backward(const UpdateBatch& b, const MicroBatch& part, bool last_part) {
  const auto& r = b.ctx.rollouts;
  const auto device = session_.runner().device();
  auto& policy = session_.runner().policy();
  auto response = [&](const at::Tensor& x) { return part.response_part(x).to(device); };
  auto scores = models::score_responses(policy, part.prompt_part(r.prompt_ids).to(device),
                                        part.prompt_part(r.prompt_mask).to(device), response(r.response_ids),
                                        config_.rollout.temperature, true);
  algorithms::LossInput in;
  in.logprobs = scores.logprobs;
  in.entropy = scores.entropy;
  in.old_logprobs = response(b.ctx.old_logprobs);
  in.behaviour_logprobs = response(r.behaviour_logprobs);
  if (b.ctx.ref_logprobs.defined()) in.ref_logprobs = response(b.ctx.ref_logprobs);
  core::MetricMap m;
  at::Tensor total;
  auto add = [&](const at::Tensor& term) {
    if (term.defined()) total = total.defined() ? total + term : term;
  };
  const auto& advantages = b.ctx.advantages;
  for (int64_t ch = 0; ch < advantages.num_channels(); ++ch) {
    in.advantages = response(b.token_advantages[ch]);
    in.mask = response(b.channel_masks[ch]);
    in.normalizers = b.norms[ch];
    auto out = loss_.surrogate(in);
    add(out.loss * advantages.weight(ch));
    for (const auto& [k, v] : out.metrics) m[channel_key(advantages, ch, k)] += v;
  }
  // Once per update, whatever the number of channels: over the loss tokens, with their normalisers.
  in.mask = response(b.aux_mask);
  in.normalizers = b.aux_norm;
  auto regularizers = loss_.regularizers(in);
  add(regularizers.loss);
  for (const auto& [k, v] : regularizers.metrics) m[k] += v;
  add(answer_terms(b, part, policy, device, m));
  m["actor/entropy"] += algorithms::aggregate(scores.entropy.detach(), in.mask, algorithms::Aggregation::kTokenMean,
                                              b.aux_norm)
                            .item<double>();
  m["actor/loss"] += total.item<double>();
  // The last micro-batch's backward pass completes the gradients: buckets go out as it runs.
  if (grad_reducer_ && config_.distributed.overlap_grad_reduce && last_part) grad_reducer_->arm();
  total.backward();
  return m;
}

std::vector<std::string> PolicyUpdate::metric_keys(const UpdateBatch& b) const {
  std::vector<std::string> keys{"actor/entropy", "actor/loss"};
  for (const auto& term : b.ctx.answer_terms) keys.push_back("actor/answer_loss/" + term.name);
  for (int64_t ch = 0; ch < b.ctx.advantages.num_channels(); ++ch)
    for (const auto& k : surrogate_keys_) keys.push_back(channel_key(b.ctx.advantages, ch, k));
  keys.insert(keys.end(), regularizer_keys_.begin(), regularizer_keys_.end());
  return keys;
}

void PolicyUpdate::reduce_across_ranks(const UpdateBatch& b, core::MetricMap& m) {
  if (comm_.world_size() == 1) return;
  // Each rank's loss is its share of the global loss, so the global gradient is the sum.
  // timing_s/all_reduce is the wait after the backward pass (what overlap did not hide).
  const auto start = Clock::now();
  grad_reducer_->finish();
  m["timing_s/all_reduce"] += std::chrono::duration<double>(Clock::now() - start).count();
  if (config_.distributed.overlap_grad_reduce) {
    const auto stats = grad_reducer_->last_stats();
    m["perf/grad_buckets_overlapped_frac"] +=
        static_cast<double>(stats.started_during_backward) / static_cast<double>(stats.buckets);
  }
  // Loss metrics are contributions normalised globally: they add up over ranks too. The key list
  // is fixed (a rank may own no rows of a mini-batch), so every rank reduces the same vector.
  const auto keys = metric_keys(b);
  std::vector<double> values;
  for (const auto& k : keys) values.push_back(m.count(k) ? m[k] : 0.0);
  auto reduced = torch::tensor(values, torch::kDouble);
  comm_.all_reduce_sum(reduced);
  for (std::size_t i = 0; i < keys.size(); ++i) m[keys[i]] = reduced[static_cast<int64_t>(i)].item<double>();
}

}  // namespace vecrl::trainer
