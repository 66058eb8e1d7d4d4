// Datasources: compared on the fields obsforge sets; secureJsonData, never echoed by Grafana,
// through secureJsonFields (set or not) and the ledger's hash.
#include "provision/grafana_reconcilers.h"
#include "provision/normalize.h"

namespace obsforge::provision::detail {
namespace {

using nlohmann::json;

bool DatasourceOwned(const json& datasource, const Owner& owner) {
  const auto it = datasource.find("jsonData");
  return it != datasource.end() && it->is_object() &&
         it->value(kDatasourceMarker, std::string()) == owner.Id();
}

class Datasources final : public Reconciler {
 public:
  using Reconciler::Reconciler;

  core::Result<void> Prune(std::vector<Item>& deletions) override {
    auto all = session_.client().ListDatasources();
    if (!all.ok()) {
      return all.error();
    }
    std::set<std::string> existing;
    std::vector<std::string> marked;
    for (const auto& ds : *all) {
      existing.insert(ds.value("uid", std::string()));
      if (DatasourceOwned(ds, session_.owner())) {
        marked.push_back(ds.value("uid", std::string()));
      }
    }
    return AddDeletions(
        Unwanted(marked), [&](const Item& item) { return existing.count(item.uid) != 0; },
        deletions);
  }

  core::Result<void> Delete(const Item& item) override {
    return session_.client().DeleteDatasource(item.uid);
  }

 protected:
  core::Result<Verdict> Examine(const DesiredObject& d, Item& item) override {
    auto remote = session_.client().GetDatasource(d.uid);
    if (!remote.ok()) {
      return remote.error();
    }
    if (!remote->has_value()) {
      return Verdict{.found = Found::kAbsent};
    }
    if (!session_.InLedger(d.kind, d.uid) && !DatasourceOwned(**remote, session_.owner()) &&
        !d.adopt) {
      return Verdict{.found = Found::kForeign, .why = "a datasource with this uid exists"};
    }
    item.diffs = DiffDesiredFields(StripServerFields(**remote), Comparable(d));
    const json& fields =
        (*remote)->contains("secureJsonFields") ? (**remote)["secureJsonFields"] : json::object();
    if (d.body.contains("secureJsonData")) {
      for (const auto& [key, value] : d.body["secureJsonData"].items()) {
        if (!fields.is_object() || !fields.value(key, false)) {
          item.diffs.push_back({.path = "/secureJsonData/" + EscapePointerToken(key),
                                .before = nullptr,
                                .after = kSecretShown,
                                .before_absent = true});
        }
      }
    }
    if (item.diffs.empty()) {
      session_.SecretDiff(item);
    }
    return Verdict{};
  }

  core::Result<void> Write(Item& item) override {
    return item.action == ChangeAction::kCreate
               ? session_.client().CreateDatasource(item.Body())
               : session_.client().UpdateDatasource(item.uid, item.Body());
  }
};

}  // namespace

std::unique_ptr<Reconciler> MakeDatasources(Session& s, const std::vector<DesiredObject>& d) {
  return std::make_unique<Datasources>(ObjectKind::kDatasource, s, d, 1);
}

}  // namespace obsforge::provision::detail
