#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

namespace obsforge::store {

/// Where a store lives, as a store URL names it.
struct StoreLocation {
  enum class Kind : std::uint8_t { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  /// SQLite: the database file. PostgreSQL: the libpq URL as given (it may hold a password:
  /// never print it).
  std::string target;
  /// What messages may show: "sqlite FILE" or "postgresql user@host:port/db".
  std::string display;
};

/// Parses a store URL (`--store`, obsforge.yaml `store:`, `store migrate --from/--to`):
///   "sqlite" or ""                    the file obsforge.db in `data_dir`
///   "sqlite:PATH", or a bare PATH     PATH itself when it ends in ".db" or ".sqlite" and is not
///                                     a directory; else the file obsforge.db in directory PATH
///   "postgresql://…", "postgres://…"  a PostgreSQL database (libpq connection URI, every libpq
///                                     parameter allowed, e.g. ?sslmode=require)
/// kInvalidSpec naming the problem for another scheme, an empty path or a malformed PostgreSQL
/// URI (the message never repeats the URL, which may hold a password). Never throws.
core::Result<StoreLocation> ParseStoreUrl(std::string_view url,
                                          const std::filesystem::path& data_dir);

/// Opens the store at `location`, creating a SQLite file's directory, and applies the
/// migrations it lacks. Errors as SqliteStore::Open and PostgresStore::Open (kUnavailable when
/// a PostgreSQL server cannot be reached). Never throws.
core::Result<std::unique_ptr<Store>> OpenStore(const StoreLocation& location, core::Clock& clock);

}  // namespace obsforge::store
