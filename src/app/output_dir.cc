#include "app/output_dir.h"

#include <nlohmann/json.hpp>

#include "apply/diff.h"
#include "core/fs.h"

namespace obsforge::app {
namespace {

constexpr const char* kManifest = "MANIFEST.json";

// The paths a previous render wrote, from its manifest; empty when there is none.
std::vector<std::string> PreviousFiles(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  const auto manifest_path = dir / kManifest;
  if (!std::filesystem::exists(manifest_path)) {
    return files;
  }
  const auto manifest = nlohmann::json::parse(core::ReadFile(manifest_path), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object()) {
    return files;
  }
  for (const auto& [path, hash] : manifest["files"].items()) {
    // A manifest could be edited by hand; never follow it out of the directory.
    const auto normal = std::filesystem::path(path).lexically_normal();
    if (normal.is_relative() && !normal.empty() && *normal.begin() != "..") {
      files.push_back(normal.generic_string());
    }
  }
  files.emplace_back(kManifest);
  return files;
}

}  // namespace

void WriteBundleToDir(const render::Bundle& bundle, const std::filesystem::path& dir) {
  const auto previous = PreviousFiles(dir);
  for (const auto& [path, content] : bundle.files()) {
    const auto target = dir / path;
    // Unchanged files keep their mtime, so tools watching the directory see only real changes.
    if (std::filesystem::exists(target) && core::ReadFile(target) == content) {
      continue;
    }
    core::WriteFileAtomic(target, content);
  }
  for (const auto& path : previous) {
    if (bundle.Find(path) == nullptr) {
      std::error_code ec;
      std::filesystem::remove(dir / path, ec);
      // Drop directories the removal left empty, up to `dir`.
      for (auto parent = (dir / path).parent_path(); parent != dir && ec.value() == 0;
           parent = parent.parent_path()) {
        if (!std::filesystem::is_directory(parent) || !std::filesystem::is_empty(parent)) {
          break;
        }
        std::filesystem::remove(parent, ec);
      }
    }
  }
}

render::Bundle ReadBundleFromDir(const std::filesystem::path& dir) {
  render::Bundle bundle;
  for (const auto& path : PreviousFiles(dir)) {
    if (std::filesystem::is_regular_file(dir / path)) {
      bundle.Put(path, core::ReadFile(dir / path));
    }
  }
  return bundle;
}

std::string DiffBundleWithDir(const render::Bundle& bundle, const std::filesystem::path& dir) {
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
