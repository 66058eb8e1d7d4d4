// Every malformed body of a table, sent to every route that takes a body, in every content type
// the route accepts: each gets a 4xx answer in the API's error envelope (never a 5xx, never an
// empty reply), the server stays alive, and nothing is stored.
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "render/render.h"
#include "server/harness.h"
#include "support/hostile_text.h"

namespace obsforge::server::testing {
namespace {

using obsforge::testing::AliasBomb;
using obsforge::testing::Repeat;
using ::testing::HasSubstr;

::testing::Environment* const kCurl = ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

// A spec whose `spec.values` is `values` (YAML flow text).
std::string SpecWithValues(const std::string& values) {
  return "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: shop}\nspec:\n  values: " +
         values +
         "\n  components: {prometheus: {enabled: true}}\n"
         "  environments: {dev: {runtime: {type: local}}}\n";
}

std::string Wrapper(const nlohmann::json& spec, const nlohmann::json& files) {
  return nlohmann::json{{"spec", spec}, {"files", files}}.dump();
}

nlohmann::json GoodSpecJson() {
  return {{"apiVersion", "obsforge/v1"},
          {"kind", "Stack"},
          {"metadata", {{"name", "shop"}}},
          {"spec",
           {{"components", {{"prometheus", {{"enabled", true}}}, {"grafana", {{"enabled", true}}}}},
            {"dashboards", {{{"path", "dashboards/*.json"}}}},
            {"alerts", {{{"path", "rules/*.yaml"}, {"type", "prometheus"}}}},
            {"environments", {{"dev", {{"runtime", {{"type", "local"}}}}}}}}}};
}

struct MalformedBody {
  std::string name;
  std::string body;
  std::string message;  // part of the error message on the spec routes ("" = any)
};

std::vector<MalformedBody> Table() {
  const std::string nested_objects = Repeat("{\"a\":", 20'000) + "1" + std::string(20'000, '}');
  const std::string brackets =
      "{\"a\": " + std::string(103'000, '[') + std::string(103'000, ']') + "}";
  std::vector<MalformedBody> table = {
      {"not a spec: a string", "\"just text\"", ""},
      {"not a spec: null", "null", ""},
      {"not a spec: a number", "42", ""},
      {"not a spec: a list", "[]", ""},
      {"unclosed map", "{", ""},
      {"closing brace", "}", ""},
      {"unclosed list", "a: [1, 2\n", "invalid YAML"},
      {"json trailing garbage", "{\"apiVersion\": \"obsforge/v1\"} x", ""},
      {"json trailing comma", "{\"apiVersion\": \"obsforge/v1\",}", ""},
      {"20000 nested json objects", nested_objects, "(limit max_depth)"},
      {"206 KB of nested brackets", brackets, "(limit max_depth)"},
      {"200 levels of block nesting",
       [] {
         std::string s;
         for (int i = 0; i < 200; ++i) {
           s += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
         }
         return s;
       }(),
       "(limit max_depth)"},
      {"yaml alias bomb", AliasBomb("spec"), "(limit max_nodes)"},
      {"alias bomb in the wrapper's files", AliasBomb("files"), "(limit max_nodes)"},
      {"alias of an anchor that contains it", "spec: &a [1, *a]\n",
       "alias of a node that contains it"},
      {"undefined alias", "spec: *nowhere\n", "invalid YAML"},
      {"300000 values", "[" + Repeat("1,", 300'000) + "1]", "(limit max_nodes)"},
      {"revision 1e999", "{\"revision\": 1e999}", "number out of range"},
      {"1e999 in values", SpecWithValues("{x: 1e999}"), "number out of range"},
      {"-1e999 in json values",
       "{\"apiVersion\": \"obsforge/v1\", \"kind\": \"Stack\", \"metadata\": {\"name\": \"shop\"}, "
       "\"spec\": {\"values\": {\"x\": -1e999}}}",
       "number out of range"},
      {".inf in values", SpecWithValues("{x: .inf}"), "number out of range"},
      {".nan in values", SpecWithValues("{x: .nan}"), "number out of range"},
      {"integer of 400 digits", SpecWithValues("{x: 1" + std::string(400, '0') + "}"),
       "number out of range"},
      {"invalid UTF-8 in annotations",
       "apiVersion: obsforge/v1\nkind: Stack\nmetadata:\n  name: shop\n  annotations: {note: "
       "\"caf\xC3\"}\n"
       "spec: {}\n",
       "invalid UTF-8"},
      {"invalid UTF-8 in metadata.name",
       "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: \"sh\xFFop\"}\nspec: {}\n",
       "invalid UTF-8"},
      {"invalid UTF-8 in a key", SpecWithValues("{\"k\xFE\": 1}"), "invalid UTF-8"},
      {"overlong UTF-8", SpecWithValues("{k: \"\xC0\xAF\"}"), "invalid UTF-8"},
      {"UTF-16 surrogate encoded in UTF-8", SpecWithValues("{k: \"\xED\xA0\x80\"}"),
       "invalid UTF-8"},
      {"lone surrogate escape in yaml", SpecWithValues("{k: \"\\ud800\"}"), ""},
      {"lone surrogate escape in json", "{\"revision\": \"\\udc00\"}", "invalid JSON"},
      {"NUL bytes", std::string("apiVersion: obsforge/v1\0\0\0kind: Stack\n", 33), ""},
      {"control characters", "apiVersion: \x01\x02\x03\n", ""},
      {"key longer than 1 KiB", SpecWithValues("{" + std::string(2000, 'k') + ": 1}"), ""},
      {"explicit key longer than 1 KiB",
       "apiVersion: obsforge/v1\nkind: Stack\n? " + std::string(2000, 'k') + "\n: 1\n",
       "(limit max_key_bytes)"},
      {"json key longer than 1 KiB", "{\"" + std::string(2000, 'k') + "\": 1}",
       "(limit max_key_bytes)"},
      {"string longer than 8 MiB", SpecWithValues("{k: \"" + std::string(9U << 20U, 's') + "\"}"),
       "(limit max_string_bytes)"},
      {"strings beyond 64 MiB through aliases",
       "a: &a \"" + std::string(1U << 20U, 'x') + "\"\nspec: [" + Repeat("*a,", 70) + "*a]\n",
       "(limit max_total_bytes)"},
      {"duplicate keys", "apiVersion: a\nkind: Stack\napiVersion: b\n", "duplicate key"},
      {"duplicate keys through a json escape", "{\"revision\": 1, \"\\u0072evision\": 2}",
       "duplicate key"},
      {"two documents", SpecWithValues("{}") + "---\na: 1\n", "expected one document"},
      {"unsupported tag", SpecWithValues("!!binary aGVsbG8="), "unsupported tag"},
      {"custom tag", SpecWithValues("!vault {path: x}"), "unsupported tag"},
      {"map as a key", "? {a: 1}\n: b\n", "map keys must be strings"},
      {"tab indentation", "spec:\n\tvalues: {}\n", ""},
      {"metadata.name of 2000 characters",
       "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: " + std::string(2000, 'n') +
           "}\nspec: {}\n",
       ""},
      {"wrapper: files not a map", Wrapper(GoodSpecJson(), nlohmann::json::array({1})), ""},
      {"wrapper: a file outside the root", Wrapper(GoodSpecJson(), {{"../../etc/passwd", "x"}}),
       "inside the stack root"},
      {"wrapper: absolute file path", Wrapper(GoodSpecJson(), {{"/etc/passwd", "x"}}), ""},
      {"wrapper: file content a number", Wrapper(GoodSpecJson(), {{"dashboards/a.json", 1}}), ""},
      {"wrapper: spec 1e999", "{\"spec\": 1e999, \"files\": {}}", "number out of range"},
      {"wrapper: spec text with the alias bomb",
       nlohmann::json{{"spec", AliasBomb("spec")}, {"files", nlohmann::json::object()}}.dump(),
       "(limit max_nodes)"},
      {"revision as text", "{\"revision\": \"1\"}", ""},
      {"revision beyond 64 bits", "{\"revision\": 18446744073709551616}", ""},
      {"byte order mark then deep nesting",
       "\xEF\xBB\xBF" + std::string(1000, '[') + std::string(1000, ']'), "(limit max_depth)"},
  };
  return table;
}

// One route that takes a body, with the content types it accepts.
struct BodyRoute {
  std::string method;
  std::string path;
  std::vector<std::string> content_types;
  bool spec = false;  // parses the body as a spec (the table's messages apply)
};

std::vector<BodyRoute> RoutesWithBodies(const Router& router) {
  std::vector<BodyRoute> out;
  for (const Route& route : router.routes()) {
    const bool webhook = route.path == "/api/v1/gitops/webhook";
    if (route.body == BodyKind::kNone && !webhook) {
      continue;
    }
    std::string path = route.path;
    for (const auto& [param, value] :
         {std::pair<std::string, std::string>{"{name}", "shop"}, {"{env}", "dev"}}) {
      if (const auto at = path.find(param); at != std::string::npos) {
        path.replace(at, param.size(), value);
      }
    }
    BodyRoute body_route{
        .method = route.method, .path = path, .spec = route.body == BodyKind::kSpec};
    body_route.content_types = {"application/json"};
    if (route.body == BodyKind::kSpec) {
      body_route.content_types.push_back("application/yaml");
    }
    out.push_back(std::move(body_route));
  }
  return out;
}

// Renders for real (the templates embedded in the binary): what POST /api/v1/render runs.
class RenderingBackend final : public control::EnvironmentBackend {
 public:
  explicit RenderingBackend(std::filesystem::path data_root) : data_root_(std::move(data_root)) {}

  render::Bundle Render(const spec::StackSpec& stack,
                        const std::string& env,
                        const spec::ContentSource& content) override {
    return render::RenderEnvironment(spec::ForEnvironment(stack, env), content,
                                     {.data_root = data_root_});
  }
  core::Result<apply::Plan> Plan(const spec::StackSpec& stack,
                                 const std::string& env,
                                 const spec::ContentSource& content) override {
    return fake_.Plan(stack, env, content);
  }
  apply::ApplyResult Apply(const spec::StackSpec& stack,
                           const std::string& env,
                           const spec::ContentSource& content,
                           const apply::StepCallback& on_step) override {
    return fake_.Apply(stack, env, content, on_step);
  }
  apply::ApplyResult Rollback(const spec::StackSpec& stack,
                              const std::string& env,
                              int revision,
                              const apply::StepCallback& on_step) override {
    return fake_.Rollback(stack, env, revision, on_step);
  }
  core::Result<void> Teardown(const std::string& stack,
                              const std::string& env,
                              const apply::StepCallback& on_step) override {
    return fake_.Teardown(stack, env, on_step);
  }
  std::optional<render::Bundle> Applied(const std::string& stack, const std::string& env) override {
    return fake_.Applied(stack, env);
  }
  control::RuntimeStatus Status(const std::string& stack, const std::string& env) override {
    return fake_.Status(stack, env);
  }

 private:
  std::filesystem::path data_root_;
  FakeBackend fake_;
};

// Asserts a 4xx answer in the error envelope.
void ExpectRefused(const http::Response& response, const std::string& what) {
  EXPECT_GE(response.status, 400) << what << ": " << response.body.substr(0, 300);
  EXPECT_LT(response.status, 500) << what << ": " << response.body.substr(0, 300);
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << what << ": not JSON: " << response.body.substr(0, 300);
  EXPECT_TRUE(body.contains("error") && body["error"].contains("code") &&
              body["error"].contains("message"))
      << what << ": " << response.body.substr(0, 300);
}

TEST(MalformedBodies, EveryRouteRefusesEveryMalformedBodyAndTheServerLives) {
  ServerHarness h;
  const auto created = h.Call("POST", "/api/v1/stacks", kEditorToken,
                              "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: shop}\n"
                              "spec:\n  environments: {dev: {runtime: {type: local}}}\n");
  ASSERT_EQ(created.status, 202) << created.body;
  const auto created_json = ServerHarness::Json(created);
  for (const auto& op : created_json["operations"]) {
    h.WaitOperation(op["id"]);
  }
  const auto routes = RoutesWithBodies(h.server().router());
  ASSERT_GE(routes.size(), 5U);  // create, replace, rollback, render, webhook
  const auto table = Table();
  ASSERT_GE(table.size(), 40U);
  for (const auto& c : table) {
    for (const auto& route : routes) {
      for (const auto& type : route.content_types) {
        const std::string what =
            c.name + " -> " + route.method + " " + route.path + " (" + type + ")";
        const auto response = h.Call(route.method, route.path, kAdminToken, c.body, type);
        ExpectRefused(response, what);
        if (route.spec && !c.message.empty()) {
          EXPECT_THAT(response.body, HasSubstr(c.message)) << what;
        }
      }
    }
    ASSERT_EQ(h.Call("GET", "/healthz", "").status, 200) << "after " << c.name;
  }
  // Nothing was stored: the stack is at its first revision.
  const auto stack = h.store().GetStack("shop");
  ASSERT_TRUE(stack.ok());
  EXPECT_EQ(stack->revision, 1);
  h.Close();
  EXPECT_THAT(h.logs(), Not(HasSubstr("handler failed")));
}

// A server whose POST /api/v1/render renders for real; no tokens (loopback).
class RenderingServer {
 public:
  RenderingServer() : backend_(dir_.path() / "data") {
    std::filesystem::create_directories(dir_.path() / "content");
    auto store = store::SqliteStore::Open({.path = (dir_.path() / "s.db").string()}, clock_);
    EXPECT_TRUE(store.ok());
    store_ = std::move(store).value();
    const ServerOptions options{.listen = "127.0.0.1:0",
                                .data_dir = dir_.path() / "var",
                                .content_dir = dir_.path() / "content"};
    app_ = std::make_unique<control::Application>(ApplicationOptionsFrom(options), *store_,
                                                  backend_, clock_, logger_);
    server_ = std::make_unique<Server>(options, *app_, logger_);
    auto port = server_->Start();
    EXPECT_TRUE(port.ok());
    base_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 0);
  }

  http::Response Render(const std::string& body) {
    auto r = client_.Send({.method = "POST",
                           .url = base_ + "/api/v1/render",
                           .headers = {{"Content-Type", "application/json"}},
                           .body = body});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : http::Response{};
  }
  bool Alive() {
    auto r = client_.Send({.method = "GET", .url = base_ + "/healthz"});
    return r.ok() && r->status == 200;
  }

 private:
  TempDir dir_;
  core::SystemClock clock_;
  core::Logger& logger_ = core::NullLogger();
  RenderingBackend backend_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<control::Application> app_;
  std::unique_ptr<Server> server_;
  http::CurlHttpClient client_{http::CurlOptions{}};
  std::string base_;
};

// Bodies that are valid specs carrying hostile files, rendered for real: refused with 4xx.
TEST(MalformedBodies, HostileFilesInAWrapperAreRefusedByTheRenderer) {
  RenderingServer server;
  const std::string dashboard_ok = R"({"title": "ok", "panels": []})";
  const auto ok = server.Render(Wrapper(
      GoodSpecJson(), {{"dashboards/a.json", dashboard_ok}, {"rules/r.yaml", "groups: []\n"}}));
  ASSERT_EQ(ok.status, 200) << ok.body.substr(0, 500);

  const std::vector<std::pair<std::string, nlohmann::json>> cases = {
      {"dashboard with 1e999", {{"dashboards/a.json", R"({"title": "x", "refresh": 1e999})"}}},
      {"dashboard nested 50000 deep",
       {{"dashboards/a.json", "{\"title\": \"x\", \"deep\": " + std::string(50'000, '[') +
                                  std::string(50'000, ']') + "}"}}},
      {"dashboard with invalid JSON", {{"dashboards/a.json", "{\"title\": "}}},
      {"rules with the alias bomb", {{"rules/r.yaml", AliasBomb("groups")}}},
      {"rules with 1e999", {{"rules/r.yaml", "groups:\n- name: g\n  interval: 1e999\n"}}},
      {"rules with a long number-like scalar",
       {{"rules/r.yaml", "groups:\n- name: -" + std::string(1'000'000, '1') + "x\n"}}},
      {"rules nested 200 deep",
       {{"rules/r.yaml", "groups: " + std::string(200, '[') + std::string(200, ']') + "\n"}}},
  };
  for (const auto& [name, files] : cases) {
    const auto response = server.Render(Wrapper(GoodSpecJson(), files));
    ExpectRefused(response, name);
    ASSERT_TRUE(server.Alive()) << "after " << name;
  }

  // Templates of the stack's own whose errors are long: libjsonnet repeats an unknown name of
  // 200 KB in its message, which a std::regex over that message overflowed the stack on.
  nlohmann::json own_templates = GoodSpecJson();
  own_templates["spec"]["templates"] = "tpl";
  const std::string long_name(200'000, 'x');
  for (const auto& [name, program] : std::vector<std::pair<std::string, std::string>>{
           {"unknown variable of 200 KB", "local a = 1; " + long_name},
           {"runtime error of 200 KB", "error '" + long_name + "'"},
           {"import of a long name", "import '" + std::string(100'000, 'i') + "'"}}) {
    const auto response =
        server.Render(Wrapper(own_templates, {{"tpl/prometheus/main.jsonnet", program},
                                              {"dashboards/a.json", dashboard_ok},
                                              {"rules/r.yaml", "groups: []\n"}}));
    ExpectRefused(response, name);
    ASSERT_TRUE(server.Alive()) << "after " << name;
  }
}

}  // namespace
}  // namespace obsforge::server::testing
