# obs_target_options(<target>): warnings (errors with OBS_WERROR) and sanitizers for our own code.
set(OBS_WARNINGS -Wall -Wextra -Wpedantic -Wold-style-cast -Woverloaded-virtual -Wsuggest-override
    -Wextra-semi -Wcast-qual -Wformat=2
    # Options are aggregates built with designated initializers that leave defaults out on purpose.
    -Wno-missing-field-initializers)
if(OBS_SANITIZE)
  string(REPLACE "," ";" _obs_sanitizers "${OBS_SANITIZE}")
  foreach(_s IN LISTS _obs_sanitizers)
    add_compile_options(-fsanitize=${_s})
    add_link_options(-fsanitize=${_s})
  endforeach()
  add_compile_options(-fno-omit-frame-pointer -fno-sanitize-recover=all)
endif()

function(obs_target_options target)
  target_compile_options(${target} PRIVATE ${OBS_WARNINGS})
  if(OBS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# obs_library(<module> SOURCES... [DEPS ...]): the static library obsforge_<module>.
function(obs_library module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(obsforge_${module} STATIC ${ARG_SOURCES})
  add_library(obsforge::${module} ALIAS obsforge_${module})
  target_include_directories(obsforge_${module} PUBLIC "${CMAKE_SOURCE_DIR}/src")
  target_link_libraries(obsforge_${module} PUBLIC ${ARG_DEPS})
  obs_target_options(obsforge_${module})
endfunction()

# obs_test(<name> SOURCES... [DEPS ...] [DISCOVER_FILTER expr] [ONE_PROCESS]): a GoogleTest
# binary registered with ctest, one ctest test per test case (only those matching the gtest filter
# expr, if given); with ONE_PROCESS, one ctest test running the whole binary (for test cases that
# share one costly fixture, such as the PostgreSQL server a binary starts).
function(obs_test name)
  cmake_parse_arguments(ARG "ONE_PROCESS" "DISCOVER_FILTER" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} obs_test_paths GTest::gmock_main)
  target_include_directories(${name} PRIVATE "${CMAKE_SOURCE_DIR}/tests" "${CMAKE_SOURCE_DIR}/src")
  # OBS_SOURCE_DIR & co. come from tests/support/paths.h (values in one generated file), not from
  # -D flags: test objects stay the same wherever the repository is, so ccache serves a copy.
  target_compile_options(${name} PRIVATE -include "${CMAKE_SOURCE_DIR}/tests/support/paths.h")
  obs_target_options(${name})
  if(ARG_ONE_PROCESS)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  elseif(ARG_DISCOVER_FILTER)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_FILTER "${ARG_DISCOVER_FILTER}"
                         PROPERTIES LABELS "${ARG_LABELS}")
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
