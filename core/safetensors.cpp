#include "core/safetensors.h"
#include "core/json_input.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace vecrl::core {
namespace {

struct DtypeInfo {
  const char* name;
  at::ScalarType type;
};

const std::vector<DtypeInfo>& dtypes() {
  static const std::vector<DtypeInfo> table = {
      {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},   {"BF16", at::kBFloat16},
      {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort},  {"I8", at::kChar},
      {"U8", at::kByte},    {"BOOL", at::kBool},
  };
  return table;
}

at::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  for (const auto& d : dtypes())
    if (name == d.name) return d.type;
  throw Error(str_cat(where, ": unsupported dtype '", name, "'"));
}

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : dtypes())
    if (d.type == type) return d.name;
  throw Error(str_cat("safetensors: cannot write dtype ", type));
}

}  // namespace

std::map<std::string, at::Tensor> read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  VECRL_CHECK(in, path, ": cannot open safetensors file");
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  VECRL_CHECK(file_size >= 8, path, ": truncated safetensors file (", file_size, " bytes, no header length)");
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  VECRL_CHECK(header_len <= file_size - 8, path, ": header length ", header_len, " runs past the end of the ",
              file_size, "-byte file");
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  const nlohmann::json meta = parse_json(header, path + " (its header)");
  VECRL_CHECK(meta.is_object(), path, ": the header must be a JSON object");
  const uint64_t data_size = file_size - 8 - header_len;

  struct Entry {
    std::string name;
    at::ScalarType type;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string where = str_cat(path, ": tensor '", it.key(), "'");
    const auto& v = it.value();
    VECRL_CHECK(v.is_object() && v.contains("dtype") && v.contains("shape") && v.contains("data_offsets"), where,
                ": needs dtype, shape and data_offsets");
    VECRL_CHECK(v["dtype"].is_string() && v["shape"].is_array() && v["data_offsets"].is_array() &&
                    v["data_offsets"].size() == 2,
                where, ": malformed entry ", v.dump());
    Entry e{it.key(), dtype_from_name(v["dtype"].get<std::string>(), where), {}, 0, 0};
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      VECRL_CHECK(d.is_number_unsigned(), where, ": shape entries must be non-negative integers");
      const auto dim = d.get<uint64_t>();
      VECRL_CHECK(dim < (uint64_t{1} << 40) && (dim == 0 || numel <= (uint64_t{1} << 40) / dim), where,
                  ": shape too large");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    VECRL_CHECK(v["data_offsets"][0].is_number_unsigned() && v["data_offsets"][1].is_number_unsigned(), where,
                ": data_offsets must be non-negative integers");
    e.begin = v["data_offsets"][0].get<uint64_t>();
    e.end = v["data_offsets"][1].get<uint64_t>();
    VECRL_CHECK(e.begin <= e.end && e.end <= data_size, where, ": data_offsets [", e.begin, ", ", e.end,
                "] outside the ", data_size, "-byte data section");
    const uint64_t expected = numel * at::elementSize(e.type);
    VECRL_CHECK(e.end - e.begin == expected, where, ": ", e.end - e.begin, " bytes for shape of ", numel,
                " elements of ", v["dtype"].get<std::string>(), " (expected ", expected, ")");
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < entries.size(); ++i)
    VECRL_CHECK(entries[i].begin >= entries[i - 1].end, path, ": tensors '", entries[i - 1].name, "' and '",
                entries[i].name, "' overlap");

  std::map<std::string, at::Tensor> out;
  const uint64_t data_start = 8 + header_len;
  for (const auto& e : entries) {
    at::Tensor t = naming_allocation_failure(
        [&] { return str_cat(path, ": tensor '", e.name, "' (", e.end - e.begin, " bytes)"); },
        [&] { return at::empty(e.shape, at::TensorOptions().dtype(e.type)); });
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    VECRL_CHECK(in, path, ": failed reading tensor '", e.name, "'");
    out.emplace(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(t);
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');  // keep the data section 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  VECRL_CHECK(out, path, ": cannot open for writing");
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((len >> (8 * i)) & 0xff));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : data)
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  VECRL_CHECK(out, path, ": write failed");
}

}  // namespace vecrl::core
