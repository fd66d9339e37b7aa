#include "trainer/sft_trainer.h"

#include <spdlog/spdlog.h>
#include <torch/types.h>

#include <chrono>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "models/chat/chat_format.h"
#include "models/generation.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"
#include "trainer/prompt_dataset.h"
#include "trainer/training_session.h"

namespace vecrl::trainer {
using Clock = std::chrono::steady_clock;

LoadedSftConfig load_sft_config(const std::string& file, const std::vector<std::string>& overrides) {
  LoadedSftConfig loaded;
  loaded.root = open_config(file, overrides);
  loaded.config.visit(*loaded.root);
  loaded.root->finish();
  return loaded;
}

namespace {

// A batch of examples as tensors: prompts left-padded, responses right-padded, the loss mask on
// response tokens (the closing end-of-turn or EOS token included: the model must learn to stop).
struct SftBatch {
  at::Tensor prompt_ids, prompt_mask, response_ids, response_mask;
  int64_t truncated = 0;  // responses cut at max_length
};

// responses[i] with trained[i] (the loss mask per token: false on tool responses).
SftBatch make_batch(const std::vector<std::vector<int64_t>>& prompts, std::vector<std::vector<int64_t>> responses,
                    std::vector<std::vector<uint8_t>> trained, int64_t max_length, int64_t pad_id) {
  SftBatch b;
  int64_t longest = 1;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    const auto room = std::max<int64_t>(1, max_length - static_cast<int64_t>(prompts[i].size()));
    if (static_cast<int64_t>(responses[i].size()) > room) {
      responses[i].resize(static_cast<std::size_t>(room));
      trained[i].resize(static_cast<std::size_t>(room));
      ++b.truncated;
    }
    longest = std::max<int64_t>(longest, static_cast<int64_t>(responses[i].size()));
  }
  std::tie(b.prompt_ids, b.prompt_mask) = models::left_pad(prompts, pad_id);
  const auto N = static_cast<int64_t>(responses.size());
  b.response_ids = torch::full({N, longest}, pad_id, torch::kLong);
  b.response_mask = torch::zeros({N, longest}, torch::kBool);
  for (int64_t i = 0; i < N; ++i) {
    const auto& r = responses[static_cast<std::size_t>(i)];
    const auto n = static_cast<int64_t>(r.size());
    b.response_ids[i].narrow(0, 0, n).copy_(torch::tensor(r, torch::kLong));
    b.response_mask[i].narrow(0, 0, n).copy_(torch::tensor(trained[static_cast<std::size_t>(i)]).to(torch::kBool));
  }
  return b;
}

}  // namespace

struct SftTrainer::State {
  SftConfig config;
  std::unique_ptr<TrainingSession> session;
  std::unique_ptr<PromptDataset> data;
  int64_t end_token = -1;  // closes every response: the chat format's end of turn, else EOS
  int64_t total_steps = 0, tokens_seen = 0;

  nlohmann::json checkpoint_state() const {
    return {{"data", data->state()}, {"tokens_seen", tokens_seen}, {"kind", "sft"}};
  }

  void resume() {
    const auto state = session->open_run_folder();
    if (state) {
      try {
        data->restore(state->at("data"));
        tokens_seen = state->value("tokens_seen", int64_t{0});
      } catch (const nlohmann::json::exception& e) {
        throw core::Error(core::str_cat(session->run_dir(), ": the checkpoint's state.json: ", e.what()));
      }
    }
    session->open_sinks();
  }

  SftBatch next_batch();
};

SftTrainer::SftTrainer(LoadedSftConfig loaded) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.config = loaded.config;
  const auto& c = s.config;
  const auto& data = c.data;
  s.data = std::make_unique<PromptDataset>(data.prompts, c.run.seed, c.model.path,
                                           [&data](const PromptDataset& dataset, const nlohmann::json& record) {
                                             dataset.training_pieces(record, data.response_field, data.response_template);
                                           });
  s.total_steps = c.train.steps > 0 ? c.train.steps
                                    : std::max<int64_t>(1, c.train.epochs * s.data->size() / c.train.batch_size);
  SessionOptions o{c.run, c.model, c.optim, c.checkpoint, core::to_yaml_string(loaded.root->resolved())};
  o.threads = c.run.threads;
  o.total_steps = s.total_steps;
  o.device = models::resolve_device(c.model.device, /*local_rank=*/0, "config key 'model.device'");
  s.session = std::make_unique<TrainingSession>(std::move(o));
  const auto& tok = s.session->runner().tokenizer();
  const auto ends = s.data->chat_format().end_of_turn_tokens();
  s.end_token = ends.empty() ? -1 : tok.token_id(ends.front());
  if (s.end_token < 0) s.end_token = tok.eos_id();
  s.resume();
  spdlog::info("sft '{}': model {}, {} examples ({} skipped), {} steps of {} examples, {} threads", c.run.name,
               c.model.path, s.data->size(), s.data->skipped(), s.total_steps, c.train.batch_size,
               s.session->threads());
}

SftTrainer::~SftTrainer() = default;

int64_t SftTrainer::total_steps() const { return state_->total_steps; }
const std::string& SftTrainer::run_dir() const { return state_->session->run_dir(); }

