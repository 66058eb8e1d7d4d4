// `obsforge serve`: wires the store (SQLite or PostgreSQL), the environment controller, health and
// Slack, the application and the REST server in front of it.
#include <atomic>
#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/health_wiring.h"
#include "app/version.h"
#include "apply/environment_controller.h"
#include "console/event_bus.h"
#include "control/application.h"
#include "control/controller_backend.h"
#include "core/diagnostic.h"
#include "core/duration.h"
#include "core/fs.h"
#include "gitops/config.h"
#include "http/curl_http_client.h"
#include "provision/store_ledger.h"
#include "server/config.h"
#include "server/server.h"
#include "spec/stack.h"
#include "store/leadership.h"
#include "store/location.h"

namespace obsforge::app {
namespace {

std::atomic<bool> g_serve_stop{
    false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

extern "C" void OnServeSignal(int /*signal*/) {
  g_serve_stop.store(true);
}

// What serve runs with: flags over OBSFORGE_* over the config file over the defaults.
struct Resolved {
  server::ServerOptions server;
  std::string store;
  int replicas = 1;
};

Resolved ResolveOptions(const ServeOptions& options) {
  server::ServerConfig config;
  if (options.config) {
    config = server::LoadServerConfig(*options.config);
  }
  auto resolved = config.server;
  if (options.config) {
    resolved.gitops =
        gitops::ParseSources(nlohmann::json::parse(config.gitops_json), options.config->string());
  }
  server::ApplyEnvironment(resolved, core::ProcessEnv());
  if (options.listen) {
    resolved.listen = *options.listen;
  }
  if (options.data_dir) {
    resolved.data_dir = *options.data_dir;
  }
  if (options.content_dir) {
    resolved.content_dir = *options.content_dir;
  }
  if (options.tokens_file) {
    resolved.tokens_file = *options.tokens_file;
  }
  resolved.version = kVersion;
  return Resolved{.server = std::move(resolved),
                  .store = options.store.value_or(config.store),
                  .replicas = options.replicas.value_or(config.replicas)};
}

// The local runtime supervises processes on the host that applied them: with several replicas
// another replica could take the next operation of the same environment and find nothing of
// it. So with more than one replica it is refused when a spec is stored, naming each
// environment that would use it (the external runtime works from any replica).
control::SpecRule LocalRuntimeNeedsOneReplica(int replicas) {
  return [replicas](const spec::StackSpec& stack) {
    std::vector<core::Diagnostic> refused;
    for (const std::string& env : stack.environments) {
      if (spec::ForEnvironment(stack, env).runtime.type == spec::Runtime::Type::kLocal) {
        refused.push_back(core::Diagnostic{
            .file = stack.file,
            .path = "spec.environments." + env + ".runtime",
            .message = "the local runtime runs components on one host and needs a single "
                       "replica, but this server is one of " +
                       std::to_string(replicas) +
                       " replicas sharing its store: use the external runtime"});
      }
    }
    if (!refused.empty()) {
      throw core::InputError(core::InputError::Kind::kInvalidSpec, std::move(refused));
    }
  };
}

// Polls a bootstrap operation until it ends (or the server stops) and prints how it ended;
// true when it succeeded.
bool AwaitOperation(const std::string& base,
                    const std::string& id,
                    const std::filesystem::path& spec,
                    http::HttpClient& http,
                    Io io) {
  const std::string url = base + "/api/v1/operations/" + id;
  std::string state = "queued";
  nlohmann::json last;
  while (!g_serve_stop.load() && (state == "queued" || state == "running")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto got = http.Send({.url = url});
    if (!got.ok() || got->status != 200) {
      break;
    }
    last = nlohmann::json::parse(got->body, nullptr, false);
    state = last.value("state", "failed");
  }
  io.err << "bootstrap " << spec.string() << " [" << last.value("env", "") << "]: " << state;
  if (last.contains("error") && !last["error"].is_null()) {
    io.err << ": " << last["error"].dump();
  }
  io.err << '\n';
  return state == "succeeded";
}

// Creates each bootstrap stack through the server's own API (the same path as a user's POST) and
// waits for its operations; an existing stack is left as it is (the server re-applies it).
bool Bootstrap(const std::vector<std::filesystem::path>& specs,
               const std::string& base,
               http::HttpClient& http,
               Io io) {
  bool ok = true;
  for (const auto& spec : specs) {
    std::string body;
    try {
      body = core::ReadFile(spec);
    } catch (const std::exception& e) {
      io.err << e.what() << '\n';
      return false;
    }
    auto created = http.Send({.method = "POST",
                              .url = base + "/api/v1/stacks",
                              .headers = {{"Content-Type", "application/yaml"}},
                              .body = body,
                              .timeout = std::chrono::seconds(60)});
    if (!created.ok()) {
      io.err << "bootstrap " << spec.string() << ": " << created.error().message << '\n';
      return false;
    }
    if (created->status == 409) {
      io.err << "bootstrap " << spec.string() << ": stack exists; kept as stored\n";
      continue;
    }
    if (created->status != 202) {
      io.err << "bootstrap " << spec.string() << ": HTTP " << created->status << ": "
             << created->body << '\n';
      return false;
    }
    const auto reply = nlohmann::json::parse(created->body, nullptr, false);
    for (const auto& op : reply.value("operations", nlohmann::json::array())) {
      const auto id = op.is_object() ? op.value("id", "") : op.get<std::string>();
      ok = AwaitOperation(base, id, spec, http, io) && ok;
    }
  }
  return ok;
}

void PrintUrls(const std::string& base, http::HttpClient& http, Io io) {
  io.out << "obsforge: " << base << "  (API " << base << "/api/v1/stacks, metrics " << base
         << "/metrics)\n";
  auto list = http.Send({.url = base + "/api/v1/stacks"});
  if (!list.ok() || list->status != 200) {
    return;
  }
  const auto stacks = nlohmann::json::parse(list->body, nullptr, false);
  const auto& items = stacks.is_object() ? stacks.value("stacks", nlohmann::json::array()) : stacks;
  const std::string stacks_url = base + "/api/v1/stacks/";
  for (const auto& item : items) {
    const auto name = item.value("name", "");
    auto one = http.Send({.url = stacks_url + name});
    if (!one.ok() || one->status != 200) {
      continue;
    }
    const auto stack = nlohmann::json::parse(one->body, nullptr, false);
    const auto envs = stack.value("environments", nlohmann::json::object());
    for (const auto& [env, status] : envs.items()) {
      const auto runtime = status.value("runtime", nlohmann::json::object());
      for (const auto& c : runtime.value("components", nlohmann::json::array())) {
        io.out << "  " << name << " [" << env << "] " << c.value("name", "") << ": "
               << c.value("url", "") << "  (" << c.value("state", "") << ")\n";
      }
    }
  }
  io.out << std::flush;
}

// A duration of at least 100ms from the environment variable `name` into `target` (left as it
// is when unset); false, with a message, when it is not one.
bool LeaseFromEnv(const core::EnvLookup& env,
                  const char* name,
                  std::chrono::milliseconds& target,
                  Io io) {
  if (auto text = env(name)) {
    auto parsed = core::ParseDuration(*text);
    if (!parsed || parsed->count() < 100) {
      io.err << name << ": \"" << *text << "\" is not a duration of at least 100ms (e.g. 10s)\n";
      return false;
    }
    target = *parsed;
  }
  return true;
}

}  // namespace

int RunServe(const ServeOptions& options, Io io) {
  Resolved settings;
  try {
    settings = ResolveOptions(options);
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return kExitFailed;
  }
  const server::ServerOptions& resolved = settings.server;
  auto location = store::ParseStoreUrl(settings.store, resolved.data_dir);
  if (!location.ok()) {
    io.err << location.error().message << '\n';
    return kExitFailed;
  }
  if (settings.replicas > 1 && location->kind == store::StoreLocation::Kind::kSqlite) {
    io.err << "replicas: " << settings.replicas
           << " processes cannot share a SQLite store; use store: postgresql://user@host/db\n";
    return kExitFailed;
  }
  // How replicas share the work: their names, how long an operation's claim and the leadership
  // last without renewal (OBSFORGE_OPERATION_LEASE, OBSFORGE_LEADER_TAKEOVER: durations).
  const core::EnvLookup env = core::ProcessEnv();
  std::string replica_id = env("OBSFORGE_REPLICA_ID").value_or(control::DefaultReplicaId());
  std::chrono::milliseconds operation_lease{10000};
  std::chrono::milliseconds takeover{10000};
  if (!LeaseFromEnv(env, "OBSFORGE_OPERATION_LEASE", operation_lease, io) ||
      !LeaseFromEnv(env, "OBSFORGE_LEADER_TAKEOVER", takeover, io)) {
    return kExitFailed;
  }
  core::Logger logger(io.err);
  core::SystemClock clock;
  std::filesystem::create_directories(resolved.data_dir);
  auto store = store::OpenStore(*location, clock);
  if (!store.ok()) {
    io.err << "cannot open the store: " << store.error().message << '\n';
    return kExitFailed;
  }
  logger.Info("store opened", {{"store", location->display},
                               {"replicas", std::to_string(settings.replicas)},
                               {"replica", replica_id}});
  // On PostgreSQL any number of processes may share the store, so they elect a leader.
  std::unique_ptr<store::PostgresLeadership> leadership;
  if (location->kind == store::StoreLocation::Kind::kPostgres) {
    auto created = store::PostgresLeadership::Create(
        {.url = location->target, .name = replica_id, .takeover = takeover});
    if (!created.ok()) {
      io.err << "cannot take part in the leadership: " << created.error().message << '\n';
      return kExitFailed;
    }
    leadership = std::move(*created);
  }
  // What the server reaches for its stacks is held to the operator's outbound ranges; its calls
  // to itself (bootstrap, the URLs it prints) are not.
  const auto outbound = std::make_shared<const http::AddressFilter>(resolved.trust.outbound);
  http::CurlHttpClient http({.filter = outbound});
  http::CurlHttpClient self;
  apply::ControllerOptions controller_options;
  controller_options.data_dir = resolved.data_dir;
  // Ownership of provisioned objects lives in the store (shared by replicas, kept with the stack).
  controller_options.ledgers = [db = store->get()](const std::string& stack, const std::string& env)
      -> core::Result<std::unique_ptr<provision::OwnershipLedger>> {
    return std::unique_ptr<provision::OwnershipLedger>(
        std::make_unique<provision::StoreLedger>(*db, stack, env));
  };
  // Each stack's `{secret: NAME}` resolve through the application's trust policy (the stack's
  // own secrets, what the operator shares with it) and never the server's environment. The
  // application makes the policy; it is bound here once the application exists, before
  // anything runs.
  const control::TrustPolicy* trust = nullptr;
  const core::StackEnvLookup stack_env = [&trust](const std::string& stack) {
    return trust->SecretsOf(stack);
  };
  controller_options.stack_env = stack_env;
  apply::EnvironmentController controller(controller_options, http, clock, logger);
  control::ControllerBackend backend(controller);
  // Live updates of the console: health transitions from here, operations from the server.
  console::EventBus events({.max_clients = static_cast<std::size_t>(resolved.max_event_clients)});
  console::EventFeed health_events(events);
  // Continuous health and Slack: every environment applied through the server is watched.
  HealthWiring health(
      {.monitor = {.outbound = outbound},
       .defaults = {.stack_env = stack_env},
       .may_send = [&leadership] { return !leadership || leadership->IsLeader(); }},
      **store, backend, http, clock, logger,
      [&controller](const spec::StackSpec& stack, const std::string& env) {
        return controller.Urls(stack, env);
      },
      &health_events);
  control::ApplicationOptions application_options = server::ApplicationOptionsFrom(resolved);
  if (settings.replicas > 1) {
    application_options.spec_rule = LocalRuntimeNeedsOneReplica(settings.replicas);
  }
  application_options.import_http = &http;  // POST /api/v1/import may read a Grafana
  application_options.replica_id = replica_id;
  application_options.operation_lease = operation_lease;
  application_options.leadership = leadership.get();
  // A replica that lost the leadership cannot run the leader's loops again: it ends, and its
  // supervisor starts it again as a follower. The exit code says why.
  std::atomic<bool> lost{false};
  application_options.leadership_lost = [&lost] {
    lost.store(true);
    g_serve_stop.store(true);
  };
  control::Application application(std::move(application_options), **store, backend, clock, logger,
                                   &health.runtime());
  trust = application.trust();
  server::ServerOptions server_options = resolved;
  server_options.events = &events;
  server::Server server(server_options, application, logger);
  g_serve_stop.store(false);
  std::signal(SIGINT, OnServeSignal);
  std::signal(SIGTERM, OnServeSignal);
  core::Result<int> port = 0;
  try {
    port = server.Start();
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return kExitFailed;
  }
  if (!port.ok()) {
    io.err << "cannot start: " << port.error().message << '\n';
    return kExitFailed;
  }
  const auto host = server::ParseListen(resolved.listen);
  const std::string base = "http://" +
                           (host.ok() && host->first != "0.0.0.0" ? host->first : "127.0.0.1") +
                           ":" + std::to_string(*port);
  if (!options.bootstrap.empty() && !Bootstrap(options.bootstrap, base, self, io)) {
    io.err << "bootstrap failed; the server keeps running (see the operations above)\n";
  }
  PrintUrls(base, self, io);
  io.out << "serving; SIGTERM or Ctrl-C stops it" << std::endl;
  while (!g_serve_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  io.err << "draining\n";
  server.Stop();
  controller.StopAll();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (lost.load()) {
    io.err << "leadership lost: stopped so that a supervisor starts this replica again\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace obsforge::app
