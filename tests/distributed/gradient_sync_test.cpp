// Gradient sums across two ranks (two threads of this process, Gloo over loopback): bucketed after
// the backward pass, and overlapped with it through hooks on the gradient accumulators.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "distributed/communicator.h"
#include "distributed/gradient_sync.h"
#include "tests/free_port.h"

namespace vd = vecrl::distributed;

namespace {

// The global generator is shared by the rank threads: seeding and drawing happen under one lock.
std::mutex rng_mutex;

// Four tanh layers of 6x6 + bias, identical on every rank (same seed). forward(x, skip) leaves the
// layer numbered `skip` out, so its parameters take no part in the graph.
struct Mlp {
  std::vector<torch::nn::Linear> layers;
  Mlp() {
    std::lock_guard<std::mutex> lock(rng_mutex);
    torch::manual_seed(7);
    for (int i = 0; i < 4; ++i) layers.emplace_back(6, 6);
  }
  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto& l : layers) out.insert(out.end(), {l->weight, l->bias});
    return out;
  }
  torch::Tensor forward(torch::Tensor x, int skip = -1) {
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (static_cast<int>(i) != skip) x = torch::tanh(layers[i]->forward(x));
    return x;
  }
};

// Rank r's k-th micro-batch [3, 6].
torch::Tensor inputs(int64_t rank, int64_t micro) {
  std::lock_guard<std::mutex> lock(rng_mutex);
  torch::manual_seed(100 + 10 * rank + micro);
  return torch::randn({3, 6});
}

void backward_on(Mlp& model, const torch::Tensor& x, int skip_layer = -1) {
  model.forward(x, skip_layer).pow(2).sum().backward();
}

// Runs fn(communicator, rank) on `world` threads, each its own rank; rethrows the first failure.
void on_ranks(int world, const std::function<void(vd::Communicator&, int64_t)>& fn) {
  const int port = vecrl::tests::free_port();
  std::vector<std::exception_ptr> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        vd::ProcessInfo process;
        process.rank = r;
        process.world_size = world;
        process.local_world_size = world;
        vd::RendezvousOptions options;
        options.master_addr = "127.0.0.1";
        options.master_port = port;
        options.timeout_s = 30;
        auto comm = vd::make_communicator(process, options);
        fn(*comm, r);
        comm->barrier();
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// The gradients one process gets from all of `batches` ([rank][micro] inputs).
// The gradients one process gets from all of `batches` ([rank][micro] inputs); zeros where a
// parameter took no part.
std::vector<torch::Tensor> reference_gradients(const std::vector<std::vector<torch::Tensor>>& batches,
                                               int skip_layer = -1) {
  Mlp model;
  for (const auto& rank_batches : batches)
    for (const auto& x : rank_batches) backward_on(model, x, skip_layer);
  std::vector<torch::Tensor> grads;
  for (auto& p : model.parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return grads;
}

void expect_gradients(const Mlp& model, const std::vector<torch::Tensor>& expected) {
  auto params = model.parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(params[i].grad().defined()) << "parameter " << i;
    EXPECT_LT((params[i].grad() - expected[i]).abs().max().item<double>(), 1e-6) << "parameter " << i;
  }
}

// Bytes: in reverse parameter order a layer's bias and weight (24 + 144 B) fill one bucket.
constexpr int64_t kSmallBuckets = 168;

}  // namespace

TEST(GradientSync, PlanBucketsKeepsOrderAndGivesLargeTensorsTheirOwn) {
  const auto buckets = vd::plan_buckets({100, 100, 50, 500, 10, 10}, 200);
  const std::vector<std::vector<std::size_t>> expected{{0, 1}, {2}, {3}, {4, 5}};
  EXPECT_EQ(buckets, expected);
  EXPECT_TRUE(vd::plan_buckets({}, 200).empty());
}

