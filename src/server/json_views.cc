#include "server/json_views.h"

#include "core/clock.h"
#include "core/hash.h"

namespace obsforge::server {
namespace {

using nlohmann::json;

json Time(store::TimeMs ms) {
  if (ms == 0) {
    return nullptr;
  }
  return core::FormatTime(store::FromTimeMs(ms));
}

json OrNull(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

json ToJson(const store::Operation& op) {
  json steps = json::array();
  int done = 0;
  for (const store::OperationStep& s : op.steps) {
    done += store::IsTerminal(s.state) ? 1 : 0;
    steps.push_back({{"name", s.name},
                     {"state", store::Name(s.state)},
                     {"started_at", Time(s.started_at)},
                     {"finished_at", Time(s.finished_at)},
                     {"message", s.message}});
  }
  json out = {{"id", op.id},
              {"kind", store::Name(op.kind)},
              {"stack", op.stack},
              {"env", op.env},
              {"state", store::Name(op.state)},
              {"revision", op.revision},
              {"actor", op.actor},
              {"created_at", Time(op.created_at)},
              {"started_at", Time(op.started_at)},
              {"finished_at", Time(op.finished_at)},
              {"steps", steps},
              {"progress", {{"steps_done", done}, {"steps", op.steps.size()}}},
              {"error", op.error.empty() ? json(nullptr) : json(op.error)}};
  if (!op.result_json.empty()) {
    out["result"] = json::parse(op.result_json, nullptr, false);
  }
  return out;
}

json ToJson(const control::Submitted& submitted) {
  json ops = json::array();
  for (const store::Operation& op : submitted.operations) {
    ops.push_back(ToJson(op));
  }
  return {{"stack", submitted.stack}, {"revision", submitted.revision}, {"operations", ops}};
}

json ToJson(const control::Queued& queued) {
  return {{"stack", queued.stack}, {"operation", ToJson(queued.operation)}};
}

json ToJson(const control::StackList& list) {
  json out = json::array();
  for (const store::Stack& s : list.stacks) {
    out.push_back({{"name", s.name},
                   {"revision", s.revision},
                   {"spec_hash", s.spec_hash},
                   {"created_at", Time(s.created_at)},
                   {"updated_at", Time(s.updated_at)}});
  }
  return {{"stacks", out}};
}

json ToJson(const importer::ImportResult& result) {
  return {{"spec", json(result.spec)},
          {"files", json(result.files)},
          {"report", result.report.ToJson()}};
}

json ToJson(const control::PlanView& plan, const apply::DiffLimit& limit) {
  json out = plan.plan.ToJson(limit);
  out["stack"] = plan.stack;
  out["env"] = plan.env;
  out["revision"] = plan.revision;
  return out;
}

json ToJson(const control::RevisionList& revisions) {
  json out = json::array();
  for (const control::RevisionView& view : revisions.revisions) {
    const store::SpecRevision& r = view.revision;
    json environments = json::object();
    for (const auto& [env, e] : view.environments) {
      environments[env] = {{"applied", e.applied}, {"bundle_hash", e.bundle_hash}};
    }
    json item = {{"number", r.number},
                 {"spec_hash", r.spec_hash},
                 {"source", store::Name(r.source)},
                 {"actor", r.actor},
                 {"created_at", Time(r.created_at)},
                 {"outcome", view.outcome},
                 {"environments", environments}};
    if (r.source == store::RevisionSource::kGit) {
      item["commit"] = {
          {"sha", r.commit_sha}, {"author", r.commit_author}, {"message", r.commit_message}};
    }
    out.push_back(std::move(item));
  }
  return {{"stack", revisions.stack}, {"revisions", out}};
}

json ToJson(const control::RuntimeStatus& status) {
  json components = json::array();
  for (const control::RuntimeComponent& c : status.components) {
    json item = {{"name", c.name},
                 {"state", c.state},
                 {"pid", c.pid},
                 {"restarts", c.restarts},
                 {"url", c.url}};
    if (!c.last_exit.empty()) {
      item["last_exit"] = c.last_exit;
    }
    components.push_back(std::move(item));
  }
  // "runtime" is null when no runtime is open for the environment in this process.
  json out = {{"components", components},
              {"runtime", status.runtime.empty() ? json(nullptr) : json(status.runtime)}};
  if (status.revisions) {
    const auto number = [](const std::optional<int>& n) { return n ? json(*n) : json(nullptr); };
    out["revision"] = number(status.revisions->current);
    out["last_good"] = number(status.revisions->last_good);
  }
  return out;
}

json ToJson(const store::HealthEvent& event) {
  // The scope is not stored: it follows from which names are set.
  const char* scope = event.component.empty() ? "environment"
                      : event.check.empty()   ? "component"
                                              : "check";
  json out = {
      {"id", event.id},
      {"scope", scope},
      {"stack", event.stack},
      {"env", event.env},
      {"from", event.from_state},
      {"to", event.to_state},
      {"message", event.message},
      {"at", core::FormatTime(
                 std::chrono::system_clock::time_point(std::chrono::milliseconds(event.at)))},
  };
  if (!event.component.empty()) {
    out["component"] = event.component;
  }
  if (!event.check.empty()) {
    out["check"] = event.check;
  }
  return out;
}

json ToJson(const std::vector<control::GitOpsSourceStatus>& sources) {
  json out = json::array();
  for (const control::GitOpsSourceStatus& s : sources) {
    json last_sync = nullptr;
    if (s.last_sync) {
      last_sync = {{"outcome", s.last_sync->outcome},
                   {"summary", s.last_sync->summary},
                   {"sha", s.last_sync->sha},
                   {"at", s.last_sync->at},
                   {"operation", OrNull(s.last_sync->operation)}};
    }
    out.push_back({{"key", s.key},
                   {"repo", s.repo},
                   {"branch", s.branch},
                   {"path", s.path},
                   {"poll_ms", s.poll.count()},
                   {"auto_apply", s.auto_apply},
                   {"prune", s.prune},
                   {"last_seen_sha", OrNull(s.last_seen_sha)},
                   {"last_good_sha", OrNull(s.last_good_sha)},
                   {"last_sync", std::move(last_sync)}});
  }
  return {{"sources", out}};
}

json BundleJson(const render::Bundle& bundle) {
  json files = json::object();
  for (const auto& [path, content] : bundle.files()) {
    files[path] = {{"sha256", core::Sha256Hex(content)}, {"content", content}};
  }
  return {{"files", files}, {"hash", bundle.ContentHash()}};
}

std::string StackJson(const control::StackDetail& detail) {
  const store::Stack& stack = detail.stack;
  json environments = json::object();
  for (const control::EnvironmentView& view : detail.environments) {
    const store::EnvironmentState& e = view.state;
    environments[e.env] = {{"state", e.state},
                           {"applied_revision", e.applied_revision},
                           {"last_good_revision", e.last_good_revision},
                           {"bundle_hash", e.bundle_hash},
                           {"last_operation_id", e.last_operation_id},
                           {"message", e.message},
                           {"updated_at", Time(e.updated_at)},
                           {"runtime", ToJson(view.runtime)}};
  }
  json head = {{"name", stack.name},
               {"revision", stack.revision},
               {"spec_hash", stack.spec_hash},
               {"created_at", Time(stack.created_at)},
               {"updated_at", Time(stack.updated_at)},
               {"environments", environments}};
  std::string out = head.dump();
  // `{...}` + `,"spec":<stored JSON>}`: the spec is not parsed and re-serialised.
  out.pop_back();
  out.append(",\"spec\":").append(stack.spec_json).push_back('}');
  return out;
}

}  // namespace obsforge::server
