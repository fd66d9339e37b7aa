#pragma once
// `vecrl serve` on a free port for a test, stopped with SIGTERM when it goes out of scope.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace vecrl::testing {

class ServeProcess {
 public:
  explicit ServeProcess(const std::string& model, std::vector<std::string> extra_args = {}) {
    const std::string log = ::testing::TempDir() + "/vecrl_serve_" + std::to_string(getpid()) + ".log";
    std::vector<std::string> args{VECRL_EXE, "serve", "--model", model, "--port", "0", "--threads", "1"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = fork();
    if (pid_ == 0) {
      if (freopen(log.c_str(), "w", stdout) == nullptr) _exit(126);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(VECRL_EXE, argv.data());
      _exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(log);
      std::string line;
      if (std::getline(in, line) && line.rfind(":") != std::string::npos) port_ = std::stoi(line.substr(line.rfind(':') + 1));
    }
  }
  ~ServeProcess() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return kill(pid_, 0) == 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace vecrl::testing
