#include "security/serve_process.h"

#include <array>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "docs/docs_util.h"
#include "support/obsforge_process.h"
#include "support/paths.h"
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace obsforge::security_test {

namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> FilesHolding(const fs::path& dir,
                                      const std::string& needle,
                                      const fs::path& except) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    if (!except.empty() && path.string().starts_with(except.string())) {
      continue;
    }
    if (it->is_regular_file(ec) && Read(path).find(needle) != std::string::npos) {
      found.push_back(path.string());
    }
  }
  return found;
}

ServeProcess::ServeProcess(fs::path dir, std::map<std::string, std::string> env)
    : dir_(std::move(dir)) {
  Start(std::move(env));
}

void ServeProcess::Start(std::map<std::string, std::string> env) {
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (!env.contains(name) && !name.starts_with("OBSFORGE_")) {
      env[name] = entry.substr(entry.find('=') + 1);
    }
  }
  std::vector<std::string> strings;
  strings.reserve(env.size());
  for (const auto& [name, value] : env) {
    strings.push_back(name);
    strings.back().append("=").append(value);
  }
  std::vector<char*> envp;
  envp.reserve(strings.size() + 1);
  for (auto& s : strings) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);
  std::string binary = obs_test::ObsforgeBinary().string();
  std::string serve = "serve";
  std::string config_flag = "--config";
  std::string config = (dir_ / "obsforge.yaml").string();
  std::vector<char*> argv = {binary.data(), serve.data(), config_flag.data(), config.data(),
                             nullptr};

  std::array<int, 2> out{};
  std::array<int, 2> err{};
  ASSERT_EQ(::pipe2(out.data(), O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(err.data(), O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  const int spawned =
      ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  log_ = std::make_unique<obsforge::testing::Lines>(err[0]);
  ASSERT_EQ(spawned, 0) << "cannot run " << binary;

  // The first line names the address: "obsforge: http://127.0.0.1:PORT  (API ...)".
  std::string line;
  char c = 0;
  while (::read(out[0], &c, 1) == 1 && c != '\n') {
    line += c;
  }
  ::close(out[0]);  // later output goes nowhere (serve writes little to stdout)
  const auto start = line.find("http://");
  ASSERT_NE(start, std::string::npos) << "serve did not start: " << line << "\n" << Logs();
  base_ = line.substr(start, line.find(' ', start) - start);
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  log_.reset();  // end of file: the server is gone
}

http::Response ServeProcess::Call(const std::string& method,
                                  const std::string& path,
                                  const std::string& token,
                                  const std::string& body,
                                  const std::string& content_type) {
  http::Request request{.method = method, .url = base_ + path, .body = body};
  if (!token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + token);
  }
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", content_type);
  }
  auto response = client_.Send(request);
  EXPECT_TRUE(response.ok()) << method << " " << path << ": "
                             << (response.ok() ? "" : response.error().message);
  if (!response.ok()) {
    return {};
  }
  std::lock_guard lock(mu_);
  responses_.push_back(response->body);
  return *response;
}

nlohmann::json ServeProcess::Json(const http::Response& response) {
  return nlohmann::json::parse(response.body, nullptr, false);
}

nlohmann::json ServeProcess::WaitOperation(const std::string& id, const std::string& token) {
  // The server logs "operation finished" once the operation's end is in the store.
  const int at = log_->WaitForAll({"\"operation finished\"", R"("op":")" + id + "\""}, 0,
                                  std::chrono::seconds(60));
  nlohmann::json op = Json(Call("GET", "/api/v1/operations/" + id, token));
  EXPECT_GE(at, 0) << "operation " << id << " did not finish: " << op.dump();
  return op;
}

bool ServeProcess::Alive() {
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != 0) {
    return false;
  }
  return Call("GET", "/healthz", "").status == 200;
}

std::string ServeProcess::Logs() const {
  return log_ ? log_->All() : "";
}

std::vector<std::string> ServeProcess::Responses() const {
  std::lock_guard lock(mu_);
  return responses_;
}

}  // namespace obsforge::security_test
