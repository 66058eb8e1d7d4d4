#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "provision/ownership.h"

namespace obsforge::provision {

/// An OwnershipLedger kept in one JSON file (the CLI's data dir has no store):
/// `{"objects": [{"kind", "uid", "content_hash", "remote_version"?, "remote_id"?}]}` (the last
/// two only when known), sorted by kind then uid. Records are held in
/// memory and written (atomically: temp file + fsync + rename) by Flush() and by the destructor,
/// so provisioning 1,000 dashboards does not rewrite the file 1,000 times. A crash before Flush()
/// loses records of that run only; dashboards and datasources still carry obsforge's marker and
/// are recognised as owned by it on the next run. Thread-safe.
class FileLedger final : public OwnershipLedger {
 public:
  /// Reads `path` when it exists. kInternal naming the file when it cannot be read or is not a
  /// ledger.
  static core::Result<std::unique_ptr<FileLedger>> Open(std::filesystem::path path);
  /// Flushes (errors ignored: call Flush() to see them).
  ~FileLedger() override;
  FileLedger(const FileLedger&) = delete;
  FileLedger& operator=(const FileLedger&) = delete;

  core::Result<std::vector<OwnedObject>> List(std::optional<ObjectKind> kind) override;
  core::Result<void> Record(const OwnedObject& object) override;
  core::Result<void> Forget(ObjectKind kind, const std::string& uid) override;

  /// Writes the records when they changed since the last write. kInternal naming the file when
  /// it cannot be written.
  core::Result<void> Flush();

 private:
  explicit FileLedger(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
  std::mutex mu_;
  std::map<std::pair<ObjectKind, std::string>, OwnedObject> records_;
  bool dirty_ = false;
};

/// Parses a kind's wire name (see KindName); nullopt for anything else.
std::optional<ObjectKind> ParseKind(const std::string& name);

}  // namespace obsforge::provision
