#include "control/hidden_content.h"

#include <algorithm>
#include <optional>
#include <string>
#include <system_error>

namespace obsforge::control {
namespace fs = std::filesystem;

fs::path ResolvedPath(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) {
    absolute = path;
  }
  fs::path resolved = fs::weakly_canonical(absolute, ec);
  return (ec ? absolute : resolved).lexically_normal();
}

bool IsWithin(const fs::path& path, const fs::path& root) {
  const std::string p = path.generic_string();
  std::string r = root.generic_string();
  while (r.size() > 1 && r.back() == '/') {
    r.pop_back();
  }
  if (p == r) {
    return true;
  }
  const std::string prefix = r == "/" ? r : r + "/";
  return p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0;
}

namespace {

class HidingSource final : public spec::ContentSource {
 public:
  HidingSource(std::unique_ptr<spec::ContentSource> inner, const std::vector<fs::path>& hidden)
      : inner_(std::move(inner)), root_(inner_->Directory()) {
    for (const auto& dir : hidden) {
      hidden_.push_back(ResolvedPath(dir));
    }
  }

  std::optional<std::string> Read(const std::string& rel) const override {
    return Hidden(rel) ? std::nullopt : inner_->Read(rel);
  }
  std::vector<std::string> Glob(const std::string& pattern) const override {
    auto found = inner_->Glob(pattern);
    found.erase(std::remove_if(found.begin(), found.end(),
                               [this](const std::string& rel) { return Hidden(rel); }),
                found.end());
    return found;
  }
  bool Escapes(const std::string& rel) const override {
    return inner_->Escapes(rel) || Hidden(rel);
  }
  std::optional<fs::path> Directory() const override { return root_; }

 private:
  bool Hidden(const std::string& rel) const {
    if (!root_) {
      return false;
    }
    const fs::path real = ResolvedPath(*root_ / rel);
    return std::any_of(hidden_.begin(), hidden_.end(),
                       [&](const fs::path& dir) { return IsWithin(real, dir); });
  }

  std::unique_ptr<spec::ContentSource> inner_;
  std::optional<fs::path> root_;
  std::vector<fs::path> hidden_;
};

}  // namespace

std::unique_ptr<spec::ContentSource> HideDirectories(std::unique_ptr<spec::ContentSource> inner,
                                                     const std::vector<fs::path>& hidden) {
  return std::make_unique<HidingSource>(std::move(inner), hidden);
}

}  // namespace obsforge::control
