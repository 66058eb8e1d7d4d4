#pragma once

// Internal to src/store: a stored row -> store struct, for every backend. `Row` is any type with
//   std::string Text(const char* column) const;        // "" for NULL
//   std::int64_t Int(const char* column) const;        // 0 for NULL
// Each function throws StoreDataError when a stored enum name is unknown (a corrupt database, or
// one written by a newer obsforge); the backends turn it into kInternal.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "store/secret_store.h"
#include "store/tables.h"
#include "store/types.h"

namespace obsforge::store {

/// A stored value this obsforge cannot read.
class StoreDataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "col1, col2, ..." of stored table `table` (see StoredTables()).
inline const std::string& Columns(std::string_view table) {
  return StoredTable(table).column_list;
}

namespace rows_detail {

template <class E, class Row>
E Enum(const Row& row, const char* column, std::optional<E> (*parse)(std::string_view)) {
  const std::string text = row.Text(column);
  std::optional<E> value = parse(text);
  if (!value) {
    throw StoreDataError("unknown value '" + text + "' in column " + column);
  }
  return *value;
}

}  // namespace rows_detail

template <class Row>
Stack StackFromRow(const Row& r) {
  return Stack{.name = r.Text("name"),
               .spec_json = r.Text("spec_json"),
               .spec_hash = r.Text("spec_hash"),
               .revision = r.Int("revision"),
               .created_at = r.Int("created_at"),
               .updated_at = r.Int("updated_at")};
}

template <class Row>
SpecRevision RevisionFromRow(const Row& r) {
  return SpecRevision{.stack = r.Text("stack"),
                      .number = r.Int("number"),
                      .spec_json = r.Text("spec_json"),
                      .spec_hash = r.Text("spec_hash"),
                      .source = rows_detail::Enum(r, "source", &ParseRevisionSource),
                      .commit_sha = r.Text("commit_sha"),
                      .commit_author = r.Text("commit_author"),
                      .commit_message = r.Text("commit_message"),
                      .actor = r.Text("actor"),
                      .created_at = r.Int("created_at")};
}

template <class Row>
EnvironmentState EnvironmentFromRow(const Row& r) {
  return EnvironmentState{.stack = r.Text("stack"),
                          .env = r.Text("env"),
                          .applied_revision = r.Int("applied_revision"),
                          .last_good_revision = r.Int("last_good_revision"),
                          .bundle_hash = r.Text("bundle_hash"),
                          .last_good_bundle_hash = r.Text("last_good_bundle_hash"),
                          .state = r.Text("state"),
                          .last_operation_id = r.Text("last_operation_id"),
                          .message = r.Text("message"),
                          .updated_at = r.Int("updated_at")};
}

template <class Row>
Operation OperationFromRow(const Row& r) {
  return Operation{.id = r.Text("id"),
                   .kind = rows_detail::Enum(r, "kind", &ParseOperationKind),
                   .stack = r.Text("stack"),
                   .env = r.Text("env"),
                   .state = rows_detail::Enum(r, "state", &ParseOperationState),
                   .revision = r.Int("revision"),
                   .actor = r.Text("actor"),
                   .created_at = r.Int("created_at"),
                   .started_at = r.Int("started_at"),
                   .finished_at = r.Int("finished_at"),
                   .error = r.Text("error"),
                   .result_json = r.Text("result_json"),
                   .owner = r.Text("owner"),
                   .lease_until = r.Int("lease_until")};
}

template <class Row>
OperationStep StepFromRow(const Row& r) {
  return OperationStep{.op_id = r.Text("op_id"),
                       .index = static_cast<int>(r.Int("idx")),
                       .name = r.Text("name"),
                       .state = rows_detail::Enum(r, "state", &ParseStepState),
                       .started_at = r.Int("started_at"),
                       .finished_at = r.Int("finished_at"),
                       .message = r.Text("message")};
}

template <class Row>
HealthEvent HealthEventFromRow(const Row& r) {
  return HealthEvent{.id = r.Int("id"),
                     .stack = r.Text("stack"),
                     .env = r.Text("env"),
                     .component = r.Text("component"),
                     .check = r.Text("check_name"),
                     .from_state = r.Text("from_state"),
                     .to_state = r.Text("to_state"),
                     .at = r.Int("at"),
                     .message = r.Text("message")};
}

template <class Row>
ProvisionedObject ProvisionedObjectFromRow(const Row& r) {
  return ProvisionedObject{.stack = r.Text("stack"),
                           .env = r.Text("env"),
                           .kind = rows_detail::Enum(r, "kind", &ParseObjectKind),
                           .uid = r.Text("uid"),
                           .content_hash = r.Text("content_hash"),
                           .updated_at = r.Int("updated_at"),
                           .remote_version = r.Int("remote_version"),
                           .remote_id = r.Int("remote_id")};
}

template <class Row>
OutboxMessage OutboxFromRow(const Row& r) {
  return OutboxMessage{.id = r.Int("id"),
                       .channel_key = r.Text("channel_key"),
                       .payload_json = r.Text("payload_json"),
                       .created_at = r.Int("created_at"),
                       .attempts = static_cast<int>(r.Int("attempts")),
                       .next_attempt_at = r.Int("next_attempt_at"),
                       .delivered_at = r.Int("delivered_at"),
                       .dropped_at = r.Int("dropped_at"),
                       .dropped_reason = r.Text("dropped_reason"),
                       .last_error = r.Text("last_error")};
}

template <class Row>
GitState GitStateFromRow(const Row& r) {
  return GitState{.source_key = r.Text("source_key"),
                  .last_seen_sha = r.Text("last_seen_sha"),
                  .last_applied_sha = r.Text("last_applied_sha"),
                  .updated_at = r.Int("updated_at")};
}

template <class Row>
StackSecret StackSecretFromRow(const Row& r) {
  return StackSecret{.stack = r.Text("stack"),
                     .key = r.Text("key"),
                     .sealed = r.Text("sealed"),
                     .key_id = r.Text("key_id"),
                     .updated_at = r.Int("updated_at")};
}

}  // namespace obsforge::store
