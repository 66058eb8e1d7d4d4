#pragma once

#include <map>
#include <string>
#include <string_view>

namespace obsforge::render {

/// The rendered output of one (stack, environment): relative path -> exact bytes.
/// Paths use '/' and are sorted bytewise, so iteration order is deterministic.
class Bundle {
 public:
  /// Adds a file. Throws std::logic_error if `path` is already present or is not a clean
  /// relative path (no leading '/', no '..' or '.' segment, no empty segment).
  void Add(const std::string& path, std::string content);
  /// Replaces or adds a file (same path rules as Add).
  void Put(const std::string& path, std::string content);

  const std::map<std::string, std::string>& files() const { return files_; }
  /// The content at `path`, or nullptr.
  const std::string* Find(std::string_view path) const;
  bool empty() const { return files_.empty(); }

  /// sha256 over every (path, content) pair in order; equal bundles have equal hashes.
  std::string ContentHash() const;

  bool operator==(const Bundle&) const = default;

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace obsforge::render
