# vecrl_add_layer(NAME SOURCES... DEPS ...): one shared library per layer folder.
# The first layer owns the <torch/torch.h> precompiled header; the others reuse it.
function(vecrl_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} SHARED ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  vecrl_use_pch(${name})
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
