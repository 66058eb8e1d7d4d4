// Whole-table reads and writes of SqliteStore (TableStore), for copying and checking stores.
#include <charconv>
#include <ranges>
#include <string>
#include <vector>

#include "store/rows.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"

namespace obsforge::store {
namespace {

using core::Result;
using Poco::Data::Session;

// Binds `value` as the column's type: SQLite compares an INTEGER column with a text value as
// text, which would put "10" before "9".
void Bind(Poco::Data::Statement& st, ColumnType type, const std::string& value) {
  if (type == ColumnType::kInteger) {
    Poco::Int64 n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size()) {
      throw StoreDataError("'" + value + "' is not an integer");
    }
    st.addBind(Poco::Data::Keywords::bind(n));
  } else {
    st.addBind(Poco::Data::Keywords::bind(value));
  }
}

class SqliteTableReader final : public TableReader {
 public:
  explicit SqliteTableReader(Session& s) : s_(s) {}

  void Each(const Table& table, const std::function<void(const TableRow&)>& row) override {
    const std::vector<std::size_t> key = KeyPositions(table);
    TableRow values(table.columns.size());
    for (bool first = true;; first = false) {
      Poco::Data::Statement st(s_);
      st << TablePageSql(table, !first, false);
      for (std::size_t i = 0; !first && i < key.size(); ++i) {
        Bind(st, table.columns[key[i]].type, values[key[i]]);
      }
      st.execute();
      Poco::Data::RecordSet rs(st);
      std::size_t rows = 0;
      for (bool more = rs.moveFirst(); more; more = rs.moveNext(), ++rows) {
        for (std::size_t col = 0; col < values.size(); ++col) {
          const Column& c = table.columns[col];
          values[col] =
              c.type == ColumnType::kInteger ? std::to_string(Int(rs, c.name)) : Text(rs, c.name);
        }
        row(values);
      }
      if (rows < static_cast<std::size_t>(kTablePageRows)) {
        return;
      }
    }
  }

  std::int64_t LastIdentity(const Table& table) override {
    // AUTOINCREMENT tables remember their largest id in sqlite_sequence, even once pruned.
    auto rs = SqliteDb::Query(s_,
                              "SELECT MAX(COALESCE((SELECT MAX(" + table.identity + ") FROM " +
                                  table.name +
                                  "), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE "
                                  "name = ?), 0)) AS last",
                              table.name);
    return rs.moveFirst() ? Int(rs, "last") : 0;
  }

 private:
  Session& s_;
};

class SqliteTableWriter final : public TableWriter {
 public:
  explicit SqliteTableWriter(Session& s) : s_(s) {}

  void Insert(const Table& table, const TableRow& row) override {
    std::string placeholders;
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      placeholders += i > 0 ? ", ?" : "?";
    }
    Poco::Data::Statement st(s_);
    st << "INSERT INTO " + table.name + " (" + table.column_list + ") VALUES (" + placeholders +
              ")";
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      Bind(st, table.columns[i].type, row.at(i));
    }
    st.execute();
  }

  void SetLastIdentity(const Table& table, std::int64_t last) override {
    // Only AUTOINCREMENT tables have a sequence to move; the others number past their largest
    // row, which the copy brought along.
    if (SqliteDb::Query(s_,
                        "SELECT 1 FROM sqlite_master WHERE name = ? AND sql LIKE "
                        "'%AUTOINCREMENT%'",
                        table.name)
            .rowCount() == 0) {
      return;
    }
    const Poco::Int64 value = last;
    SqliteDb::Exec(s_, "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", value,
                   table.name);
    SqliteDb::Exec(s_,
                   "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS "
                   "(SELECT 1 FROM sqlite_sequence WHERE name = ?)",
                   table.name, value, table.name);
  }

 private:
  Session& s_;
};

}  // namespace

Result<void> SqliteStore::ReadTables(const std::function<Result<void>(TableReader&)>& read) {
  return db_->Read<void>("read every table", true, [&](Session& s) {
    SqliteTableReader reader(s);
    return read(reader);
  });
}

Result<void> SqliteStore::ReplaceTables(const std::function<Result<void>(TableWriter&)>& fill) {
  Result<void> replaced = db_->Write<void>("replace every table", [&](Session& s) {
    const std::vector<Table>& tables = StoredTables();
    for (const Table& t : std::views::reverse(tables)) {  // children first
      SqliteDb::Exec(s, "DELETE FROM " + t.name);
    }
    // The copy's ids and SetLastIdentity set the sequences again, as the source had them.
    SqliteDb::Exec(s, "DELETE FROM sqlite_sequence");
    SqliteTableWriter writer(s);
    return fill(writer);
  });
  if (cache_stacks_) {
    std::lock_guard lock(cache_mu_);
    ++cache_generation_;
    stack_cache_.clear();
  }
  return replaced;
}

}  // namespace obsforge::store
