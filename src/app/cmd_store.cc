// `obsforge store migrate` and `obsforge store check`: whole-store work, offline.
#include <iomanip>

#include "app/commands.h"
#include "core/clock.h"
#include "core/diagnostic.h"
#include "server/config.h"
#include "store/location.h"
#include "store/store_copy.h"

namespace obsforge::app {
namespace {

struct Opened {
  store::StoreLocation location;
  std::unique_ptr<store::Store> store;
};

// Parses and opens `url`; on failure says why on `io.err` (naming `role`) and returns nullopt.
// With `existing`, a SQLite file that is not there is an error instead of a new empty store (a
// mistyped --from must not copy emptiness over the target).
std::optional<Opened> Open(const std::string& role,
                           const std::string& url,
                           const std::filesystem::path& data_dir,
                           bool existing,
                           core::Clock& clock,
                           Io io) {
  auto location = store::ParseStoreUrl(url, data_dir);
  if (!location.ok()) {
    io.err << role << ": " << location.error().message << '\n';
    return std::nullopt;
  }
  std::error_code ec;
  if (existing && location->kind == store::StoreLocation::Kind::kSqlite &&
      !std::filesystem::exists(location->target, ec)) {
    io.err << role << ": no store at " << location->target << '\n';
    return std::nullopt;
  }
  auto opened = store::OpenStore(*location, clock);
  if (!opened.ok()) {
    io.err << role << ": " << opened.error().message << '\n';
    return std::nullopt;
  }
  return Opened{.location = std::move(*location), .store = std::move(*opened)};
}

void PrintDigests(const std::vector<store::TableDigest>& digests, std::ostream& out) {
  for (const store::TableDigest& d : digests) {
    out << "  " << std::left << std::setw(22) << d.table << std::right << std::setw(10) << d.rows
        << "  sha256:" << d.sha256.substr(0, 16) << '\n';
  }
}

std::int64_t Rows(const std::vector<store::TableDigest>& digests) {
  std::int64_t n = 0;
  for (const store::TableDigest& d : digests) {
    n += d.rows;
  }
  return n;
}

std::string SchemaVersion(store::Store& s) {
  auto versions = s.AppliedMigrations();
  return versions.ok() && !versions->empty() ? std::to_string(versions->back()) : "?";
}

}  // namespace

int RunStoreMigrate(const StoreMigrateOptions& options, Io io) {
  core::SystemClock clock;
  auto from = store::ParseStoreUrl(options.from, options.data_dir);
  auto to = store::ParseStoreUrl(options.to, options.data_dir);
  if (from.ok() && to.ok() && from->kind == to->kind && from->target == to->target) {
    io.err << "--from and --to name the same store (" << from->display << ")\n";
    return kExitFailed;
  }
  auto source = Open("--from", options.from, options.data_dir, true, clock, io);
  if (!source) {
    return kExitFailed;
  }
  auto target = Open("--to", options.to, options.data_dir, false, clock, io);
  if (!target) {
    return kExitFailed;
  }
  auto held = store::DigestTables(*target->store);
  if (!held.ok()) {
    io.err << "--to: " << held.error().message << '\n';
    return kExitFailed;
  }
  if (Rows(*held) > 0 && !options.force) {
    io.err << target->location.display << " already holds " << Rows(*held)
           << " rows; --force replaces them:\n";
    PrintDigests(*held, io.err);
    return kExitFailed;
  }
  io.err << "copying " << source->location.display << " (schema " << SchemaVersion(*source->store)
         << ") into " << target->location.display << " (schema " << SchemaVersion(*target->store)
         << ")\n";
  if (auto copied = store::CopyTables(*source->store, *target->store); !copied.ok()) {
    io.err << "copy failed, " << target->location.display
           << " is unchanged: " << copied.error().message << '\n';
    return kExitFailed;
  }
  auto expected = store::DigestTables(*source->store);
  auto got = store::DigestTables(*target->store);
  if (!expected.ok() || !got.ok()) {
    io.err << "cannot verify the copy: "
           << (expected.ok() ? got.error().message : expected.error().message) << '\n';
    return kExitFailed;
  }
  bool same = true;
  for (std::size_t i = 0; i < expected->size(); ++i) {
    const store::TableDigest& e = (*expected)[i];
    const store::TableDigest& g = (*got)[i];
    if (!(e == g)) {
      same = false;
      io.err << "verification failed: " << e.table << ": " << e.rows << " rows (sha256:" << e.sha256
             << ") in the source, " << g.rows << " rows (sha256:" << g.sha256
             << ") in the target\n";
    }
  }
  PrintDigests(*got, io.out);
  if (!same) {
    return kExitFailed;
  }
  io.out << "copied " << Rows(*got) << " rows in " << got->size()
         << " tables; counts and hashes match\n";
  return kExitOk;
}

int RunStoreCheck(const StoreCheckOptions& options, Io io) {
  server::ServerConfig config;
  if (options.config) {
    try {
      config = server::LoadServerConfig(*options.config);
    } catch (const core::InputError& e) {
      for (const auto& d : e.diagnostics()) {
        io.err << d.ToString() << '\n';
      }
      return kExitFailed;
    }
  }
  const std::filesystem::path data_dir = options.data_dir.value_or(config.server.data_dir);
  core::SystemClock clock;
  auto opened = Open("store", options.store.value_or(config.store), data_dir, true, clock, io);
  if (!opened) {
    return kExitFailed;
  }
  auto digests = store::DigestTables(*opened->store);
  auto problems = store::CheckTables(*opened->store);
  if (!digests.ok() || !problems.ok()) {
    io.err << (digests.ok() ? problems.error().message : digests.error().message) << '\n';
    return kExitFailed;
  }
  io.out << opened->location.display << ", schema " << SchemaVersion(*opened->store) << '\n';
  PrintDigests(*digests, io.out);
  for (const std::string& p : *problems) {
    io.err << p << '\n';
  }
  if (!problems->empty()) {
    io.out << "inconsistent: see the problems above\n";
    return kExitFailed;
  }
  io.out << Rows(*digests) << " rows in " << digests->size() << " tables; consistent\n";
  return kExitOk;
}

}  // namespace obsforge::app
