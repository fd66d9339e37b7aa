#include <algorithm>
#include <torch/types.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/error.h"
#include "core/runtime.h"
#include "models/generation.h"
#include "models/logprobs.h"
#include "models/policy_runner.h"
#include "models/device.h"
#include "models/hf_checkpoint.h"
#include "models/chat/chat_format.h"
#include "models/hf_export.h"
#include "core/json_input.h"
#include "models/peft.h"
#include "models/lora.h"
#include "models/model_presets.h"
#include "core/config.h"
#include "core/safetensors.h"
#include "models/tokenizer.h"

namespace vecrl::apps {

namespace {

// The policy of a model folder, ready for inference on `device` in `dtype`, with quiet logs and
// the requested threads.
models::PolicyRunner inference_runner(const std::string& model, int threads, const std::string& device,
                                      const std::string& dtype) {
  core::configure_logging("warn");
  core::configure_threads(threads);
  models::PolicyRunner runner(model, /*load_reference=*/false);
  runner.policy()->eval();
  runner.set_compute_dtype(models::compute_dtype_named(dtype, "--dtype"));
  runner.to(models::resolve_device(device, /*local_rank=*/0, "--device"));
  return runner;
}

}  // namespace

int run_generate(const GenerateArgs& args) {
  auto runner = inference_runner(args.model, args.threads, args.device, args.dtype);
  const auto& tok = runner.tokenizer();
  const auto chat = models::make_chat_format(args.chat, args.model);
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& p : args.prompts) {
    std::vector<models::ChatMessage> messages;
    if (!args.system.empty()) messages.push_back({"system", args.system});
    messages.push_back({"user", p});
    prompts.push_back(models::encode_prompt(tok, chat->render(messages, {}), /*add_bos=*/true));
  }
  auto options = models::generation_options({args.temperature, args.top_k, args.top_p, args.min_p}, args.max_new_tokens,
                                            tok, models::stop_token_ids(*chat, tok), args.stop);
  options.seed = args.seed;
  auto gen = models::generate(runner.policy(), prompts, 1, options);
  nlohmann::json out = nlohmann::json::array();
  for (int64_t i = 0; i < gen.tokens.size(0); ++i) {
    auto length = gen.mask[i].sum().item<int64_t>();
    std::vector<int64_t> ids, text_ids;
    std::vector<double> logprobs;
    for (int64_t t = 0; t < length; ++t) {
      ids.push_back(gen.tokens[i][t].item<int64_t>());
      logprobs.push_back(gen.logprobs[i][t].item<double>());
      text_ids.push_back(ids.back());
    }
    if (!gen.truncated[i].item<bool>() && !text_ids.empty() &&
        std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), text_ids.back()) != options.stop_token_ids.end())
      text_ids.pop_back();  // the stop token is not text
    const std::string text = tok.decode(text_ids);
    if (args.json) {
      out.push_back({{"prompt", args.prompts[i]}, {"prompt_ids", prompts[i]}, {"ids", ids}, {"logprobs", logprobs},
                     {"text", text}, {"finished", !gen.truncated[i].item<bool>()}});
    } else {
      std::cout << text << "\n";
    }
  }
  if (args.json) std::cout << out.dump() << "\n";
  return 0;
}

int run_init_model(const InitModelArgs& args) {
  core::configure_logging("warn");
  models::write_random_model(args.preset, args.out, args.tokenizer, args.seed, args.init_std);
  std::cout << "wrote a random " << args.preset << " model to " << args.out << "\n";
  return 0;
}

