#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "render/bundle.h"
#include "support/temp_dir.h"
#include <unistd.h>

namespace obsforge::apply::testing {

using TempDir = ::obsforge::testsupport::TempDir;

inline render::Bundle MakeBundle(std::initializer_list<std::pair<std::string, std::string>> files) {
  render::Bundle b;
  for (const auto& [path, content] : files) {
    b.Add(path, content);
  }
  return b;
}

}  // namespace obsforge::apply::testing
