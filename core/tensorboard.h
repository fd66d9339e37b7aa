#pragma once
// A TensorBoard event-file sink written without TensorFlow: TFRecord framing (length, masked
// CRC-32C, payload, masked CRC-32C) around hand-encoded `Event` protocol buffers carrying scalar
// summaries. TensorBoard reads the files as they are.
#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/files.h"

namespace vecrl::core {

class TensorBoardSink : public MetricSink {
 public:
  // Creates <dir>/events.out.tfevents.<seconds>.<host> and writes the file-version event.
  explicit TensorBoardSink(const std::string& dir);
  void write(int64_t step, const MetricMap& metrics) override;
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& payload);
  std::string path_;
  std::unique_ptr<OutputFile> out_;
};

// CRC-32C (Castagnoli) and TFRecord's masking of it; exposed for tests.
uint32_t crc32c(const std::string& data);
uint32_t masked_crc32c(const std::string& data);

}  // namespace vecrl::core