SftBatch SftTrainer::State::next_batch() {
  const auto& c = config;
  const auto& tok = session->runner().tokenizer();
  std::vector<std::vector<int64_t>> prompts, responses;
  std::vector<std::vector<uint8_t>> trained;
  for (const auto& record : data->next_batch(c.train.batch_size)) {
    auto [input, pieces] = data->training_pieces(record, c.data.response_field, c.data.response_template);
    prompts.push_back(models::encode_prompt(tok, input, c.data.prompts.add_bos));
    std::vector<int64_t> ids;
    std::vector<uint8_t> mask;
    for (const auto& piece : pieces) {  // each piece tokenized on its own, as the agent loop does
      const auto piece_ids = tok.encode(piece.text);
      ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
      mask.insert(mask.end(), piece_ids.size(), piece.trained ? 1 : 0);
    }
    ids.push_back(end_token);
    mask.push_back(1);
    responses.push_back(std::move(ids));
    trained.push_back(std::move(mask));
  }
  return make_batch(prompts, std::move(responses), std::move(trained), c.train.max_length, tok.eos_id());
}

core::MetricMap SftTrainer::step(int64_t step) {
  auto& s = *state_;
  const auto& c = s.config;
  const auto start = Clock::now();
  const auto batch = s.next_batch();
  const double lr = s.session->set_learning_rate(step);
  auto& policy = s.session->runner().policy();
  policy->train();
  s.session->zero_grad();
  const double tokens = batch.response_mask.sum().item<double>();
  double nll_sum = 0;
  const int64_t N = batch.prompt_ids.size(0);
  const auto device = s.session->runner().device();
  for (int64_t r0 = 0; r0 < N; r0 += c.train.micro_batch_size) {
    const int64_t len = std::min(c.train.micro_batch_size, N - r0);
    auto mask = batch.response_mask.narrow(0, r0, len).to(device);
    auto scores = models::score_responses(policy, batch.prompt_ids.narrow(0, r0, len).to(device),
                                          batch.prompt_mask.narrow(0, r0, len).to(device),
                                          batch.response_ids.narrow(0, r0, len).to(device), 1.0, false, c.train.chunk_tokens);
    // Token mean over the whole batch, so micro-batching does not change the gradient.
    auto nll = -(scores.logprobs.masked_fill(mask.logical_not(), 0)).sum() / tokens;
    nll.backward();
    nll_sum += nll.item<double>();
  }
  // A non-finite loss or gradient is skipped, as in RL training.
  GradientStep g;
  if (std::isfinite(nll_sum)) {
    g = s.session->apply_gradients(step);
  } else {
    s.session->zero_grad();
    g.grad_norm = NAN;
    g.skipped = true;
  }
  s.tokens_seen += static_cast<int64_t>(tokens);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  core::MetricMap m;
  m["train/loss"] = nll_sum;
  m["train/perplexity"] = std::exp(nll_sum);
  m["train/grad_norm"] = g.grad_norm;
  m["train/grad_norm_spikes"] = g.spike ? 1.0 : 0.0;
  m["train/lr"] = lr;
  m["train/epoch"] = static_cast<double>(s.data->epoch());
  m["train/num_tokens"] = static_cast<double>(s.tokens_seen);
  m["train/truncated"] = static_cast<double>(batch.truncated);
  m["train/skipped_updates"] = g.skipped ? 1.0 : 0.0;
  m["response_length/mean"] = tokens / static_cast<double>(N);
  m["perf/throughput"] = (tokens + batch.prompt_mask.sum().item<double>()) / seconds;
  m["timing_s/step"] = seconds;
  s.session->set_completed_steps(step);
  s.session->write_metrics(step, m);
  return m;
}

SftSummary SftTrainer::run(const std::function<void(const std::string&)>& on_line,
                           const std::function<bool()>& should_stop) {
  auto& s = *state_;
  SftSummary summary;
  summary.run_dir = s.session->run_dir();
  summary.steps = s.total_steps;
  summary.first_step = s.session->completed_steps() + 1;
  VECRL_CHECK(summary.first_step <= s.total_steps, "nothing left to train: ", summary.run_dir, " already completed ",
              s.total_steps, " steps");
  const auto start = Clock::now();
  for (int64_t step = summary.first_step; step <= s.total_steps; ++step) {
    const auto m = this->step(step);
    if (step == summary.first_step) summary.first_loss = m.at("train/loss");
    summary.last_loss = m.at("train/loss");
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double per_step = elapsed / static_cast<double>(step - summary.first_step + 1);
    std::ostringstream line;
    line << std::fixed << "sft step " << step << "/" << s.total_steps << " | loss " << std::setprecision(4)
         << m.at("train/loss") << " | grad " << std::setprecision(3) << m.at("train/grad_norm") << " | lr "
         << std::scientific << std::setprecision(2) << m.at("train/lr") << std::fixed << " | "
         << std::setprecision(0) << m.at("perf/throughput") << " tok/s | ETA " << std::setprecision(0)
         << per_step * static_cast<double>(s.total_steps - step) << " s";
    if (on_line) on_line(line.str());
    const bool stop = should_stop && should_stop();
    if ((s.config.checkpoint.every > 0 && step % s.config.checkpoint.every == 0) || stop || step == s.total_steps)
      s.session->save_checkpoint(s.checkpoint_state());
    if (stop) {
      summary.stopped_early = true;
      break;
    }
  }
  if (!summary.stopped_early) s.session->export_final_model();
  s.session->release_run_folder();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

}  // namespace vecrl::trainer
