#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obsforge::store {

/// How a column is stored: every store keeps integers as 64-bit and text as text.
enum class ColumnType : std::uint8_t { kInteger, kText };

/// One column of a stored table.
struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
};

/// One table the store keeps, described once for every backend: the stores select these
/// columns, and copying a store (`obsforge store migrate`) moves these rows.
struct Table {
  std::string name;
  std::vector<Column> columns;
  /// The primary key's columns: a full scan orders by them, so that two stores list the same
  /// rows in the same order (text keys compare as bytes in every backend).
  std::vector<std::string> key;
  /// The column the store numbers itself (ids never reused), or "" when none.
  std::string identity;
  /// "col1, col2, ..." in column order, for SELECT and INSERT.
  std::string column_list;
  /// "key1, key2, ..." (ORDER BY, ON CONFLICT).
  std::string key_list;
};

/// Every table of the current schema, parents before children (the order to fill a store in;
/// empty it in reverse). A new table (e.g. per-stack secrets) is added here and in both
/// migration lists; the copy and its verification then include it. Never throws.
const std::vector<Table>& StoredTables();

/// Rows per page when a table is read whole (TableReader::Each).
inline constexpr int kTablePageRows = 500;

/// The SELECT of one page of `table` (every column, in key order, at most kTablePageRows rows):
/// the first page, or with `after` the page after the row whose key values are bound to the
/// placeholders, one per key column: "?" each when `numbered` is false, else $1, $2, ...
std::string TablePageSql(const Table& table, bool after, bool numbered);

/// Positions of `table`'s key columns among its columns.
std::vector<std::size_t> KeyPositions(const Table& table);

/// The table called `name`. Precondition: it is one of StoredTables() (a misspelt name is a
/// programming error and aborts).
const Table& StoredTable(std::string_view name);

}  // namespace obsforge::store
