// The attacks of the trust model against a real `obsforge serve`, each as an API client with a
// token would try it: the server must refuse with a clear error, change no file it was not meant
// to, leak no secret (responses, its log, its data directory, what an attacker's URL receives)
// and stay alive.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/hash.h"
#include "http/test_server.h"
#include "security/serve_process.h"
#include "support/hostile_text.h"

namespace obsforge::security_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { global_ = std::make_unique<http::CurlGlobal>(); }
  void TearDown() override { global_.reset(); }

 private:
  std::unique_ptr<http::CurlGlobal> global_;
};
const ::testing::Environment* const kCurl =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

// Values that must never leave where they belong.
constexpr const char* kEnvCanary = "aws-canary-5f2b9c7e";      // a variable of the server
constexpr const char* kFileCanary = "file-canary-81d0e3aa";    // a file of the server
constexpr const char* kSharedValue = "shared-hook-value-77";   // shared with team-a-* only
constexpr const char* kVictimSecret = "victim-secret-c4a7f1";  // team-b-victim's own secret
constexpr const char* kVictimUpload = "victim-upload-9e6102";  // a file team-b-victim uploaded
constexpr const char* kForeign = "# the operator's own file\n";

constexpr const char* kAdmin = "admin-token-000000000001";
constexpr const char* kTeamA = "team-a-token-0000000002";
constexpr const char* kTeamAAdmin = "team-a-admin-000000003";
constexpr const char* kTeamB = "team-b-token-0000000004";

// Everything an attacker's server receives.
class Recorder {
 public:
  Recorder()
      : server_(
            [this](Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
              std::string seen = request.getMethod() + " " + request.getURI() + "\n";
              for (const auto& [name, value] : request) {
                seen.append(name).append(": ").append(value).append("\n");
              }
              seen += http::testing::ReadBody(request);
              {
                std::lock_guard lock(mu_);
                seen_.push_back(std::move(seen));
              }
              http::testing::Reply(response, 200, "{}", {{"Content-Type", "application/json"}});
            }) {}
  std::string Url() const { return server_.Url(""); }
  std::vector<std::string> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
  http::testing::TestServer server_;
};

std::string Spec(const std::string& name,
                 const std::string& runtime,
                 const std::string& extra = "") {
  return "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: " + name +
         "}\nspec:\n  components:\n    prometheus: {enabled: true}\n" + extra +
         "  environments:\n    prod:\n      runtime: " + runtime + "\n";
}

// {spec, files} as JSON: a spec with the files it carries.
std::string WithFiles(const std::string& spec, const nlohmann::json& files) {
  return nlohmann::json{{"spec", spec}, {"files", files}}.dump();
}

// A custom Prometheus template that writes `files` (a Jsonnet object).
nlohmann::json Template(const std::string& object) {
  return {{"tpl/prometheus/main.jsonnet", "function(stack, env) " + object + "\n"}};
}

