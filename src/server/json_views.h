#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/application.h"
#include "render/bundle.h"
#include "store/store.h"

namespace obsforge::server {

// The wire form (docs/api.md) of each typed result of the application. Times are RFC 3339
// strings, or null when not set. Pure; never throw except std::bad_alloc.

/// {id, kind, stack, env, state, revision, actor, created_at, started_at, finished_at,
/// steps: [{name, state, started_at, finished_at, message}], progress: {steps_done, steps},
/// error, result?}.
nlohmann::json ToJson(const store::Operation& op);
/// {stack, revision, operations: [...]}.
nlohmann::json ToJson(const control::Submitted& submitted);
/// {stack, operation}.
nlohmann::json ToJson(const control::Queued& queued);
/// {stacks: [{name, revision, spec_hash, created_at, updated_at}]}.
nlohmann::json ToJson(const control::StackList& list);
/// apply::Plan::ToJson() with stack, env and revision.
/// The plan with its diffs cut as `limit` says (default: kDefaultDiffLines per file).
nlohmann::json ToJson(const control::PlanView& plan, const apply::DiffLimit& limit = {});
/// {stack, revisions: [{number, spec_hash, source, actor, created_at, outcome, environments,
/// commit?}]}.
nlohmann::json ToJson(const control::RevisionList& revisions);
/// {runtime, revision?, last_good?, components: [{name, state, pid, restarts, url,
/// last_exit?}]}.
nlohmann::json ToJson(const control::RuntimeStatus& status);
/// {id, scope (environment/component/check), stack, env, component?, check?, from, to, at,
/// message}.
nlohmann::json ToJson(const store::HealthEvent& event);
/// {sources: [{key, repo, branch, path, poll_ms, auto_apply, prune, last_seen_sha,
/// last_good_sha, last_sync: {operation, outcome, summary, sha, at} | null}]}.
nlohmann::json ToJson(const std::vector<control::GitOpsSourceStatus>& sources);

/// POST /api/v1/import: {spec, files: {path: text}, report} — `spec` and `files` as
/// POST /api/v1/stacks takes them ({spec, files}); `report` as importer::Report::ToJson().
nlohmann::json ToJson(const importer::ImportResult& result);

/// {files: {path: {sha256, content}}, hash}.
nlohmann::json BundleJson(const render::Bundle& bundle);

/// GET /api/v1/stacks/{name}: {created_at, environments: {env: {state, applied_revision,
/// last_good_revision, bundle_hash, last_operation_id, message, updated_at, runtime}}, name,
/// revision, spec_hash, updated_at, spec}; the stored spec JSON is spliced in as is.
std::string StackJson(const control::StackDetail& detail);

}  // namespace obsforge::server
