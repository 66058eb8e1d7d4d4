#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "spec/stack.h"
#include "support/temp_dir.h"

namespace obsforge::control::testing {

using TempDir = ::obsforge::testsupport::TempDir;

/// A stack `name` whose `prod` environment is external with `runtime` (YAML flow map) and whose
/// spec level holds `extra` (YAML lines indented by two, may be empty).
inline spec::StackSpec ExternalStack(const std::string& name,
                                     const std::string& runtime,
                                     const std::string& extra = "") {
  const std::string text = "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: " + name +
                           "}\nspec:\n  components:\n    prometheus: {enabled: true}\n" + extra +
                           "  environments:\n    prod:\n      runtime: " + runtime + "\n";
  const auto content = spec::MakeMemorySource({});
  return spec::ParseStack(text, "body", *content);
}

}  // namespace obsforge::control::testing
