#include "apps/connection_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace vecrl::apps {
namespace {

using Clock = std::chrono::steady_clock;

// One accepted connection: our own descriptor of its socket (shutdown acts on the socket, so the
// worker's pending read returns at once, and the number can never be reused under us).
struct Connection {
  int socket = -1;
  ino_t inode = 0;
  Clock::time_point since;
  bool started = false, in_handler = false, shut = false;
};

thread_local Connection* current_connection = nullptr;
std::mutex* guard_mutex = nullptr;  // the queue's, for HandlerScope

// The socket httplib has just accepted: the one connected socket of this process that no live
// connection holds (httplib calls enqueue from its accept loop, right after accept()).
int duplicate_new_socket(const std::set<ino_t>& known, ino_t& inode) {
  int found = -1;
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  while (const dirent* entry = readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    struct stat st {};
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9' || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t size = sizeof(listening);
    if (known.count(st.st_ino) || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening)
      continue;
    if (found >= 0) {  // more than one candidate: not ours to guess
      close(found);
      found = -1;
      break;
    }
    found = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    inode = st.st_ino;
  }
  closedir(fds);
  return found;
}

class GuardedTaskQueue : public httplib::TaskQueue {
 public:
  explicit GuardedTaskQueue(const ConnectionGuardOptions& options) : options_(options) {
    guard_mutex = &mutex_;
    for (int i = 0; i < options.workers; ++i) workers_.emplace_back([this] { work(); });
    watchdog_ = std::thread([this] { watch(); });
  }

  void enqueue(std::function<void()> fn) override {
    auto connection = std::make_shared<Connection>();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::set<ino_t> known;
      for (const auto& c : live_) known.insert(c->inode);
      connection->socket = duplicate_new_socket(known, connection->inode);
      live_.insert(connection);
      jobs_.emplace_back(std::move(fn), connection);
    }
    wake_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    stop_watching_.notify_all();
    for (auto& t : workers_) t.join();
    watchdog_.join();
    guard_mutex = nullptr;
  }

 private:
  void work() {
    for (;;) {
      std::pair<std::function<void()>, std::shared_ptr<Connection>> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        job.second->since = Clock::now();
        job.second->started = true;
      }
      current_connection = job.second.get();
      job.first();
      current_connection = nullptr;
      std::lock_guard<std::mutex> lock(mutex_);
      if (job.second->socket >= 0) close(job.second->socket);
      live_.erase(job.second);
    }
  }

  void watch() {
    const auto timeout = std::chrono::duration<double>(options_.request_timeout_s);
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      stop_watching_.wait_for(lock, std::chrono::milliseconds(100));
      const auto now = Clock::now();
      for (const auto& c : live_)
        if (c->started && !c->in_handler && !c->shut && c->socket >= 0 && now - c->since > timeout) {
          ::shutdown(c->socket, SHUT_RDWR);
          c->shut = true;
        }
    }
  }

  ConnectionGuardOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_, stop_watching_;
  bool stopping_ = false;
  std::deque<std::pair<std::function<void()>, std::shared_ptr<Connection>>> jobs_;
  std::set<std::shared_ptr<Connection>> live_;
  std::vector<std::thread> workers_;
  std::thread watchdog_;
};

}  // namespace

httplib::TaskQueue* new_guarded_task_queue(const ConnectionGuardOptions& options) {
  return new GuardedTaskQueue(options);
}

HandlerScope::HandlerScope() {
  if (current_connection == nullptr || guard_mutex == nullptr) return;
  std::lock_guard<std::mutex> lock(*guard_mutex);
  current_connection->in_handler = true;
}

HandlerScope::~HandlerScope() {
  if (current_connection == nullptr || guard_mutex == nullptr) return;
  std::lock_guard<std::mutex> lock(*guard_mutex);
  current_connection->in_handler = false;
  current_connection->since = Clock::now();  // the response, then a kept-alive connection's next request
}

}  // namespace vecrl::apps
