#include "core/metrics.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "core/error.h"

namespace vecrl::core {

JsonlMetricSink::JsonlMetricSink(const std::string& path) : out_(path, OutputFile::Mode::kAppend) {}

void JsonlMetricSink::write(int64_t step, const MetricMap& metrics) {
  nlohmann::json line = {{"step", step}};
  for (const auto& [name, value] : metrics) line[name] = std::isfinite(value) ? nlohmann::json(value) : nullptr;
  out_.append(line.dump() + '\n');
}

}  // namespace vecrl::core
