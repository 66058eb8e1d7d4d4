// docs/ against what the code does: the REST reference is the document the server serves, every
// error code has its troubleshooting entry, every cited file exists, the alert rules load.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/process.h"
#include "core/error.h"
#include "core/fs.h"
#include "docs/docs_util.h"
#include "http/curl_http_client.h"
#include "openapi_markdown.h"
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace obsforge::docs_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using obs_test::Slurp;
using obs_test::Source;

// `obsforge serve` on a free loopback port with an empty data directory, stopped (SIGTERM) at
// destruction.
class RunningServer {
 public:
  RunningServer() {
    dir_ = fs::temp_directory_path() / ("obs-docs-serve-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto spawned =
        apply::SpawnProcess({.name = "obsforge",
                             .binary = obs_test::ObsforgeBinary(),
                             .args = {"serve", "--listen", "127.0.0.1:0", "--data-dir",
                                      (dir_ / "var").string(), "--content-dir", dir_.string()},
                             .working_dir = dir_});
    if (!spawned.ok()) {
      error_ = spawned.error().message;
      return;
    }
    child_ = *spawned;
    // serve prints "obsforge: http://127.0.0.1:<port>  (API ...)" once it listens. The deadline
    // only keeps a broken build from hanging the suite.
    const std::regex url_re("obsforge: (http://127\\.0\\.0\\.1:[0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::smatch m;
    while (!std::regex_search(output_, m, url_re)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd fd{.fd = child_.output_fd, .events = POLLIN, .revents = 0};
      if (left.count() <= 0 || ::poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
        error_ = "serve printed no URL: " + output_;
        return;
      }
      char buffer[4096];
      const ssize_t n = ::read(child_.output_fd, buffer, sizeof(buffer));
      if (n == 0) {
        error_ = "serve ended: " + output_;
        return;
      }
      if (n > 0) {
        output_.append(buffer, static_cast<std::size_t>(n));
      }
    }
    base_ = m[1];
  }
  ~RunningServer() {
    if (child_.pid > 0) {
      ::kill(child_.pid, SIGTERM);
      int status = 0;
      ::waitpid(child_.pid, &status, 0);
      ::close(child_.output_fd);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  const std::string& base() const { return base_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  apply::SpawnedProcess child_;
  std::string output_;
  std::string base_;
  std::string error_;
};

TEST(ApiReference, IsTheDocumentTheServerServes) {
  const http::CurlGlobal curl;
  RunningServer server;
  ASSERT_TRUE(server.error().empty()) << server.error();
  http::CurlHttpClient client;
  auto got = client.Send({.url = server.base() + "/api/v1/openapi.json"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->status, 200) << got->body;
  const std::string markdown = docs::OpenApiMarkdown(nlohmann::json::parse(got->body));
  const fs::path doc = Source("docs/api.md");
  if (const char* update = std::getenv("OBS_UPDATE_DOCS"); update != nullptr && *update == '1') {
    core::WriteFileAtomic(doc, markdown);
  }
  EXPECT_EQ(Slurp(doc), markdown)
      << "docs/api.md differs from the served OpenAPI document; regenerate it with "
         "OBS_UPDATE_DOCS=1 ctest -R ApiReference and review the diff";
}

TEST(ApiReference, GeneratorWritesEveryRouteWithItsRoleAndResponses) {
  const auto openapi = nlohmann::json::parse(R"({
    "openapi": "3.0.3",
    "info": {"title": "obsforge", "version": "9.9.9", "description": "Intro."},
    "paths": {
      "/b": {"delete": {"summary": "drop | it", "x-obsforge-role": "admin",
                        "responses": {"202": {"description": "queued"},
                                      "404": {"description": "no such", "content": {}}}}},
      "/a/{name}": {"get": {"summary": "read", "security": [],
                            "parameters": [{"name": "name", "in": "path", "required": true}],
                            "responses": {"200": {"description": "ok"}}},
                    "post": {"summary": "write", "x-obsforge-role": "editor",
                             "requestBody": {"required": true,
                                             "content": {"application/json": {}}},
                             "responses": {"202": {"description": "accepted"}}}}},
    "components": {"schemas": {"Error": {"properties": {"error": {
        "required": ["code", "message", "details"]}}}}}
  })");
  const std::string md = docs::OpenApiMarkdown(openapi);
  EXPECT_THAT(md, Not(HasSubstr("9.9.9")));
  EXPECT_THAT(md, HasSubstr("| GET | [`/a/{name}`](#get-aname) | none | read |\n"
                            "| POST | [`/a/{name}`](#post-aname) | editor | write |\n"
                            "| DELETE | [`/b`](#delete-b) | admin | drop \\| it |\n"));
  EXPECT_THAT(md, HasSubstr("\n## POST /a/{name}\n\nwrite\n\nRole: `editor`.\n\n"
                            "Request body (required): `application/json`.\n"));
  EXPECT_THAT(md, HasSubstr("| `name` | path | yes |  |\n"));
  EXPECT_THAT(md, HasSubstr("| 404 | no such (error envelope) |\n"));
  EXPECT_THAT(md, HasSubstr("(required: `code`, `message`, `details`)"));
  EXPECT_EQ(docs::OpenApiMarkdown(openapi), md);
}

// Every code the API can answer with: the ErrorCode names, the input-error kinds and the codes
// the transport writes itself (found in the server's sources, so a new one cannot be missed).
TEST(Troubleshooting, EveryErrorCodeHasASection) {
  std::set<std::string> codes = {"invalid_spec", "render_error"};
  for (int c = 0; c <= static_cast<int>(core::ErrorCode::kInternal); ++c) {
    codes.insert(core::ErrorCodeName(static_cast<core::ErrorCode>(c)));
  }
  const std::regex literal_re(
      R"re((?:Fail(?:AndClose)?\(\s*[0-9]+,\s*|ErrorBody\(\s*)"([a-z_]+)")re");
  for (const auto& entry : fs::recursive_directory_iterator(Source("src"))) {
    if (entry.path().extension() != ".cc") {
      continue;
    }
    const std::string text = Slurp(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), literal_re), end; it != end; ++it) {
      codes.insert((*it)[1]);
    }
  }
  EXPECT_GE(codes.size(), 14U);
  const std::string doc = Slurp(Source("docs/troubleshooting.md"));
  for (const auto& code : codes) {
    EXPECT_THAT(doc, HasSubstr("\n## " + code + "\n")) << code;
    EXPECT_THAT(doc, HasSubstr("| `" + code + "` |")) << code;
  }
}

bool IsTextFile(const fs::path& p) {
  static const std::set<std::string> kExtensions = {
      ".cc",        ".h",  ".md",   ".txt",  ".cmake", ".in",      ".jsonnet",
      ".libsonnet", ".sh", ".yaml", ".json", ".lua",   ".service", ".conf"};
  return kExtensions.contains(p.extension().string()) || p.filename() == "run";
}

// Every Markdown file that a document, or a comment of the code, names must be a file of the
// repository: next to the citing file, from the top, or in docs/. (String literals in code are
// data, e.g. files a test creates, so only comments count there.)
TEST(Docs, EveryCitedMarkdownFileExists) {
  const fs::path root = Source("");
  const std::regex cite_re(R"re(([A-Za-z0-9_./-]*[A-Za-z0-9_-]+\.md)\b)re");
  std::vector<std::string> missing;
  int cites = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() &&
        (name.starts_with("build") || name.starts_with(".") || name == "var" || name == "out")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || !IsTextFile(it->path())) {
      continue;
    }
    // Where a comment starts in this kind of file ("" for documents: every line counts).
    const std::string extension = it->path().extension().string();
    std::string comment = "#";
    if (extension == ".md") {
      comment = "";
    } else if (extension == ".lua") {
      comment = "--";
    } else if (extension == ".cc" || extension == ".h" || extension == ".jsonnet" ||
               extension == ".libsonnet") {
      comment = "//";
    }
    std::istringstream in(Slurp(it->path()));
    std::string full;
    int number = 0;
    while (std::getline(in, full)) {
      ++number;
      const auto start = comment.empty() ? 0 : full.find(comment);
      if (start == std::string::npos) {
        continue;
      }
      const std::string line = full.substr(start);
      for (std::sregex_iterator m(line.begin(), line.end(), cite_re), end; m != end; ++m) {
        const std::string cited = (*m)[1];
        const auto at = static_cast<std::size_t>((*m).position(1));
        if (cited.starts_with('/') || (at > 0 && line[at - 1] == ':')) {
          continue;  // an absolute path on a machine, or part of a URL
        }
        ++cites;
        const fs::path rel(cited);
        if (!fs::exists(it->path().parent_path() / rel) && !fs::exists(root / rel) &&
            !fs::exists(root / "docs" / rel)) {
          missing.push_back(fs::relative(it->path(), root).string() + ":" + std::to_string(number) +
                            ": " + cited);
        }
      }
    }
  }
  EXPECT_THAT(missing, ::testing::IsEmpty());
  EXPECT_GT(cites, 20);
}

TEST(Docs, AlertRulesForObsforgeLoadInPromtool) {
  if (obs_test::RunCommand("command -v promtool").exit_code != 0) {
    GTEST_SKIP() << "promtool not on PATH (Debian package prometheus)";
  }
  const auto checked = obs_test::RunCommand(
      "promtool check rules " + obs_test::ShellQuote(Source("docs/obsforge-alerts.yaml").string()));
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_THAT(checked.output, HasSubstr("SUCCESS: 7 rules found"));
  // Every metric the rules use is one obsforge exposes (docs/operations.md lists them).
  const std::string rules = Slurp(Source("docs/obsforge-alerts.yaml"));
  const std::string operations = Slurp(Source("docs/operations.md"));
  const std::regex metric_re("obsforge_[a-z_]+");
  for (std::sregex_iterator it(rules.begin(), rules.end(), metric_re), end; it != end; ++it) {
    std::string metric = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (metric.ends_with(suffix)) {
        metric.resize(metric.size() - std::strlen(suffix));
      }
    }
    EXPECT_THAT(operations, HasSubstr("`" + metric + "`")) << metric;
  }
}

}  // namespace
}  // namespace obsforge::docs_test
