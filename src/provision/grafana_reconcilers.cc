#include "provision/grafana_reconcilers.h"

#include <algorithm>

#include "core/hash.h"
#include "provision/normalize.h"
#include "provision/parallel.h"

namespace obsforge::provision::detail {

using nlohmann::json;

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

json Comparable(const DesiredObject& object) {
  json body = object.body;
  for (const auto& slot : object.secrets) {
    const json::json_pointer ptr(slot.pointer);
    if (ptr.empty()) {
      continue;
    }
    json& parent = body[ptr.parent_pointer()];
    if (parent.is_object()) {
      parent.erase(ptr.back());
    } else if (parent.is_array()) {
      body[ptr] = kSecretShown;
    }
  }
  body.erase("secureJsonData");
  return StripServerFields(std::move(body));
}

void Failures::Add(std::size_t index, core::Error error) {
  std::lock_guard lock(mu_);
  ++count_;
  if (!first_ || index < first_index_) {
    first_ = std::move(error);
    first_index_ = index;
  }
}

core::Result<void> Failures::Take() {
  std::lock_guard lock(mu_);
  if (!first_) {
    return {};
  }
  core::Error error = std::move(*first_);
  if (count_ > 1) {
    error.message += " (and " + std::to_string(count_ - 1) + " more)";
  }
  first_.reset();
  count_ = 0;
  return error;
}

Session::Session(const ProvisionerOptions& options,
                 GrafanaClient& client,
                 const core::EnvLookup& env)
    : options_(options), client_(client), env_(env) {
}

core::Result<void> Session::LoadLedger(OwnershipLedger& ledger) {
  auto records = ledger.List(std::nullopt);
  if (!records.ok()) {
    return records.error();
  }
  for (const auto& r : *records) {
    ledger_[{r.kind, r.uid}] = r;
  }
  return {};
}

const OwnedObject* Session::Recorded(ObjectKind kind, const std::string& uid) const {
  const auto it = ledger_.find({kind, uid});
  return it == ledger_.end() ? nullptr : &it->second;
}

bool Session::AnyRecorded(ObjectKind kind) const {
  return std::any_of(ledger_.begin(), ledger_.end(),
                     [kind](const auto& e) { return e.first.first == kind; });
}

std::vector<std::string> Session::OwnedNotWanted(ObjectKind kind,
                                                 const std::set<std::string>& wanted) const {
  std::vector<std::string> out;
  for (const auto& [key, record] : ledger_) {
    if (key.first == kind && wanted.count(key.second) == 0) {
      out.push_back(key.second);
    }
  }
  return out;
}

core::Result<Item> Session::MakeItem(const DesiredObject& d) const {
  Item item{
      .desired = &d, .kind = d.kind, .uid = d.uid, .title = d.title, .folder_uid = d.folder_uid};
  if (!d.secrets.empty()) {
    auto resolved = ResolveBody(d, env_);
    if (!resolved.ok()) {
      return resolved.error();
    }
    item.with_secrets = std::move(*resolved);
  }
  // The text is that of CanonicalHash([body, folder]), built without copying the body.
  item.hash = d.kind == ObjectKind::kDashboard
                  ? core::Sha256Hex("[" + CanonicalText(item.Body()) + "," +
                                    CanonicalText(json(d.folder_uid)) + "]")
                  : CanonicalHash(item.Body());
  return item;
}

void Session::Conflict(Item& item, const std::string& why) {
  item.conflict = true;
  item.action.reset();
  plan_.conflicts.push_back({.kind = item.kind,
                             .uid = item.uid,
                             .message = std::string(KindName(item.kind)) + " " + Quoted(item.uid) +
                                        ": " + why + "; not owned by obsforge (" + owner().Id() +
                                        "), left untouched"});
}

void Session::SecretDiff(Item& item) const {
  const DesiredObject& d = *item.desired;
  if (d.secrets.empty() && !d.body.contains("secureJsonData")) {
    return;
  }
  const OwnedObject* known = Recorded(item.kind, item.uid);
  if (known == nullptr || known->content_hash != item.hash) {
    item.diffs.push_back(
        {.path = "/secrets", .before = "(unknown or changed)", .after = kSecretShown});
  }
}

void Session::Finish(Item& item) const {
  const OwnedObject* known = Recorded(item.kind, item.uid);
  if (!item.conflict && !item.action &&
      (known == nullptr || known->content_hash != item.hash ||
       known->remote_version != item.remote_version || known->remote_id != item.remote_id)) {
    item.owned_unrecorded = true;
  }
}

core::Result<void> Reconciler::Compare() {
  std::vector<std::optional<Item>> items(desired_.size());
  std::vector<Verdict> verdicts(desired_.size());
  Failures failures;
  const auto examine = [&](std::size_t i) -> core::Result<void> {
    auto item = session_.MakeItem(desired_[i]);
    if (!item.ok()) {
      return item.error();
    }
    auto verdict = Examine(desired_[i], *item);
    if (!verdict.ok()) {
      return verdict.error();
    }
    verdicts[i] = std::move(*verdict);
    items[i] = std::move(*item);
    return {};
  };
  if (parallel_ > 1) {
    ParallelFor(desired_.size(), parallel_, [&](std::size_t i) {
      if (auto done = examine(i); !done.ok()) {
        failures.Add(i, done.error());
      }
    });
    if (auto failed = failures.Take(); !failed.ok()) {
      return failed;
    }
  }
  for (std::size_t i = 0; i < desired_.size(); ++i) {
    if (parallel_ <= 1) {
      if (auto done = examine(i); !done.ok()) {
        return done;
      }
    }
    Item& item = *items[i];
    wanted_.insert(item.uid);
    const Verdict& verdict = verdicts[i];
    switch (verdict.found) {
      case Found::kAbsent:
        item.action = ChangeAction::kCreate;
        break;
      case Found::kForeign:
        session_.Conflict(item, verdict.why);
        break;
      case Found::kUsedAsIs:
        session_.plan().notes.push_back(verdict.why);
        items_.push_back(std::move(item));
        continue;  // nothing to record either
      case Found::kCompared:
        if (!item.diffs.empty()) {
          item.action = ChangeAction::kUpdate;
        }
        break;
    }
    session_.Finish(item);
    items_.push_back(std::move(item));
  }
  return {};
}

core::Result<void> Reconciler::Upsert(OwnershipLedger& ledger, core::Logger& logger) {
  Failures failures;
  ParallelFor(items_.size(), parallel_, [&](std::size_t i) {
    Item& item = items_[i];
    if (item.conflict) {
      return;
    }
    if (item.action) {
      if (auto written = Write(item); !written.ok()) {
        failures.Add(i, written.error());
        return;
      }
      logger.Info(
          "grafana object written",
          {{"kind", KindName(item.kind)}, {"uid", item.uid}, {"action", ActionName(*item.action)}});
    }
    if (item.action || item.owned_unrecorded) {
      if (auto recorded = Record(ledger, item); !recorded.ok()) {
        failures.Add(i, recorded.error());
      }
    }
  });
  return failures.Take();
}

std::set<std::string> Reconciler::Unwanted(const std::vector<std::string>& marked) const {
  const auto recorded = session_.OwnedNotWanted(kind_, wanted_);
  std::set<std::string> out(recorded.begin(), recorded.end());
  for (const auto& uid : marked) {
    if (!uid.empty() && wanted_.count(uid) == 0) {
      out.insert(uid);
    }
  }
  return out;
}

core::Result<void> Reconciler::AddDeletions(
    const std::set<std::string>& uids,
    const std::function<core::Result<bool>(Item&)>& still_there,
    std::vector<Item>& deletions) const {
  for (const auto& uid : uids) {
    Item item = Deletion(kind_, uid);
    auto there = still_there(item);
    if (!there.ok()) {
      return there.error();
    }
    if (!*there) {
      item.action.reset();
    }
    deletions.push_back(std::move(item));
  }
  return {};
}

void Reconciler::AddToPlan(GrafanaPlan& plan) const {
  for (const auto& item : items_) {
    AddChange(plan, item);
  }
}

Item Deletion(ObjectKind kind, const std::string& uid) {
  return Item{.kind = kind, .uid = uid, .title = uid, .action = ChangeAction::kDelete};
}

void AddChange(GrafanaPlan& plan, const Item& item) {
  if (item.action) {
    plan.changes.push_back({.kind = item.kind,
                            .uid = item.uid,
                            .title = item.title,
                            .action = *item.action,
                            .diffs = item.diffs});
  }
}

core::Result<void> Record(OwnershipLedger& ledger, const Item& item) {
  return ledger.Record({.kind = item.kind,
                        .uid = item.uid,
                        .content_hash = item.hash,
                        .remote_version = item.remote_version,
                        .remote_id = item.remote_id});
}

}  // namespace obsforge::provision::detail
