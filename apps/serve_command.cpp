// vecrl serve: an OpenAI-compatible HTTP server for any model vecrl loads — /v1/models,
// /v1/completions and /v1/chat/completions with logprobs/top_logprobs. It serves trained policies
// and is the judge endpoint of rubric/artifact rewards. Requests are validated (4xx with an
// OpenAI-style error body), bodies are size-limited, generation runs one request at a time.
// Chat messages are joined as plain text (system, user and assistant contents separated by blank
// lines) until chat templates land.
#include <httplib.h>
#include <signal.h>
#include <torch/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apps/commands.h"
#include "apps/connection_guard.h"
#include "core/error.h"
#include "core/json_input.h"
#include "core/runtime.h"
#include "models/generation.h"
#include "models/next_token.h"
#include "models/policy_runner.h"

namespace vecrl::apps {
namespace {

// A request error: HTTP 400 with this message.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T get_or(const nlohmann::json& body, const char* key, T fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  try {
    return body[key].get<T>();
  } catch (const std::exception&) {
    throw BadRequest(std::string("'") + key + "' has the wrong type: " + body[key].dump().substr(0, 60));
  }
}

struct Completion {
  std::string text;
  std::string finish_reason;
  int64_t prompt_tokens = 0;
  std::vector<int64_t> ids;
  std::vector<double> logprobs;
  std::vector<std::vector<std::pair<int64_t, double>>> top;  // per generated token
};

constexpr int64_t kMaxRequestDepth = 32;  // an OpenAI request nests 4-5 levels

class Server {
 public:
  Server(const ServeArgs& args) : args_(args), runner_(args.model, false) {
    runner_.policy()->eval();
    name_ = args.name.empty() ? std::filesystem::path(args.model).filename().string() : args.name;
  }

