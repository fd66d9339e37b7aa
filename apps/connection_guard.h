#pragma once
// `vecrl serve` against slow clients. httplib serves each connection on a pool thread and waits up
// to its read timeout for *each* read, so a client trickling one header byte every few seconds holds
// a thread for as long as it likes, and a handful of them (8 threads by default) block everyone.
// The guard is httplib's task queue: `workers` threads, and a watchdog that shuts down a connection
// whose request (headers and body) has not fully arrived `request_timeout_s` after its worker took
// it up, or whose response has not left that long after its handler returned. A route handler
// marks the time it runs (HandlerScope): generation may take as long as it takes.
#include <memory>

namespace httplib {
class TaskQueue;
}

namespace vecrl::apps {

struct ConnectionGuardOptions {
  int workers = 64;
  double request_timeout_s = 10.0;
};

// A task queue for httplib::Server::new_task_queue (the server owns and shuts it down).
httplib::TaskQueue* new_guarded_task_queue(const ConnectionGuardOptions& options);

// Within a route handler: this connection's request has arrived; no deadline until it returns.
class HandlerScope {
 public:
  HandlerScope();
  ~HandlerScope();
  HandlerScope(const HandlerScope&) = delete;
  HandlerScope& operator=(const HandlerScope&) = delete;
};

}  // namespace vecrl::apps
