#include "core/metrics.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/error.h"

namespace vecrl::core {

JsonlMetricSink::JsonlMetricSink(const std::string& path) : path_(path), out_(path, std::ios::app) {
  VECRL_CHECK(out_, path, ": cannot open metrics file for writing");
}

void JsonlMetricSink::write(int64_t step, const MetricMap& metrics) {
  nlohmann::json line = {{"step", step}};
  for (const auto& [name, value] : metrics) line[name] = std::isfinite(value) ? nlohmann::json(value) : nullptr;
  out_ << line.dump() << '\n';
  out_.flush();
  VECRL_CHECK(out_, path_, ": write failed");
}

}  // namespace vecrl::core
