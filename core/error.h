#pragma once
// Errors: exceptions carrying context. Library code throws; only main() turns them into exit codes.
#include <sstream>
#include <stdexcept>
#include <string>

namespace vecrl::core {

// A user-facing error (bad config, bad file, bad argument). Messages name the file, key or line.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// Concatenates its arguments with operator<<, like TORCH_CHECK's message.
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

}  // namespace vecrl::core

// VECRL_CHECK(cond, "what", value, ...) throws vecrl::core::Error with the message when cond is false.
#define VECRL_CHECK(cond, ...)                                              \
  do {                                                                      \
    if (!(cond)) throw ::vecrl::core::Error(::vecrl::core::str_cat(__VA_ARGS__)); \
  } while (0)
