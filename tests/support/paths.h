#pragma once

#include <cstdlib>
#include <filesystem>

// Where the tests find their inputs. Every test binary is compiled with this header included
// first (obs_test), and the paths themselves live in one generated file (paths.cc.in), so the test
// objects do not depend on where the repository was checked out and a copy of it in another folder
// builds them from ccache.

namespace obs_test {

/// The source tree, as configured.
const char* SourceDir();
/// The build tree, as configured.
const char* BinaryDir();
/// The folder configured as OBS_SHARED_DIR (default: `shared/` beside the source tree). Optional:
/// nothing in the suite needs it.
const char* ConfiguredSharedDir();

/// The project's own content fixtures: exported dashboards and rule files (tests/content).
inline std::filesystem::path ContentDir() {
  return std::filesystem::path(SourceDir()) / "tests" / "content";
}

/// The external corpus of third-party files some tests use as extra coverage: `$OBS_CORPUS_DIR`
/// when set, else `<OBS_SHARED_DIR>/corpus`. It may well not exist (a plain clone has none); tests
/// reading it skip with OBS_SKIP_UNLESS_PRESENT.
inline std::filesystem::path CorpusDir() {
  if (const char* env = std::getenv("OBS_CORPUS_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::filesystem::path(ConfiguredSharedDir()) / "corpus";
}

}  // namespace obs_test

#define OBS_SOURCE_DIR ::obs_test::SourceDir()
#define OBS_BINARY_DIR ::obs_test::BinaryDir()

/// Skips the current test (GTEST_SKIP), naming the path it looked for, when `where` does not exist.
#define OBS_SKIP_UNLESS_PRESENT(where)                                                 \
  do {                                                                                 \
    const std::filesystem::path obs_skip_path_ = (where);                              \
    if (!std::filesystem::exists(obs_skip_path_)) {                                    \
      GTEST_SKIP() << "optional corpus not found: " << obs_skip_path_.string()         \
                   << " (set OBS_CORPUS_DIR to a folder holding it to run this test)"; \
    }                                                                                  \
  } while (false)
