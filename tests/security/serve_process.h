#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/curl_http_client.h"
#include <sys/types.h>

namespace obsforge::testing {
class Lines;
}  // namespace obsforge::testing

namespace obsforge::security_test {

/// A running `obsforge serve --config <dir>/obsforge.yaml` (the binary of this build) with extra
/// environment variables, its stderr (the JSON log) read line by line. Every response it
/// gives through Call() is kept for the leak scans. Stops it with SIGTERM on destruction.
class ServeProcess {
 public:
  /// Starts it and waits until it prints the address it listens on (fails the test when it
  /// exits first, showing its log).
  ServeProcess(std::filesystem::path dir, std::map<std::string, std::string> env);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  /// One request with `token` (none when empty); `content_type` is sent with a body.
  http::Response Call(const std::string& method,
                      const std::string& path,
                      const std::string& token,
                      const std::string& body = "",
                      const std::string& content_type = "application/yaml");
  /// The body as JSON (discarded when not JSON).
  static nlohmann::json Json(const http::Response& response);
  /// Waits until the server logs that operation `id` finished, then returns it (read as
  /// `token`).
  nlohmann::json WaitOperation(const std::string& id, const std::string& token);
  /// True when the process still runs and GET /healthz answers 200.
  bool Alive();
  /// What it logged so far.
  std::string Logs() const;
  /// Every response body Call() received.
  std::vector<std::string> Responses() const;

 private:
  void Start(std::map<std::string, std::string> env);

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string base_;
  std::unique_ptr<obsforge::testing::Lines> log_;
  http::CurlHttpClient client_{http::CurlOptions{}};
  mutable std::mutex mu_;
  std::vector<std::string> responses_;
};

/// Writes `content` to `path` (parents created).
void Write(const std::filesystem::path& path, const std::string& content);
/// The content of `path` ("" when unreadable).
std::string Read(const std::filesystem::path& path);
/// Every regular file under `dir` whose content holds `needle`, except those under `except`.
std::vector<std::string> FilesHolding(const std::filesystem::path& dir,
                                      const std::string& needle,
                                      const std::filesystem::path& except = {});

}  // namespace obsforge::security_test
