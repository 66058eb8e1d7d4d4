#pragma once

#include <string>
#include <vector>

namespace obsforge::store {

/// One versioned schema change: SQL statements applied together in one transaction and recorded
/// in `schema_migrations` (version, name, applied_at).
struct Migration {
  int version = 0;  ///< 1, 2, ... strictly increasing; never renumber a released one
  std::string name;
  std::vector<std::string> steps;  ///< one SQL statement each, applied in order
};

/// The SQLite schema, oldest first. Append new migrations at the end; never edit a released one
/// (a database that already applied it would not see the change). Never throws.
const std::vector<Migration>& SqliteMigrations();

}  // namespace obsforge::store
