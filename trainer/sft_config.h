#pragma once
// `vecrl sft run.yaml`: supervised fine-tuning on (prompt, response) records or conversations,
// with the loss on the response tokens only. Shares the RL run's sections (run, model, optim,
// checkpoint) and data options; its own are the response fields and the batch shape.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trainer/run_config.h"

namespace vecrl::trainer {

struct SftDataOptions {
  DataOptions prompts;                    // path, prompt_field/prompt_template, chat_template, ...
  std::string response_field = "response";
  std::string response_template;          // e.g. "{solution}"; {field} inserts a record field

  template <class V>
  void visit(V& v) {
    prompts.visit(v);
    v.field("response_field", response_field);
    v.field("response_template", response_template);
  }
};

struct SftTrainOptions {
  int64_t epochs = 1;           // passes over the data (when steps is 0)
  int64_t steps = 0;            // optimizer steps; 0 = epochs x records / batch_size
  int64_t batch_size = 8;       // examples per optimizer step
  int64_t micro_batch_size = 8; // examples per forward/backward (does not change results)
  int64_t max_length = 1024;    // prompt + response tokens; longer responses are cut (counted)
  int64_t chunk_tokens = 1024;  // LM-head rows at a time in the fused log-prob computation

  template <class V>
  void visit(V& v) {
    v.field("epochs", epochs);
    v.field("steps", steps);
    v.field("batch_size", batch_size);
    v.field("micro_batch_size", micro_batch_size);
    v.field("max_length", max_length);
    v.field("chunk_tokens", chunk_tokens);
    v.require(epochs >= 1, "epochs", core::str_cat("must be >= 1, got ", epochs));
    v.require(steps >= 0, "steps", core::str_cat("must be >= 0, got ", steps));
    v.require(batch_size >= 1, "batch_size", core::str_cat("must be >= 1, got ", batch_size));
    v.require(micro_batch_size >= 1, "micro_batch_size", core::str_cat("must be >= 1, got ", micro_batch_size));
    v.require(max_length >= 2, "max_length", core::str_cat("must be >= 2, got ", max_length));
    v.require(chunk_tokens >= 1, "chunk_tokens", core::str_cat("must be >= 1, got ", chunk_tokens));
  }
};

struct SftConfig {
  RunOptions run;
  ModelOptions model;
  SftDataOptions data;
  OptimOptions optim;
  SftTrainOptions train;
  CheckpointOptions checkpoint;

  template <class V>
  void visit(V& v) {
    v.section("run", run);
    v.section("model", model);
    v.section("data", data);
    v.section("optim", optim);
    v.section("train", train);
    v.section("checkpoint", checkpoint);
  }
};

struct LoadedSftConfig {
  SftConfig config;
  std::shared_ptr<core::ConfigNode> root;
};

LoadedSftConfig load_sft_config(const std::string& file, const std::vector<std::string>& overrides);

}  // namespace vecrl::trainer
