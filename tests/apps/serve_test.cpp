// `vecrl serve` against hostile clients: a deeply nested body, requests past the model's context,
// and clients that send their headers slowly (issue 24).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/serve_process.h"

using vecrl::testing::ServeProcess;

namespace {

const std::string kModel = std::string(VECRL_SHARED_DATA) + "/models/stories260K";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return -1;
  return fd;
}

httplib::Result post(int port, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  return client.Post("/v1/completions", body, "application/json");
}

}  // namespace

TEST(ServeHostile, DeeplyNestedBodyIsA400AndTheServerLives) {
  ServeProcess server(kModel);
  ASSERT_GT(server.port(), 0);
  const std::string nested = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string& body : {R"({"prompt": "Once", "max_tokens": )" + nested + "}",
                                  R"({"messages": [{"role": "user", "content": )" + nested + "}]}"}) {
    auto r = post(server.port(), body);
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(r->body.find("deeper than"), std::string::npos) << r->body;
  }
  EXPECT_TRUE(server.running());
  auto ok = post(server.port(), R"({"prompt": "Once", "max_tokens": 4, "temperature": 0})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ServeHostile, RequestsPastTheContextAreA400NamingIt) {
  ServeProcess server(kModel);  // stories260K: 512 positions; --max-tokens 1024 by default
  ASSERT_GT(server.port(), 0);
  std::string long_prompt;
  for (int i = 0; i < 700; ++i) long_prompt += "the cat ";
  for (const std::string& body : {std::string(R"({"prompt": "Once", "max_tokens": 600})"),
                                  R"({"prompt": ")" + long_prompt + R"(", "max_tokens": 16})"}) {
    auto r = post(server.port(), body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(r->body.find("context length of 512"), std::string::npos) << r->body;
  }
  auto fits = post(server.port(), R"({"prompt": "Once", "max_tokens": 500, "temperature": 0})");
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200) << fits->body;
}

TEST(ServeHostile, SlowHeaderClientsNeitherBlockOthersNorStay) {
  ServeProcess server(kModel, {"--request-timeout-s", "2"});
  ASSERT_GT(server.port(), 0);
  // 12 clients (more than httplib's default 8 workers) that send a header byte every 0.5 s, each
  // read within the per-read timeout, for up to 8 s. Each notes when the server closed on it.
  constexpr int kSlow = 12;
  std::vector<double> closed_after(kSlow, -1.0);
  std::vector<std::thread> slow;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kSlow; ++i)
    slow.emplace_back([&, i] {
      const int fd = connect_to(server.port());
      if (fd < 0) return;
      const std::string head = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      send(fd, head.data(), head.size(), MSG_NOSIGNAL);
      while (seconds_since(start) < 8.0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        char probe = 0;
        if (recv(fd, &probe, 1, MSG_DONTWAIT) == 0 || send(fd, "a", 1, MSG_NOSIGNAL) < 0) {
          closed_after[i] = seconds_since(start);
          break;
        }
      }
      close(fd);
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto asked = std::chrono::steady_clock::now();
  httplib::Client client("127.0.0.1", server.port());
  auto models = client.Get("/v1/models");
  const double waited = seconds_since(asked);
  for (auto& t : slow) t.join();
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  EXPECT_LT(waited, 1.5) << "an ordinary client waited behind the slow ones";
  for (int i = 0; i < kSlow; ++i) {
    EXPECT_GT(closed_after[i], 0.0) << "slow client " << i << " was never disconnected";
    EXPECT_LT(closed_after[i], 4.5) << "slow client " << i;
  }
}
