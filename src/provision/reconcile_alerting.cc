// Grafana-managed alerting: rule groups (uid "<folderUid>/<title>"), contact points (one list
// read for all) and the stack's route in the shared notification-policy tree.
#include <algorithm>

#include "provision/grafana_reconcilers.h"
#include "provision/normalize.h"

namespace obsforge::provision::detail {
namespace {

using nlohmann::json;

bool RuleOwned(const json& rule, const Owner& owner) {
  const auto it = rule.find("labels");
  return it != rule.end() && it->is_object() && it->value(kOwnerLabel, std::string()) == owner.Id();
}

bool RouteOwned(const json& route, const Owner& owner) {
  const auto it = route.find("object_matchers");
  if (it == route.end() || !it->is_array()) {
    return false;
  }
  const json marker = json::array({kOwnerLabel, "=", owner.Id()});
  return std::find(it->begin(), it->end(), marker) != it->end();
}

class RuleGroups final : public Reconciler {
 public:
  using Reconciler::Reconciler;

  // A group that left the spec loses the rules obsforge owns in it, one by one.
  core::Result<void> Prune(std::vector<Item>& deletions) override {
    return AddDeletions(
        Unwanted(),
        [&](Item& item) -> core::Result<bool> {
          const auto slash = item.uid.find('/');
          auto remote = session_.client().GetRuleGroup(
              item.uid.substr(0, slash),
              slash == std::string::npos ? std::string() : item.uid.substr(slash + 1));
          if (!remote.ok()) {
            return remote.error();
          }
          if (remote->has_value()) {
            for (const auto& rule : (**remote).value("rules", json::array())) {
              if (RuleOwned(rule, session_.owner()) && rule.contains("uid") &&
                  rule["uid"].is_string()) {
                item.rule_uids.push_back(rule["uid"].get<std::string>());
              }
            }
          }
          return !item.rule_uids.empty();  // else nothing of ours is left: only the ledger entry
        },
        deletions);
  }

  core::Result<void> Delete(const Item& item) override {
    for (const auto& rule : item.rule_uids) {
      if (auto deleted = session_.client().DeleteAlertRule(rule); !deleted.ok()) {
        return deleted;
      }
    }
    return {};
  }

 protected:
  core::Result<Verdict> Examine(const DesiredObject& d, Item& item) override {
    auto remote = session_.client().GetRuleGroup(d.folder_uid, d.title);
    if (!remote.ok()) {
      return remote.error();
    }
    const json rules =
        remote->has_value() ? (**remote).value("rules", json::array()) : json::array();
    if (rules.empty()) {
      return Verdict{.found = Found::kAbsent};
    }
    if (!session_.InLedger(d.kind, d.uid) && !d.adopt &&
        std::none_of(rules.begin(), rules.end(),
                     [&](const json& rule) { return RuleOwned(rule, session_.owner()); })) {
      return Verdict{.found = Found::kForeign,
                     .why = "a rule group with this name exists in folder " + Quoted(d.folder_uid)};
    }
    item.diffs = DiffDesiredFields(StripServerFields(**remote), Comparable(d));
    return Verdict{};
  }

  core::Result<void> Write(Item& item) override {
    return session_.client().PutRuleGroup(item.folder_uid, item.desired->title, item.Body());
  }
};

class ContactPoints final : public Reconciler {
 public:
  using Reconciler::Reconciler;

  // One list read serves every point (when there are points to compare or to prune).
  core::Result<void> Compare() override {
    if (!desired_.empty() || session_.AnyRecorded(ObjectKind::kContactPoint)) {
      auto list = session_.client().ListContactPoints();
      if (!list.ok()) {
        return list.error();
      }
      if (list->is_array()) {
        for (const auto& point : *list) {
          if (point.is_object() && point.contains("uid") && point["uid"].is_string()) {
            remote_[point["uid"].get<std::string>()] = point;
          }
        }
      }
    }
    return Reconciler::Compare();
  }

  core::Result<void> Prune(std::vector<Item>& deletions) override {
    return AddDeletions(
        Unwanted(), [&](const Item& item) { return remote_.count(item.uid) != 0; }, deletions);
  }

  core::Result<void> Delete(const Item& item) override {
    return session_.client().DeleteContactPoint(item.uid);
  }

 protected:
  core::Result<Verdict> Examine(const DesiredObject& d, Item& item) override {
    const auto it = remote_.find(d.uid);
    if (it == remote_.end()) {
      return Verdict{.found = Found::kAbsent};
    }
    if (!session_.InLedger(d.kind, d.uid) && !d.adopt) {
      return Verdict{.found = Found::kForeign, .why = "a contact point with this uid exists"};
    }
    item.diffs = DiffDesiredFields(StripServerFields(it->second), Comparable(d));
    if (item.diffs.empty()) {
      session_.SecretDiff(item);
    }
    return Verdict{};
  }