  int run() {
    httplib::Server http;
    http.set_payload_max_length(static_cast<std::size_t>(args_.max_body_kb) * 1024);
    http.new_task_queue = [this] {
      return new_guarded_task_queue({args_.max_connections, args_.request_timeout_s});
    };
    http.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
      HandlerScope in_handler;
      reply(res, 200, {{"object", "list"}, {"data", {{{"id", name_}, {"object", "model"}, {"owned_by", "vecrl"}}}}});
    });
    http.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, [&](const nlohmann::json& body) { return completions(body); });
    });
    http.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, [&](const nlohmann::json& body) { return chat(body); });
    });
    http.set_error_handler([&](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) error(res, res.status, res.status == 413 ? "request body too large" : "not found");
    });
    int port = args_.port;
    if (port == 0) {
      port = http.bind_to_any_port(args_.host);
    } else if (!http.bind_to_port(args_.host, port)) {
      port = -1;
    }
    VECRL_CHECK(port > 0, "serve: cannot listen on ", args_.host, ":", args_.port);
    std::cout << "vecrl serve: " << name_ << " on http://" << args_.host << ":" << port << std::endl;
    // SIGTERM / SIGINT stop the server cleanly.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::thread stopper([&] {
      int signal = 0;
      sigwait(&signals, &signal);
      http.stop();
    });
    stopper.detach();
    http.listen_after_bind();
    return 0;
  }

 private:
  static void reply(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  static void error(httplib::Response& res, int status, const std::string& message) {
    reply(res, status, {{"error", {{"message", message}, {"type", "invalid_request_error"}}}});
  }

  template <class F>
  void handle(const httplib::Request& req, httplib::Response& res, F&& f) {
    HandlerScope in_handler;
    // nlohmann's parser copes with any depth, but printing or freeing a deep value recurses per level.
    if (core::json_nesting_depth(req.body, kMaxRequestDepth) > kMaxRequestDepth)
      return error(res, 400, "the request body nests arrays/objects deeper than " + std::to_string(kMaxRequestDepth) +
                                 " levels");
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return error(res, 400, "the request body is not a JSON object");
    try {
      reply(res, 200, f(body));
    } catch (const BadRequest& e) {
      error(res, 400, e.what());
    } catch (const std::exception& e) {
      error(res, 500, std::string("generation failed: ") + e.what());
    }
  }

  Completion complete(const std::string& prompt, const nlohmann::json& body, int64_t top_logprobs) {
    const auto max_tokens = get_or<int64_t>(body, "max_tokens", get_or<int64_t>(body, "max_completion_tokens", 16));
    if (max_tokens < 1 || max_tokens > args_.max_tokens)
      throw BadRequest("max_tokens must be in [1, " + std::to_string(args_.max_tokens) + "], got " + std::to_string(max_tokens));
    if (get_or<int64_t>(body, "n", 1) != 1) throw BadRequest("only n = 1 is supported");
    if (get_or<bool>(body, "stream", false)) throw BadRequest("streaming is not supported");
    models::SamplerOptions sampler;
    sampler.temperature = get_or<double>(body, "temperature", 1.0);
    sampler.top_p = get_or<double>(body, "top_p", 1.0);
    if (sampler.temperature < 0 || sampler.temperature > 10) throw BadRequest("temperature must be in [0, 10]");
    if (!(sampler.top_p > 0 && sampler.top_p <= 1)) throw BadRequest("top_p must be in (0, 1]");
    const auto& tok = runner_.tokenizer();
    auto options = models::generation_options(sampler, max_tokens, tok, {tok.eos_id()}, {});
    options.seed = get_or<uint64_t>(body, "seed", 0);
    auto prompt_ids = models::encode_prompt(tok, prompt, true);
    const int64_t context = runner_.policy()->config().max_position_embeddings;
    if (static_cast<int64_t>(prompt_ids.size()) + max_tokens > context)
      throw BadRequest("the prompt (" + std::to_string(prompt_ids.size()) + " tokens) plus max_tokens (" +
                       std::to_string(max_tokens) + ") exceed the model's context length of " + std::to_string(context) +
                       " tokens");
    std::lock_guard<std::mutex> lock(mutex_);  // one generation at a time
    auto gen = models::generate(runner_.policy(), {prompt_ids}, 1, options);
    Completion c;
    c.prompt_tokens = static_cast<int64_t>(prompt_ids.size());
    const auto length = gen.mask[0].sum().item<int64_t>();
    std::vector<int64_t> text_ids;
    for (int64_t t = 0; t < length; ++t) {
      c.ids.push_back(gen.tokens[0][t].item<int64_t>());
      c.logprobs.push_back(gen.logprobs[0][t].item<double>());
      if (c.ids.back() != tok.eos_id()) text_ids.push_back(c.ids.back());
    }
    c.text = tok.decode(text_ids);
    c.finish_reason = gen.truncated[0].item<bool>() ? "length" : "stop";
    if (top_logprobs > 0 && !c.ids.empty()) {
      // The distribution each generated token was drawn from (untempered, as OpenAI reports it).
      auto sequence = prompt_ids;
      sequence.insert(sequence.end(), c.ids.begin(), c.ids.end() - 1);
      auto lp = models::next_token_logprobs(runner_.policy(), sequence, static_cast<int64_t>(prompt_ids.size()) - 1);
      auto [values, indices] = lp.topk(top_logprobs, -1);
      for (int64_t t = 0; t < static_cast<int64_t>(c.ids.size()); ++t) {
        std::vector<std::pair<int64_t, double>> row;
        for (int64_t k = 0; k < top_logprobs; ++k) row.emplace_back(indices[t][k].item<int64_t>(), values[t][k].item<double>());
        c.top.push_back(std::move(row));
        c.logprobs[t] = lp[t][c.ids[t]].item<double>();
      }
    }
    return c;
  }

  std::string piece(int64_t id) const { return runner_.tokenizer().decode({id}); }

  nlohmann::json usage(const Completion& c) const {
    const auto completion = static_cast<int64_t>(c.ids.size());
    return {{"prompt_tokens", c.prompt_tokens}, {"completion_tokens", completion}, {"total_tokens", c.prompt_tokens + completion}};
  }

  nlohmann::json completions(const nlohmann::json& body) {
    if (!body.contains("prompt") || !body["prompt"].is_string()) throw BadRequest("'prompt' must be a string");
    const auto logprobs = get_or<int64_t>(body, "logprobs", 0);
    if (logprobs < 0 || logprobs > 20) throw BadRequest("logprobs must be in [0, 20]");
    const auto c = complete(body["prompt"].get<std::string>(), body, logprobs);
    nlohmann::json choice{{"index", 0}, {"text", c.text}, {"finish_reason", c.finish_reason}, {"logprobs", nullptr}};
    if (logprobs > 0) {
      nlohmann::json tokens = nlohmann::json::array(), token_logprobs = nlohmann::json::array(), top = nlohmann::json::array();
      for (std::size_t t = 0; t < c.ids.size(); ++t) {
        tokens.push_back(piece(c.ids[t]));
        token_logprobs.push_back(c.logprobs[t]);
        nlohmann::json alternatives = nlohmann::json::object();
        for (const auto& [id, lp] : c.top[t]) alternatives[piece(id)] = lp;
        top.push_back(alternatives);
      }
      choice["logprobs"] = {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}};
    }
    return {{"id", "cmpl-" + std::to_string(++counter_)}, {"object", "text_completion"}, {"created", now()},
            {"model", name_}, {"choices", {choice}}, {"usage", usage(c)}};
  }

  nlohmann::json chat(const nlohmann::json& body) {
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
      throw BadRequest("'messages' must be a non-empty list");
    std::string prompt;
    for (const auto& message : body["messages"]) {
      if (!message.is_object() || !message.contains("content") || !message["content"].is_string())
        throw BadRequest("every message needs a string 'content'");
      prompt += (prompt.empty() ? "" : "\n\n") + message["content"].get<std::string>();
    }
    const bool logprobs = get_or<bool>(body, "logprobs", false);
    const auto top_logprobs = get_or<int64_t>(body, "top_logprobs", logprobs ? 1 : 0);
    if (top_logprobs < 0 || top_logprobs > 20) throw BadRequest("top_logprobs must be in [0, 20]");
    const auto c = complete(prompt, body, logprobs ? std::max<int64_t>(1, top_logprobs) : 0);
    nlohmann::json choice{{"index", 0},
                          {"message", {{"role", "assistant"}, {"content", c.text}}},
                          {"finish_reason", c.finish_reason},
                          {"logprobs", nullptr}};
    if (logprobs) {
      nlohmann::json content = nlohmann::json::array();
      for (std::size_t t = 0; t < c.ids.size(); ++t) {
        nlohmann::json alternatives = nlohmann::json::array();
        for (int64_t k = 0; k < top_logprobs; ++k)
          alternatives.push_back({{"token", piece(c.top[t][k].first)}, {"logprob", c.top[t][k].second}});
        content.push_back({{"token", piece(c.ids[t])}, {"logprob", c.logprobs[t]}, {"top_logprobs", alternatives}});
      }
      choice["logprobs"] = {{"content", content}};
    }
    return {{"id", "chatcmpl-" + std::to_string(++counter_)}, {"object", "chat.completion"}, {"created", now()},
            {"model", name_}, {"choices", {choice}}, {"usage", usage(c)}};
  }

  static int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  ServeArgs args_;
  models::PolicyRunner runner_;
  std::string name_;
  std::mutex mutex_;
  std::atomic<int64_t> counter_{0};
};

}  // namespace

int run_serve(const ServeArgs& args) {
  core::configure_logging("warn");
  core::configure_threads(args.threads);
  Server server(args);
  return server.run();
}

}  // namespace vecrl::apps
