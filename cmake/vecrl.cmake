# vecrl_add_layer(NAME SOURCES... DEPS ...): one shared library per layer folder.
function(vecrl_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} SHARED ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  vecrl_use_pch(${name})
  vecrl_use_unity(${name})
endfunction()

# Unity build: a target's sources compiled VECRL_UNITY_BATCH at a time, so the LibTorch headers
# (10-20 s per translation unit on 2 cores, whatever the file's own size) are parsed once per batch
# instead of once per file. Files with their own compile definitions are compiled alone.
function(vecrl_use_unity target)
  if(VECRL_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${VECRL_UNITY_BATCH})
  endif()
endfunction()

function(vecrl_use_pch target)
  if(NOT VECRL_PCH)
    return()
  endif()
  if(TARGET vecrl_pch)
    target_precompile_headers(${target} REUSE_FROM vecrl_pch)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      # The PCH is built with -fPIC; executables would get -fPIE and GCC would then ignore the PCH.
      set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
      target_compile_options(${target} PRIVATE -fPIC)
    endif()
  endif()
endfunction()

if(VECRL_PCH)
  # A tiny object library that only builds the PCH, so every target can REUSE_FROM it.
  add_library(vecrl_pch OBJECT ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
  target_link_libraries(vecrl_pch PUBLIC ${TORCH_LIBRARIES})
  target_compile_options(vecrl_pch PRIVATE -Wall -Wextra -Wno-unused-parameter)
  target_precompile_headers(vecrl_pch PRIVATE <torch/torch.h>)
endif()
