#pragma once
// String-keyed factories for the extension points. Each registry instance is a function-local
// static defined in exactly one .cpp of its layer (see VECRL_DEFINE_REGISTRY), so built-in and
// plugin registrations land in the same table however the libraries are linked.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace vecrl::core {

template <class Base, class... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Base>(Args...)>;

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(const std::string& name, Factory factory) {
    VECRL_CHECK(!name.empty(), kind_, " registry: empty name");
    VECRL_CHECK(factories_.count(name) == 0, kind_, " '", name, "' is registered twice");
    factories_.emplace(name, std::move(factory));
  }

  bool contains(const std::string& name) const { return factories_.count(name) > 0; }

  std::unique_ptr<Base> create(const std::string& name, Args... args) const {
    auto it = factories_.find(name);
    VECRL_CHECK(it != factories_.end(), "unknown ", kind_, " '", name, "'; registered: ", joined_names());
    return it->second(std::forward<Args>(args)...);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, factory] : factories_) out.push_back(name);
    return out;
  }

  std::string joined_names() const {
    std::string out;
    for (const auto& name : names()) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "(none)" : out;
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Factory> factories_;
};

// Registers a factory at load time of the library that contains it.
template <class RegistryT>
struct Registration {
  Registration(RegistryT& registry, const std::string& name, typename RegistryT::Factory factory) {
    registry.add(name, std::move(factory));
  }
};

}  // namespace vecrl::core

#define VECRL_CONCAT_INNER(a, b) a##b
#define VECRL_CONCAT(a, b) VECRL_CONCAT_INNER(a, b)
// VECRL_REGISTER(registry_expression, "name", factory_lambda)
#define VECRL_REGISTER(registry, name, ...)                                                   \
  static const ::vecrl::core::Registration<std::decay_t<decltype(registry)>> VECRL_CONCAT( \
      vecrl_registration_, __COUNTER__)(registry, name, __VA_ARGS__)
