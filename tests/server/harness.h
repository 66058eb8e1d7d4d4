#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apply/plan.h"
#include "control/application.h"
#include "control/backend.h"
#include "core/clock.h"
#include "core/diagnostic.h"
#include "core/hash.h"
#include "core/log.h"
#include "http/curl_http_client.h"
#include "server/server.h"
#include "store/sqlite_store.h"
#include "support/poll_until.h"
#include "support/temp_dir.h"
#include <unistd.h>

namespace obsforge::server::testing {

/// libcurl's global state for the whole test binary.
class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { global_ = std::make_unique<http::CurlGlobal>(); }
  void TearDown() override { global_.reset(); }

 private:
  std::unique_ptr<http::CurlGlobal> global_;
};

using TempDir = ::obsforge::testsupport::TempDir;

/// A one-shot gate: Wait() blocks until Open().
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// An EnvironmentBackend that renders one file per environment and "applies" in memory.
class FakeBackend final : public control::EnvironmentBackend {
 public:
  render::Bundle Render(const spec::StackSpec& stack,
                        const std::string& env,
                        const spec::ContentSource& /*content*/) override {
    (void)spec::ForEnvironment(stack, env);  // throws for an unknown environment
    render::Bundle bundle;
    bundle.Add("prometheus/prometheus.yml",
               "# " + stack.name + "/" + env + " " + stack.Hash() + "\n");
    return bundle;
  }
  core::Result<apply::Plan> Plan(const spec::StackSpec& stack,
                                 const std::string& env,
                                 const spec::ContentSource& content) override {
    return apply::ComputePlan(Render(stack, env, content), Applied(stack.name, env));
  }
  apply::ApplyResult Apply(const spec::StackSpec& stack,
                           const std::string& env,
                           const spec::ContentSource& content,
                           const apply::StepCallback& on_step) override {
    const std::string key = stack.name + "/" + env;
    {
      std::lock_guard lock(mu_);
      calls_.push_back("apply " + key + " " +
                       stack.document["spec"].value("values", nlohmann::json::object()).dump());
    }
    apply::Step step{.name = "write", .state = apply::StepState::kRunning};
    on_step(step);
    if (hook) {
      hook(env);
    }
    apply::ApplyResult result;
    const render::Bundle bundle = Render(stack, env, content);
    result.plan = apply::ComputePlan(bundle, Applied(stack.name, env));
    if (fail_env == env) {
      step.state = apply::StepState::kFailed;
      step.message = "prometheus: reload refused";
      on_step(step);
      result.outcome = apply::Outcome::kRolledBack;
      result.error = core::MakeError(core::ErrorCode::kUpstream, "prometheus: reload refused");
      return result;
    }
    step.state = apply::StepState::kSucceeded;
    step.message = "revision 1";
    on_step(step);
    std::lock_guard lock(mu_);
    applied_[key] = bundle;
    result.outcome = apply::Outcome::kApplied;
    result.revision = 1;
    return result;
  }
  apply::ApplyResult Rollback(const spec::StackSpec& /*stack*/,
                              const std::string& /*env*/,
                              int /*revision*/,
                              const apply::StepCallback& /*on_step*/) override {
    return {};
  }
  core::Result<void> Teardown(const std::string& stack,
                              const std::string& env,
                              const apply::StepCallback& on_step) override {
    on_step({.name = "teardown", .component = env, .state = apply::StepState::kSucceeded});
    std::lock_guard lock(mu_);
    calls_.push_back("teardown " + stack + "/" + env);
    applied_.erase(stack + "/" + env);
    return {};
  }
  std::optional<render::Bundle> Applied(const std::string& stack, const std::string& env) override {
    std::lock_guard lock(mu_);
    auto it = applied_.find(stack + "/" + env);
    if (it == applied_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  control::RuntimeStatus Status(const std::string& /*stack*/, const std::string& /*env*/) override {
    return {.runtime = "fake"};
  }

  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

  /// Called inside Apply (on the worker thread) after the first step; tests block in it.
  std::function<void(const std::string& env)> hook;
  /// Apply of this environment is rolled back with an upstream error.
  std::string fail_env;

 private:
  std::mutex mu_;
  std::vector<std::string> calls_;
  std::map<std::string, render::Bundle> applied_;
};

/// A stack with two environments and no content files.
inline std::string ShopSpec(const std::string& values = "{tier: 1}") {
  return "apiVersion: obsforge/v1\n"
         "kind: Stack\n"
         "metadata: {name: shop}\n"
         "spec:\n"
         "  values: " +
         values +
         "\n"
         "  components:\n"
         "    prometheus: {enabled: true}\n"
         "  environments:\n"
         "    dev: {runtime: {type: local}}\n"
         "    staging: {runtime: {type: local}}\n";
}

/// sha256 hex of the three test tokens.
inline constexpr const char* kViewerToken = "viewer-token-0123456789";
inline constexpr const char* kEditorToken = "editor-token-0123456789";
inline constexpr const char* kAdminToken = "admin-token-0123456789";

/// A server on 127.0.0.1:0 over a SQLite file in a temp dir (the application over the
/// FakeBackend behind it), driven with CurlHttpClient.
class ServerHarness {
 public:
  /// `tokens`: write a tokens file with the three test tokens.
  explicit ServerHarness(bool tokens = true, std::function<void(ServerOptions&)> tweak = {})
      : log_stream_(), logger_(log_stream_, core::LogLevel::kDebug) {
    options_.listen = "127.0.0.1:0";
    options_.data_dir = dir_.path() / "var";
    options_.content_dir = dir_.path() / "content";
    std::filesystem::create_directories(options_.data_dir);
    std::filesystem::create_directories(options_.content_dir);
    options_.drain_timeout = std::chrono::milliseconds(5000);
    if (tokens) {
      options_.tokens_file = dir_.path() / "tokens.yaml";
      std::ofstream out(options_.tokens_file);
      out << "- {name: vera, role: viewer, token_sha256: " << core::Sha256Hex(kViewerToken) << "}\n"
          << "- {name: eddie, role: editor, token_sha256: " << core::Sha256Hex(kEditorToken)
          << "}\n"
          << "- {name: ada, role: admin, token_sha256: " << core::Sha256Hex(kAdminToken) << "}\n";
    }
    if (tweak) {
      tweak(options_);
    }
    Open();
  }
  ~ServerHarness() { Close(); }

  /// Starts (or restarts) the server on a freshly opened store.
  void Open() {
    auto store = store::SqliteStore::Open({.path = (dir_.path() / "obsforge.db").string()}, clock_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    control::ApplicationOptions app_options = ApplicationOptionsFrom(options_);
    app_options.import_http = &client_;  // as `serve` wires it
    app_ = std::make_unique<control::Application>(std::move(app_options), *store_, backend, clock_,
                                                  logger_);
    server_ = std::make_unique<Server>(options_, *app_, logger_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }
  /// Stops the server and the application (their operation workers) and keeps the store open:
  /// what a test then writes into the store is seen by no worker before the next Open().
  void StopServing() {
    server_.reset();
    app_.reset();
  }
  /// Stops the server and closes the store.
  void Close() {
    server_.reset();
    app_.reset();
    store_.reset();
  }

  http::Response Call(const std::string& method,
                      const std::string& path,
                      const std::string& token = kAdminToken,
                      const std::string& body = "",
                      const std::string& content_type = "application/yaml",
                      http::Headers headers = {}) {
    http::Request request{
        .method = method, .url = base_ + path, .headers = std::move(headers), .body = body};
    if (!token.empty()) {
      request.headers.emplace_back("Authorization", "Bearer " + token);
    }
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", content_type);
    }
    auto response = client_.Send(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message);
    return response.ok() ? *response : http::Response{};
  }
  static nlohmann::json Json(const http::Response& r) {
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  /// Polls the operation until it is terminal (a failure after a minute); returns it.
  nlohmann::json WaitOperation(const std::string& id) {
    nlohmann::json op;
    const bool finished = obsforge::testing::PollUntil(
        [&] {
          op = Json(Call("GET", "/api/v1/operations/" + id, kViewerToken));
          const std::string state = op.value("state", "");
          return state == "succeeded" || state == "failed" || state == "rolled_back" ||
                 state == "superseded";
        },
        std::chrono::seconds(60));
    if (!finished) {
      ADD_FAILURE() << "operation " << id << " did not finish: " << op.dump();
    }
    return op;
  }

  /// What the server logged. Call after Close(): server threads write it until then.
  std::string logs() const { return log_stream_.str(); }
  store::Store& store() { return *store_; }
  Server& server() { return *server_; }
  control::Application& app() { return *app_; }
  const ServerOptions& options() const { return options_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  /// "http://127.0.0.1:PORT".
  const std::string& base() const { return base_; }

  FakeBackend backend;

 private:
  TempDir dir_;
  std::ostringstream log_stream_;
  core::Logger logger_;
  core::SystemClock clock_;
  ServerOptions options_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<control::Application> app_;
  std::unique_ptr<Server> server_;
  http::CurlHttpClient client_{http::CurlOptions{}};
  std::string base_;
};

}  // namespace obsforge::server::testing