class Attacks : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("obsforge-security-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(Root() / "team-a");
    fs::create_directories(Root() / "team-b");
    Write(dir_ / "foreign/prometheus.yml", kForeign);
    Write(dir_ / "foreign/important.txt", kForeign);
    Write(dir_ / "server-only.txt", std::string(kFileCanary) + "\n");
    Write(dir_ / "secrets.key", std::string(64, '7') + "\n");
    auto token = [](const char* name, const char* token, const char* role, const char* stacks) {
      return std::string("- {name: ") + name + ", role: " + role +
             ", token_sha256: " + core::Sha256Hex(token) + (*stacks != '\0' ? ", stacks: " : "") +
             stacks + "}\n";
    };
    Write(dir_ / "tokens.yaml", token("admin", kAdmin, "admin", "") +
                                    token("team-a", kTeamA, "editor", "[team-a-*]") +
                                    token("team-a-admin", kTeamAAdmin, "admin", "[team-a-*]") +
                                    token("team-b", kTeamB, "editor", "['team-b-*']"));
    // The default layout: the data directory inside the content directory.
    Write(dir_ / "obsforge.yaml",
          "listen: 127.0.0.1:0\n"
          "data_dir: var\n"
          "content_dir: .\n"
          "tokens_file: tokens.yaml\n"
          "external:\n  config_roots: [roots]\n"
          "secrets:\n  key_file: secrets.key\n"
          "  shared:\n    - {env: SHARED_HOOK, stacks: [team-a-*]}\n");
    server_ = std::make_unique<ServeProcess>(
        dir_, std::map<std::string, std::string>{{"AWS_SECRET_ACCESS_KEY", kEnvCanary},
                                                 {"SHARED_HOOK", kSharedValue}});
  }

  void TearDown() override {
    if (server_ == nullptr) {
      return;
    }
    EXPECT_TRUE(server_->Alive()) << server_->Logs();
    const auto responses = server_->Responses();
    const std::string logs = server_->Logs();
    server_.reset();
    for (const std::string canary : {kEnvCanary, kFileCanary}) {
      for (const auto& body : responses) {
        EXPECT_THAT(body, Not(HasSubstr(canary)));
      }
      EXPECT_THAT(logs, Not(HasSubstr(canary)));
      EXPECT_THAT(FilesHolding(dir_ / "var", canary), IsEmpty());
      for (const auto& seen : attacker_.Seen()) {
        EXPECT_THAT(seen, Not(HasSubstr(canary)));
      }
    }
    fs::remove_all(dir_);
  }

  fs::path Root() const { return dir_ / "roots"; }
  http::Response Post(const std::string& token,
                      const std::string& body,
                      const std::string& query = "",
                      const std::string& type = "application/yaml") {
    return server_->Call("POST", "/api/v1/stacks" + query, token, body, type);
  }
  // Creates `body` as `token` and waits for its one operation; returns the operation.
  nlohmann::json Create(const std::string& token,
                        const std::string& body,
                        const std::string& type = "application/yaml") {
    const auto created = Post(token, body, "", type);
    EXPECT_EQ(created.status, 202) << created.body;
    const auto ops = ServeProcess::Json(created).value("operations", nlohmann::json::array());
    if (ops.empty()) {
      ADD_FAILURE() << "no operation: " << created.body;
      return {};
    }
    return server_->WaitOperation(ops[0].value("id", ""), token);
  }
  // The refusal of a spec: 400 naming `path`, its message holding `message`.
  static void ExpectRefused(const http::Response& response,
                            const std::string& path,
                            const std::string& message) {
    EXPECT_EQ(response.status, 400) << response.body;
    const auto details = ServeProcess::Json(response)["error"].value("details", nlohmann::json());
    ASSERT_TRUE(details.is_array() && !details.empty()) << response.body;
    EXPECT_EQ(details[0].value("path", ""), path) << response.body;
    EXPECT_THAT(details[0].value("message", ""), HasSubstr(message)) << response.body;
  }

  fs::path dir_;
  Recorder attacker_;
  std::unique_ptr<ServeProcess> server_;
};

const std::string kConfigDir = "spec.environments.prod.runtime.prometheus.config_dir";
const std::string kGrafanaToken = "spec.environments.prod.runtime.grafana.token";

