#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "spec/stack.h"

namespace obsforge::control::testing {

/// A unique directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "obsforge-control-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = std::filesystem::path(templ);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

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
