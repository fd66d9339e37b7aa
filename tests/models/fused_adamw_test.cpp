// FusedAdamW: the arithmetic, state and checkpoint format of torch::optim::AdamW in one pass per
// parameter.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "models/fused_adamw.h"

using namespace vecrl;

namespace {

// Two parameter groups (different lr and weight decay), sizes that leave remainders after every
// vector width and span several threads' ranges, one parameter a row view of a shared buffer (as the
// fused q/k/v projections are), one without a gradient.
struct Problem {
  torch::Tensor buffer, a, b, view, frozen;
  std::vector<torch::optim::OptimizerParamGroup> groups() const {
    torch::optim::OptimizerParamGroup first({a, b}, std::make_unique<torch::optim::AdamWOptions>(
                                                        torch::optim::AdamWOptions(3e-3).weight_decay(0.1)));
    torch::optim::OptimizerParamGroup second({view, frozen}, std::make_unique<torch::optim::AdamWOptions>(
                                                                 torch::optim::AdamWOptions(1e-2).betas({0.8, 0.95}).eps(1e-6)));
    return {first, second};
  }
};

Problem make_problem(uint64_t seed) {
  torch::manual_seed(seed);
  Problem p;
  p.a = torch::randn({100003}).requires_grad_();
  p.b = torch::randn({7, 13}).requires_grad_();
  p.buffer = torch::randn({6, 37});
  p.view = p.buffer.narrow(0, 2, 3).requires_grad_();  // rows 2-4: contiguous, offset into the buffer
  p.frozen = torch::randn({5}).requires_grad_();
  return p;
}

// Gradients that change from step to step and differ in scale per element.
void set_gradients(Problem& p, int step) {
  torch::manual_seed(1000 + step);
  for (auto* t : {&p.a, &p.b, &p.view}) t->mutable_grad() = torch::randn(t->sizes()) * torch::rand(t->sizes()) * 3;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const char* what) {
  // float32, a few steps: fused multiply-adds round differently from ATen's separate ops.
  EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << what << ": max difference " << (got - want).abs().max().item<double>();
}

void expect_same_state(torch::optim::AdamW& got, torch::optim::AdamW& want, const Problem& pg, const Problem& pw) {
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs = {{pg.a, pw.a}, {pg.b, pw.b}, {pg.view, pw.view}};
  for (const auto& [g, w] : pairs) {
    expect_close(g, w, "parameter");
    const auto key = [](const torch::Tensor& t) { return c10::guts::to_string(t.unsafeGetTensorImpl()); };
    auto& sg = static_cast<torch::optim::AdamWParamState&>(*got.state().at(key(g)));
    auto& sw = static_cast<torch::optim::AdamWParamState&>(*want.state().at(key(w)));
    EXPECT_EQ(sg.step(), sw.step());
    expect_close(sg.exp_avg(), sw.exp_avg(), "exp_avg");
    expect_close(sg.exp_avg_sq(), sw.exp_avg_sq(), "exp_avg_sq");
  }
}

}  // namespace

TEST(FusedAdamW, FollowsLibTorchsAdamWStepForStep) {
  auto fused_problem = make_problem(7), aten_problem = make_problem(7);
  models::FusedAdamW fused(fused_problem.groups());
  torch::optim::AdamW aten(aten_problem.groups());
  const auto frozen_before = fused_problem.frozen.clone();
  for (int step = 1; step <= 6; ++step) {
    set_gradients(fused_problem, step);
    set_gradients(aten_problem, step);
    fused.step();
    aten.step();
    expect_same_state(fused, aten, fused_problem, aten_problem);
  }
  // The view moved its rows of the shared buffer and nothing else; no gradient, no update.
  EXPECT_TRUE(torch::equal(fused_problem.buffer.narrow(0, 0, 2), aten_problem.buffer.narrow(0, 0, 2)));
  EXPECT_TRUE(torch::equal(fused_problem.frozen, frozen_before));
  EXPECT_EQ(aten.state().size(), 3U);
  EXPECT_EQ(fused.state().size(), 4U);  // made at construction; the frozen one's stays at step 0
  const auto frozen_key = c10::guts::to_string(fused_problem.frozen.unsafeGetTensorImpl());
  EXPECT_EQ(static_cast<torch::optim::AdamWParamState&>(*fused.state().at(frozen_key)).step(), 0);
}

