#pragma once
// Our own safetensors reader/writer: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}}, then the raw little-endian tensor bytes.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace vecrl::core {

// Reads every tensor of a file (copied into owned CPU tensors). Throws naming the file and tensor
// for a truncated file, a header past the end, bad offsets, overlaps or an unknown dtype.
std::map<std::string, at::Tensor> read_safetensors(const std::string& path);

// Writes tensors (any supported dtype, made contiguous on CPU) with optional string metadata.
void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace vecrl::core
