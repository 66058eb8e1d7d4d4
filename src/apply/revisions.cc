#include "apply/revisions.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <set>
#include <system_error>

#include "core/fs.h"
#include <unistd.h>

namespace obsforge::apply {
namespace fs = std::filesystem;
namespace {

constexpr const char* kComplete = "COMPLETE";
constexpr const char* kCurrent = "current";
constexpr const char* kLastGood = "last_good";
constexpr const char* kTrashPrefix = ".trash-";

std::optional<int> ParseNumber(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  int n = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end || n <= 0) {
    return std::nullopt;
  }
  return n;
}

core::Error IoError(const std::string& what, const std::exception& e) {
  return core::MakeError(core::ErrorCode::kInternal, what + ": " + e.what());
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Directories are fsynced deepest first so that every new entry is durable before its parent's.
void SyncTree(const fs::path& dir) {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_directory()) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return a.string().size() > b.string().size();
  });
  for (const auto& d : dirs) {
    core::SyncDirectory(d);
  }
  core::SyncDirectory(dir);
}

}  // namespace

RevisionStore::RevisionStore(fs::path root, RevisionStoreOptions options)
    : root_(std::move(root)), options_(options) {
}

core::Result<RevisionStore> RevisionStore::Open(const fs::path& env_root,
                                                RevisionStoreOptions options) {
  RevisionStore store(env_root, options);
  try {
    store.Recover();
  } catch (const std::exception& e) {
    return IoError("cannot open revisions in " + env_root.string(), e);
  }
  return store;
}

RevisionStore RevisionStore::Peek(const fs::path& env_root, RevisionStoreOptions options) {
  return {env_root, options};
}

fs::path RevisionStore::RevisionDir(int n) const {
  return revisions_dir() / std::to_string(n);
}

void RevisionStore::Recover() {
  fs::create_directories(revisions_dir());
  bool removed = false;
  for (const auto& entry : fs::directory_iterator(revisions_dir())) {
    const auto name = entry.path().filename().string();
    const bool trash = StartsWith(name, kTrashPrefix);
    const bool incomplete = ParseNumber(name) && !fs::exists(entry.path() / kComplete);
    if (trash || incomplete) {
      fs::remove_all(entry.path());
      removed = true;
    }
  }
  if (removed) {
    core::SyncDirectory(revisions_dir());
  }
  for (const auto& entry : fs::directory_iterator(root_)) {
    const auto name = entry.path().filename().string();
    if (StartsWith(name, std::string(kCurrent) + ".tmp") ||
        StartsWith(name, std::string(kLastGood) + ".tmp")) {
      fs::remove(entry.path());
    }
  }
  const auto last_good = LastGood();
  if (last_good && !Hash(*last_good)) {
    fs::remove(root_ / kLastGood);
    core::SyncDirectory(root_);
  }
  const auto current = Current();
  const bool current_ok = current && Hash(*current);
  if (!current_ok) {
    if (const auto good = LastGood(); good && Hash(*good)) {
      if (auto r = SetCurrent(*good); !r) {
        throw std::runtime_error(r.error().message);
      }
    } else if (fs::is_symlink(fs::symlink_status(root_ / kCurrent))) {
      fs::remove(root_ / kCurrent);
      core::SyncDirectory(root_);
    }
  }
}

std::optional<int> RevisionStore::Current() const {
  std::error_code ec;
  const auto target = fs::read_symlink(root_ / kCurrent, ec);
  if (ec || target.parent_path() != "revisions") {
    return std::nullopt;
  }
  return ParseNumber(target.filename().string());
}

