#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace vecrl::core {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  VECRL_CHECK(in.good(), path, ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

OutputFile::OutputFile(const std::string& path, Mode mode) : path_(path) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == Mode::kAppend ? O_APPEND : O_TRUNC);
  fd_ = ::open(path.c_str(), flags, 0644);
  VECRL_CHECK(fd_ >= 0, path, ": cannot open for writing: ", std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OutputFile::append(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    VECRL_CHECK(n > 0, path_, ": write failed: ", std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace vecrl::core
