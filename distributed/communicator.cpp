#include "distributed/communicator.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define VECRL_HAVE_GLOO 1
#endif
#if defined(USE_C10D_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define VECRL_HAVE_NCCL 1
#endif
#include <torch/version.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
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
  std::unique_ptr<PendingReduction> start_all_reduce_sum(at::Tensor) override {
    return std::make_unique<DoneReduction>();
  }
  void barrier() override {}

 private:
  struct DoneReduction : PendingReduction {
    void wait() override {}
  };
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
  // A started c10d work item; waiting reports failures like any other collective, and copies a
  // staged result back into the caller's tensor.
  class C10dPendingReduction : public PendingReduction {
   public:
    C10dPendingReduction(C10dCommunicator* owner, c10::intrusive_ptr<c10d::Work> work, at::Tensor target,
                         at::Tensor staged)
        : owner_(owner), work_(std::move(work)), target_(std::move(target)), staged_(std::move(staged)) {}
    void wait() override {
      owner_->run("all_reduce(gradients)", [&] { work_->wait(); });
      unstage(staged_, target_);
    }

   private:
    C10dCommunicator* owner_;
    c10::intrusive_ptr<c10d::Work> work_;
    at::Tensor target_, staged_;
  };

 public:
  // staging_device: where tensors must be for the backend (NCCL: this rank's GPU); others are
  // copied there and back.
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int64_t rank,
                   int64_t world, std::string address, std::optional<c10::Device> staging_device)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), world_(world), address_(std::move(address)),
        staging_device_(staging_device), heartbeat_(std::make_unique<Heartbeat>(store_, rank)) {}

  int64_t rank() const override { return rank_; }
  int64_t world_size() const override { return world_; }

  void all_reduce_sum(at::Tensor& t) override { reduce(t, c10d::ReduceOp::SUM, "all_reduce(sum)"); }
  void all_reduce_max(at::Tensor& t) override { reduce(t, c10d::ReduceOp::MAX, "all_reduce(max)"); }

  void broadcast(at::Tensor& t, int64_t root) override {
    std::vector<at::Tensor> v{staged(t)};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    run("broadcast", [&] { group_->broadcast(v, opts)->wait(); });
    unstage(v[0], t);
  }

  at::Tensor all_gather_rows(const at::Tensor& t) override {
    if (t.scalar_type() == at::kBool) return all_gather_rows(t.to(at::kByte)).to(at::kBool);  // Gloo has no bool
    auto input = staged(t).contiguous();
    std::vector<std::vector<at::Tensor>> out(1);
    for (int64_t r = 0; r < world_; ++r) out[0].push_back(at::empty_like(input));
    std::vector<at::Tensor> in{input};
    run("all_gather", [&] { group_->allgather(out, in)->wait(); });
    return at::cat(out[0], 0).to(t.device());
  }

  std::unique_ptr<PendingReduction> start_all_reduce_sum(at::Tensor t) override {
    std::vector<at::Tensor> v{staged(t)};
    c10::intrusive_ptr<c10d::Work> work;
    run("all_reduce(gradients)", [&] { work = group_->allreduce(v); });
    return std::make_unique<C10dPendingReduction>(this, std::move(work), std::move(t), v[0]);
  }

  void barrier() override {
    run("barrier", [&] { group_->barrier()->wait(); });
  }

 private:
  void reduce(at::Tensor& t, c10d::ReduceOp op, const char* what) {
    std::vector<at::Tensor> v{staged(t)};
    c10d::AllreduceOptions opts;
    opts.reduceOp = op;
    run(what, [&] { group_->allreduce(v, opts)->wait(); });
    unstage(v[0], t);
  }

  // `t` where the backend needs it (a copy when it is elsewhere), and the result back into `t`.
  at::Tensor staged(const at::Tensor& t) const {
    return staging_device_ && t.device() != *staging_device_ ? t.to(*staging_device_) : t;
  }
  static void unstage(const at::Tensor& staged, at::Tensor& t) {
    if (!staged.is_same(t)) t.copy_(staged);
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
  std::optional<c10::Device> staging_device_;
  std::unique_ptr<Heartbeat> heartbeat_;
};

}  // namespace

bool nccl_available() {
#ifdef VECRL_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

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
  std::string backend = options.backend;
  if (backend == "auto") {
    if (process.world_size == 1) return std::make_unique<LocalCommunicator>();
    backend = options.cuda_device && nccl_available() ? "nccl" : "gloo";
  }
  VECRL_CHECK(backend == "gloo" || backend == "nccl", "distributed.backend: expected auto, gloo or nccl, found '",
              backend, "'");
  std::string addr = "127.0.0.1", address = "this process";
  c10::intrusive_ptr<c10d::Store> store;
  if (process.world_size == 1) {
    // One process with a backend named explicitly: a real process group of one, so that the
    // backend's own path runs (a single-GPU NCCL check); nobody to meet, so an in-process store.
    store = c10::make_intrusive<c10d::HashStore>();
  } else {
    addr = options.master_addr;
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
    address = core::str_cat(addr, ":", port);

    // torchrun's agent hosts the store on MASTER_PORT itself and tells workers to join as clients.
    const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    const bool use_agent_store = agent_store != nullptr && std::string(agent_store) == "True";
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(port);
    store_options.isServer = process.rank == 0 && !use_agent_store;
    store_options.numWorkers = use_agent_store ? c10::nullopt : c10::optional<std::size_t>(process.world_size);
    store_options.waitWorkers = false;
    store_options.timeout = std::chrono::seconds(options.timeout_s);
    try {
      store = c10::make_intrusive<c10d::TCPStore>(addr, store_options);
    } catch (const std::exception& e) {
      throw core::Error(core::str_cat("rank ", process.rank, " of ", process.world_size, ": cannot reach the master at ",
                                      address, " within ", options.timeout_s, " s: ", e.what()));
    }
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("vecrl", store);
  c10::intrusive_ptr<Group> group;
  std::optional<c10::Device> staging_device;
#ifdef VECRL_HAVE_NCCL
  if (backend == "nccl") {
    // Each rank drives the GPU of its local rank; NCCL reduces CUDA tensors, so others are staged there.
    const int64_t gpus = c10::cuda::device_count();
    VECRL_CHECK(process.local_rank < gpus, "rank ", process.rank, ": local rank ", process.local_rank,
                " has no GPU of its own (this machine has ", gpus, ")");
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(process.local_rank));
    staging_device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(process.local_rank));
  }
#endif
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
  return std::make_unique<C10dCommunicator>(prefixed, group, process.rank, process.world_size, address, staging_device);
}

}  // namespace vecrl::distributed
