#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

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

/// The PostgreSQL schema: the same versions with the same names and tables as
/// SqliteMigrations() (a store can be copied between them at equal versions), in PostgreSQL's
/// dialect. Same rules: append, never edit. Never throws.
const std::vector<Migration>& PostgresMigrations();

/// kInternal unless the versions of `migrations` strictly increase. Never throws.
core::Result<void> CheckMigrationOrder(const std::vector<Migration>& migrations);

/// kPrecondition when a database whose highest applied version is `newest` was migrated by a
/// newer obsforge than one knowing `migrations`. Never throws.
core::Result<void> CheckNotNewer(std::int64_t newest, const std::vector<Migration>& migrations);

}  // namespace obsforge::store
