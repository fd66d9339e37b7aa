#pragma once
// Where a model runs and in which dtype it computes, by the names configs and command lines use.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>
#include <utility>
#include <vector>

namespace vecrl::models {

// "cpu", "cuda", "cuda:N" or "auto".
bool is_device_spec(const std::string& spec);

// The device of a spec: "auto" is this rank's GPU (cuda:<local_rank>) when the build and the machine
// have CUDA, else the CPU. Throws, the message starting with `what` (the config key or option), for
// anything that is not a spec or a GPU that is not there.
c10::Device resolve_device(const std::string& spec, int64_t local_rank, const std::string& what);

// The compute dtypes by name: float32, and bfloat16 (float32 master weights cast at use).
const std::vector<std::pair<std::string, c10::ScalarType>>& compute_dtype_names();
// One of those names to its dtype; throws naming `what` otherwise.
c10::ScalarType compute_dtype_named(const std::string& name, const std::string& what);

}  // namespace vecrl::models