std::optional<int> RevisionStore::LastGood() const {
  std::error_code ec;
  if (!fs::exists(root_ / kLastGood, ec)) {
    return std::nullopt;
  }
  try {
    return ParseNumber(core::ReadFile(root_ / kLastGood));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<int> RevisionStore::List() const {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(revisions_dir(), ec)) {
    if (const auto n = ParseNumber(entry.path().filename().string());
        n && fs::exists(entry.path() / kComplete)) {
      out.push_back(*n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> RevisionStore::Hash(int n) const {
  const auto marker = RevisionDir(n) / kComplete;
  std::error_code ec;
  if (!fs::exists(marker, ec)) {
    return std::nullopt;
  }
  try {
    return core::ReadFile(marker);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

core::Result<render::Bundle> RevisionStore::Load(int n) const {
  const auto hash = Hash(n);
  if (!hash) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "revision " + std::to_string(n) + " does not exist or is incomplete");
  }
  render::Bundle bundle;
  const auto dir = RevisionDir(n);
  try {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) {
        continue;
      }
      const auto rel = entry.path().lexically_relative(dir).generic_string();
      if (rel == kComplete) {
        continue;
      }
      bundle.Add(rel, core::ReadFile(entry.path()));
    }
  } catch (const std::exception& e) {
    return IoError("cannot read revision " + std::to_string(n), e);
  }
  if (bundle.ContentHash() != *hash) {
    return core::MakeError(core::ErrorCode::kInternal, "revision " + std::to_string(n) + " in " +
                                                           dir.string() +
                                                           " does not match its recorded hash");
  }
  return bundle;
}

core::Result<int> RevisionStore::Write(const render::Bundle& bundle) {
  if (bundle.Find(kComplete) != nullptr) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "a bundle may not contain a top-level file named COMPLETE");
  }
  int next = 1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(revisions_dir(), ec)) {
    if (const auto n = ParseNumber(entry.path().filename().string())) {
      next = std::max(next, *n + 1);
    }
  }
  const auto dir = RevisionDir(next);
  try {
    fs::create_directories(dir);
    for (const auto& [path, content] : bundle.files()) {
      core::WriteFileAtomic(dir / path, content);
    }
    SyncTree(dir);
    core::SyncDirectory(revisions_dir());
    // The marker goes last: its presence is what makes the revision usable.
    core::WriteFileAtomic(dir / kComplete, bundle.ContentHash());
  } catch (const std::exception& e) {
    fs::remove_all(dir, ec);
    return IoError("cannot write revision " + std::to_string(next), e);
  }
  return next;
}

core::Result<void> RevisionStore::SetCurrent(int n) {
  if (!Hash(n)) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "revision " + std::to_string(n) + " does not exist or is incomplete");
  }
  const auto tmp = root_ / (std::string(kCurrent) + ".tmp." + std::to_string(::getpid()));
  try {
    fs::remove(tmp);
    fs::create_symlink(fs::path("revisions") / std::to_string(n), tmp);
    fs::rename(tmp, root_ / kCurrent);
    core::SyncDirectory(root_);
  } catch (const std::exception& e) {
    return IoError("cannot point current at revision " + std::to_string(n), e);
  }
  return {};
}

core::Result<void> RevisionStore::ClearCurrent() {
  try {
    fs::remove(root_ / kCurrent);
    core::SyncDirectory(root_);
  } catch (const std::exception& e) {
    return IoError("cannot remove " + (root_ / kCurrent).string(), e);
  }
  return {};
}

core::Result<void> RevisionStore::ClearLastGood() {
  try {
    fs::remove(root_ / kLastGood);
    core::SyncDirectory(root_);
  } catch (const std::exception& e) {
    return IoError("cannot remove " + (root_ / kLastGood).string(), e);
  }
  return {};
}

core::Result<void> RevisionStore::MarkLastGood(int n) {
  if (!Hash(n)) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           "revision " + std::to_string(n) + " does not exist or is incomplete");
  }
  try {
    core::WriteFileAtomic(root_ / kLastGood, std::to_string(n) + "\n");
  } catch (const std::exception& e) {
    return IoError("cannot record revision " + std::to_string(n) + " as last good", e);
  }
  return Prune();
}

core::Result<void> RevisionStore::Prune() {
  const auto all = List();
  std::set<int> keep;
  const auto keep_count = static_cast<std::size_t>(std::max(options_.keep, 0));
  for (std::size_t i = all.size() > keep_count ? all.size() - keep_count : 0; i < all.size(); ++i) {
    keep.insert(all[i]);
  }
  if (const auto c = Current()) {
    keep.insert(*c);
  }
  if (const auto g = LastGood()) {
    keep.insert(*g);
  }
  try {
    for (const int n : all) {
      if (keep.contains(n)) {
        continue;
      }
      // Renamed away first so that a crash mid-delete never leaves a half-deleted revision that
      // still carries its COMPLETE marker.
      const auto trash = revisions_dir() / (kTrashPrefix + std::to_string(n));
      fs::rename(RevisionDir(n), trash);
      core::SyncDirectory(revisions_dir());
      fs::remove_all(trash);
    }
  } catch (const std::exception& e) {
    return IoError("cannot prune revisions in " + root_.string(), e);
  }
  return {};
}

}  // namespace obsforge::apply
