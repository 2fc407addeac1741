# Run by ctest (see CMakeLists.txt in this folder):
#   cmake -DMODE=light|self_contained -DCXX=<compiler> -DSTD_FLAG=-std=c++20
#         -DPUBLIC_DIR=<core/include> -DGENERATED_DIR=<build>/core/generated
#         -DEXTRA_DIRS=<nlohmann include dirs> -DWORK_DIR=<scratch dir> -P check_headers.cmake
cmake_minimum_required(VERSION 3.20)

foreach(v MODE CXX STD_FLAG PUBLIC_DIR GENERATED_DIR WORK_DIR)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_headers.cmake: -D${v}=... is required")
  endif()
endforeach()

set(include_flags -I${PUBLIC_DIR} -I${GENERATED_DIR})
# The JSON headers need nlohmann/json; a host that includes them has it on its path (crmkit::crmkit
# carries it). System folders are left to the compiler's own search order.
foreach(dir ${EXTRA_DIRS})
  if(NOT dir MATCHES "^/usr/include/?$")
    list(APPEND include_flags -isystem ${dir})
  endif()
endforeach()
file(MAKE_DIRECTORY ${WORK_DIR})

if(MODE STREQUAL "light")
  # The host a C++ developer writes first: one include, nothing else.
  set(host ${WORK_DIR}/light_host.cpp)
  file(WRITE ${host} "#include <crmkit/crmkit.hpp>\nint main() { return 0; }\n")
  execute_process(
    COMMAND ${CXX} ${STD_FLAG} ${include_flags} -H -fsyntax-only ${host}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compiling a host that includes crmkit/crmkit.hpp failed:\n${out}${err}")
  endif()
  # -H writes one line per header opened, "." repeated once per nesting level, then the path.
  string(REPLACE "\n" ";" lines "${err}")
  # Reports each offending header that a non-offending one includes, with the line before it
  # (the includer or a sibling), and skips what it includes in turn (the deeper lines).
  set(opened 0)
  set(offending "")
  set(previous "")
  set(run_depth -1)
  foreach(line IN LISTS lines)
    if(line MATCHES "^(\\.+) (.+)$")
      math(EXPR opened "${opened} + 1")
      string(LENGTH "${CMAKE_MATCH_1}" depth)
      set(path "${CMAKE_MATCH_2}")
      if(run_depth GREATER_EQUAL 0 AND depth GREATER run_depth)
        continue()
      endif()
      set(run_depth -1)
      if(path MATCHES "boost/" OR path MATCHES "nlohmann/")
        string(APPEND offending "  ${previous}\n  ${line}\n")
        set(run_depth ${depth})
      else()
        set(previous "${line}")
      endif()
    endif()
  endforeach()
  # Guard against a vacuous pass (no -H output, or the header not found at all).
  if(NOT err MATCHES "crmkit/store/store\\.hpp" OR NOT err MATCHES "crmkit/value/models\\.hpp")
    message(FATAL_ERROR "-H listed none of crmkit's own headers; the check did not run:\n${err}")
  endif()
  if(NOT offending STREQUAL "")
    message(FATAL_ERROR
      "crmkit/crmkit.hpp reaches Boost or nlohmann/json headers (keep them in core/src or in "
      "the opt-in crmkit/json.hpp). From the -H output (one dot per nesting level):\n"
      "${offending}")
  endif()
  message(STATUS "crmkit/crmkit.hpp opens ${opened} headers, none from Boost or nlohmann/json")

elseif(MODE STREQUAL "self_contained")
  file(GLOB_RECURSE headers RELATIVE ${PUBLIC_DIR} ${PUBLIC_DIR}/crmkit/*.hpp)
  list(APPEND headers crmkit/version.hpp)
  list(SORT headers)
  set(failed "")
  set(count 0)
  foreach(h ${headers})
    string(MAKE_C_IDENTIFIER "${h}" id)
    set(tu ${WORK_DIR}/self_${id}.cpp)
    # Twice: the second include must be a no-op (#pragma once).
    file(WRITE ${tu} "#include <${h}>\n#include <${h}>\n")
    execute_process(
      COMMAND ${CXX} ${STD_FLAG} ${include_flags} -Wall -Wextra -Wpedantic -Werror
              -fsyntax-only ${tu}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    math(EXPR count "${count} + 1")
    if(NOT rc EQUAL 0)
      string(APPEND failed "--- ${h} does not compile on its own:\n${out}${err}\n")
    endif()
  endforeach()
  if(count LESS 10)
    message(FATAL_ERROR "found only ${count} public headers under ${PUBLIC_DIR}/crmkit")
  endif()
  if(NOT failed STREQUAL "")
    message(FATAL_ERROR "${failed}")
  endif()
  message(STATUS "${count} public headers compile on their own")
else()
  message(FATAL_ERROR "check_headers.cmake: unknown MODE ${MODE}")
endif()