  core::Result<void> Write(Item& item) override {
    return item.action == ChangeAction::kCreate
               ? session_.client().CreateContactPoint(item.Body())
               : session_.client().UpdateContactPoint(item.uid, item.Body());
  }

 private:
  std::map<std::string, json> remote_;
};

// The stack's route inside the shared tree: the tree is read once, the routes obsforge owns are
// replaced by the desired one (first among them: Grafana matches top-level routes in order, and
// the owner matcher only catches this stack's alerts), and the whole tree is PUT when it changed.
class Policy final : public Reconciler {
 public:
  using Reconciler::Reconciler;

  core::Result<void> Compare() override {
    if (desired_.empty() && !session_.InLedger(ObjectKind::kPolicy, "policy")) {
      return {};
    }
    auto tree = session_.client().GetPolicyTree();
    if (!tree.ok()) {
      return tree.error();
    }
    json merged = StripServerFields(*tree);
    json routes =
        merged.contains("routes") && merged["routes"].is_array() ? merged["routes"] : json::array();
    json kept = json::array();
    std::vector<json> ours;
    std::optional<std::size_t> position;
    for (auto& route : routes) {
      if (RouteOwned(route, session_.owner())) {
        position = position.value_or(kept.size());
        ours.push_back(route);
      } else {
        kept.push_back(route);
      }
    }
    if (!desired_.empty()) {
      auto item = session_.MakeItem(desired_.front());
      if (!item.ok()) {
        return item.error();
      }
      if (ours.empty()) {
        item->action = ChangeAction::kCreate;
      } else {
        item->diffs = DiffDesiredFields(ours.front(), Comparable(desired_.front()));
        for (std::size_t i = 1; i < ours.size(); ++i) {
          item->diffs.push_back({.path = "/routes/" + std::to_string(i),
                                 .before = ours[i],
                                 .after = nullptr,
                                 .after_absent = true});
        }
        if (!item->diffs.empty()) {
          item->action = ChangeAction::kUpdate;
        }
      }
      kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(position.value_or(0)), item->Body());
      session_.Finish(*item);
      if (item->action || item->owned_unrecorded) {
        policy_ = std::move(*item);
      }
    } else if (!ours.empty() && session_.options().prune) {
      policy_ = Item{.kind = ObjectKind::kPolicy,
                     .uid = "policy",
                     .title = "notification policy of " + session_.owner().Id(),
                     .action = ChangeAction::kDelete};
    } else if (ours.empty()) {
      forget_ = true;
    }
    merged["routes"] = std::move(kept);
    tree_ = std::move(merged);
    return {};
  }

  core::Result<void> Upsert(OwnershipLedger& ledger, core::Logger& /*logger*/) override {
    if (!policy_) {
      return {};
    }
    if (policy_->action) {
      if (auto put = session_.client().PutPolicyTree(tree_); !put.ok()) {
        return put;
      }
    }
    return policy_->action == ChangeAction::kDelete ? ledger.Forget(policy_->kind, policy_->uid)
                                                    : Record(ledger, *policy_);
  }

  // Runs whether or not pruning is on: a route that is gone from Grafana is only forgotten.
  core::Result<void> Prune(std::vector<Item>& deletions) override {
    if (forget_) {
      deletions.push_back(Item{.kind = ObjectKind::kPolicy, .uid = "policy"});
    }
    return {};
  }

  core::Result<void> Delete(const Item& /*item*/) override { return {}; }

  void AddToPlan(GrafanaPlan& plan) const override {
    if (policy_) {
      AddChange(plan, *policy_);
    }
  }

 protected:
  // Compare() is the policy's own: there is one route, inside a tree shared with others.
  core::Result<Verdict> Examine(const DesiredObject& /*d*/, Item& /*item*/) override {
    return Verdict{};
  }
  core::Result<void> Write(Item& /*item*/) override { return {}; }

 private:
  std::optional<Item> policy_;  // set when the tree must be written or the ledger updated
  json tree_;                   // the merged tree to PUT
  bool forget_ = false;         // no route desired or in Grafana, but the ledger records one
};

}  // namespace

std::unique_ptr<Reconciler> MakeRuleGroups(Session& s, const std::vector<DesiredObject>& d) {
  return std::make_unique<RuleGroups>(ObjectKind::kRuleGroup, s, d, 1);
}

std::unique_ptr<Reconciler> MakeContactPoints(Session& s, const std::vector<DesiredObject>& d) {
  return std::make_unique<ContactPoints>(ObjectKind::kContactPoint, s, d, 1);
}

std::unique_ptr<Reconciler> MakePolicy(Session& s, const std::vector<DesiredObject>& desired) {
  return std::make_unique<Policy>(ObjectKind::kPolicy, s, desired, 1);
}

}  // namespace obsforge::provision::detail
