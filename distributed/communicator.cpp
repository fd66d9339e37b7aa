#include "distributed/communicator.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define VECRL_HAVE_GLOO 1
#endif
#if defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define VECRL_HAVE_NCCL 1
#endif
#include <torch/version.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <thread>

#include "core/error.h"

namespace vecrl::distributed {
namespace {

#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;  // 2.x: backends derive from c10d::Backend
#else
using Group = c10d::ProcessGroup;  // 1.13: ProcessGroupGloo/NCCL derive from c10d::ProcessGroup
#endif

class LocalCommunicator : public Communicator {
 public:
  int64_t rank() const override { return 0; }
  int64_t world_size() const override { return 1; }
  void all_reduce_sum(at::Tensor&) override {}
  void all_reduce_max(at::Tensor&) override {}
  void broadcast(at::Tensor&, int64_t) override {}
  at::Tensor all_gather_rows(const at::Tensor& t) override { return t; }
  void all_reduce_sum_bucketed(std::vector<at::Tensor>&, int64_t) override {}
  void barrier() override {}
};

// Heartbeats in the store let a rank whose collective failed name the peer that went away.
class Heartbeat {
 public:
  Heartbeat(c10::intrusive_ptr<c10d::Store> store, int64_t rank) : store_(std::move(store)), rank_(rank) {
    thread_ = std::thread([this] {
      while (!stop_) {
        try {
          const auto now = std::to_string(now_ms());
          store_->set("heartbeat/" + std::to_string(rank_), std::vector<uint8_t>(now.begin(), now.end()));
        } catch (const std::exception&) {
          return;  // the store is gone (its host rank exited); collectives will report it
        }
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  ~Heartbeat() {
    stop_ = true;
    thread_.join();
  }
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  int64_t rank_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int64_t rank,
                   int64_t world, std::string address)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), world_(world), address_(std::move(address)),
        heartbeat_(std::make_unique<Heartbeat>(store_, rank)) {}

  int64_t rank() const override { return rank_; }
  int64_t world_size() const override { return world_; }

  void all_reduce_sum(at::Tensor& t) override { reduce(t, c10d::ReduceOp::SUM, "all_reduce(sum)"); }
  void all_reduce_max(at::Tensor& t) override { reduce(t, c10d::ReduceOp::MAX, "all_reduce(max)"); }

  void broadcast(at::Tensor& t, int64_t root) override {
    std::vector<at::Tensor> v{t};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    run("broadcast", [&] { group_->broadcast(v, opts)->wait(); });
  }

  at::Tensor all_gather_rows(const at::Tensor& t) override {
    if (t.scalar_type() == at::kBool) return all_gather_rows(t.to(at::kByte)).to(at::kBool);  // Gloo has no bool
    auto input = t.contiguous();
    std::vector<std::vector<at::Tensor>> out(1);
    for (int64_t r = 0; r < world_; ++r) out[0].push_back(at::empty_like(input));
    std::vector<at::Tensor> in{input};
    run("all_gather", [&] { group_->allgather(out, in)->wait(); });
    return at::cat(out[0], 0);
  }

  void all_reduce_sum_bucketed(std::vector<at::Tensor>& tensors, int64_t bucket_bytes) override {
    // Flatten consecutive tensors into buckets and launch them all before waiting, so the
    // transfers of one bucket overlap the reduction of the next.
    std::vector<std::vector<std::size_t>> buckets(1);
    int64_t bytes = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (bytes > 0 && bytes + tensors[i].nbytes() > static_cast<std::size_t>(bucket_bytes)) {
        buckets.emplace_back();
        bytes = 0;
      }
      buckets.back().push_back(i);
      bytes += static_cast<int64_t>(tensors[i].nbytes());
    }
    std::vector<at::Tensor> flats;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    run("all_reduce(gradients)", [&] {
      for (const auto& bucket : buckets) {
        std::vector<at::Tensor> parts;
        for (auto i : bucket) parts.push_back(tensors[i].reshape({-1}));
        flats.push_back(at::cat(parts));
        std::vector<at::Tensor> v{flats.back()};
        works.push_back(group_->allreduce(v));
      }
      for (auto& w : works) w->wait();
    });
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      int64_t offset = 0;
      for (auto i : buckets[b]) {
        const int64_t n = tensors[i].numel();
        tensors[i].copy_(flats[b].narrow(0, offset, n).view_as(tensors[i]));
        offset += n;
      }
    }
  }

  void barrier() override {
    run("barrier", [&] { group_->barrier()->wait(); });
  }

 private:
  void reduce(at::Tensor& t, c10d::ReduceOp op, const char* what) {
    std::vector<at::Tensor> v{t};
    c10d::AllreduceOptions opts;
    opts.reduceOp = op;
    run(what, [&] { group_->allreduce(v, opts)->wait(); });
  }

  template <class F>
  void run(const char* what, F&& fn) {
    try {
      fn();
    } catch (const c10::Error& e) {
      fail(what, e.what_without_backtrace());
    } catch (const std::exception& e) {
      fail(what, e.what());
    }
  }

  [[noreturn]] void fail(const char* what, const std::string& cause) {
    throw core::Error(core::str_cat("rank ", rank_, " of ", world_, ": ", what, " failed (", lost_ranks(), "master ",
                                    address_, "): ", cause.substr(0, cause.find('\n'))));
  }

