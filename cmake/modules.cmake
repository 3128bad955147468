# One library per module, with an explicit dependency list that the compiler
# enforces.
#
# Each module's headers are reachable only through a per-module include tree
# in the build directory (build/include/<target>/<module path> -> source
# folder). A target sees its own tree and, through PUBLIC linking, the trees of
# the modules it depends on, and nothing else: `#include "daemon/ppp/lcp.h"`
# from daemon/sstp fails with "No such file" because sstp does not depend on
# ppp. tests/layering proves this with a probe that must fail to compile.

# sstp_module(<target> <path relative to the project root>
#             SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
function(sstp_module target path)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${target} STATIC ${M_SOURCES})
  set(tree ${CMAKE_BINARY_DIR}/include/${target})
  get_filename_component(parent ${tree}/${path} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT EXISTS ${tree}/${path})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${tree}/${path} SYMBOLIC)
  endif()
  target_include_directories(${target} PUBLIC ${tree})
  target_link_libraries(${target} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
endfunction()

# sstp_test(<target> SOURCES ... DEPS ...): a GoogleTest binary whose tests are
# registered with CTest one by one.
function(sstp_test target)
  if(NOT SSTP_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${target} ${T_SOURCES})
  target_link_libraries(${target} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  # A GTEST_SKIP()ped test shows as skipped in CTest's summary, not passed.
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${T_LABELS}" SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()

# sstp_fuzzer(<target> SOURCES ... DEPS ... [CORPUS dir]): a libFuzzer target,
# built only with -DSSTP_FUZZ=ON (clang).
function(sstp_fuzzer target)
  if(NOT SSTP_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${target} ${F_SOURCES})
  target_link_libraries(${target} PRIVATE ${F_DEPS})
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
endfunction()
