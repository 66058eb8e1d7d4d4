// Whole-table reads and writes of PostgresStore (TableStore), for copying and checking stores.
#include <string>
#include <utility>
#include <vector>

#include "store/postgres_db.h"
#include "store/postgres_store.h"

namespace obsforge::store {
namespace {

using core::Result;

// Rows per multi-row INSERT: one round trip per batch instead of per row.
constexpr std::size_t kInsertBatch = 200;

class PgTableReader final : public TableReader {
 public:
  explicit PgTableReader(PgConnection& c) : c_(c) {}

  void Each(const Table& table, const std::function<void(const TableRow&)>& row) override {
    const std::vector<std::size_t> key = KeyPositions(table);
    const std::string first = TablePageSql(table, false, true);
    const std::string next = TablePageSql(table, true, true);
    std::vector<PgParam> after;
    for (;;) {
      const PgResult page = c_.ExecParams(after.empty() ? first : next, after);
      TableRow values(table.columns.size());
      for (int r = 0; r < page.rows(); ++r) {
        for (std::size_t col = 0; col < values.size(); ++col) {
          values[col] = page.Value(r, static_cast<int>(col));
        }
        row(values);
      }
      if (page.rows() < kTablePageRows) {
        return;
      }
      after.clear();
      for (std::size_t k : key) {
        after.emplace_back(values[k]);
      }
    }
  }

  std::int64_t LastIdentity(const Table& table) override {
    // The sequence remembers ids whose rows were since pruned; MAX covers rows inserted with
    // explicit ids. pg_sequence_last_value is NULL before the first nextval.
    return c_
        .Exec(
            "SELECT GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, "
            "$2)::regclass), 0), COALESCE((SELECT MAX(" +
                table.identity + ") FROM " + table.name + "), 0)) AS last",
            table.name, table.identity)
        .Int(0, "last");
  }

 private:
  PgConnection& c_;
};

class PgTableWriter final : public TableWriter {
 public:
  explicit PgTableWriter(PgConnection& c) : c_(c) {}

  void Insert(const Table& table, const TableRow& row) override {
    if (table_ != nullptr && table_ != &table) {
      Flush();
    }
    table_ = &table;
    for (const std::string& v : row) {
      params_.push_back(ToParam(v));
    }
    if (++rows_ == kInsertBatch) {
      Flush();
    }
  }

  void SetLastIdentity(const Table& table, std::int64_t last) override {
    Flush();
    // setval(seq, m, true): the next id is m + 1; setval(seq, 1, false): the next id is 1.
    c_.Exec(
        "SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(m, 1), m > 0) FROM "
        "(SELECT GREATEST($3::bigint, COALESCE(MAX(" +
            table.identity + "), 0)) AS m FROM " + table.name + ") AS last",
        table.name, table.identity, last);
  }

  void Flush() {
    if (rows_ == 0) {
      return;
    }
    const std::size_t width = table_->columns.size();
    std::string sql = "INSERT INTO " + table_->name + " (" + table_->column_list + ") VALUES ";
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows_; ++r) {
      sql += r > 0 ? ", (" : "(";
      for (std::size_t col = 0; col < width; ++col) {
        sql += (col > 0 ? ", $" : "$") + std::to_string(++n);
      }
      sql += ")";
    }
    c_.ExecParams(sql, params_);
    params_.clear();
    rows_ = 0;
  }

 private:
  PgConnection& c_;
  const Table* table_ = nullptr;
  std::vector<PgParam> params_;
  std::size_t rows_ = 0;
};

}  // namespace

Result<void> PostgresStore::ReadTables(const std::function<Result<void>(TableReader&)>& read) {
  return pool_->Read<void>("read every table", true, [&](PgConnection& c) {
    PgTableReader reader(c);
    return read(reader);
  });
}

Result<void> PostgresStore::ReplaceTables(const std::function<Result<void>(TableWriter&)>& fill) {
  std::string all;
  for (const Table& t : StoredTables()) {
    all += (all.empty() ? "" : ", ") + t.name;
  }
  return pool_->Write<void>("replace every table", [&](PgConnection& c) -> Result<void> {
    // TRUNCATE is transactional here: a failed copy leaves the old contents.
    c.Exec("TRUNCATE " + all);
    PgTableWriter writer(c);
    Result<void> filled = fill(writer);
    if (filled) {
      writer.Flush();
    }
    return filled;
  });
}

}  // namespace obsforge::store