  // Ranks whose heartbeat stops advancing over 2.5 s (beats come every second), or that have none;
  // the store itself is gone when rank 0, which hosts it, went away.
  std::string lost_ranks() {
    try {
      auto snapshot = [&] {
        std::vector<std::string> beats;
        for (int64_t r = 0; r < world_; ++r) {
          const std::string key = "heartbeat/" + std::to_string(r);
          if (r == rank_ || !store_->check({key})) {
            beats.emplace_back();
            continue;
          }
          auto bytes = store_->get(key);
          beats.emplace_back(bytes.begin(), bytes.end());
        }
        return beats;
      };
      const auto before = snapshot();
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      const auto after = snapshot();
      std::string lost;
      for (int64_t r = 0; r < world_; ++r)
        if (r != rank_ && (after[r].empty() || after[r] == before[r]))
          lost += (lost.empty() ? "" : ", ") + std::to_string(r);
      return lost.empty() ? "every peer still beats; " : "lost rank " + lost + "; ";
    } catch (const std::exception&) {
      return "lost rank 0 (it hosts the store, which no longer answers); ";
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  int64_t rank_, world_;
  std::string address_;
  std::unique_ptr<Heartbeat> heartbeat_;
};

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // Examples: "node01", "node[01-04,07]", "a[1-2],b3", "gpu-[003-004]".
  std::smatch m;
  static const std::regex bracket(R"(^([^,\[]*)\[([0-9]+)[^\]]*\].*$)");
  static const std::regex plain(R"(^([^,\[]+).*$)");
  if (std::regex_match(nodelist, m, bracket)) return m[1].str() + m[2].str();
  if (std::regex_match(nodelist, m, plain)) return m[1].str();
  throw core::Error(core::str_cat("cannot read a host from SLURM_JOB_NODELIST='", nodelist, "'"));
}

std::unique_ptr<Communicator> make_communicator(const ProcessInfo& process, const RendezvousOptions& options) {
  if (process.world_size == 1) return std::make_unique<LocalCommunicator>();
  std::string addr = options.master_addr;
  if (addr.empty() && std::getenv("MASTER_ADDR")) addr = std::getenv("MASTER_ADDR");
  if (addr.empty() && std::getenv("SLURM_JOB_NODELIST")) addr = first_slurm_host(std::getenv("SLURM_JOB_NODELIST"));
  VECRL_CHECK(!addr.empty(), "rank ", process.rank, ": no master address (set MASTER_ADDR or distributed.master_addr)");
  int64_t port = options.master_port;
  if (port == 0 && std::getenv("MASTER_PORT")) {
    try {
      port = std::stoll(std::getenv("MASTER_PORT"));
    } catch (const std::exception&) {
      throw core::Error(core::str_cat("rank ", process.rank, ": MASTER_PORT='", std::getenv("MASTER_PORT"),
                                      "' is not a port number"));
    }
  }
  VECRL_CHECK(port > 0 && port < 65536, "rank ", process.rank, ": no valid master port (set MASTER_PORT or ",
              "distributed.master_port), got ", port);
  const std::string address = core::str_cat(addr, ":", port);
  std::string backend = options.backend;
  if (backend == "auto") backend = "gloo";  // CPU training; NCCL is chosen explicitly on CUDA builds
  VECRL_CHECK(backend == "gloo" || backend == "nccl", "distributed.backend: expected auto, gloo or nccl, found '",
              backend, "'");

  // torchrun's agent hosts the store on MASTER_PORT itself and tells workers to join as clients.
  const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  const bool use_agent_store = agent_store != nullptr && std::string(agent_store) == "True";
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(port);
  store_options.isServer = process.rank == 0 && !use_agent_store;
  store_options.numWorkers = use_agent_store ? c10::nullopt : c10::optional<std::size_t>(process.world_size);
  store_options.waitWorkers = false;
  store_options.timeout = std::chrono::seconds(options.timeout_s);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(addr, store_options);
  } catch (const std::exception& e) {
    throw core::Error(core::str_cat("rank ", process.rank, " of ", process.world_size, ": cannot reach the master at ",
                                    address, " within ", options.timeout_s, " s: ", e.what()));
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("vecrl", store);
  c10::intrusive_ptr<Group> group;
  try {
    if (backend == "gloo") {
#ifdef VECRL_HAVE_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(options.timeout_s));
      // Single-machine jobs talk over loopback; across nodes Gloo binds to this host's own address
      // (or GLOO_SOCKET_IFNAME's interface).
      const bool loopback = addr == "localhost" || addr.rfind("127.", 0) == 0;
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      opts->devices.push_back(loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                              : ifname  ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                        : c10d::ProcessGroupGloo::createDefaultDevice());
      group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, static_cast<int>(process.rank),
                                                          static_cast<int>(process.world_size), opts);
#else
      throw core::Error("this build has no Gloo (install libgloo-dev and rebuild)");
#endif
    } else {
#ifdef VECRL_HAVE_NCCL
      group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, static_cast<int>(process.rank),
                                                          static_cast<int>(process.world_size),
                                                          c10d::ProcessGroupNCCL::Options::create());
#else
      throw core::Error("this build has no NCCL (build against a CUDA LibTorch)");
#endif
    }
  } catch (const std::exception& e) {
    throw core::Error(core::str_cat("rank ", process.rank, " of ", process.world_size, ": rendezvous at ", address,
                                    " failed within ", options.timeout_s, " s (a rank never arrived?): ", e.what()));
  }
  spdlog::debug("rank {} of {} joined {} at {}", process.rank, process.world_size, backend, address);
  return std::make_unique<C10dCommunicator>(prefixed, group, process.rank, process.world_size, address);
}

}  // namespace vecrl::distributed
