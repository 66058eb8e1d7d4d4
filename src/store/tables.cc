#include "store/tables.h"

#include <cstdlib>
#include <initializer_list>
#include <utility>

namespace obsforge::store {
namespace {

constexpr ColumnType kInt = ColumnType::kInteger;
constexpr ColumnType kText = ColumnType::kText;

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += (out.empty() ? "" : ", ") + n;
  }
  return out;
}

Table Make(std::string name,
           std::initializer_list<Column> columns,
           std::initializer_list<std::string> key,
           std::string identity = "") {
  Table t{.name = std::move(name), .columns = columns, .key = key, .identity = std::move(identity)};
  std::vector<std::string> names;
  for (const Column& c : t.columns) {
    names.push_back(c.name);
  }
  t.column_list = Joined(names);
  t.key_list = Joined(t.key);
  return t;
}

}  // namespace

const std::vector<Table>& StoredTables() {
  static const std::vector<Table> kTables = {
      Make("stacks",
           {{"name", kText},
            {"spec_json", kText},
            {"spec_hash", kText},
            {"revision", kInt},
            {"created_at", kInt},
            {"updated_at", kInt}},
           {"name"}),
      Make("spec_revisions",
           {{"stack", kText},
            {"number", kInt},
            {"spec_json", kText},
            {"spec_hash", kText},
            {"source", kText},
            {"commit_sha", kText},
            {"commit_author", kText},
            {"commit_message", kText},
            {"actor", kText},
            {"created_at", kInt}},
           {"stack", "number"}),
      Make("environments",
           {{"stack", kText},
            {"env", kText},
            {"applied_revision", kInt},
            {"last_good_revision", kInt},
            {"bundle_hash", kText},
            {"last_good_bundle_hash", kText},
            {"state", kText},
            {"last_operation_id", kText},
            {"message", kText},
            {"updated_at", kInt}},
           {"stack", "env"}),
      Make("operations",
           {{"seq", kInt},
            {"id", kText},
            {"kind", kText},
            {"stack", kText},
            {"env", kText},
            {"state", kText},
            {"revision", kInt},
            {"actor", kText},
            {"created_at", kInt},
            {"started_at", kInt},
            {"finished_at", kInt},
            {"error", kText},
            {"result_json", kText},
            {"owner", kText},
            {"lease_until", kInt}},
           {"seq"}, "seq"),
      Make("operation_steps",
           {{"op_id", kText},
            {"idx", kInt},
            {"name", kText},
            {"state", kText},
            {"started_at", kInt},
            {"finished_at", kInt},
            {"message", kText}},
           {"op_id", "idx"}),
      Make("health_events",
           {{"id", kInt},
            {"stack", kText},
            {"env", kText},
            {"component", kText},
            {"check_name", kText},
            {"from_state", kText},
            {"to_state", kText},
            {"at", kInt},
            {"message", kText}},
           {"id"}, "id"),
      Make("provisioned_objects",
           {{"stack", kText},
            {"env", kText},
            {"kind", kText},
            {"uid", kText},
            {"content_hash", kText},
            {"updated_at", kInt},
            {"remote_version", kInt},
            {"remote_id", kInt}},
           {"stack", "env", "kind", "uid"}),
      Make("outbox",
           {{"id", kInt},
            {"channel_key", kText},
            {"payload_json", kText},
            {"created_at", kInt},
            {"attempts", kInt},
            {"next_attempt_at", kInt},
            {"delivered_at", kInt},
            {"dropped_at", kInt},
            {"dropped_reason", kText},
            {"last_error", kText}},
           {"id"}, "id"),
      Make("git_state",
           {{"source_key", kText},
            {"last_seen_sha", kText},
            {"last_applied_sha", kText},
            {"updated_at", kInt}},
           {"source_key"}),
      Make("webhook_deliveries", {{"id", kText}, {"received_at", kInt}}, {"id"}),
      // Values sealed by the application (control::StackSecrets); a copy moves them as they are,
      // so the target opens them only with the same key.
      Make("stack_secrets",
           {{"stack", kText},
            {"key", kText},
            {"sealed", kText},
            {"key_id", kText},
            {"updated_at", kInt}},
           {"stack", "key"}),
  };
  return kTables;
}

std::string TablePageSql(const Table& table, bool after, bool numbered) {
  std::string sql = "SELECT " + table.column_list + " FROM " + table.name;
  if (after) {
    std::string values;
    for (std::size_t i = 1; i <= table.key.size(); ++i) {
      values += (i > 1 ? ", " : "") + (numbered ? "$" + std::to_string(i) : std::string("?"));
    }
    // A row-value comparison follows the key order exactly, so no row is skipped or repeated
    // between pages, and every page is one index range scan.
    sql += " WHERE (" + table.key_list + ") > (" + values + ")";
  }
  return sql + " ORDER BY " + table.key_list + " LIMIT " + std::to_string(kTablePageRows);
}

std::vector<std::size_t> KeyPositions(const Table& table) {
  std::vector<std::size_t> positions;
  for (const std::string& k : table.key) {
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      if (table.columns[i].name == k) {
        positions.push_back(i);
      }
    }
  }
  return positions;
}

const Table& StoredTable(std::string_view name) {
  for (const Table& t : StoredTables()) {
    if (t.name == name) {
      return t;
    }
  }
  std::abort();
}

}  // namespace obsforge::store
