// SFT: the loss is the response-only token mean, micro-batching does not change the update, a
// small set is learned, resume equals an uninterrupted run, and conversations train their last
// assistant message.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "models/generation.h"
#include "models/hf_checkpoint.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"
#include "trainer/prompt_dataset.h"
#include "trainer/sft_trainer.h"

using namespace vecrl;

namespace {

const std::string kStories = std::string(VECRL_SHARED_DATA) + "/models/stories260K";

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::path(::testing::TempDir()) / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string story_pairs() {
  return write_file("vecrl_sft_pairs.jsonl",
                    R"({"prompt": "Once upon a time", "response": " there was a little girl named Lily."})" "\n"
                    R"({"prompt": "Tom had a", "response": " big red ball."})" "\n"
                    R"({"prompt": "The cat", "response": " sat on the mat."})" "\n"
                    R"({"prompt": "One day", "response": " the sun was hot."})" "\n");
}

trainer::LoadedSftConfig config(const std::string& name, std::vector<std::string> overrides) {
  const auto file = write_file("vecrl_sft_" + name + ".yaml",
                               "run: {name: " + name + ", output_dir: " + ::testing::TempDir() + "/vecrl_sft_runs, threads: 1}\n"
                               "model: {path: " + kStories + "}\n"
                               "data: {path: " + story_pairs() + ", shuffle: false}\n"
                               "optim: {lr: 1.0e-3}\n"
                               "train: {steps: 2, batch_size: 4, micro_batch_size: 4}\n");
  return trainer::load_sft_config(file, overrides);
}

std::vector<double> flat_parameters(const models::CausalLM& model) {
  std::vector<double> out;
  for (const auto& p : model->parameters()) {
    auto flat = p.detach().reshape({-1}).to(torch::kDouble).contiguous();
    out.insert(out.end(), flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
  }
  return out;
}

std::vector<double> parameters_of(const std::string& run_dir) { return flat_parameters(models::load_causal_lm(run_dir + "/final")); }

}  // namespace

TEST(Sft, LossIsTheResponseOnlyTokenMean) {
  // The first step's loss, before any update, recomputed independently from the model.
  trainer::SftTrainer sft(config("loss", {}));
  const double loss = sft.step(1).at("train/loss");
  models::PolicyRunner runner(kStories, false);
  const auto& tok = runner.tokenizer();
  torch::NoGradGuard no_grad;
  double sum = 0, count = 0;
  for (const auto& [prompt, response] : std::vector<std::pair<std::string, std::string>>{
           {"Once upon a time", " there was a little girl named Lily."}, {"Tom had a", " big red ball."},
           {"The cat", " sat on the mat."}, {"One day", " the sun was hot."}}) {
    auto prompt_ids = models::encode_prompt(tok, prompt, true);
    auto answer = tok.encode(response);
    answer.push_back(tok.eos_id());  // plain text: EOS ends the answer
    auto scores = models::score_responses(runner.policy(), torch::tensor(prompt_ids).view({1, -1}),
                                          torch::ones({1, static_cast<int64_t>(prompt_ids.size())}, torch::kBool),
                                          torch::tensor(answer).view({1, -1}), 1.0, false);
    sum -= scores.logprobs.sum().item<double>();
    count += static_cast<double>(answer.size());
  }
  EXPECT_NEAR(loss, sum / count, 1e-4);
}

TEST(Sft, MicroBatchingDoesNotChangeTheUpdate) {
  // Adam divides by sqrt(v) + eps: a gradient component that is zero up to rounding (1e-9) would
  // move by ~lr/10 with the default eps 1e-8 and make the comparison depend on the CPU's summation
  // order. eps 1e-3 damps rounding noise while a real micro-batching error (a gradient off by a
  // few percent) still moves parameters by far more than the tolerance.
  trainer::SftTrainer whole(config("micro_whole", {"optim.eps=1e-3"}));
  whole.run({});
  trainer::SftTrainer split(config("micro_split", {"train.micro_batch_size=1", "optim.eps=1e-3"}));
  split.run({});
  const auto a = parameters_of(whole.run_dir()), b = parameters_of(split.run_dir());
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  EXPECT_LT(worst, 1e-5);
}

TEST(Sft, LearnsASmallSetAndResumesExactly) {
  trainer::SftTrainer learner(config("learn", {"train.steps=20", "optim.lr=3.0e-3"}));
  auto summary = learner.run({});
  EXPECT_LT(summary.last_loss, 0.5 * summary.first_loss) << summary.first_loss << " -> " << summary.last_loss;

  trainer::SftTrainer straight(config("straight", {"train.steps=4"}));
  straight.run({});
  trainer::SftTrainer first_half(config("halves", {"train.steps=4", "checkpoint.every=2"}));
  int calls = 0;
  first_half.run({}, [&calls] { return ++calls == 2; });  // stop after step 2 (a checkpoint is written)
  trainer::SftTrainer second_half(config("halves", {"train.steps=4", "checkpoint.resume=required"}));
  const auto resumed = second_half.run({});
  EXPECT_EQ(resumed.first_step, 3);
  EXPECT_EQ(parameters_of(straight.run_dir()), parameters_of(second_half.run_dir()));
  trainer::SftTrainer done(config("halves", {"train.steps=4", "checkpoint.resume=required"}));
  EXPECT_THROW(done.run({}), core::Error);  // nothing left to train
}

TEST(Sft, BadRecordsAreNamedWithTheirLine) {
  const auto bad = write_file("vecrl_sft_bad.jsonl", R"({"prompt": "a", "response": "b"})" "\n" R"({"prompt": "c"})" "\n");
  try {
    trainer::SftTrainer sft(config("bad", {"data.path=" + bad}));
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("vecrl_sft_bad.jsonl:2: the record has no string field 'response'"),
              std::string::npos)
        << e.what();
  }
}

