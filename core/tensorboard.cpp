#include "core/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace vecrl::core {
namespace {

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// Protocol-buffer wire encoding of the few fields we need.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, int field, int wire_type) { put_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type); }
template <class T>
void put_fixed(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(bytes, sizeof(T));
}
void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

std::string event(double wall_time, int64_t step) {
  std::string e;
  put_tag(e, 1, 1);  // Event.wall_time: double
  put_fixed(e, wall_time);
  put_tag(e, 2, 0);  // Event.step: int64
  put_varint(e, static_cast<uint64_t>(step));
  return e;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(const std::string& data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = crc_table()[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const std::string& data) {
  const uint32_t c = crc32c(data);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

TensorBoardSink::TensorBoardSink(const std::string& dir) {
  std::filesystem::create_directories(dir);
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  path_ = (std::filesystem::path(dir) /
           ("events.out.tfevents." + std::to_string(static_cast<int64_t>(now_seconds())) + "." + host))
              .string();
  out_ = std::make_unique<OutputFile>(path_, OutputFile::Mode::kTruncate);
  std::string e = event(now_seconds(), 0);
  put_bytes(e, 3, "brain.Event:2");  // Event.file_version
  write_record(e);
}

void TensorBoardSink::write(int64_t step, const MetricMap& metrics) {
  std::string summary;
  for (const auto& [name, value] : metrics) {
    if (!std::isfinite(value)) continue;
    std::string v;
    put_bytes(v, 1, name);  // Summary.Value.tag
    put_tag(v, 2, 5);       // Summary.Value.simple_value: float
    put_fixed(v, static_cast<float>(value));
    put_bytes(summary, 1, v);  // Summary.value
  }
  std::string e = event(now_seconds(), step);
  put_bytes(e, 5, summary);  // Event.summary
  write_record(e);
}

void TensorBoardSink::write_record(const std::string& payload) {
  std::string header;
  put_fixed(header, static_cast<uint64_t>(payload.size()));
  std::string record = header;
  put_fixed(record, masked_crc32c(header));
  record += payload;
  put_fixed(record, masked_crc32c(payload));
  out_->append(record);
}

}  // namespace vecrl::core
