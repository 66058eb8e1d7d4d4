#include "render/bundle.h"

#include <stdexcept>

#include "core/bytes.h"
#include "core/hash.h"

namespace obsforge::render {
namespace {

void CheckPath(const std::string& path) {
  bool ok = !path.empty() && path.front() != '/' && path.back() != '/';
  std::size_t start = 0;
  while (ok && start <= path.size()) {
    auto slash = path.find('/', start);
    const auto seg =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    ok = !seg.empty() && seg != "." && seg != "..";
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  if (!ok) {
    throw std::logic_error("bundle path is not a clean relative path: \"" + path + "\"");
  }
}

}  // namespace

void Bundle::Add(const std::string& path, std::string content) {
  CheckPath(path);
  if (!files_.emplace(path, std::move(content)).second) {
    throw std::logic_error("bundle already has a file at \"" + path + "\"");
  }
}

void Bundle::Put(const std::string& path, std::string content) {
  CheckPath(path);
  files_[path] = std::move(content);
}

const std::string* Bundle::Find(std::string_view path) const {
  auto it = files_.find(std::string(path));
  return it == files_.end() ? nullptr : &it->second;
}

std::string Bundle::ContentHash() const {
  core::Sha256 sha;
  for (const auto& [path, content] : files_) {
    // Length-prefix both parts so ("ab","c") and ("a","bc") hash differently.
    sha.Update(std::to_string(path.size()) + ":" + path + ":" + std::to_string(content.size()) +
               ":");
    sha.Update(content);
  }
  const auto d = sha.Finish();
  return core::ToHex(core::CharsOf(d));
}

}  // namespace obsforge::render
