#pragma once
// Shared by the libFuzzer targets: readers that take a path get the input through a per-process
// scratch file; the only exceptions an input may cause are the documented error types.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace vecrl::fuzz {

inline std::string scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = "/tmp/vecrl_fuzz_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
  return path;
}

}  // namespace vecrl::fuzz