TEST(Sft, TheShippedGsm8kConfigRuns) {
  trainer::SftTrainer sft(trainer::load_sft_config(
      std::string(VECRL_SOURCE_DIR) + "/configs/sft_gsm8k.yaml",
      {"run.output_dir=" + ::testing::TempDir() + "/vecrl_sft_runs", "run.threads=1", "model.path=" + kStories,
       "data.path=" + std::string(VECRL_SHARED_DATA) + "/datasets/gsm8k/train.jsonl", "train.steps=2",
       "train.batch_size=2", "train.max_length=128", "checkpoint.resume=never"}));
  const auto summary = sft.run({});
  EXPECT_EQ(summary.steps, 2);
  EXPECT_GT(summary.first_loss, 0);
}

namespace {

// One JSONL line: a calculator trace whose third message has `second_role`.
std::string trace_record(const std::string& second_role) {
  std::string line = R"({"prompt": [{"role": "user", "content": "Q: 12*7=?"},
             {"role": "assistant", "content": "<tool_call>{\"name\": \"calculator\", \"arguments\": {\"expression\": \"12*7\"}}</tool_call>"},
             {"role": ")" + second_role + R"(", "content": "84"},
             {"role": "assistant", "content": "\\boxed{84}"}]})";
  line.erase(std::remove(line.begin(), line.end(), '\n'), line.end());
  return line;
}

}  // namespace

TEST(Sft, AgentTracesTrainTheTurnsAndNotTheToolResponses) {
  trainer::DataOptions data;
  data.path = write_file("vecrl_sft_traces.jsonl", trace_record("tool") + "\n");
  data.chat.chat_template = "chatml";
  trainer::PromptDataset dataset(data, 1);
  const auto record = dataset.next_batch(1)[0];
  auto [input, pieces] = dataset.training_pieces(record, "response", "");
  EXPECT_EQ(input, "<|im_start|>user\nQ: 12*7=?<|im_end|>\n<|im_start|>assistant\n");
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_TRUE(pieces[0].trained);
  EXPECT_EQ(pieces[0].text.rfind("<tool_call>", 0), 0u);
  EXPECT_FALSE(pieces[1].trained);  // exactly what the agent loop appends after a call
  EXPECT_EQ(pieces[1].text,
            "<|im_end|>\n<|im_start|>user\n<tool_response>\n84\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
  EXPECT_TRUE(pieces[2].trained);
  EXPECT_EQ(pieces[2].text, "\\boxed{84}");
  // A plain prompt/response record is one trained piece, as before.
  EXPECT_EQ(dataset.training_pieces({{"prompt", "Hi"}, {"response", "Hello"}}, "response", "").second.size(), 1u);
}

TEST(Sft, AgentTracesOutOfOrderAreNamedWithTheirLine) {
  // Line 1: a user message after the call (no longer a trace: it trains on the last answer);
  // line 2: assistant messages in a row, which no agent loop produces.
  const auto bad = write_file("vecrl_sft_bad_traces.jsonl", trace_record("user") + "\n" + trace_record("assistant") + "\n");
  try {
    trainer::SftTrainer sft(config("bad_traces", {"data.path=" + bad}));
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("vecrl_sft_bad_traces.jsonl:2: message 1 ('assistant'): an agent trace alternates"),
              std::string::npos)
        << e.what();
  }
}

TEST(Sft, TheSameLoraSectionTrainsAdaptersOnAFrozenBase) {
  trainer::SftTrainer learner(config("lora", {"train.steps=20", "optim.lr=1.0e-2", "model.lora.rank=8", "model.lora.alpha=16"}));
  const auto summary = learner.run({});
  EXPECT_LT(summary.last_loss, 0.8 * summary.first_loss) << summary.first_loss << " -> " << summary.last_loss;
  // final/ is the merged model (it differs from the base), final_adapter/ the PEFT folder.
  EXPECT_NE(parameters_of(learner.run_dir()), flat_parameters(models::load_causal_lm(kStories)));
  EXPECT_TRUE(std::filesystem::exists(learner.run_dir() + "/final_adapter/adapter_model.safetensors"));
}