// config_dir anywhere, with a template of the attacker's or the default one: refused before
// anything is stored or written, however the path tries to leave the allowed root.
TEST_F(Attacks, WriteAnywhereThroughConfigDirIsRefused) {
  const auto before = fs::last_write_time(dir_ / "foreign/important.txt");
  fs::create_directory_symlink(dir_ / "foreign", Root() / "team-a/link");
  const std::string roots = "allowed roots: " + Root().string();
  for (const std::string& target :
       {(dir_ / "foreign").string(), (Root() / "team-a/../../foreign").string(),
        (Root() / "team-a/link").string(), (dir_ / "var/stacks").string()}) {
    const std::string runtime = "{type: external, prometheus: {config_dir: '" + target + "'}}";
    const auto custom = Post(kTeamA,
                             WithFiles(Spec("team-a-writer", runtime, "  templates: tpl\n"),
                                       Template("{'important.txt': 'pwned', 'prometheus.yml': "
                                                "'pwned'}")),
                             "", "application/json");
    ExpectRefused(custom, kConfigDir,
                  target.find("/var/") != std::string::npos ? "data directory" : roots);
    ExpectRefused(Post(kTeamA, Spec("team-a-writer", runtime)), kConfigDir,
                  target.find("/var/") != std::string::npos ? "data directory" : roots);
  }
  EXPECT_EQ(server_->Call("GET", "/api/v1/stacks/team-a-writer", kAdmin).status, 404);

  // An accepted stack cannot be moved there by a PUT either.
  const std::string allowed =
      "{type: external, prometheus: {config_dir: '" + (Root() / "team-a/web").string() + "'}}";
  EXPECT_EQ(Create(kTeamA, Spec("team-a-web", allowed)).value("state", ""), "succeeded");
  const auto moved =
      server_->Call("PUT", "/api/v1/stacks/team-a-web", kTeamA,
                    Spec("team-a-web", "{type: external, prometheus: {config_dir: '" +
                                           (dir_ / "foreign").string() + "'}}"));
  ExpectRefused(moved, kConfigDir, roots);
  EXPECT_EQ(ServeProcess::Json(server_->Call("GET", "/api/v1/stacks/team-a-web", kTeamA))
                .value("revision", 0),
            1);

  EXPECT_EQ(Read(dir_ / "foreign/important.txt"), kForeign);
  EXPECT_EQ(Read(dir_ / "foreign/prometheus.yml"), kForeign);
  EXPECT_EQ(fs::last_write_time(dir_ / "foreign/important.txt"), before);
  EXPECT_FALSE(fs::exists(dir_ / "foreign/rules"));
}

// Inside an allowed root, a file obsforge did not write is announced by the plan, kept before it
// is replaced, and put back (never deleted) when a later PUT stops writing it.
TEST_F(Attacks, ALaterPutNeverDeletesAForeignFile) {
  const fs::path target = Root() / "team-a/important.txt";
  Write(target, kForeign);
  const std::string runtime =
      "{type: external, prometheus: {config_dir: '" + (Root() / "team-a").string() + "'}}";
  const std::string spec = Spec("team-a-web", runtime, "  templates: tpl\n");
  const auto created =
      Post(kTeamA,
           WithFiles(spec, Template("{'prometheus.yml': 'global: {}\\n', 'important.txt': "
                                    "'written by the stack\\n'}")),
           "?environments=", "application/json");
  ASSERT_EQ(created.status, 202) << created.body;

  const auto plan =
      server_->Call("POST", "/api/v1/stacks/team-a-web/environments/prod/plan", kTeamA);
  ASSERT_EQ(plan.status, 200) << plan.body;
  EXPECT_THAT(ServeProcess::Json(plan)["notes"].dump(),
              HasSubstr(target.string() + " was not written by obsforge"));

  const auto applied =
      server_->Call("POST", "/api/v1/stacks/team-a-web/environments/prod/apply", kTeamA);
  ASSERT_EQ(applied.status, 202) << applied.body;
  const auto op =
      server_->WaitOperation(ServeProcess::Json(applied)["operation"].value("id", ""), kTeamA);
  ASSERT_EQ(op.value("state", ""), "succeeded") << op.dump();
  EXPECT_EQ(Read(target), "written by the stack\n");
  EXPECT_EQ(Read(dir_ / "var/stacks/team-a-web/prod/external/prometheus.replaced/important.txt"),
            kForeign);

  const auto put = server_->Call("PUT", "/api/v1/stacks/team-a-web", kTeamA,
                                 WithFiles(spec, Template("{'prometheus.yml': 'global: {}\\n'}")),
                                 "application/json");
  ASSERT_EQ(put.status, 202) << put.body;
  const auto update =
      server_->WaitOperation(ServeProcess::Json(put)["operations"][0].value("id", ""), kTeamA);
  ASSERT_EQ(update.value("state", ""), "succeeded") << update.dump();
  EXPECT_EQ(Read(target), kForeign) << "the operator's file is back, not deleted";
}

