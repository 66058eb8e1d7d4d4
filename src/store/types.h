#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obsforge::store {

/// A point in time as stored: milliseconds since the Unix epoch (UTC). 0 means "not set".
/// Every time in the store uses this unit; the API layer formats them with core::FormatTime.
using TimeMs = std::int64_t;

/// `t` in store units (milliseconds since the epoch, truncated).
TimeMs ToTimeMs(std::chrono::system_clock::time_point t);
/// The time point of `ms` (the inverse of ToTimeMs).
std::chrono::system_clock::time_point FromTimeMs(TimeMs ms);

/// Where a spec revision came from.
enum class RevisionSource : std::uint8_t { kApi, kGit };

/// What an operation does.
enum class OperationKind : std::uint8_t {
  kCreate,
  kApply,
  kUpdate,
  kDelete,
  kRollback,
  kPlan,
  kSync,
  kTeardown,
};

/// Lifecycle of an operation: queued -> running -> succeeded | failed | rolled_back, or
/// queued -> superseded (an apply that a later one for the same environment made pointless:
/// it never ran).
enum class OperationState : std::uint8_t {
  kQueued,
  kRunning,
  kSucceeded,
  kFailed,
  kRolledBack,
  kSuperseded,
};

/// Lifecycle of one step of an operation.
enum class StepState : std::uint8_t { kPending, kRunning, kSucceeded, kFailed, kSkipped };

/// The kinds of API objects obsforge provisions into Grafana and Loki.
enum class ObjectKind : std::uint8_t {
  kDatasource,
  kFolder,
  kDashboard,
  kRuleGroup,
  kContactPoint,
  kPolicy,
  kLokiGroup,
};

/// Wire names ("api", "create", "rolled_back", "rule_group", ...), as stored and as shown in the
/// REST API. Never throw.
const char* Name(RevisionSource v);
const char* Name(OperationKind v);
const char* Name(OperationState v);
const char* Name(StepState v);
const char* Name(ObjectKind v);

/// Parses a wire name; nullopt when `s` is not one. Never throw.
std::optional<RevisionSource> ParseRevisionSource(std::string_view s);
std::optional<OperationKind> ParseOperationKind(std::string_view s);
std::optional<OperationState> ParseOperationState(std::string_view s);
std::optional<StepState> ParseStepState(std::string_view s);
std::optional<ObjectKind> ParseObjectKind(std::string_view s);

/// True for succeeded, failed, rolled_back and superseded: the operation will not change again.
bool IsTerminal(OperationState s);
/// True for the kinds that apply a spec revision to one environment: create, update, apply,
/// rollback and sync.
bool AppliesSpec(OperationKind k);
/// True for succeeded, failed and skipped.
bool IsTerminal(StepState s);

/// A stack as stored: its current spec and revision number.
struct Stack {
  std::string name;
  /// The spec as the client sent it, normalised to JSON by the caller. Holds secret
  /// REFERENCES only (`{"secret": "NAME"}`); the store never resolves or rewrites them.
  std::string spec_json;
  std::string spec_hash;      ///< sha256 hex of the spec, chosen by the caller
  std::int64_t revision = 0;  ///< number of the current SpecRevision (1 after create); the ETag
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
};

/// A new spec for a stack, with where it came from. Input of CreateStack and UpdateSpec.
struct SpecChange {
  std::string spec_json;  ///< secret references only; stored byte for byte
  std::string spec_hash;
  RevisionSource source = RevisionSource::kApi;
  std::string commit_sha;  ///< git only
  std::string commit_author;
  std::string commit_message;
  std::string actor;  ///< token name of the API caller, or the gitops source key
};

/// One immutable version of a stack's spec.
struct SpecRevision {
  std::string stack;
  std::int64_t number = 0;  ///< 1, 2, ... per stack
  std::string spec_json;
  std::string spec_hash;
  RevisionSource source = RevisionSource::kApi;
  std::string commit_sha;
  std::string commit_author;
  std::string commit_message;
  std::string actor;
  TimeMs created_at = 0;
};

/// Where one environment of a stack stands. Written by the operation runner.
struct EnvironmentState {
  std::string stack;
  std::string env;
  std::int64_t applied_revision = 0;    ///< spec revision live now (0: none yet)
  std::int64_t last_good_revision = 0;  ///< last spec revision that applied and verified
  std::string bundle_hash;              ///< render::Bundle::ContentHash() of what is live
  std::string last_good_bundle_hash;
  std::string state;  ///< owned by the runner, e.g. "pending", "ready", "failed", "down"
  std::string last_operation_id;
  std::string message;  ///< last error or note, free of secrets
  TimeMs updated_at = 0;
};

