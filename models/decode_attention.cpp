#include "models/decode_attention.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"

namespace vecrl::models {
namespace {

// exp(x) for x <= 0 (scores minus their maximum), written so that the compiler vectorises it:
// x = n ln2 + r with |r| <= ln2 / 2, exp(r) by Cephes' expf polynomial (relative error ~1e-7),
// 2ⁿ built in the exponent bits. Below -87.3 (a masked key's -inf included) the result is 0.
[[gnu::always_inline]] inline float exp_nonpositive(float x) {
  const float clamped = std::max(x, -87.3f);
  const float n = std::floor(clamped * 1.44269504088896341f + 0.5f);
  const float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float two_to_n;
  std::memcpy(&two_to_n, &bits, sizeof bits);
  return x < -87.3f ? 0.0f : p * two_to_n;
}

struct Shape {
  int64_t batch, kv_heads, rep, dim, capacity, length, bias_row_stride;
};

struct Operands {
  const float* q;       // [B, Hkv, R, d]
  const float* keys;    // [B, Hkv, C, d]
  const float* values;  // [B, Hkv, C, d]
  const float* bias;    // [B, .., >= S] with rows `bias_row_stride` apart
  float* out;           // [B, Hkv, R, d]
};

// (row, kv head) pairs [begin, end): each head's R queries against its S cached positions, `scores`
// holding [R, S]. D is the head dimension when known at compile time (the loops then unroll), else 0.
template <int64_t D>
[[gnu::always_inline]] inline void attend_heads(const Operands& o, const Shape& shape, int64_t begin, int64_t end,
                                                float* scores) {
  const int64_t d = D > 0 ? D : shape.dim, R = shape.rep, S = shape.length;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  for (int64_t i = begin; i < end; ++i) {
    const float* keys = o.keys + i * shape.capacity * d;
    const float* values = o.values + i * shape.capacity * d;
    const float* bias = o.bias + (i / shape.kv_heads) * shape.bias_row_stride;
    const float* q = o.q + i * R * d;
    float* out = o.out + i * R * d;
    for (int64_t s = 0; s < S; ++s) {
      const float* key = keys + s * d;
      for (int64_t r = 0; r < R; ++r) {
        const float* query = q + r * d;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t j = 0; j < d; ++j) dot += query[j] * key[j];
        scores[r * S + s] = dot * scale + bias[s];
      }
    }
    for (int64_t r = 0; r < R; ++r) {
      float* row = scores + r * S;
      float top = -std::numeric_limits<float>::infinity();
      for (int64_t s = 0; s < S; ++s) top = std::max(top, row[s]);
      float total = 0;
#pragma omp simd reduction(+ : total)
      for (int64_t s = 0; s < S; ++s) {
        row[s] = exp_nonpositive(row[s] - top);
        total += row[s];
      }
      float* head_out = out + r * d;
      std::fill(head_out, head_out + d, 0.0f);
      for (int64_t s = 0; s < S; ++s) {
        const float weight = row[s];
        const float* value = values + s * d;
#pragma omp simd
        for (int64_t j = 0; j < d; ++j) head_out[j] += weight * value[j];
      }
      const float inverse = 1.0f / total;
      for (int64_t j = 0; j < d; ++j) head_out[j] *= inverse;
    }
  }
}

// Built for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline, the CPU choosing at load
// time; the kernels above are inlined into each.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void attend_range(const Operands& o, const Shape& shape, int64_t begin, int64_t end, float* scores) {
  switch (shape.dim) {
    case 8: return attend_heads<8>(o, shape, begin, end, scores);
    case 16: return attend_heads<16>(o, shape, begin, end, scores);
    case 32: return attend_heads<32>(o, shape, begin, end, scores);
    case 64: return attend_heads<64>(o, shape, begin, end, scores);
    case 128: return attend_heads<128>(o, shape, begin, end, scores);
    default: return attend_heads<0>(o, shape, begin, end, scores);
  }
}

}  // namespace

bool decode_attention_applies(const at::Tensor& q) {
  return q.is_cpu() && q.scalar_type() == at::kFloat && !at::GradMode::is_enabled();
}

at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values, int64_t length,
                            const at::Tensor& bias) {
  VECRL_CHECK(decode_attention_applies(q), "decode_attention: float32 CPU queries without gradients only");
  VECRL_CHECK(q.dim() == 4 && keys.dim() == 4 && keys.sizes() == values.sizes() && keys.size(0) == q.size(0) &&
                  keys.size(1) == q.size(1) && keys.size(3) == q.size(3),
              "decode_attention: q ", q.sizes(), ", keys ", keys.sizes(), ", values ", values.sizes());
  VECRL_CHECK(length >= 1 && length <= keys.size(2), "decode_attention: length ", length, " outside [1, ",
              keys.size(2), "]");
  VECRL_CHECK(keys.is_contiguous() && values.is_contiguous() && keys.scalar_type() == at::kFloat &&
                  values.scalar_type() == at::kFloat,
              "decode_attention: the cache must be contiguous float32");
  VECRL_CHECK(bias.dim() == 4 && bias.size(0) == q.size(0) && bias.size(1) == 1 && bias.size(2) == 1 &&
                  bias.size(3) >= length && bias.scalar_type() == at::kFloat,
              "decode_attention: bias ", bias.sizes(), ", expected float32 [", q.size(0), ", 1, 1, >= ", length, "]");
  const auto queries = q.contiguous();
  const auto mask = bias.stride(3) == 1 ? bias : bias.contiguous();
  auto out = at::empty(q.sizes(), q.options());
  const Shape shape{q.size(0), q.size(1), q.size(2), q.size(3), keys.size(2), length, mask.stride(0)};
  const Operands operands{queries.data_ptr<float>(), keys.data_ptr<float>(), values.data_ptr<float>(),
                          mask.data_ptr<float>(), out.data_ptr<float>()};
  at::parallel_for(0, shape.batch * shape.kv_heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<std::size_t>(shape.rep * shape.length));
    attend_range(operands, shape, begin, end, scores.data());
  });
  return out;
}

}  // namespace vecrl::models
