#include "store/location.h"

#include <system_error>

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace obsforge::store {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

core::Result<StoreLocation> ParseStoreUrl(std::string_view url,
                                          const std::filesystem::path& data_dir) {
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    auto server = PostgresStore::ServerOf(std::string(url));
    if (!server) {
      return server.error();
    }
    return StoreLocation{.kind = StoreLocation::Kind::kPostgres,
                         .target = std::string(url),
                         .display = "postgresql " + *server};
  }
  std::filesystem::path file;
  if (url.empty() || url == "sqlite") {
    file = data_dir / "obsforge.db";
  } else {
    std::string_view path = url;
    if (StartsWith(path, "sqlite:")) {
      path.remove_prefix(7);
    } else if (path.find("://") != std::string_view::npos) {
      const std::string scheme(url.substr(0, url.find("://")));
      return core::MakeError(core::ErrorCode::kInvalidSpec,
                             "store URL: unknown scheme \"" + scheme +
                                 "\" (use sqlite, sqlite:PATH or postgresql://user@host/db)");
    }
    if (path.empty()) {
      return core::MakeError(core::ErrorCode::kInvalidSpec,
                             "store URL: sqlite: needs a path (a directory or a .db file)");
    }
    std::error_code ec;
    const bool is_dir = std::filesystem::is_directory(std::filesystem::path(path), ec);
    file = !is_dir && (EndsWith(path, ".db") || EndsWith(path, ".sqlite"))
               ? std::filesystem::path(path)
               : std::filesystem::path(path) / "obsforge.db";
  }
  return StoreLocation{.kind = StoreLocation::Kind::kSqlite,
                       .target = file.string(),
                       .display = "sqlite " + file.string()};
}

core::Result<std::unique_ptr<Store>> OpenStore(const StoreLocation& location, core::Clock& clock) {
  if (location.kind == StoreLocation::Kind::kPostgres) {
    auto opened = PostgresStore::Open({.url = location.target}, clock);
    if (!opened) {
      return opened.error();
    }
    return std::unique_ptr<Store>(std::move(opened).value());
  }
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(location.target).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return core::MakeError(core::ErrorCode::kInternal,
                             "cannot create " + dir.string() + ": " + ec.message());
    }
  }
  auto opened = SqliteStore::Open({.path = location.target}, clock);
  if (!opened) {
    return opened.error();
  }
  return std::unique_ptr<Store>(std::move(opened).value());
}

}  // namespace obsforge::store