TEST(FusedAdamW, MakesItsStateAtConstructionAsTheFirstStepWould) {
  // Saved before any step and loaded into LibTorch's AdamW, the step-0 state gives the same first
  // update as LibTorch's AdamW making its state lazily.
  auto problem = make_problem(5), lazy_problem = make_problem(5), loaded_problem = make_problem(5);
  models::FusedAdamW fused(problem.groups());
  for (const auto* p : {&problem.a, &problem.b, &problem.view, &problem.frozen}) {
    auto& state = static_cast<torch::optim::AdamWParamState&>(*fused.state().at(c10::guts::to_string(p->unsafeGetTensorImpl())));
    EXPECT_EQ(state.step(), 0);
    EXPECT_EQ(state.exp_avg().sizes(), p->sizes());
    EXPECT_EQ(state.exp_avg_sq().count_nonzero().item<int64_t>(), 0);
  }
  std::stringstream bytes;
  {
    torch::serialize::OutputArchive archive;
    fused.save(archive);
    archive.save_to(bytes);
  }
  torch::optim::AdamW lazy(lazy_problem.groups()), loaded(loaded_problem.groups());
  {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes);
    loaded.load(archive);
  }
  for (auto* p : {&problem, &lazy_problem, &loaded_problem}) set_gradients(*p, 1);
  fused.step();
  lazy.step();
  loaded.step();
  expect_same_state(fused, lazy, problem, lazy_problem);
  expect_same_state(loaded, lazy, loaded_problem, lazy_problem);
}

TEST(FusedAdamW, ClearedGradientsAreWrittenByTheNextBackwardAsZeroedOnesAreAddedTo) {
  torch::manual_seed(9);
  auto w = torch::randn({4, 3}).requires_grad_(), unused = torch::randn({2}).requires_grad_();
  auto x = torch::randn({5, 4});
  models::FusedAdamW optimizer(std::vector<torch::Tensor>{w, unused});
  auto loss = [&] { return x.matmul(w).tanh().sum(); };
  loss().backward();
  optimizer.zero_grad();  // LibTorch 1.13: zeros, kept
  loss().backward();
  const auto after_zeros = w.grad().clone();
  models::clear_gradients(optimizer);
  EXPECT_FALSE(w.grad().defined());
  loss().backward();
  EXPECT_TRUE(torch::equal(w.grad(), after_zeros));
  EXPECT_FALSE(unused.grad().defined());  // no gradient reached it: AdamW leaves it alone
  const auto unused_before = unused.clone();
  optimizer.step();
  EXPECT_TRUE(torch::equal(unused, unused_before));
}

TEST(FusedAdamW, UpdatesTheVersionCounterAsAnInPlaceOpWould) {
  auto problem = make_problem(3);
  models::FusedAdamW optimizer(problem.groups());
  set_gradients(problem, 1);
  const auto before = problem.a._version(), buffer_before = problem.buffer._version();
  optimizer.step();
  EXPECT_GT(problem.a._version(), before);
  EXPECT_GT(problem.buffer._version(), buffer_before);  // views share their base's counter
}

