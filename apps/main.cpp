// vecrl: the command-line entry point. Parses arguments and dispatches; all work is in the layers.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "apps/commands.h"

#ifndef VECRL_VERSION
#define VECRL_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace vecrl::apps;
  CLI::App app{"vecrl: reinforcement-learning post-training of language models with vector rewards"};
  app.set_version_flag("--version", std::string("vecrl ") + VECRL_VERSION);
  app.require_subcommand(1);

  TrainArgs train;
  auto* train_cmd = app.add_subcommand("train", "Train a policy with RL from a YAML run config");
  train_cmd->add_option("config", train.config, "run config (YAML)")->required()->check(CLI::ExistingFile);
  train_cmd->add_option("overrides", train.overrides, "overrides, key.path=value (e.g. optim.lr=1e-5)");

  GenerateArgs gen;
  auto* gen_cmd = app.add_subcommand("generate", "Generate continuations of prompts");
  gen_cmd->add_option("--model", gen.model, "HuggingFace model folder")->required();
  gen_cmd->add_option("--prompt", gen.prompts, "prompt text (repeatable); BOS is prepended")->required();
  gen_cmd->add_option("--max-new-tokens", gen.max_new_tokens, "tokens to generate at most")
      ->capture_default_str()->check(CLI::PositiveNumber);
  gen_cmd->add_option("--temperature", gen.temperature, "sampling temperature; 0 = greedy")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  gen_cmd->add_option("--top-p", gen.top_p, "nucleus sampling mass in (0, 1]")->capture_default_str()->check(CLI::Range(1e-9, 1.0));
  gen_cmd->add_option("--seed", gen.seed, "sampling seed")->capture_default_str();
  gen_cmd->add_flag("--json", gen.json, "print JSON with ids and log-probs instead of text");
  gen_cmd->add_option("--threads", gen.threads, "CPU threads; 0 = all cores")->capture_default_str();

  ScoreArgs score;
  auto* score_cmd = app.add_subcommand("score", "Per-token log-probs of a text as JSON");
  score_cmd->add_option("--model", score.model, "HuggingFace model folder")->required();
  score_cmd->add_option("--text", score.text, "text to score; BOS is prepended")->required();
  score_cmd->add_option("--threads", score.threads, "CPU threads; 0 = all cores")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (train_cmd->parsed()) return run_train(train);
    if (gen_cmd->parsed()) return run_generate(gen);
    if (score_cmd->parsed()) return run_score(score);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
