// http judge: any OpenAI-compatible server (`vecrl serve`, vLLM, a hosted API) through
// /v1/chat/completions. P(yes) from the first token's top_logprobs when the server returns them,
// else from the reply's first word. Failed calls (no connection, timeouts, 429/5xx, garbage) are
// retried with exponential back-off, then the text is marked not-valid by the caller. The API key
// is read from the environment variable named in `api_key_env` and never logged or echoed.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "rewards/judge/judge.h"
#include "core/json_input.h"
#include "rewards/verifiable/text_match.h"

namespace vecrl::rewards {
namespace {

struct HttpJudgeOptions {
  std::string base_url;        // http://host:port (a trailing /v1 is accepted)
  std::string model;           // the server's model id
  std::string api_key_env;     // name of the environment variable holding the API key (optional)
  double timeout_s = 30.0;
  int64_t retries = 3;
  double backoff_s = 0.5;      // doubled after each failed attempt
  int64_t max_concurrency = 8;
  bool use_logprobs = true;
  int64_t top_logprobs = 10;
  std::vector<std::string> yes{"yes", "Yes", "YES"};  // token texts (trimmed) that count as yes
  std::vector<std::string> no{"no", "No", "NO"};

  template <class V>
  void visit(V& v) {
    v.field("base_url", base_url);
    v.field("model", model);
    v.field("api_key_env", api_key_env);
    v.field("timeout_s", timeout_s);
    v.field("retries", retries);
    v.field("backoff_s", backoff_s);
    v.field("max_concurrency", max_concurrency);
    v.field("use_logprobs", use_logprobs);
    v.field("top_logprobs", top_logprobs);
    v.field("yes", yes);
    v.field("no", no);
    v.require(base_url.rfind("http://", 0) == 0 || base_url.rfind("https://", 0) == 0, "base_url",
              "must start with http:// or https://, got '" + base_url + "'");
    v.require(timeout_s > 0, "timeout_s", core::str_cat("must be > 0, got ", timeout_s));
    v.require(retries >= 0, "retries", core::str_cat("must be >= 0, got ", retries));
    v.require(backoff_s >= 0, "backoff_s", core::str_cat("must be >= 0, got ", backoff_s));
    v.require(max_concurrency >= 1, "max_concurrency", core::str_cat("must be >= 1, got ", max_concurrency));
    v.require(top_logprobs >= 1 && top_logprobs <= 20, "top_logprobs", core::str_cat("must be in [1, 20], got ", top_logprobs));
    v.require(api_key_env.empty() || std::getenv(api_key_env.c_str()) != nullptr, "api_key_env",
              "names the environment variable " + api_key_env + ", which is not set");
  }
};

// Blocks while `limit` calls are in flight.
class Slots {
 public:
  explicit Slots(int64_t limit) : free_(limit) {}
  void acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++free_;
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int64_t free_;
};

class HttpJudge : public Judge {
 public:
  explicit HttpJudge(HttpJudgeOptions o) : o_(std::move(o)), slots_(o_.max_concurrency) {
    host_ = o_.base_url;
    while (!host_.empty() && host_.back() == '/') host_.pop_back();
    if (host_.size() >= 3 && host_.compare(host_.size() - 3, 3, "/v1") == 0) host_.resize(host_.size() - 3);
    if (!o_.api_key_env.empty()) api_key_ = std::getenv(o_.api_key_env.c_str());
  }

  double p_yes(const std::string& question, const ScoringModels*) const override {
    const auto response = chat(question, 1, o_.use_logprobs);
    const auto& choice = response.at("choices").at(0);
    if (o_.use_logprobs && choice.contains("logprobs") && choice["logprobs"].is_object() &&
        choice["logprobs"].contains("content") && !choice["logprobs"]["content"].empty()) {
      double lp_yes = -INFINITY, lp_no = -INFINITY;
      for (const auto& alternative : choice["logprobs"]["content"].at(0).at("top_logprobs")) {
        const std::string token = trim(alternative.at("token").get<std::string>());
        const double lp = alternative.at("logprob").get<double>();
        if (std::find(o_.yes.begin(), o_.yes.end(), token) != o_.yes.end()) lp_yes = log_add(lp_yes, lp);
        if (std::find(o_.no.begin(), o_.no.end(), token) != o_.no.end()) lp_no = log_add(lp_no, lp);
      }
      return p_yes_from_logprobs(lp_yes, lp_no);
    }
    return p_yes_from_reply(choice.at("message").at("content").get<std::string>());
  }

  std::string reply(const std::string& question, int64_t max_tokens, const ScoringModels*) const override {
    return chat(question, max_tokens, false).at("choices").at(0).at("message").at("content").get<std::string>();
  }

 private:
  static double log_add(double a, double b) {
    if (!std::isfinite(a)) return b;
    return std::max(a, b) + std::log1p(std::exp(-std::abs(a - b)));
  }

  nlohmann::json chat(const std::string& question, int64_t max_tokens, bool logprobs) const {
    nlohmann::json body{{"model", o_.model},
                        {"messages", {{{"role", "user"}, {"content", question}}}},
                        {"max_tokens", max_tokens},
                        {"temperature", 0}};
    if (logprobs) body["logprobs"] = true, body["top_logprobs"] = o_.top_logprobs;
    const std::string payload = body.dump();
    std::string last_error;
    double wait = o_.backoff_s;
    for (int64_t attempt = 0; attempt <= o_.retries; ++attempt) {
      if (attempt > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        wait *= 2;
      }
      slots_.acquire();
      httplib::Client client(host_);
      const auto seconds = static_cast<time_t>(o_.timeout_s);
      const auto micros = static_cast<time_t>((o_.timeout_s - static_cast<double>(seconds)) * 1e6);
      client.set_connection_timeout(seconds, micros);
      client.set_read_timeout(seconds, micros);
      client.set_write_timeout(seconds, micros);
      httplib::Headers headers;
      if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
      auto result = client.Post("/v1/chat/completions", headers, payload, "application/json");
      slots_.release();
      if (!result) {
        last_error = "request failed: " + httplib::to_string(result.error());
        continue;
      }
      if (result->status == 429 || result->status >= 500) {
        last_error = "HTTP " + std::to_string(result->status);
        continue;
      }
      VECRL_CHECK(result->status == 200, "judge server ", host_, " refused the request: HTTP ", result->status, ": ",
                  redacted(result->body.substr(0, 300)));
      auto parsed = core::try_parse_json(result->body);
      if (parsed.is_discarded() || !parsed.contains("choices") || !parsed["choices"].is_array() ||
          parsed["choices"].empty()) {
        last_error = "unparsable reply: " + redacted(result->body.substr(0, 120));
        continue;
      }
      return parsed;
    }
    VECRL_CHECK(false, "judge server ", host_, " failed ", o_.retries + 1, " attempts; last: ", last_error);
    return {};
  }

  // A server's text with the API key blanked out: a misbehaving server may echo the request's
  // headers, and its text ends up in warnings and errors.
  std::string redacted(std::string text) const {
    if (api_key_.empty()) return text;
    for (auto at = text.find(api_key_); at != std::string::npos; at = text.find(api_key_, at))
      text.replace(at, api_key_.size(), "[redacted]");
    return text;
  }

  HttpJudgeOptions o_;
  std::string host_, api_key_;
  mutable Slots slots_;
};

VECRL_REGISTER(judge_registry(), "http", (core::make_configured<Judge, HttpJudgeOptions, HttpJudge>));

}  // namespace
}  // namespace vecrl::rewards
