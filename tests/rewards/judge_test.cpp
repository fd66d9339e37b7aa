// Rubric aggregation against algorithms.md §8's worked examples; the HTTP judge against a
// `vecrl serve` process started here (compared with the in-process judge on the same model), and
// against a deliberately misbehaving server: failures are retried, then masked, never scored 0.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "rewards/reward_set.h"
#include "rewards/rubric/rubric_aggregation.h"
#include "tests/rewards/reward_fixture.h"
#include "tests/serve_process.h"

using namespace vecrl;
using namespace vecrl::testing;
using rewards::rubric::Criterion;

namespace {

const std::vector<Criterion> kRar{{"e", "Essential", 1.0, false}, {"i", "Important", 0.7, false},
                                  {"o", "Optional", 0.3, false}, {"p", "Pitfall", 0.8, false}};
const std::vector<std::vector<double>> kVerdicts{{1, 1, 1, 1}, {1, 0, 1, 1}, {1, 1, 0, 0}, {1, 0, 0, 1}};

const std::string kModel = std::string(VECRL_SHARED_DATA) + "/models/stories260K";

std::vector<double> column_d(const core::RewardMatrix& m, int64_t k) {
  std::vector<double> out;
  for (float v : column(m, k)) out.push_back(v);
  return out;
}

}  // namespace

TEST(RubricAggregation, RarAndPow3rWorkedExamples) {
  const std::vector<double> rar{1.0, 0.75, 0.6071, 0.6429};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(rewards::rubric::explicit_score(kRar, kVerdicts[i]), rar[i], 1e-4);
  const auto pow3r = rewards::rubric::pow3r_scores(kRar, kVerdicts);
  const std::vector<double> expected{1.0, 0.5625, 0.4375, 0.375};
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(pow3r[i], expected[i], 1e-4);
  // No contrast at all (every criterion saturated): the static weights.
  const auto flat = rewards::rubric::pow3r_scores(kRar, {{1, 1, 0, 1}, {1, 1, 0, 1}});
  EXPECT_NEAR(flat[0], 2.5 / 2.8, 1e-9);
  auto gated = kRar;
  gated[0].hard = true;
  EXPECT_EQ(rewards::rubric::hard_gate_score(gated, {0, 1, 1, 1}), 0.0);
  EXPECT_NEAR(rewards::rubric::hard_gate_score(gated, {1, 1, 0, 1}), 1.5 / 1.8, 1e-9);
  EXPECT_EQ(rewards::rubric::strict_completion(kRar, {0, 1, 1, 1}), 0.0);
  EXPECT_THROW(rewards::rubric::category_weight("Crucial"), core::Error);
}

TEST(Judge, HttpJudgeThroughVecrlServeAgreesWithTheInProcessJudge) {
  ServeProcess server(kModel);
  ASSERT_GT(server.port(), 0) << "vecrl serve did not report a port";
  // stories260K cannot read a rubric, but its next-token distribution after a quote is a fine
  // yes/no oracle: "Y" (Yes) against "N" (No) as spelled by its tokenizer.
  const std::string criteria = R"(criteria: [{criterion: 'Lily is happy.', category: Essential}])";
  const std::string question = R"(criterion_template: "{response} Mom asked: {criterion} Lily said, \"")";
  const std::string http_yaml = "rewards:\n  - {type: rubric, soft: true, " + criteria + ", " + question +
                                ", judge: {type: http, base_url: 'http://127.0.0.1:" + std::to_string(server.port()) +
                                "/v1', top_logprobs: 20, yes: [Y], no: [N]}}\n";
  const std::string local_yaml = "rewards:\n  - {type: rubric, soft: true, " + criteria + ", " + question +
                                 ", judge: {type: local, model: path, path: '" + kModel + "', yes: [Y], no: [N]}}\n";
  auto r = rollouts({"Lily played with her ball.", "The dog ran away and Lily cried."});
  rewards::RewardSet http(specs(http_yaml)), local(specs(local_yaml));
  auto a = http.score(r), b = local.score(r);
  ASSERT_TRUE(a.valid.select(2, 0).all().item().toBool()) << "http judge failed";
  ASSERT_TRUE(b.valid.select(2, 0).all().item().toBool()) << "local judge failed";
  const auto pa = column_d(a, 0), pb = column_d(b, 0);
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_GT(pa[i], 0.0);
    EXPECT_LT(pa[i], 1.0);
    EXPECT_NEAR(pa[i], pb[i], 0.02) << i;  // top-20 log-probs over HTTP vs the full distribution
  }
  EXPECT_EQ(http.failures(), 0);

  // The artifact detector through the same server: 1 - P(yes).
  rewards::RewardSet artifact(specs("rewards:\n  - {type: artifact_judge, question: '{response} Mom asked: is it bad? Lily said, \"', "
                                    "judge: {type: http, base_url: 'http://127.0.0.1:" + std::to_string(server.port()) +
                                    "', top_logprobs: 20, yes: [Y], no: [N]}}\n"));
  auto clean = artifact.score(r);
  ASSERT_TRUE(clean.valid.all().item().toBool());
  EXPECT_GT(column(clean, 0)[0], 0.0f);
  EXPECT_LT(column(clean, 0)[0], 1.0f);
}

