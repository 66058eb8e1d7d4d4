#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "store/store.h"

namespace obsforge::store {

/// How many rows one stored table holds, and a hash of their contents.
struct TableDigest {
  std::string table;
  std::int64_t rows = 0;
  /// Lower-case hex SHA-256 over the rows in key order, each value length-prefixed: two stores
  /// with equal digests hold the same rows, byte for byte, whatever their backend.
  std::string sha256;

  bool operator==(const TableDigest&) const = default;
};

/// The digest of every stored table of `store` (StoredTables() order), from one snapshot.
/// The store's error when it cannot be read.
core::Result<std::vector<TableDigest>> DigestTables(TableStore& store);

/// Replaces everything `to` holds with a copy of every stored table of `from` (one snapshot of
/// `from`, one transaction on `to`: on failure `to` is unchanged), ids and id sequences
/// included. Copy within one schema version (open both stores with this obsforge first). The
/// failing store's error (kInternal, kUnavailable, ...).
core::Result<void> CopyTables(TableStore& from, TableStore& to);

/// Rules between tables that the database itself may not enforce (SQLite databases written
/// without foreign keys, hand edits): every revision, environment and provisioned object
/// belongs to a stored stack; each stack's revision is its newest stored revision; every
/// operation step belongs to a stored operation. One line per broken rule (at most `limit`);
/// empty when the store is consistent. The store's error when it cannot be read.
core::Result<std::vector<std::string>> CheckTables(TableStore& store, std::size_t limit = 50);

}  // namespace obsforge::store