// `{secret: X}` and `{secret_file: F}` naming the server's variables or files, sent to a URL
// of the attacker's: refused before anything runs; the attacker receives nothing.
TEST_F(Attacks, ExfiltratingTheServersVariablesAndFilesIsRefused) {
  auto grafana = [&](const std::string& token) {
    return "{type: external, grafana: {url: '" + attacker_.Url() + "', token: " + token + "}}";
  };
  for (const std::string& ref :
       {std::string("{secret: AWS_SECRET_ACCESS_KEY}"), std::string("{secret: PATH}"),
        std::string("{secret: SHARED_HOOK}")}) {
    const auto refused = Post(kTeamB, Spec("team-b-thief", grafana(ref)));
    ExpectRefused(refused, kGrafanaToken, "is neither a secret of stack team-b-thief");
  }
  ExpectRefused(
      Post(kTeamA, Spec("team-a-thief",
                        grafana("{secret_file: '" + (dir_ / "server-only.txt").string() + "'}"))),
      kGrafanaToken, "the server reads no file a spec names");
  ExpectRefused(Post(kTeamA, Spec("team-a-thief", grafana("{secret_file: /etc/hostname}"))),
                kGrafanaToken, "the server reads no file a spec names");
  // Nor can an update bring such a reference into a stack that was accepted.
  const std::string local = "{type: external}";
  EXPECT_EQ(Post(kTeamA, Spec("team-a-ok", local), "?environments=").status, 202);
  ExpectRefused(server_->Call("PUT", "/api/v1/stacks/team-a-ok", kTeamA,
                              Spec("team-a-ok", grafana("{secret: AWS_SECRET_ACCESS_KEY}"))),
                kGrafanaToken, "is neither a secret of stack team-a-ok");
  EXPECT_EQ(server_->Call("GET", "/api/v1/stacks/team-b-thief", kAdmin).status, 404);
  EXPECT_THAT(attacker_.Seen(), IsEmpty());
}

// A spec's URLs lead only where the operator allows (`outbound:`): an address outside
// `outbound.allow` is never connected to; the operation fails naming it, and the server behind
// it receives nothing. (The default deny list is tested on the HTTP client: the cloud metadata
// address cannot be served here.)
TEST_F(Attacks, URLsLeadOnlyToAddressesTheOperatorAllows) {
  server_.reset();
  Write(dir_ / "obsforge.yaml",
        "listen: 127.0.0.1:0\n"
        "data_dir: var\n"
        "tokens_file: tokens.yaml\n"
        "outbound:\n  allow: [10.0.0.0/8]\n");
  server_ = std::make_unique<ServeProcess>(dir_, std::map<std::string, std::string>{});
  const auto op = Create(
      kTeamA, Spec("team-a-probe", "{type: external, grafana: {url: '" + attacker_.Url() + "'}}",
                   "    grafana: {enabled: true}\n"));
  EXPECT_EQ(op.value("state", ""), "failed") << op.dump();
  EXPECT_THAT(op.dump(), HasSubstr("may not connect to 127.0.0.1")) << op.dump();
  EXPECT_THAT(attacker_.Seen(), IsEmpty());
}

