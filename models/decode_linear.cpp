#include "models/decode_linear.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>

#include <algorithm>

#include "core/error.h"

namespace vecrl::models {
namespace {

// Eight floats: one AVX register in the x86-64-v3 build, two SSE ones in the baseline.
typedef float Lanes __attribute__((vector_size(32)));
constexpr int64_t kLanes = 8;

[[gnu::always_inline]] inline Lanes load(const float* p) {
  Lanes v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

[[gnu::always_inline]] inline float lane_sum(Lanes v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

struct Operands {
  const float* x;  // [M, K]
  const float* w;  // [N, K]
  float* y;        // [M, N]
  int64_t M, K, N;
};

// y[m .. m+MR, n .. n+NR] = x[m .. m+MR] · w[n .. n+NR]ᵀ: MR·NR dot products of length K, each kept
// as eight partial sums in a register, so a step of eight k loads MR + NR vectors for MR·NR FMAs.
// With `prefetch`, the next NR weight rows are fetched meanwhile: the first tile of a column block
// reads its weight rows from memory, and without it waited on them (a quarter of a llama-42m step).
template <int MR, int NR, bool prefetch = false>
[[gnu::always_inline]] inline void tile(const Operands& o, int64_t m, int64_t n) {
  Lanes acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = Lanes{};
  const int64_t K = o.K, full = K - K % kLanes;
  for (int64_t k = 0; k < full; k += kLanes) {
    Lanes w[NR];
    for (int j = 0; j < NR; ++j) w[j] = load(o.w + (n + j) * K + k);
    if (prefetch)
      for (int j = 0; j < NR; ++j) __builtin_prefetch(o.w + (n + NR + j) * K + k);
    for (int i = 0; i < MR; ++i) {
      const Lanes x = load(o.x + (m + i) * K + k);
      for (int j = 0; j < NR; ++j) acc[i][j] += x * w[j];
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      float sum = lane_sum(acc[i][j]);
      for (int64_t k = full; k < K; ++k) sum += o.x[(m + i) * K + k] * o.w[(n + j) * K + k];
      o.y[(m + i) * o.N + n + j] = sum;
    }
}

constexpr int kTileRows = 4, kTileCols = 4;

// Weight rows n .. n+NR against every input row: full tiles of four rows, then the rest one by one.
template <int NR>
[[gnu::always_inline]] inline void column_block(const Operands& o, int64_t n) {
  int64_t m = 0;
  if (kTileRows <= o.M && n + 2 * NR <= o.N) {
    tile<kTileRows, NR, true>(o, m, n);
    m += kTileRows;
  }
  for (; m + kTileRows <= o.M; m += kTileRows) tile<kTileRows, NR>(o, m, n);
  for (; m < o.M; ++m) tile<1, NR>(o, m, n);
}

// Weight rows [begin, end). Built for x86-64-v4 (AVX-512: 32 vector registers, so a 4 x 4 tile's
// sixteen sums stay in registers; on AVX2's sixteen one spills), x86-64-v3 (AVX2 + FMA) and the
// baseline, the CPU choosing at load time; the tiles above are inlined into each.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void weight_rows(const Operands& o, int64_t begin, int64_t end) {
  int64_t n = begin;
  for (; n + kTileCols <= end; n += kTileCols) column_block<kTileCols>(o, n);
  for (; n < end; ++n) column_block<1>(o, n);
}

}  // namespace

bool decode_linear_applies(const at::Tensor& x, const at::Tensor& weight) {
  const bool one_position_per_row = x.dim() == 2 || (x.dim() == 3 && x.size(1) == 1);
  return one_position_per_row && x.is_cpu() && weight.is_cpu() && x.scalar_type() == at::kFloat &&
         weight.scalar_type() == at::kFloat && weight.dim() == 2 && x.size(-1) == weight.size(1) &&
         x.size(-1) >= kDecodeLinearMinDepth && !at::GradMode::is_enabled();
}

at::Tensor decode_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  VECRL_CHECK(decode_linear_applies(x, weight), "decode_linear: x ", x.sizes(), " ", x.scalar_type(),
              " against weight ", weight.sizes(), " ", weight.scalar_type(),
              ": one position per row, float32 CPU tensors, K >= ", kDecodeLinearMinDepth, ", gradients off");
  const auto input = x.contiguous();
  const auto w = weight.contiguous();
  const int64_t K = w.size(1), N = w.size(0), M = K > 0 ? input.numel() / K : 0;
  auto sizes = x.sizes().vec();
  sizes.back() = N;
  auto y = at::empty(sizes, x.options());
  const Operands o{input.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>(), M, K, N};
  // Chunks of whole tiles, at least 64 weight rows each, so a thread's work outlasts its start-up.
  at::parallel_for(0, (N + kTileCols - 1) / kTileCols, 16, [&](int64_t begin, int64_t end) {
    weight_rows(o, begin * kTileCols, std::min(end * kTileCols, N));
  });
  if (bias.defined()) y.add_(bias);
  return y;
}

}  // namespace vecrl::models
