#pragma once
// Where the tests find the shared data (../shared/data beside the repository, never copied in).
#include <string>

namespace vecrl::test {

inline std::string shared_data(const std::string& relative) { return std::string(VECRL_SHARED_DATA) + "/" + relative; }

// The real pretrained stories260K model folder.
inline const std::string& stories260k() {
  static const std::string path = shared_data("models/stories260K");
  return path;
}

}  // namespace vecrl::test
