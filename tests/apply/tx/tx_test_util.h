#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "render/bundle.h"
#include <unistd.h>

namespace obsforge::apply::testing {

/// A fresh directory under /tmp, unique per test and process; removed on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                       : std::string("none");
    for (auto& c : name) {
      if (c == '/') {
        c = '_';
      }
    }
    path_ = std::filesystem::path("/tmp") /
            ("obsforge-apply-" + name + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
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

inline render::Bundle MakeBundle(std::initializer_list<std::pair<std::string, std::string>> files) {
  render::Bundle b;
  for (const auto& [path, content] : files) {
    b.Add(path, content);
  }
  return b;
}

}  // namespace obsforge::apply::testing
