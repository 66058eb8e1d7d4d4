#include "store/store_copy.h"

#include <charconv>
#include <map>
#include <set>
#include <string_view>

#include "core/hash.h"

namespace obsforge::store {
namespace {

std::string Hex(const std::array<std::uint8_t, 32>& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : digest) {
    out += kDigits[b >> 4U];
    out += kDigits[b & 0xFU];
  }
  return out;
}

std::int64_t AsInt(std::string_view text) {
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

std::size_t Position(const Table& table, std::string_view column) {
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].name == column) {
      return i;
    }
  }
  throw std::logic_error("no column " + std::string(column) + " in " + table.name);
}

}  // namespace

core::Result<std::vector<TableDigest>> DigestTables(TableStore& store) {
  std::vector<TableDigest> digests;
  auto read = store.ReadTables([&](TableReader& reader) -> core::Result<void> {
    digests.clear();  // a second run (after a lost connection) starts over
    for (const Table& table : StoredTables()) {
      core::Sha256 sha;
      TableDigest d{.table = table.name};
      reader.Each(table, [&](const TableRow& row) {
        ++d.rows;
        for (const std::string& v : row) {
          sha.Update(std::to_string(v.size()));
          sha.Update(":");
          sha.Update(v);
        }
        sha.Update("\n");
      });
      d.sha256 = Hex(sha.Finish());
      digests.push_back(std::move(d));
    }
    return {};
  });
  if (!read) {
    return read.error();
  }
  return digests;
}

core::Result<void> CopyTables(TableStore& from, TableStore& to) {
  return to.ReplaceTables([&](TableWriter& writer) {
    return from.ReadTables([&](TableReader& reader) -> core::Result<void> {
      for (const Table& table : StoredTables()) {
        reader.Each(table, [&](const TableRow& row) { writer.Insert(table, row); });
        if (!table.identity.empty()) {
          writer.SetLastIdentity(table, reader.LastIdentity(table));
        }
      }
      return {};
    });
  });
}

core::Result<std::vector<std::string>> CheckTables(TableStore& store, std::size_t limit) {
  std::vector<std::string> problems;
  std::size_t found = 0;
  const auto report = [&](std::string problem) {
    if (++found <= limit) {
      problems.push_back(std::move(problem));
    }
  };
  auto read = store.ReadTables([&](TableReader& reader) -> core::Result<void> {
    problems.clear();
    found = 0;
    // stack -> its revision column; stack -> its newest stored revision.
    std::map<std::string, std::int64_t> stacks;
    std::map<std::string, std::int64_t> newest;
    const Table& stack_table = StoredTable("stacks");
    reader.Each(stack_table, [&](const TableRow& r) {
      stacks[r[Position(stack_table, "name")]] = AsInt(r[Position(stack_table, "revision")]);
    });
    // Rows that name a stack, by table.
    for (const char* name : {"spec_revisions", "environments", "provisioned_objects"}) {
      const Table& t = StoredTable(name);
      const std::size_t stack = Position(t, "stack");
      reader.Each(t, [&](const TableRow& r) {
        if (!stacks.contains(r[stack])) {
          report(t.name + ": a row of stack \"" + r[stack] + "\", which is not stored");
        } else if (t.name == "spec_revisions") {
          std::int64_t& n = newest[r[stack]];
          n = std::max(n, AsInt(r[Position(t, "number")]));
        }
      });
    }
    for (const auto& [name, revision] : stacks) {
      const auto it = newest.find(name);
      const std::int64_t stored = it == newest.end() ? 0 : it->second;
      if (stored != revision) {
        report("stacks: stack \"" + name + "\" is at revision " + std::to_string(revision) +
               " but its newest stored revision is " + std::to_string(stored));
      }
    }
    std::set<std::string> operations;
    const Table& ops = StoredTable("operations");
    reader.Each(ops, [&](const TableRow& r) { operations.insert(r[Position(ops, "id")]); });
    const Table& steps = StoredTable("operation_steps");
    reader.Each(steps, [&](const TableRow& r) {
      const std::string& op = r[Position(steps, "op_id")];
      if (!operations.contains(op)) {
        report("operation_steps: a step of operation \"" + op + "\", which is not stored");
      }
    });
    return {};
  });
  if (!read) {
    return read.error();
  }
  if (found > limit) {
    problems.push_back("... and " + std::to_string(found - limit) + " more");
  }
  return problems;
}

}  // namespace obsforge::store
