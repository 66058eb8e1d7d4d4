#pragma once

// A real PostgreSQL for tests, started by the test binary itself.
//
// SharedPostgres() starts one server per test binary on first use: `initdb` into a temporary
// directory (as the `postgres` system user, or `nobody`, when the tests run as root: PostgreSQL
// refuses to run as root), then `postgres` on a free loopback port with its socket in that
// directory, fsync off. The server is the test process's child and dies with it: stopped (fast
// shutdown) and its directory removed at exit, and killed by the kernel (PR_SET_PDEATHSIG) if
// the test process crashes. Each test takes a fresh schema from NewSchemaUrl().
//
// Environment:
//   OBS_TEST_POSTGRES_BIN=DIR   where initdb and postgres are (default: the newest
//                               /usr/lib/postgresql/*/bin, then PATH)
//   OBS_TEST_POSTGRES_URL=URL   use this server instead of starting one (a superuser URL;
//                               each test still gets its own schema)
//   OBS_TEST_POSTGRES=skip      skip the tests that need PostgreSQL instead of failing them
// Without any of these, missing binaries fail the tests that need them, with a message saying
// what to install.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/poll_until.h"
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::testing {

/// One libpq connection of a test, held open (for a transaction or a lock across statements).
class PgClient {
 public:
  explicit PgClient(const std::string& url) : conn_(PQconnectdb(url.c_str())) {}
  ~PgClient() { PQfinish(conn_); }
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;

  /// Runs `sql`; "" when it succeeded, else the error.
  std::string Exec(const std::string& sql) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      return PQerrorMessage(conn_);
    }
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string error;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(r);
    }
    PQclear(r);
    return error;
  }

  /// The first column of the first row of `sql` ("" when none or on error).
  std::string Value(const std::string& sql) {
    std::string value;
    if (PQstatus(conn_) == CONNECTION_OK) {
      PGresult* r = PQexec(conn_, sql.c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
        value = PQgetvalue(r, 0, 0);
      }
      PQclear(r);
    }
    return value;
  }

  /// This session's backend pid.
  int pid() const { return PQbackendPID(conn_); }

 private:
  PGconn* conn_;
};

class PostgresServer {
 public:
  /// Starts a server; on failure returns nullptr and sets `error` to why.
  static std::unique_ptr<PostgresServer> Start(std::string& error) {
    auto server = std::unique_ptr<PostgresServer>(new PostgresServer());
    if (const char* url = std::getenv("OBS_TEST_POSTGRES_URL"); url != nullptr && *url != 0) {
      server->url_ = url;
      return server;
    }
    error = server->Boot();
    return error.empty() ? std::move(server) : nullptr;
  }

  ~PostgresServer() { Stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// The superuser URL of database `postgres`.
  const std::string& url() const { return url_; }

  /// A new empty schema (named `prefix`_pid_n); nullopt (with a test failure) when it cannot
  /// be created.
  std::optional<std::string> NewSchema(const std::string& prefix = "t") {
    const std::string schema =
        prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++schemas_);
    if (const std::string failed = Exec("CREATE SCHEMA " + schema); !failed.empty()) {
      ADD_FAILURE() << "create schema " << schema << ": " << failed;
      return std::nullopt;
    }
    return schema;
  }

  /// The URL whose sessions use `schema` (their search_path).
  std::string SchemaUrl(const std::string& schema) const {
    return UrlWithOptions("-csearch_path%3D" + schema);
  }

  /// A new empty schema, and the URL whose sessions use it; nullopt (with a test failure) when
  /// it cannot be created.
  std::optional<std::string> NewSchemaUrl(const std::string& prefix = "t") {
    const std::optional<std::string> schema = NewSchema(prefix);
    return schema ? std::optional<std::string>(SchemaUrl(*schema)) : std::nullopt;
  }

  /// `url()` with the libpq `options` parameter set to `options` (already URI-encoded).
  std::string UrlWithOptions(const std::string& options) const {
    return url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "options=" + options;
  }

  /// Runs `sql` as the superuser on database `postgres`; "" when it succeeded, else the error.
  std::string Exec(const std::string& sql) const { return PgClient(url_).Exec(sql); }

  /// The first column of the first row of `sql` ("" when none or on error).
  std::string Value(const std::string& sql) const { return PgClient(url_).Value(sql); }

  /// The postmaster's pid (0 when the server was not started here).
  pid_t pid() const { return pid_; }

