#pragma once
// Metric sinks. A step's metrics are an ordered name → value map; sinks decide how to show them.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/files.h"

namespace vecrl::core {

using MetricMap = std::map<std::string, double>;

class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void write(int64_t step, const MetricMap& metrics) = 0;
};

// One JSON object per line: {"step": s, "<name>": value, ...}. Non-finite values become null.
class JsonlMetricSink : public MetricSink {
 public:
  explicit JsonlMetricSink(const std::string& path);
  void write(int64_t step, const MetricMap& metrics) override;

 private:
  OutputFile out_;
};

}  // namespace vecrl::core
