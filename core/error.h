#pragma once
// Errors: exceptions carrying context. Library code throws; only main() turns them into exit codes.
#include <new>
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

// Runs `load` and turns an allocation failure inside it (std::bad_alloc, LibTorch's "can't allocate
// memory", CUDA's "out of memory") into an Error naming what was being loaded; `describe()` is
// called only then, so it may name the line or tensor reached. Other exceptions pass unchanged.
template <class Describe, class Load>
auto naming_allocation_failure(const Describe& describe, Load&& load) -> decltype(load()) {
  try {
    return load();
  } catch (const std::bad_alloc&) {
    throw Error(str_cat("out of memory while loading ", describe()));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string message = e.what();
    if (message.find("can't allocate memory") == std::string::npos && message.find("out of memory") == std::string::npos)
      throw;
    message = message.substr(0, message.find('\n'));
    throw Error(str_cat("out of memory while loading ", describe(), " (", message, ")"));
  }
}

}  // namespace vecrl::core

// VECRL_CHECK(cond, "what", value, ...) throws vecrl::core::Error with the message when cond is false.
#define VECRL_CHECK(cond, ...)                                              \
  do {                                                                      \
    if (!(cond)) throw ::vecrl::core::Error(::vecrl::core::str_cat(__VA_ARGS__)); \
  } while (0)
