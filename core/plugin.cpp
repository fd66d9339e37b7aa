#include "core/plugin.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "core/error.h"

namespace vecrl::core {

void load_plugins(const std::vector<std::string>& paths) {
  static std::mutex mutex;
  static std::set<std::string> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& path : paths) {
    VECRL_CHECK(std::filesystem::is_regular_file(path), "plugin ", path, ": no such file");
    const std::string canonical = std::filesystem::canonical(path).string();
    if (loaded.count(canonical)) continue;
    // Registrations run inside dlopen; the ABI check follows at once and a mismatch is an error
    // the caller turns into a stopped run, before any registered component is used.
    void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_GLOBAL);
    VECRL_CHECK(handle != nullptr, "plugin ", path, ": cannot load: ", dlerror());
    using AbiFn = int (*)();
    auto abi = reinterpret_cast<AbiFn>(dlsym(handle, "vecrl_plugin_abi_version"));
    VECRL_CHECK(abi != nullptr, "plugin ", path,
                ": missing symbol vecrl_plugin_abi_version (add VECRL_PLUGIN() to one of its .cpp files)");
    VECRL_CHECK(abi() == VECRL_PLUGIN_ABI_VERSION, "plugin ", path, ": built for plugin ABI ", abi(),
                ", this vecrl has ABI ", VECRL_PLUGIN_ABI_VERSION, "; rebuild the plugin");
    loaded.insert(canonical);
  }
}

}  // namespace vecrl::core