TEST(FusedAdamW, CheckpointsInterchangeWithLibTorchsAdamW) {
  // Two steps with FusedAdamW, saved; loaded into LibTorch's AdamW and into a fresh FusedAdamW on
  // copies of the parameters; one more step each gives the same parameters and state.
  auto problem = make_problem(11);
  models::FusedAdamW first(problem.groups());
  for (int step = 1; step <= 2; ++step) {
    set_gradients(problem, step);
    first.step();
  }
  std::stringstream archive_bytes;
  {
    torch::serialize::OutputArchive archive;
    first.save(archive);
    archive.save_to(archive_bytes);
  }
  auto copy = [&](const Problem& from) {
    Problem to = make_problem(11);
    torch::NoGradGuard no_grad;
    to.a.copy_(from.a);
    to.b.copy_(from.b);
    to.frozen.copy_(from.frozen);
    to.buffer.copy_(from.buffer);
    return to;
  };
  auto into_aten = copy(problem), into_fused = copy(problem);
  torch::optim::AdamW aten(into_aten.groups());
  models::FusedAdamW fused(into_fused.groups());
  for (torch::optim::Optimizer* optimizer : {static_cast<torch::optim::Optimizer*>(&aten), static_cast<torch::optim::Optimizer*>(&fused)}) {
    std::stringstream bytes(archive_bytes.str());
    torch::serialize::InputArchive archive;
    archive.load_from(bytes);
    optimizer->load(archive);
  }
  set_gradients(into_aten, 3);
  set_gradients(into_fused, 3);
  aten.step();
  fused.step();
  expect_same_state(fused, aten, into_fused, into_aten);
  const auto key = c10::guts::to_string(into_fused.a.unsafeGetTensorImpl());
  EXPECT_EQ(static_cast<torch::optim::AdamWParamState&>(*fused.state().at(key)).step(), 3);
}

TEST(FusedAdamW, TakesLibTorchsOpsWhereThePassDoesNotApply) {
  // float64 and a non-contiguous float32 parameter, with and without amsgrad: LibTorch's op
  // sequence, bit for bit.
  for (const bool amsgrad : {false, true}) {
    auto make = [] {
      torch::manual_seed(5);
      auto wide = torch::randn({4, 6});
      return std::vector<torch::Tensor>{torch::randn({50}, torch::kDouble).requires_grad_(), wide.t().requires_grad_()};
    };
    auto fused_params = make(), aten_params = make();
    ASSERT_FALSE(fused_params[1].is_contiguous());
    models::FusedAdamW fused(fused_params, torch::optim::AdamWOptions(1e-2).amsgrad(amsgrad));
    torch::optim::AdamW aten(aten_params, torch::optim::AdamWOptions(1e-2).amsgrad(amsgrad));
    for (int step = 1; step <= 3; ++step) {
      torch::manual_seed(step);
      for (size_t i = 0; i < fused_params.size(); ++i) {
        auto g = torch::randn(fused_params[i].sizes(), fused_params[i].options().requires_grad(false));
        fused_params[i].mutable_grad() = g.clone();
        aten_params[i].mutable_grad() = g.clone();
      }
      fused.step();
      aten.step();
    }
    for (size_t i = 0; i < fused_params.size(); ++i)
      EXPECT_TRUE(torch::equal(fused_params[i], aten_params[i])) << "parameter " << i << ", amsgrad " << amsgrad;
  }
}

TEST(FusedAdamW, TheOnePassUpdateIsTheWrittenOutFormula) {
  // One element by hand, in double: lr 0.1, wd 0.5, β 0.9 / 0.99, eps 1e-3, step 2.
  float p = 1.5F, g = -2.0F, m = 0.25F, v = 0.5F;
  const auto options = torch::optim::AdamWOptions(0.1).weight_decay(0.5).betas({0.9, 0.99}).eps(1e-3);
  models::adamw_update(&p, &g, &m, &v, 1, models::adamw_step_constants(options, 2));
  const double m2 = 0.9 * 0.25 + 0.1 * -2.0, v2 = 0.99 * 0.5 + 0.01 * 4.0;
  const double denom = std::sqrt(v2) / std::sqrt(1 - 0.99 * 0.99) + 1e-3;
  const double p2 = 1.5 * (1 - 0.1 * 0.5) - 0.1 / (1 - 0.9 * 0.9) * m2 / denom;
  EXPECT_NEAR(m, m2, 1e-6);
  EXPECT_NEAR(v, v2, 1e-6);
  EXPECT_NEAR(p, p2, 1e-6);
}
