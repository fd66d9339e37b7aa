#include "trainer/micro_batches.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace vecrl::trainer {

at::Tensor MicroBatch::prompt_part(const at::Tensor& x) const {
  return x.index_select(0, rows).narrow(1, x.size(1) - prompt_len, prompt_len);
}

at::Tensor MicroBatch::response_part(const at::Tensor& x) const {
  return x.index_select(0, rows).narrow(1, 0, response_len);
}

namespace {

// Extents, not counts: the last real column + 1 (a mask may have holes, e.g. masked tool output).
at::Tensor extent(const at::Tensor& mask, bool from_right) {
  const int64_t width = mask.size(1);
  auto index = at::arange(1, width + 1, at::TensorOptions().dtype(at::kLong).device(mask.device()));
  if (from_right) index = index.flip(0);
  return (index.unsqueeze(0) * mask.to(at::kLong)).amax(1).to(at::kCPU).contiguous();
}

}  // namespace

std::vector<MicroBatch> plan_micro_batches(const at::Tensor& rows, const core::Rollouts& r, int64_t max_rows,
                                           int64_t max_tokens) {
  const auto prompt_lengths = extent(r.prompt_mask, /*from_right=*/true);
  const auto response_lengths = extent(r.response_mask, /*from_right=*/false);
  const int64_t* prompt_len = prompt_lengths.data_ptr<int64_t>();
  const int64_t* response_len = response_lengths.data_ptr<int64_t>();
  auto row_ids = rows.to(at::kCPU).contiguous();
  const int64_t* ids = row_ids.data_ptr<int64_t>();
  std::vector<MicroBatch> out;
  std::vector<int64_t> current;
  int64_t lp = 0, lr = 0;
  auto flush = [&] {
    if (current.empty()) return;
    out.push_back({at::tensor(current, at::kLong).to(rows.device()), std::max<int64_t>(lp, 1), std::max<int64_t>(lr, 1)});
    current.clear();
    lp = lr = 0;
  };
  for (int64_t k = 0; k < row_ids.numel(); ++k) {
    const int64_t row = ids[k];
    const int64_t p = prompt_len[row], q = response_len[row];
    const int64_t n = static_cast<int64_t>(current.size()) + 1;
    const bool over_rows = n > max_rows;
    const bool over_tokens = max_tokens > 0 && n * (std::max(lp, p) + std::max(lr, q)) > max_tokens;
    if (!current.empty() && (over_rows || over_tokens)) flush();
    current.push_back(row);
    lp = std::max(lp, p);
    lr = std::max(lr, q);
  }
  flush();
  return out;
}

}  // namespace vecrl::trainer