// A stack's secrets and uploads are its own: another stack's templates and specs reach neither,
// not through stack:// imports, relative imports, the templates field or globs, although the
// data directory lies inside the content directory.
TEST_F(Attacks, AnotherStacksSecretsAndUploadsAreUnreachable) {
  ASSERT_EQ(server_
                ->Call("PUT", "/api/v1/stacks/team-b-victim/secrets/TOKEN", kTeamB, kVictimSecret,
                       "text/plain")
                .status,
            201);
  const nlohmann::json dashboard = {
      {"uid", "victim"}, {"title", kVictimUpload}, {"panels", nlohmann::json::array()}};
  const std::string victim =
      Spec("team-b-victim",
           "{type: external, prometheus: {config_dir: '" + (Root() / "team-b").string() + "'}}",
           "  values: {token: {secret: TOKEN}}\n");
  const auto applied =
      Create(kTeamB, WithFiles(victim, {{"dashboards/victim.json", dashboard.dump()}}),
             "application/json");
  ASSERT_EQ(applied.value("state", ""), "succeeded") << applied.dump();
  const fs::path victim_secrets = dir_ / "var/stacks/team-b-victim/prod/secrets";
  ASSERT_EQ(Read(victim_secrets / "TOKEN"), kVictimSecret) << "delivered to its own stack only";

  // The attacker's templates, uploaded with a stack of its own, then named from a spec alone.
  const std::string steal =
      "{'prometheus.yml': importstr 'stack://var/stacks/team-b-victim/prod/secrets/TOKEN', "
      "'up.txt': importstr '../../var/stacks/team-b-victim/prod/secrets/TOKEN'}";
  const auto uploaded =
      Post(kTeamA,
           WithFiles(Spec("team-a-tpl", "{type: external}", "  templates: tpl\n"), Template(steal)),
           "?environments=", "application/json");
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const auto rendered = server_->Call(
      "POST", "/api/v1/render", kTeamA,
      WithFiles(Spec("team-a-tpl", "{type: external}", "  templates: tpl\n"), Template(steal)),
      "application/json");
  EXPECT_EQ(rendered.status, 422) << rendered.body;
  fs::path uploads;
  for (const auto& entry : fs::directory_iterator(dir_ / "var/content/team-a-tpl")) {
    uploads = fs::relative(entry.path(), dir_);
  }
  ASSERT_FALSE(uploads.empty());
  ExpectRefused(server_->Call("POST", "/api/v1/render", kTeamA,
                              Spec("team-a-x", "{type: external}",
                                   "  templates: " + (uploads / "tpl").string() + "\n")),
                "spec.templates", "");
  const auto globbed = server_->Call(
      "POST", "/api/v1/render", kTeamA,
      Spec("team-a-x", "{type: external}",
           "  dashboards:\n    - {path: 'var/content/team-b-victim/*/dashboards/*.json'}\n"));
  EXPECT_EQ(globbed.status, 400) << globbed.body;
  // Reading them as the stack itself: a PUT of team-a-tpl whose spec names the victim's files.
  const auto put = server_->Call(
      "PUT", "/api/v1/stacks/team-a-tpl", kTeamA,
      Spec("team-a-tpl", "{type: external}",
           "  dashboards:\n    - {path: 'var/content/team-b-victim/*/dashboards/*.json'}\n"));
  EXPECT_EQ(put.status, 400) << put.body;

  for (const auto& body : server_->Responses()) {
    EXPECT_THAT(body, Not(HasSubstr(kVictimSecret)));
    EXPECT_THAT(body, Not(HasSubstr(kVictimUpload)));
  }
  EXPECT_THAT(server_->Logs(), Not(HasSubstr(kVictimSecret)));
  EXPECT_THAT(FilesHolding(dir_ / "var", kVictimSecret, victim_secrets), IsEmpty())
      << "only the victim's own secrets folder holds it; the store keeps it sealed";
}

