#include "distributed/gradient_sync.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <exception>
#include <mutex>
#include <string>

#include "core/error.h"

namespace vecrl::distributed {

void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& params) {
  at::NoGradGuard no_grad;
  double checksum = 0;
  for (auto p : params) {
    comm.broadcast(p, 0);
    checksum += p.to(at::kDouble).sum().item<double>();
  }
  auto extremes = at::tensor({checksum, -checksum}, at::kDouble);
  comm.all_reduce_max(extremes);
  VECRL_CHECK(extremes[0].item<double>() == -extremes[1].item<double>(), "rank ", comm.rank(),
              ": parameters differ across ranks after the broadcast (checksums up to ", extremes[0].item<double>(),
              " and ", -extremes[1].item<double>(), ")");
}

std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<int64_t>& tensor_bytes, int64_t bucket_bytes) {
  std::vector<std::vector<std::size_t>> buckets;
  int64_t bytes = 0;
  for (std::size_t i = 0; i < tensor_bytes.size(); ++i) {
    if (buckets.empty() || (bytes > 0 && bytes + tensor_bytes[i] > bucket_bytes)) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += tensor_bytes[i];
  }
  return buckets;
}

namespace {

std::vector<int64_t> byte_sizes(const std::vector<at::Tensor>& tensors) {
  std::vector<int64_t> bytes;
  for (const auto& t : tensors) bytes.push_back(static_cast<int64_t>(t.numel() * t.element_size()));
  return bytes;
}

}  // namespace

struct OverlappedGradientReducer::State {
  struct Bucket {
    std::vector<std::size_t> params;  // indices into State::params
    std::size_t waiting = 0;          // parameters not yet done in the armed backward pass
    at::Tensor flat;
    std::unique_ptr<PendingReduction> pending;
  };

  Communicator* comm = nullptr;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive so the hooks stay
  std::vector<std::size_t> bucket_of;                                // per parameter
  std::vector<bool> done;                                            // per parameter
  std::vector<Bucket> buckets;
  std::size_t next_bucket = 0;  // buckets start strictly in order
  bool armed = false;
  int64_t started_by_hooks = 0;
  Stats stats;
  std::exception_ptr failure;  // from a hook: rethrown by finish(), not thrown through autograd
  std::mutex mutex;

  void reset() {
    next_bucket = 0;
    started_by_hooks = 0;
    failure = nullptr;
    std::fill(done.begin(), done.end(), false);
    for (auto& b : buckets) {
      b.waiting = b.params.size();
      b.flat = at::Tensor();
      b.pending.reset();
    }
  }

  // The bucket's gradients as one flat buffer (an undefined gradient as zeros), sent.
  void start(Bucket& b) {
    std::vector<at::Tensor> flat;
    for (auto i : b.params) {
      const auto& g = params[i].grad();
      flat.push_back(g.defined() ? g.reshape({-1}) : at::zeros({params[i].numel()}, params[i].options()));
    }
    b.flat = at::cat(flat);
    b.pending = comm->start_all_reduce_sum(b.flat);
  }

  // Waits for the bucket's sum and writes its slices into the gradients (defining undefined ones).
  void receive(Bucket& b) {
    b.pending->wait();
    int64_t offset = 0;
    for (auto i : b.params) {
      auto slice = b.flat.narrow(0, offset, params[i].numel()).view(params[i].sizes());
      auto& grad = params[i].mutable_grad();
      if (grad.defined()) grad.copy_(slice);
      else grad = slice.clone();
      offset += params[i].numel();
    }
  }

  // Called by the hook after parameter i's gradient has been accumulated.
  void on_gradient(std::size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || failure) return;
    try {
      Bucket& b = buckets[bucket_of[i]];
      VECRL_CHECK(!b.pending, "rank ", comm->rank(), ": the gradient of parameter ", i, " (shape ", params[i].sizes(),
                  ") changed after its bucket was sent; set distributed.overlap_grad_reduce=false");
      if (done[i]) return;
      done[i] = true;
      --b.waiting;
      while (next_bucket < buckets.size() && buckets[next_bucket].waiting == 0) {
        start(buckets[next_bucket++]);
        ++started_by_hooks;
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
};

namespace {

class GradientDoneHook : public torch::autograd::FunctionPostHook {
 public:
  GradientDoneHook(std::weak_ptr<OverlappedGradientReducer::State> state, std::size_t index)
      : state_(std::move(state)), index_(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    if (auto state = state_.lock()) state->on_gradient(index_);
    return outputs;
  }

 private:
  std::weak_ptr<OverlappedGradientReducer::State> state_;
  std::size_t index_;
};

}  // namespace

OverlappedGradientReducer::OverlappedGradientReducer(Communicator& comm, const std::vector<at::Tensor>& params,
                                                     int64_t bucket_bytes)
    : state_(std::make_shared<State>()) {
  auto& s = *state_;
  s.comm = &comm;
  // Reverse order: backward produces the last layers' gradients first.
  for (auto it = params.rbegin(); it != params.rend(); ++it)
    if (it->requires_grad()) s.params.push_back(*it);
  s.bucket_of.resize(s.params.size());
  s.done.resize(s.params.size());
  for (const auto& indices : plan_buckets(byte_sizes(s.params), bucket_bytes)) {
    State::Bucket b;
    b.params = indices;
    for (auto i : indices) s.bucket_of[i] = s.buckets.size();
    s.buckets.push_back(std::move(b));
  }
  for (std::size_t i = 0; i < s.params.size(); ++i) {
    auto accumulator = torch::autograd::impl::grad_accumulator(s.params[i]);
    VECRL_CHECK(accumulator != nullptr, "parameter ", i, " (shape ", s.params[i].sizes(),
                ") is not a leaf that accumulates gradients");
    accumulator->add_post_hook(std::make_unique<GradientDoneHook>(state_, i));
    s.accumulators.push_back(std::move(accumulator));
  }
  s.stats.buckets = static_cast<int64_t>(s.buckets.size());
  s.reset();
}

OverlappedGradientReducer::~OverlappedGradientReducer() = default;

void OverlappedGradientReducer::arm() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->reset();
  state_->armed = true;
}

void OverlappedGradientReducer::finish() {
  auto& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.armed = false;
  if (s.failure) {
    // Nothing is left in flight: the buckets already sent complete (their peers sent them too).
    for (auto& b : s.buckets) {
      if (!b.pending) continue;
      try {
        b.pending->wait();
      } catch (const std::exception&) {
      }
    }
    auto failure = s.failure;
    s.reset();
    std::rethrow_exception(failure);
  }
  for (; s.next_bucket < s.buckets.size(); ++s.next_bucket) s.start(s.buckets[s.next_bucket]);
  for (auto& b : s.buckets) s.receive(b);
  s.stats.started_during_backward = s.started_by_hooks;
  s.reset();
}

OverlappedGradientReducer::Stats OverlappedGradientReducer::last_stats() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stats;
}

}  // namespace vecrl::distributed