  /// Stops the server (fast shutdown; SIGKILL after 30 s) and removes its directory.
  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGINT);
      if (!PollUntil([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; },
                     std::chrono::seconds(30))) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
      pid_ = 0;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

 private:
  PostgresServer() = default;

  // Starts the server; "" on success, else what went wrong (with the server's log).
  std::string Boot() {
    const auto started = std::chrono::steady_clock::now();
    const std::string bin = BinDir();
    if (bin.empty()) {
      return "PostgreSQL server binaries (initdb, postgres) not found under "
             "/usr/lib/postgresql/*/bin or on PATH: install Debian's postgresql package (see "
             ".ci/packages), point OBS_TEST_POSTGRES_BIN at them, or set "
             "OBS_TEST_POSTGRES=skip to skip these tests";
    }
    std::string templ = (std::filesystem::temp_directory_path() / "obsforge-pg-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      return "mkdtemp failed";
    }
    dir_ = templ;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        pw = ::getpwnam("nobody");
      }
      if (pw == nullptr) {
        return "running as root, and neither a postgres nor a nobody user exists to run "
               "PostgreSQL as";
      }
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (::chown(dir_.c_str(), uid_, gid_) != 0) {
        return "chown " + dir_.string() + " failed";
      }
    }
    const std::string log = (dir_ / "server.log").string();
    if (int rc = Run({bin + "/initdb", "-D", (dir_ / "data").string(), "-U", "obsforge", "-A",
                      "trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"},
                     log, /*wait=*/true);
        rc != 0) {
      return "initdb failed (exit " + std::to_string(rc) + "): " + ReadLog(log);
    }
    const auto initdb_done = std::chrono::steady_clock::now();
    // A port taken between choosing it and binding it is tried again with another.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const int port = FreePort();
      pid_ = Run(
          {bin + "/postgres", "-D", (dir_ / "data").string(), "-p", std::to_string(port), "-k",
           dir_.string(), "-h", "127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
           "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"},
          log, /*wait=*/false);
      if (pid_ <= 0) {
        return "cannot start postgres";
      }
      url_ = "postgresql://obsforge@127.0.0.1:" + std::to_string(port) + "/postgres";
      const std::string ready = WaitReady();
      if (ready.empty()) {
        const auto ms = [](auto d) {
          return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        };
        const auto now = std::chrono::steady_clock::now();
        std::cerr << "[postgres] " << bin << " on port " << port << " ready in "
                  << ms(now - started) << " ms (initdb " << ms(initdb_done - started)
                  << " ms, start " << ms(now - initdb_done) << " ms)\n";
        return "";
      }
      if (ready != "retry") {
        return ready;
      }
    }
    return "postgres could not bind a free port: " + ReadLog(log);
  }

  // "" once the server answers; "retry" when it exited because its port was taken; else why
  // it failed.
  std::string WaitReady() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const std::string ping = url_ + "?connect_timeout=2";
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        const std::string log = ReadLog((dir_ / "server.log").string());
        if (log.find("could not bind") != std::string::npos ||
            log.find("in use") != std::string::npos) {
          return "retry";
        }
        return "postgres exited before it was ready: " + log;
      }
      if (PQping(ping.c_str()) == PQPING_OK) {
        return "";
      }
      // Polling is the only way to see a server come up; the deadline bounds it.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "postgres did not become ready within 60 s: " + ReadLog((dir_ / "server.log").string());
  }

  // The directory holding initdb and postgres, or "".
  static std::string BinDir() {
    namespace fs = std::filesystem;
    const auto has = [](const fs::path& dir) {
      return ::access((dir / "initdb").c_str(), X_OK) == 0 &&
             ::access((dir / "postgres").c_str(), X_OK) == 0;
    };
    if (const char* env = std::getenv("OBS_TEST_POSTGRES_BIN"); env != nullptr && *env != 0) {
      return has(env) ? std::string(env) : std::string();
    }
    std::error_code ec;
    int best = 0;
    std::string found;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      const int version = std::atoi(entry.path().filename().c_str());
      if (version > best && has(entry.path() / "bin")) {
        best = version;
        found = (entry.path() / "bin").string();
      }
    }
    if (!found.empty()) {
      return found;
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (!dir.empty() && has(dir)) {
        return dir;
      }
    }
    return "";
  }

  static int FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    ::bind(fd, sa, sizeof addr);
    ::getsockname(fd, sa, &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  // Runs `argv` as the unprivileged user with stdout/stderr appended to `log`, in the server's
  // directory. With `wait`, returns its exit code; otherwise its pid.
  int Run(const std::vector<std::string>& argv, const std::string& log, bool wait) {
    std::vector<char*> args;
    for (const std::string& a : argv) {
      args.push_back(
          const_cast<char*>(a.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    args.push_back(nullptr);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd >= 0 && ::geteuid() == 0) {
      (void)::fchown(log_fd, uid_, gid_);
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      if (::geteuid() == 0 &&
          (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0)) {
        ::_exit(126);
      }
      // After setuid, which clears it: the server dies with the test process.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) {
        ::_exit(125);
      }
      if (log_fd >= 0) {
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
      }
      if (::chdir(dir_.c_str()) != 0) {
        ::_exit(124);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (log_fd >= 0) {
      ::close(log_fd);
    }
    if (!wait || pid < 0) {
      return pid;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  static std::string ReadLog(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = 0;
  std::string url_;
  int schemas_ = 0;
};

/// Sets `server` to the test binary's PostgreSQL, starting it on first use. When it cannot be
/// started the calling test fails (fatally: the test body does not run), or is skipped when
/// OBS_TEST_POSTGRES=skip. Call from SetUp or a test body; return when `server` is null.
inline void RequirePostgres(PostgresServer*& server) {
  static std::string error;
  static const std::unique_ptr<PostgresServer> shared = [] {
    const char* mode = std::getenv("OBS_TEST_POSTGRES");
    if (mode != nullptr && std::string(mode) == "skip") {
      error = "skip";
      return std::unique_ptr<PostgresServer>();
    }
    return PostgresServer::Start(error);
  }();
  server = shared.get();
  if (server != nullptr) {
    return;
  }
  if (error == "skip") {
    GTEST_SKIP() << "OBS_TEST_POSTGRES=skip";
  }
  FAIL() << "cannot start PostgreSQL for this test: " << error;
}

}  // namespace obsforge::testing