TEST(Judge, MisbehavingServersAreRetriedThenMasked) {
  httplib::Server bad;
  std::atomic<int> calls{0};
  const std::string good_reply =
      R"({"choices": [{"message": {"role": "assistant", "content": "Yes"}, "logprobs": {"content": [{"token": "Yes",
          "logprob": -0.1, "top_logprobs": [{"token": "Yes", "logprob": -0.1}, {"token": " no", "logprob": -2.4}]}]}}]})";
  bad.Post("/flaky/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    if (calls++ % 3 != 2) {
      res.status = 500;  // two failures, then an answer
      return;
    }
    res.set_content(good_reply, "application/json");
  });
  bad.Post("/garbage/v1/chat/completions",
           [&](const httplib::Request&, httplib::Response& res) { res.set_content("<html>oops", "text/html"); });
  bad.Post("/hang/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content(good_reply, "application/json");
  });
  bad.Post("/refuse/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content(R"({"error": {"message": "bad"}})", "application/json");
  });
  const int port = bad.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { bad.listen_after_bind(); });
  // The judge always calls <host>/v1/chat/completions, so a front server forwards each call to the
  // behaviour under test.
  httplib::Server front;
  std::string mode = "flaky";
  front.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5, 0);
    auto r = client.Post(("/" + mode + "/v1/chat/completions").c_str(), req.body, "application/json");
    if (!r) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    res.set_content(r->body, "application/json");
  });
  const int front_port = front.bind_to_any_port("127.0.0.1");
  std::thread front_serving([&] { front.listen_after_bind(); });

  auto judge_set = [&](const std::string& extra) {
    return std::make_unique<rewards::RewardSet>(specs(
        "rewards:\n  - {type: artifact_judge, judge: {type: http, base_url: 'http://127.0.0.1:" + std::to_string(front_port) +
        "', retries: 2, backoff_s: 0.01, timeout_s: 0.5" + extra + "}}\n"));
  };
  auto r = rollouts({"a response"});
  {
    auto set = judge_set("");
    auto m = set->score(r);  // 500, 500, then the answer: retried and scored
    ASSERT_TRUE(m.valid.all().item().toBool());
    EXPECT_NEAR(column(m, 0)[0], 1.0 - 1.0 / (1.0 + std::exp(-2.4 + 0.1)), 1e-5);
    EXPECT_EQ(calls.load(), 3);
  }
  for (const std::string behaviour : {"garbage", "hang", "refuse"}) {
    mode = behaviour;
    auto set = judge_set("");
    const auto start = std::chrono::steady_clock::now();
    auto m = set->score(r);
    EXPECT_FALSE(m.valid.any().item().toBool()) << behaviour;  // masked, not a silent 0
    EXPECT_EQ(set->failures(), 1) << behaviour;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0) << behaviour;
  }
  front.stop();
  bad.stop();
  front_serving.join();
  serving.join();
  // Nothing listening at all.
  auto set = std::make_unique<rewards::RewardSet>(specs(
      "rewards:\n  - {type: artifact_judge, judge: {type: http, base_url: 'http://127.0.0.1:1', retries: 1, backoff_s: 0}}\n"));
  EXPECT_FALSE(set->score(r).valid.any().item().toBool());
}

