#include "app/output_dir.h"

#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "apply/diff.h"
#include "core/fs.h"
#include "core/hash.h"
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "MANIFEST.json";

// `path` with every symlink and `..` resolved as far as it exists.
fs::path Resolved(const fs::path& path) {
  std::error_code ec;
  auto resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? fs::absolute(path).lexically_normal() : resolved;
}

std::vector<fs::path> HomeDirectories() {
  std::vector<fs::path> homes;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): resolved once, before any thread starts (see below)
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    homes.emplace_back(home);
  }
  // Thread-unsafe getpwuid is fine here: the CLI resolves this once, before any thread starts.
  if (const passwd* entry = ::getpwuid(::getuid());  // NOLINT(concurrency-mt-unsafe)
      entry != nullptr && entry->pw_dir != nullptr && *entry->pw_dir != '\0') {
    homes.emplace_back(entry->pw_dir);
  }
  return homes;
}

// Whether `path` is a regular file (not a symlink) that lies inside `dir` once the folders on
// its way are resolved.
bool OwnRegularFile(const fs::path& dir, const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(path, ec))) {
    return false;
  }
  return Resolved(path).generic_string().starts_with(Resolved(dir).generic_string() + "/");
}

// Whether the user running obsforge owns `path`: in a folder others can write to (a sticky
// /tmp), someone else's MANIFEST.json is not obsforge's record.
bool OwnedByUser(const fs::path& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && info.st_uid == ::geteuid();
}

// The paths a previous render wrote and the sha256 it recorded for each, from its manifest;
// empty when there is none.
std::map<std::string, std::string> PreviousFiles(const fs::path& dir) {
  std::map<std::string, std::string> files;
  const auto manifest_path = dir / kManifest;
  if (!OwnRegularFile(dir, manifest_path) || !OwnedByUser(manifest_path)) {
    return files;
  }
  const auto manifest = nlohmann::json::parse(core::ReadFile(manifest_path), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object()) {
    return files;
  }
  for (const auto& [path, hash] : manifest["files"].items()) {
    // A manifest could be edited by hand; never follow it out of the directory.
    const auto normal = fs::path(path).lexically_normal();
    if (normal.is_relative() && !normal.empty() && *normal.begin() != ".." &&
        normal.generic_string() != kManifest && hash.is_string()) {
      files[normal.generic_string()] = hash.get<std::string>();
    }
  }
  files[kManifest] = "";
  return files;
}

}  // namespace

std::optional<std::string> RefuseOutputDir(const fs::path& dir) {
  if (dir.empty()) {
    return std::string("the output folder is empty: name a folder for the rendered files");
  }
  const auto resolved = Resolved(dir);
  if (resolved == resolved.root_path()) {
    return "the output folder " + dir.string() + " is the root directory";
  }
  for (const auto& home : HomeDirectories()) {
    if (resolved == Resolved(home)) {
      return "the output folder " + dir.string() + " is the home directory";
    }
  }
  return std::nullopt;
}

void WriteBundleToDir(const render::Bundle& bundle, const fs::path& dir) {
  const auto previous = PreviousFiles(dir);
  for (const auto& [path, content] : bundle.files()) {
    const auto target = dir / path;
    // Unchanged files keep their mtime, so tools watching the directory see only real changes.
    if (fs::exists(target) && core::ReadFile(target) == content) {
      continue;
    }
    core::WriteFileAtomic(target, content);
  }
  for (const auto& [path, recorded] : previous) {
    const auto target = dir / path;
    // Only what this render wrote and nobody changed since: a file the manifest names but whose
    // content differs (edited, or never written by obsforge) stays.
    if (bundle.Find(path) != nullptr || !OwnRegularFile(dir, target) ||
        core::Sha256Hex(core::ReadFile(target)) != recorded) {
      continue;
    }
    std::error_code ec;
    fs::remove(target, ec);
    // Drop directories the removal left empty, up to `dir`.
    for (auto parent = target.parent_path(); parent != dir && ec.value() == 0;
         parent = parent.parent_path()) {
      if (!fs::is_directory(parent) || !fs::is_empty(parent)) {
        break;
      }
      fs::remove(parent, ec);
    }
  }
}

render::Bundle ReadBundleFromDir(const fs::path& dir) {
  render::Bundle bundle;
  for (const auto& [path, recorded] : PreviousFiles(dir)) {
    if (OwnRegularFile(dir, dir / path)) {
      bundle.Put(path, core::ReadFile(dir / path));
    }
  }
  return bundle;
}

std::string DiffBundleWithDir(const render::Bundle& bundle, const fs::path& dir) {
  const auto existing = ReadBundleFromDir(dir);
  std::string out;
  for (const auto& [path, content] : bundle.files()) {
    const auto* old = existing.Find(path);
    if (old == nullptr || *old != content) {
      out += apply::FileDiff(path, old == nullptr ? "" : *old, content, old != nullptr);
    }
  }
  for (const auto& [path, content] : existing.files()) {
    if (bundle.Find(path) == nullptr) {
      out += apply::FileDiff(path, content, "", true, false);
    }
  }
  return out;
}

}  // namespace obsforge::app
