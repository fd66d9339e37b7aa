#pragma once
// Whole files in and out.
#include <string>
#include <string_view>

namespace vecrl::core {

// A file's bytes; throws "<path>: cannot open" when it cannot be read.
std::string read_text_file(const std::string& path);

// A file a run keeps open while it starts other programs (metrics.jsonl, the TensorBoard event
// file), opened close-on-exec: std::ofstream's descriptor would be inherited by every program the
// process execs, which could then write into the run's records. Each append is one write(2).
class OutputFile {
 public:
  enum class Mode { kAppend, kTruncate };
  OutputFile(const std::string& path, Mode mode);  // throws naming the path
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void append(std::string_view bytes);  // all of it, or throws naming the path
  const std::string& path() const { return path_; }
  int descriptor() const { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace vecrl::core