/// One step of an operation (render, validate, write, reload, verify, provision, ...).
struct OperationStep {
  std::string op_id;
  int index = 0;  ///< 0, 1, ... in the order the steps were appended
  std::string name;
  StepState state = StepState::kPending;
  TimeMs started_at = 0;
  TimeMs finished_at = 0;
  std::string message;
};

/// What to create with CreateOperation.
struct NewOperation {
  OperationKind kind = OperationKind::kApply;
  std::string stack;
  std::string env;            ///< empty for stack-wide operations
  std::int64_t revision = 0;  ///< the spec revision it applies (0 when not applicable)
  std::string actor;
};

/// A unit of background work on one (stack, env), with its steps.
struct Operation {
  /// "op-<13-digit ms>-<6-digit sequence>": unique, and sorts in creation order.
  std::string id;
  OperationKind kind = OperationKind::kApply;
  std::string stack;
  std::string env;
  OperationState state = OperationState::kQueued;
  std::int64_t revision = 0;
  std::string actor;
  TimeMs created_at = 0;
  TimeMs started_at = 0;   ///< stamped when it first enters running
  TimeMs finished_at = 0;  ///< stamped when it reaches a terminal state
  std::string error;
  std::string result_json;           ///< e.g. the plan diff; "" when none
  std::vector<OperationStep> steps;  ///< filled by GetOperation only
  /// The replica that claimed it (ClaimNextOperation); "" while queued.
  std::string owner;
  /// Until when the owner's claim holds unless renewed (RenewLeases); 0 while queued.
  TimeMs lease_until = 0;
};

/// A stack as a spec change left it, with the operations queued in the same transaction.
struct StackWrite {
  Stack stack;
  std::vector<Operation> operations;
};

/// A change of an operation's state (UpdateOperationState).
struct OperationUpdate {
  OperationState state = OperationState::kRunning;
  std::string error;                       ///< replaces the stored error when non-empty
  std::optional<std::string> result_json;  ///< replaces the stored result when set
};

/// Filter of ListOperations. Empty strings match everything.
struct OperationQuery {
  std::string stack;
  std::string env;
  int limit = 100;
};

/// A state change of one health check.
struct HealthEvent {
  std::int64_t id = 0;  ///< assigned by AppendHealthEvent
  std::string stack;
  std::string env;
  std::string component;
  std::string check;
  std::string from_state;
  std::string to_state;
  TimeMs at = 0;  ///< when it changed; stamped from the store's clock when 0
  std::string message;
};

/// Filter of ListHealthEvents. An empty env matches every environment of the stack.
struct HealthEventQuery {
  std::string stack;
  std::string env;
  TimeMs since = 0;  ///< only events with at >= since
  int limit = 100;
};

/// An object obsforge created in Grafana or Loki, so it can update and prune only its own.
struct ProvisionedObject {
  std::string stack;
  std::string env;
  ObjectKind kind = ObjectKind::kDashboard;
  std::string uid;
  std::string content_hash;
  TimeMs updated_at = 0;
  /// The upstream's version and id of the object right after obsforge wrote it (Grafana
  /// dashboards); 0 when unknown.
  std::int64_t remote_version = 0;
  std::int64_t remote_id = 0;
};

/// A notification waiting in (or delivered from) the outbox.
struct OutboxMessage {
  std::int64_t id = 0;  ///< increasing, never reused
  /// Which webhook: a secret REFERENCE such as `{secret: SLACK_WEBHOOK_DEMO}`, never a URL.
  std::string channel_key;
  std::string payload_json;
  TimeMs created_at = 0;
  int attempts = 0;
  TimeMs next_attempt_at = 0;
  TimeMs delivered_at = 0;  ///< 0 while not delivered
  TimeMs dropped_at = 0;    ///< 0 while not dropped
  std::string dropped_reason;
  std::string last_error;  ///< of the last failed attempt
};

/// What a gitops source has seen and applied.
struct GitState {
  std::string source_key;  ///< identifies the source, e.g. "<repo>#<branch>:<path>"
  std::string last_seen_sha;
  std::string last_applied_sha;
  TimeMs updated_at = 0;
};

}  // namespace obsforge::store
