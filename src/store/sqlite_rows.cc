#include "store/sqlite_rows.h"

#include <optional>
#include <string>

#include <Poco/Data/DataException.h>

#include "store/sqlite_db.h"

namespace obsforge::store {
namespace {

using Poco::Data::RecordSet;

template <class E>
E Enum(RecordSet& rs, const std::string& column, std::optional<E> (*parse)(std::string_view)) {
  const std::string text = Text(rs, column);
  std::optional<E> value = parse(text);
  if (!value) {
    throw Poco::Data::DataException("unknown value '" + text + "' in column " + column);
  }
  return *value;
}

}  // namespace

Stack StackFromRow(RecordSet& rs) {
  return Stack{.name = Text(rs, "name"),
               .spec_json = Text(rs, "spec_json"),
               .spec_hash = Text(rs, "spec_hash"),
               .revision = Int(rs, "revision"),
               .created_at = Int(rs, "created_at"),
               .updated_at = Int(rs, "updated_at")};
}

SpecRevision RevisionFromRow(RecordSet& rs) {
  return SpecRevision{.stack = Text(rs, "stack"),
                      .number = Int(rs, "number"),
                      .spec_json = Text(rs, "spec_json"),
                      .spec_hash = Text(rs, "spec_hash"),
                      .source = Enum(rs, "source", &ParseRevisionSource),
                      .commit_sha = Text(rs, "commit_sha"),
                      .commit_author = Text(rs, "commit_author"),
                      .commit_message = Text(rs, "commit_message"),
                      .actor = Text(rs, "actor"),
                      .created_at = Int(rs, "created_at")};
}

EnvironmentState EnvironmentFromRow(RecordSet& rs) {
  return EnvironmentState{.stack = Text(rs, "stack"),
                          .env = Text(rs, "env"),
                          .applied_revision = Int(rs, "applied_revision"),
                          .last_good_revision = Int(rs, "last_good_revision"),
                          .bundle_hash = Text(rs, "bundle_hash"),
                          .last_good_bundle_hash = Text(rs, "last_good_bundle_hash"),
                          .state = Text(rs, "state"),
                          .last_operation_id = Text(rs, "last_operation_id"),
                          .message = Text(rs, "message"),
                          .updated_at = Int(rs, "updated_at")};
}

Operation OperationFromRow(RecordSet& rs) {
  return Operation{.id = Text(rs, "id"),
                   .kind = Enum(rs, "kind", &ParseOperationKind),
                   .stack = Text(rs, "stack"),
                   .env = Text(rs, "env"),
                   .state = Enum(rs, "state", &ParseOperationState),
                   .revision = Int(rs, "revision"),
                   .actor = Text(rs, "actor"),
                   .created_at = Int(rs, "created_at"),
                   .started_at = Int(rs, "started_at"),
                   .finished_at = Int(rs, "finished_at"),
                   .error = Text(rs, "error"),
                   .result_json = Text(rs, "result_json")};
}

OperationStep StepFromRow(RecordSet& rs) {
  return OperationStep{.op_id = Text(rs, "op_id"),
                       .index = static_cast<int>(Int(rs, "idx")),
                       .name = Text(rs, "name"),
                       .state = Enum(rs, "state", &ParseStepState),
                       .started_at = Int(rs, "started_at"),
                       .finished_at = Int(rs, "finished_at"),
                       .message = Text(rs, "message")};
}

HealthEvent HealthEventFromRow(RecordSet& rs) {
  return HealthEvent{.id = Int(rs, "id"),
                     .stack = Text(rs, "stack"),
                     .env = Text(rs, "env"),
                     .component = Text(rs, "component"),
                     .check = Text(rs, "check_name"),
                     .from_state = Text(rs, "from_state"),
                     .to_state = Text(rs, "to_state"),
                     .at = Int(rs, "at"),
                     .message = Text(rs, "message")};
}

ProvisionedObject ProvisionedObjectFromRow(RecordSet& rs) {
  return ProvisionedObject{.stack = Text(rs, "stack"),
                           .env = Text(rs, "env"),
                           .kind = Enum(rs, "kind", &ParseObjectKind),
                           .uid = Text(rs, "uid"),
                           .content_hash = Text(rs, "content_hash"),
                           .updated_at = Int(rs, "updated_at"),
                           .remote_version = Int(rs, "remote_version"),
                           .remote_id = Int(rs, "remote_id")};
}

OutboxMessage OutboxFromRow(RecordSet& rs) {
  return OutboxMessage{.id = Int(rs, "id"),
                       .channel_key = Text(rs, "channel_key"),
                       .payload_json = Text(rs, "payload_json"),
                       .created_at = Int(rs, "created_at"),
                       .attempts = static_cast<int>(Int(rs, "attempts")),
                       .next_attempt_at = Int(rs, "next_attempt_at"),
                       .delivered_at = Int(rs, "delivered_at"),
                       .dropped_at = Int(rs, "dropped_at"),
                       .dropped_reason = Text(rs, "dropped_reason"),
                       .last_error = Text(rs, "last_error")};
}

GitState GitStateFromRow(RecordSet& rs) {
  return GitState{.source_key = Text(rs, "source_key"),
                  .last_seen_sha = Text(rs, "last_seen_sha"),
                  .last_applied_sha = Text(rs, "last_applied_sha"),
                  .updated_at = Int(rs, "updated_at")};
}

}  // namespace obsforge::store