// A token limited to team-a-* sees and changes nothing else: every route answers as if the
// other stacks did not exist.
TEST_F(Attacks, AScopedTokenSeesAndChangesOnlyItsStacks) {
  const std::string runtime =
      "{type: external, prometheus: {config_dir: '" + (Root() / "team-b").string() + "'}}";
  const auto created = Post(kTeamB, Spec("team-b-web", runtime));
  ASSERT_EQ(created.status, 202) << created.body;
  const std::string op_id = ServeProcess::Json(created)["operations"][0].value("id", "");
  ASSERT_EQ(server_->WaitOperation(op_id, kTeamB).value("state", ""), "succeeded");
  ASSERT_EQ(Post(kTeamA, Spec("team-a-web", "{type: external}"), "?environments=").status, 202);

  const auto list = ServeProcess::Json(server_->Call("GET", "/api/v1/stacks", kTeamA));
  ASSERT_TRUE(list["stacks"].is_array()) << list.dump();
  ASSERT_EQ(list["stacks"].size(), 1U) << list.dump();
  EXPECT_EQ(list["stacks"][0].value("name", ""), "team-a-web");
  EXPECT_EQ(ServeProcess::Json(server_->Call("GET", "/api/v1/stacks", kAdmin))["stacks"].size(),
            2U);

  // Exactly what a stack that does not exist gets.
  const auto absent =
      ServeProcess::Json(server_->Call("GET", "/api/v1/stacks/team-a-none", kTeamA));
  const auto hidden = ServeProcess::Json(server_->Call("GET", "/api/v1/stacks/team-b-web", kTeamA));
  EXPECT_EQ(hidden["error"]["code"], absent["error"]["code"]);
  EXPECT_EQ(hidden["error"]["message"], "stack team-b-web not found");
  EXPECT_EQ(absent["error"]["message"], "stack team-a-none not found");

  const std::string stack = "/api/v1/stacks/team-b-web";
  const std::string env = stack + "/environments/prod";
  struct Try {
    std::string method;
    std::string path;
    std::string body;
    std::string type = "application/yaml";
    const char* token = kTeamA;
  };
  const std::vector<Try> tries = {
      {"GET", stack},
      {"PUT", stack, Spec("team-b-web", "{type: external}")},
      {"DELETE", stack, "", "", kTeamAAdmin},
      {"POST", env + "/plan"},
      {"POST", env + "/apply"},
      {"POST", env + "/rollback", R"({"revision": 1})", "application/json", kTeamAAdmin},
      {"GET", env + "/rendered"},
      {"GET", env + "/health"},
      {"GET", env + "/health/history"},
      {"GET", stack + "/revisions"},
      {"GET", stack + "/secrets"},
      {"PUT", stack + "/secrets/TOKEN", "stolen", "text/plain"},
      {"DELETE", stack + "/secrets/TOKEN"},
      {"GET", "/api/v1/operations/" + op_id},
      {"POST", "/api/v1/stacks", Spec("team-b-evil", "{type: external}")},
  };
  for (const Try& t : tries) {
    const auto r = server_->Call(t.method, t.path, t.token, t.body, t.type);
    EXPECT_EQ(r.status, 404) << t.method << " " << t.path << ": " << r.body;
  }
  EXPECT_EQ(server_->Call("GET", "/api/v1/stacks/team-b-evil", kAdmin).status, 404);
  EXPECT_EQ(server_->Call("GET", "/api/v1/stacks/team-b-web/secrets", kTeamB).body,
            R"({"secrets":[],"stack":"team-b-web"})")
      << "the PUT of team-a's token wrote nothing";
  for (const std::string overview : {"/api/v1/overview", "/api/v1/overview?format=html"}) {
    EXPECT_THAT(server_->Call("GET", overview, kTeamA).body, Not(HasSubstr("team-b-web")));
    EXPECT_THAT(server_->Call("GET", overview, kTeamB).body, HasSubstr("team-b-web"));
  }
  EXPECT_EQ(server_->Call("GET", stack, kTeamB).status, 200) << "its own team still sees it";
  EXPECT_EQ(ServeProcess::Json(server_->Call("GET", stack, kTeamB)).value("revision", 0), 1);
}