TEST(Judge, ApiKeyComesFromTheEnvironmentAndNeverIntoTheResolvedConfig) {
  setenv("VECRL_TEST_JUDGE_KEY", "sk-secret-value", 1);
  core::ConfigNode root(YAML::Load("rewards: [{type: artifact_judge, judge: {type: http, base_url: 'http://127.0.0.1:1', "
                                   "api_key_env: VECRL_TEST_JUDGE_KEY}}]"),
                        "t.yaml");
  std::vector<core::ComponentSpec> specs_list;
  root.component_list("rewards", specs_list);
  rewards::RewardSet set(specs_list);
  std::ostringstream resolved;
  resolved << root.resolved();
  EXPECT_EQ(resolved.str().find("sk-secret-value"), std::string::npos);
  EXPECT_NE(resolved.str().find("VECRL_TEST_JUDGE_KEY"), std::string::npos);
  try {
    rewards::RewardSet missing(specs("rewards: [{type: artifact_judge, judge: {type: http, base_url: 'http://x', api_key_env: VECRL_NOT_SET_ANYWHERE}}]"));
    FAIL() << "expected an error";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("VECRL_NOT_SET_ANYWHERE, which is not set"), std::string::npos) << e.what();
  }
}

TEST(Judge, AServerEchoingTheKeyNeverGetsItIntoLogsOrErrors) {
  setenv("VECRL_TEST_ECHO_KEY", "sk-echoed-secret", 1);
  // A server that answers with the Authorization header it received: first as a 401, then as an
  // unparsable 200, then as a 500.
  httplib::Server echo;
  std::atomic<int> calls{0};
  echo.Post("/v1/chat/completions", [&calls](const httplib::Request& request, httplib::Response& response) {
    const auto n = calls++;
    response.status = n % 3 == 0 ? 401 : n % 3 == 1 ? 200 : 500;
    response.set_content("you sent " + request.get_header_value("Authorization"), "text/plain");
  });
  const int port = echo.bind_to_any_port("127.0.0.1");
  std::thread serving([&echo] { echo.listen_after_bind(); });
  auto captured = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*captured);
  spdlog::default_logger()->sinks().push_back(sink);
  std::string errors;
  for (int round = 0; round < 3; ++round) {
    rewards::RewardSet set(specs("rewards: [{type: artifact_judge, judge: {type: http, base_url: 'http://127.0.0.1:" +
                                 std::to_string(port) + "', retries: 0, backoff_s: 0, api_key_env: VECRL_TEST_ECHO_KEY}}]"));
    auto scored = set.score(rollouts({"first answer", "second answer"}));
    EXPECT_FALSE(scored.valid.any().item().toBool());  // masked, not scored
  }
  spdlog::default_logger()->sinks().pop_back();
  echo.stop();
  serving.join();
  EXPECT_GE(calls.load(), 3);
  EXPECT_NE(captured->str().find("[redacted]"), std::string::npos) << captured->str();
  EXPECT_EQ(captured->str().find("sk-echoed-secret"), std::string::npos) << captured->str();
}

TEST(Serve, MalformedAndOversizedRequestsGet4xxAndTheServerKeepsServing) {
  ServeProcess server(kModel);
  ASSERT_GT(server.port(), 0);
  httplib::Client client("127.0.0.1", server.port());
  auto post = [&](const std::string& path, const std::string& body) {
    auto r = client.Post(path.c_str(), body, "application/json");
    return r ? std::make_pair(r->status, r->body) : std::make_pair(-1, std::string());
  };
  auto bad_json = post("/v1/chat/completions", "{not json");
  EXPECT_EQ(bad_json.first, 400);
  EXPECT_NE(bad_json.second.find("\"invalid_request_error\""), std::string::npos) << bad_json.second;
  EXPECT_EQ(post("/v1/chat/completions", R"({"messages": []})").first, 400);
  EXPECT_EQ(post("/v1/completions", R"({"prompt": "x", "max_tokens": 100000})").first, 400);
  EXPECT_EQ(post("/v1/completions", R"({"prompt": "x", "temperature": "hot"})").first, 400);
  EXPECT_EQ(post("/v1/completions", std::string(2 << 20, 'a')).first, 413);
  EXPECT_EQ(post("/v1/nothing", "{}").first, 404);
  auto models = client.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_NE(models->body.find("stories260K"), std::string::npos);
  auto ok = post("/v1/completions", R"({"prompt": "Once upon a time", "max_tokens": 4, "temperature": 0, "logprobs": 2})");
  ASSERT_EQ(ok.first, 200) << ok.second;
  auto j = nlohmann::json::parse(ok.second);
  EXPECT_EQ(j["choices"][0]["text"], ", there was a");  // greedy: the known stories260K continuation
  EXPECT_EQ(j["choices"][0]["logprobs"]["top_logprobs"].size(), 4u);
}
