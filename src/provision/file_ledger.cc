#include "provision/file_ledger.h"

#include <nlohmann/json.hpp>

#include "core/fs.h"

namespace obsforge::provision {

std::optional<ObjectKind> ParseKind(const std::string& name) {
  for (auto kind : {ObjectKind::kDatasource, ObjectKind::kFolder, ObjectKind::kDashboard,
                    ObjectKind::kRuleGroup, ObjectKind::kContactPoint, ObjectKind::kPolicy,
                    ObjectKind::kLokiGroup}) {
    if (name == KindName(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

core::Result<std::unique_ptr<FileLedger>> FileLedger::Open(std::filesystem::path path) {
  std::unique_ptr<FileLedger> ledger(new FileLedger(path));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return ledger;
  }
  const auto bad = [&](const std::string& why) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "ownership ledger " + path.string() + ": " + why);
  };
  try {
    const auto doc = nlohmann::json::parse(core::ReadFile(path));
    for (const auto& o : doc.at("objects")) {
      const auto kind = ParseKind(o.at("kind").get<std::string>());
      if (!kind) {
        return bad("unknown kind " + o.at("kind").dump());
      }
      OwnedObject object{.kind = *kind,
                         .uid = o.at("uid").get<std::string>(),
                         .content_hash = o.value("content_hash", ""),
                         .remote_version = o.value("remote_version", std::int64_t{0}),
                         .remote_id = o.value("remote_id", std::int64_t{0})};
      ledger->records_[{object.kind, object.uid}] = std::move(object);
    }
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  return ledger;
}

FileLedger::~FileLedger() {
  (void)Flush();
}

core::Result<std::vector<OwnedObject>> FileLedger::List(std::optional<ObjectKind> kind) {
  std::lock_guard lock(mu_);
  std::vector<OwnedObject> out;
  for (const auto& [key, object] : records_) {
    if (!kind || key.first == *kind) {
      out.push_back(object);
    }
  }
  return out;
}

core::Result<void> FileLedger::Record(const OwnedObject& object) {
  std::lock_guard lock(mu_);
  auto& slot = records_[{object.kind, object.uid}];
  if (!(slot == object)) {
    slot = object;
    dirty_ = true;
  }
  return {};
}

core::Result<void> FileLedger::Forget(ObjectKind kind, const std::string& uid) {
  std::lock_guard lock(mu_);
  if (records_.erase({kind, uid}) > 0) {
    dirty_ = true;
  }
  return {};
}

core::Result<void> FileLedger::Flush() {
  std::lock_guard lock(mu_);
  if (!dirty_) {
    return {};
  }
  auto objects = nlohmann::json::array();
  for (const auto& [key, object] : records_) {
    nlohmann::json entry = {
        {"kind", KindName(key.first)}, {"uid", object.uid}, {"content_hash", object.content_hash}};
    if (object.remote_version != 0) {
      entry["remote_version"] = object.remote_version;
    }
    if (object.remote_id != 0) {
      entry["remote_id"] = object.remote_id;
    }
    objects.push_back(std::move(entry));
  }
  try {
    std::filesystem::create_directories(path_.parent_path());
    core::WriteFileAtomic(path_, nlohmann::json{{"objects", objects}}.dump(1) + "\n", 0644);
  } catch (const std::exception& e) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "ownership ledger " + path_.string() + ": " + e.what());
  }
  dirty_ = false;
  return {};
}

}  // namespace obsforge::provision