// Secret values go in and never come out: not in a response, the log, or the store's files.
TEST_F(Attacks, SecretValuesAreWriteOnly) {
  const std::string path = "/api/v1/stacks/team-a-web/secrets/API_KEY";
  EXPECT_EQ(server_->Call("PUT", path, kTeamA, kVictimSecret, "text/plain").status, 201);
  EXPECT_EQ(server_->Call("PUT", path, kTeamA, kVictimSecret, "application/octet-stream").status,
            200);
  const auto listed =
      ServeProcess::Json(server_->Call("GET", "/api/v1/stacks/team-a-web/secrets", kTeamA));
  ASSERT_EQ(listed["secrets"].size(), 1U) << listed.dump();
  EXPECT_EQ(listed["secrets"][0]["key"], "API_KEY");
  EXPECT_EQ(server_->Call("DELETE", path, "not-a-token").status, 401);
  EXPECT_EQ(server_->Call("DELETE", path, kTeamA).status, 204);
  EXPECT_EQ(server_->Call("DELETE", path, kTeamA).status, 404);
  for (const auto& body : server_->Responses()) {
    EXPECT_THAT(body, Not(HasSubstr(kVictimSecret)));
  }
  EXPECT_THAT(server_->Logs(), Not(HasSubstr(kVictimSecret)));
  EXPECT_THAT(FilesHolding(dir_ / "var", kVictimSecret), IsEmpty());
}

// The one-request denials of service of the report, against the real process: each is a 4xx
// naming the limit, and the server still answers.
TEST_F(Attacks, OneRequestNoLongerTakesTheServerDown) {
  using obsforge::testing::AliasBomb;
  using obsforge::testing::Repeat;
  struct Body {
    std::string name;
    std::string text;
    std::string type;
    std::string says;
  };
  const std::vector<Body> bodies = {
      {"20,000 nested JSON objects", Repeat("{\"a\":", 20'000) + "1" + std::string(20'000, '}'),
       "application/json", "(limit max_depth)"},
      {"390-byte YAML alias bomb", AliasBomb("spec"), "application/yaml", "(limit max_nodes)"},
      {"206 KB of nested brackets",
       "{\"a\": " + std::string(103'000, '[') + std::string(103'000, ']') + "}", "application/json",
       "(limit max_depth)"},
      {"1e999 in values",
       R"({"apiVersion": "obsforge/v1", "kind": "Stack", "metadata": {"name": "team-a-x"},)"
       R"( "spec": {"values": {"n": 1e999}}})",
       "application/json", "1e999"},
      {"invalid UTF-8 in metadata.name", "metadata: {name: \"team-a-\xff\"}\n", "application/yaml",
       "UTF-8"},
  };
  for (const Body& body : bodies) {
    for (const std::string path : {"/api/v1/stacks", "/api/v1/render"}) {
      const auto r = server_->Call("POST", path, kTeamA, body.text, body.type);
      EXPECT_EQ(r.status, 400) << body.name << " to " << path << ": " << r.body.substr(0, 300);
      EXPECT_THAT(r.body, HasSubstr(body.says)) << body.name;
      ASSERT_TRUE(server_->Alive()) << body.name << "\n" << server_->Logs();
    }
  }
  const auto rollback = server_->Call("POST", "/api/v1/stacks/team-a-x/environments/prod/rollback",
                                      kTeamAAdmin, R"({"revision": 1e999})", "application/json");
  EXPECT_EQ(rollback.status, 400) << rollback.body;
  EXPECT_EQ(server_->Call("BREW", "/api/v1/stacks", kTeamA).status, 405);
  EXPECT_EQ(server_->Call("GET", "/api/v1/stacks", "").status, 401);
  EXPECT_EQ(ServeProcess::Json(server_->Call("GET", "/api/v1/stacks", kAdmin))["stacks"].size(), 0U)
      << "nothing of any of them was stored";
}

}  // namespace
}  // namespace obsforge::security_test
