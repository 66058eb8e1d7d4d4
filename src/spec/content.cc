#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "spec/stack.h"

namespace obsforge::spec {
namespace {

std::vector<std::string> SplitPath(std::string_view p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= p.size()) {
    const auto slash = p.find('/', start);
    const auto end = slash == std::string_view::npos ? p.size() : slash;
    out.emplace_back(p.substr(start, end - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  return out;
}

// True when `rel` is lexically outside the root: absolute, or `..` climbs above it.
bool LexicallyEscapes(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') {
    return true;
  }
  int depth = 0;
  for (const auto& part : SplitPath(rel)) {
    if (part == "..") {
      if (--depth < 0) {
        return true;
      }
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
  }
  return false;
}

// fnmatch-like match of one path segment: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
bool MatchSegment(std::string_view pat, std::string_view s) {
  std::size_t p = 0;
  std::size_t i = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_i = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star_p = p++;
      star_i = i;
      continue;
    }
    bool matched = false;
    std::size_t next_p = p + 1;
    if (p < pat.size() && pat[p] == '?') {
      matched = true;
    } else if (p < pat.size() && pat[p] == '[') {
      auto close = pat.find(']', p + 1);
      if (close != std::string_view::npos) {
        const bool negate = p + 1 < close && (pat[p + 1] == '!' || pat[p + 1] == '^');
        bool in = false;
        for (auto k = p + 1 + (negate ? 1 : 0); k < close; ++k) {
          if (k + 2 < close && pat[k + 1] == '-') {
            in = in || (s[i] >= pat[k] && s[i] <= pat[k + 2]);
            k += 2;
          } else {
            in = in || s[i] == pat[k];
          }
        }
        matched = in != negate;
        next_p = close + 1;
      } else {
        matched = s[i] == '[';
      }
    } else if (p < pat.size()) {
      matched = pat[p] == s[i];
    }
    if (matched) {
      p = next_p;
      ++i;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') {
    ++p;
  }
  return p == pat.size();
}

bool MatchParts(const std::vector<std::string>& pat,
                std::size_t pi,
                const std::vector<std::string>& path,
                std::size_t si) {
  if (pi == pat.size()) {
    return si == path.size();
  }
  if (pat[pi] == "**") {
    for (auto k = si; k <= path.size(); ++k) {
      if (MatchParts(pat, pi + 1, path, k)) {
        return true;
      }
    }
    return false;
  }
  if (si == path.size() || !MatchSegment(pat[pi], path[si])) {
    return false;
  }
  return MatchParts(pat, pi + 1, path, si + 1);
}

// `./dashboards//x/*.json` names the same files as `dashboards/x/*.json`: drop empty and "."
// segments so they match the relative paths the sources list. Call after LexicallyEscapes().
std::string NormalizePattern(const std::string& pattern) {
  std::string out;
  for (const auto& part : SplitPath(pattern)) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == ".." && !out.empty()) {
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
      continue;
    }
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

bool GlobMatch(const std::string& pattern, const std::string& rel) {
  return MatchParts(SplitPath(pattern), 0, SplitPath(rel), 0);
}

// The directory part of a pattern before its first wildcard segment: only it needs walking.
std::string FixedPrefix(const std::string& pattern) {
  std::string prefix;
  auto parts = SplitPath(pattern);
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    if (parts[k].find_first_of("*?[") != std::string::npos) {
      break;
    }
    prefix += (prefix.empty() ? "" : "/") + parts[k];
  }
  return prefix;
}

class DirectorySource final : public ContentSource {
 public:
  explicit DirectorySource(std::filesystem::path root) {
    std::error_code ec;
    root_ = std::filesystem::weakly_canonical(std::filesystem::absolute(root), ec);
    if (ec) {
      root_ = std::filesystem::absolute(root);
    }
  }

  std::optional<std::string> Read(const std::string& rel) const override {
    if (Escapes(rel)) {
      return std::nullopt;
    }
    std::ifstream in(root_ / rel, std::ios::binary);
    if (!in || std::filesystem::is_directory(root_ / rel)) {
      return std::nullopt;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  std::vector<std::string> Glob(const std::string& raw_pattern) const override {
    std::vector<std::string> out;
    if (LexicallyEscapes(raw_pattern)) {
      return out;
    }
    const auto pattern = NormalizePattern(raw_pattern);
    const auto prefix = FixedPrefix(pattern);
    const auto start = prefix.empty() ? root_ : root_ / prefix;
    std::error_code ec;
    if (!std::filesystem::is_directory(start, ec)) {
      return out;
    }
    for (auto it = std::filesystem::recursive_directory_iterator(
             start, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) {
        continue;
      }
      // lexically_relative, not relative(): the latter resolves symlinks, which would list a
      // link under its target's name (and hide links that point out of the root from Escapes).
      const auto rel = it->path().lexically_relative(root_).generic_string();
      if (GlobMatch(pattern, rel) && !Escapes(rel)) {
        out.push_back(rel);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  bool Escapes(const std::string& rel) const override {
    if (LexicallyEscapes(rel)) {
      return true;
    }
    // Follow symlinks: the real location must still be under the root.
    std::error_code ec;
    const auto real = std::filesystem::weakly_canonical(root_ / rel, ec);
    if (ec) {
      return false;  // does not exist yet: lexically fine
    }
    const auto r = real.generic_string();
    auto base = root_.generic_string();
    if (!base.ends_with('/')) {
      base += '/';  // "/" stays "/": every absolute path is under the filesystem's root
    }
    return !(r + "/" == base || r.starts_with(base));
  }

  std::optional<std::filesystem::path> Directory() const override { return root_; }

 private:
  std::filesystem::path root_;
};

class MemorySource final : public ContentSource {
 public:
  explicit MemorySource(std::map<std::string, std::string> files) : files_(std::move(files)) {}

  std::optional<std::string> Read(const std::string& rel) const override {
    if (LexicallyEscapes(rel)) {
      return std::nullopt;
    }
    const auto normal = std::filesystem::path(rel).lexically_normal().generic_string();
    auto it = files_.find(normal);
    if (it == files_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  std::vector<std::string> Glob(const std::string& raw_pattern) const override {
    std::vector<std::string> out;
    if (LexicallyEscapes(raw_pattern)) {
      return out;
    }
    const auto pattern = NormalizePattern(raw_pattern);
    for (const auto& [path, content] : files_) {
      if (!LexicallyEscapes(path) && GlobMatch(pattern, path)) {
        out.push_back(path);
      }
    }
    return out;  // std::map keeps them sorted
  }

  bool Escapes(const std::string& rel) const override { return LexicallyEscapes(rel); }
  std::optional<std::filesystem::path> Directory() const override { return std::nullopt; }

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace

std::unique_ptr<ContentSource> MakeDirectorySource(std::filesystem::path root) {
  return std::make_unique<DirectorySource>(std::move(root));
}

std::unique_ptr<ContentSource> MakeMemorySource(std::map<std::string, std::string> files) {
  return std::make_unique<MemorySource>(std::move(files));
}

}  // namespace obsforge::spec