int run_score(const ScoreArgs& args) {
  auto runner = inference_runner(args.model, args.threads, args.device, args.dtype);
  const auto& tok = runner.tokenizer();
  torch::NoGradGuard no_grad;
  const auto ids = models::encode_prompt(tok, args.text, /*add_bos=*/true);
  const auto device = runner.device();
  auto prompt = torch::tensor(std::vector<int64_t>{ids[0]}, torch::kLong).view({1, 1}).to(device);
  auto response = torch::tensor(std::vector<int64_t>(ids.begin() + 1, ids.end()), torch::kLong).view({1, -1}).to(device);
  auto scores = models::score_responses(runner.policy(), prompt, torch::ones({1, 1}, torch::kBool).to(device), response,
                                        1.0, false);
  const auto token_logprobs = scores.logprobs.to(torch::kCPU);
  std::vector<double> logprobs;
  double sum = 0;
  for (int64_t t = 0; t < response.size(1); ++t) {
    logprobs.push_back(token_logprobs[0][t].item<double>());
    sum += logprobs.back();
  }
  nlohmann::json out = {{"ids", ids}, {"token_logprobs", logprobs}, {"sum_logprob", sum}};
  std::cout << out.dump() << "\n";
  return 0;
}

int run_export(const ExportArgs& args) {
  core::configure_logging("warn");
  namespace fs = std::filesystem;
  fs::path dir(args.checkpoint);
  if (!fs::exists(dir / "state.json") && fs::is_directory(dir / "checkpoints")) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir / "checkpoints"))
      if (e.is_directory() && fs::exists(e.path() / "state.json")) found.push_back(e.path());
    VECRL_CHECK(!found.empty(), args.checkpoint, ": no complete checkpoint under checkpoints/");
    dir = *std::max_element(found.begin(), found.end());  // step_NNNNNNNN names sort by step
  }
  VECRL_CHECK(fs::exists(dir / "model.safetensors") && fs::exists(dir / "config.yaml"), dir.string(),
              ": not a checkpoint folder (expected model.safetensors and config.yaml)");
  const YAML::Node run = core::load_yaml_file((dir / "config.yaml").string());
  VECRL_CHECK(run["model"] && run["model"]["path"], (dir / "config.yaml").string(), ": no model.path");
  const std::string base = run["model"]["path"].as<std::string>();
  auto model = models::load_causal_lm(base);  // the architecture and tokenizer come from the base model
  const nlohmann::json state = core::read_json_file((dir / "state.json").string());
  if (state.contains("lora_base"))  // a LoRA run's checkpoint holds the adapters alone
    models::add_lora(model, models::lora_options_from_json(state["lora_base"]["options"], (dir / "state.json").string()));
  models::load_trainable_state(model, core::read_safetensors((dir / "model.safetensors").string()), dir.string());
  if (model->lora() && !args.merge) {
    models::save_peft_adapter(model, args.out, base);
    std::cout << "exported the LoRA adapter of " << dir.string() << " to " << args.out << " (PEFT; --merge writes a full model)\n";
    return 0;
  }
  models::save_hf_model(model, args.out, base, {args.max_shard_mb << 20});
  std::cout << "exported " << dir.string() << " to " << args.out << (model->lora() ? " (adapters merged)" : "") << "\n";
  return 0;
}

int run_tokenize(const TokenizeArgs& args) {
  auto tok = models::load_tokenizer(args.tokenizer);
  auto ids = tok->encode(args.text);
  if (args.add_special) {
    if (tok->bos_id() >= 0) ids.insert(ids.begin(), tok->bos_id());  // Qwen has none
    ids.push_back(tok->eos_id());
  }
  std::cout << nlohmann::json({{"ids", ids}}).dump() << "\n";
  return 0;
}

int run_detokenize(const DetokenizeArgs& args) {
  auto tok = models::load_tokenizer(args.tokenizer);
  std::vector<int64_t> ids;
  std::string text = args.ids;
  for (char& ch : text)
    if (ch == '[' || ch == ']' || ch == ',') ch = ' ';
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    std::size_t used = 0;
    int64_t id = -1;
    try {
      id = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    VECRL_CHECK(used == word.size(), "--ids: '", word, "' is not a token id");
    ids.push_back(id);
  }
  std::cout << nlohmann::json({{"text", tok->decode(ids)}}).dump() << "\n";
  return 0;
}

}  // namespace vecrl::apps