TEST(GradientSync, BucketedAfterBackwardSumsEveryRanksGradients) {
  // Never armed: finish() alone sends every bucket after the backward pass.
  const auto expected = reference_gradients({{inputs(0, 0)}, {inputs(1, 0)}});
  on_ranks(2, [&](vd::Communicator& comm, int64_t rank) {
    Mlp model;
    vd::OverlappedGradientReducer reducer(comm, model.parameters(), kSmallBuckets);
    backward_on(model, inputs(rank, 0));
    reducer.finish();
    expect_gradients(model, expected);
    EXPECT_EQ(reducer.last_stats().started_during_backward, 0);
  });
}

TEST(GradientSync, OverlappedStartsEveryBucketDuringTheLastBackwardPass) {
  // Two micro-batches per rank: the first accumulates locally, the second (armed) completes them.
  const auto expected = reference_gradients({{inputs(0, 0), inputs(0, 1)}, {inputs(1, 0), inputs(1, 1)}});
  on_ranks(2, [&](vd::Communicator& comm, int64_t rank) {
    Mlp model;
    vd::OverlappedGradientReducer reducer(comm, model.parameters(), kSmallBuckets);
    for (int update = 0; update < 2; ++update) {  // the reducer is reusable
      for (auto& p : model.parameters())
        if (p.grad().defined()) p.mutable_grad().zero_();
      backward_on(model, inputs(rank, 0));
      reducer.arm();
      backward_on(model, inputs(rank, 1));
      reducer.finish();
      expect_gradients(model, expected);
      const auto stats = reducer.last_stats();
      EXPECT_EQ(stats.buckets, 4);
      EXPECT_EQ(stats.started_during_backward, 4) << "every bucket should start inside backward()";
    }
  });
}

TEST(GradientSync, OverlappedHandlesARankWithoutBackwardAndUnusedParameters) {
  // Rank 0 runs the whole model; rank 1 owns no rows this time (no backward at all), so its
  // buckets start in finish() with zeros and every gradient on it becomes rank 0's.
  const auto expected = reference_gradients({{inputs(0, 0)}});
  on_ranks(2, [&](vd::Communicator& comm, int64_t rank) {
    Mlp model;
    vd::OverlappedGradientReducer reducer(comm, model.parameters(), kSmallBuckets);
    if (rank == 0) {
      reducer.arm();
      backward_on(model, inputs(0, 0));
    }
    reducer.finish();
    expect_gradients(model, expected);
    EXPECT_EQ(reducer.last_stats().started_during_backward, rank == 0 ? 4 : 0);
  });
}

TEST(GradientSync, OverlappedStartsBucketsInOrderBehindAnIncompleteOne) {
  // Rank 0 leaves layer 2 out. In reverse order the buckets are layers 3, 2, 1, 0: layer 3's starts
  // during backward; layer 2's never completes, and buckets start strictly in order (the same on
  // every rank), so layers 1 and 0 wait for finish() although they are done. Sums still right.
  const auto expected = reference_gradients({{inputs(0, 0)}}, /*skip_layer=*/2);
  on_ranks(2, [&](vd::Communicator& comm, int64_t rank) {
    Mlp model;
    vd::OverlappedGradientReducer reducer(comm, model.parameters(), kSmallBuckets);
    reducer.arm();
    if (rank == 0) backward_on(model, inputs(0, 0), /*skip_layer=*/2);
    reducer.finish();
    expect_gradients(model, expected);
    EXPECT_EQ(reducer.last_stats().started_during_backward, rank == 0 ? 1 : 0);
  });
}

TEST(GradientSync, AGradientChangedAfterItsBucketWasSentIsAnError) {
  std::string message;
  on_ranks(2, [&](vd::Communicator& comm, int64_t rank) {
    Mlp model;
    vd::OverlappedGradientReducer reducer(comm, model.parameters(), kSmallBuckets);
    reducer.arm();
    backward_on(model, inputs(rank, 0));
    if (rank == 0) {
      backward_on(model, inputs(rank, 1));  // too late: its buckets are already on the wire
      try {
        reducer.finish();
      } catch (const vecrl::core::Error& e) {
        message = e.what();
      }
    } else {
      reducer.finish();
    }
  });
  EXPECT_NE(message.find("changed after its bucket was sent"), std::string::npos) << message;
  EXPECT_NE(message.find("overlap_grad_reduce=false"), std::string::npos) << message;
}
