#pragma once

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include <stdlib.h>

namespace obsforge::testsupport {

/// A fresh directory under the temporary directory (`obsforge-<test name>-XXXXXX`, created with
/// mkdtemp, so unique across processes and calls), removed with everything in it on destruction,
/// read-only folders included. Throws std::system_error when it cannot be created.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                       : std::string("test");
    // Parameterised tests have '/' in their names; long names would hit NAME_MAX.
    for (char& c : name) {
      if (c == '/') {
        c = '_';
      }
    }
    name.resize(std::min<std::size_t>(name.size(), 100));
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("obsforge-" + name + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    // A test may leave folders without write permission (a read-only rule store, a git object
    // folder): give them back, or remove_all stops at them.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::end(it); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
      }
    }
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace obsforge::testsupport
