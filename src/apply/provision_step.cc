#include "apply/provision_step.h"

#include <utility>

#include "core/diagnostic.h"
#include "http/retrying_http_client.h"
#include "provision/desired.h"
#include "provision/grafana_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/loki_ruler.h"
#include "render/env.h"

namespace obsforge::apply {
namespace {

using nlohmann::json;

json RefJson(const std::optional<core::SecretRef>& ref) {
  if (!ref) {
    return nullptr;
  }
  return {{ref->kind == core::SecretRef::Kind::kEnv ? "secret" : "secret_file", ref->name}};
}

std::optional<core::SecretRef> RefFromJson(const json& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  return spec::AsSecretRef(value);
}

// Grafana options with the credentials resolved; a missing secret names the reference only.
core::Result<provision::GrafanaOptions> GrafanaOptionsFor(const ProvisionTarget& target,
                                                          const core::EnvLookup& env) {
  provision::GrafanaOptions options{.base_url = target.grafana_url,
                                    .org_id = target.org_id,
                                    .disable_provenance = target.disable_provenance};
  if (target.token) {
    auto token = core::ResolveSecret(*target.token, env);
    if (!token.ok()) {
      return core::MakeError(token.error().code, "grafana token: " + token.error().message);
    }
    options.token = std::move(token.value());
    return options;
  }
  options.basic_user = target.user.empty() ? "admin" : target.user;
  if (target.password) {
    auto password = core::ResolveSecret(*target.password, env);
    if (!password.ok()) {
      return core::MakeError(password.error().code,
                             "grafana password: " + password.error().message);
    }
    options.basic_password = std::move(password.value());
  } else {
    options.basic_password = core::Secret("admin");
  }
  return options;
}

// One provisioning session: the retrying client, the Grafana client and what the bundle asks
// for, set up once for Plan/Apply.
struct Session {
  Session(const ProvisionTarget& target, const ProvisionContext& ctx)
      : retrying(ctx.http, ctx.clock, {.max_attempts = ctx.max_attempts}, ctx.logger),
        target_(target) {}

  static provision::ProvisionerOptions ProvisionerOptions(const ProvisionContext& ctx) {
    return {.owner = ctx.owner, .revision = ctx.revision};
  }

  provision::LokiRulerOptions LokiOptions(const ProvisionContext& ctx) const {
    return {.base_url = target_.loki_url, .rule_namespace = ctx.owner.stack};
  }

  http::RetryingHttpClient retrying;

 private:
  const ProvisionTarget& target_;
};

std::string CountMessage(const ObjectPlan& plan, int writes) {
  const auto n = plan.grafana.size() + plan.loki.size();
  if (n == 0) {
    return "no changes (0 writes)";
  }
  return std::to_string(n) + (n == 1 ? " object" : " objects") + " changed (" +
         std::to_string(writes) + (writes == 1 ? " write)" : " writes)");
}

// The Grafana part of PlanProvision; what keeps it from planning becomes a note.
void PlanGrafana(const ProvisionTarget& target,
                 const render::Bundle& bundle,
                 const ProvisionContext& ctx,
                 Session& session,
                 ObjectPlan& plan) {
  if (target.grafana_url.empty()) {
    plan.notes.emplace_back("grafana: cannot plan objects: the runtime gives Grafana no url");
    return;
  }
  auto options = GrafanaOptionsFor(target, ctx.env_lookup);
  if (!options.ok()) {
    plan.notes.push_back("grafana: cannot plan objects: " + options.error().message);
    return;
  }
  try {
    const auto desired = provision::LoadDesiredGrafana(bundle, ctx.owner);
    provision::GrafanaClient client(std::move(options.value()), session.retrying);
    provision::GrafanaProvisioner provisioner(Session::ProvisionerOptions(ctx), client, ctx.ledger,
                                              ctx.env_lookup, ctx.logger);
    auto planned = provisioner.Plan(desired);
    if (!planned.ok()) {
      plan.notes.push_back("grafana: cannot plan objects: " + planned.error().message);
      return;
    }
    plan.grafana = std::move(planned->changes);
    plan.conflicts = std::move(planned->conflicts);
    for (auto& note : planned->notes) {
      plan.notes.push_back("grafana: " + std::move(note));
    }
  } catch (const core::InputError& e) {
    plan.notes.push_back(std::string("grafana: cannot plan objects: ") + e.what());
  }
}

}  // namespace

json ProvisionTarget::ToJson() const {
  return {{"grafana", grafana},
          {"grafana_local", grafana_local},
          {"grafana_url", grafana_url},
          {"token", RefJson(token)},
          {"user", user},
          {"password", RefJson(password)},
          {"org_id", org_id},
          {"disable_provenance", disable_provenance},
          {"loki_url", loki_url}};
}

ProvisionTarget ProvisionTarget::FromJson(const json& doc) {
  ProvisionTarget t;
  t.grafana = doc.at("grafana").get<bool>();
  t.grafana_local = doc.value("grafana_local", false);
  t.grafana_url = doc.value("grafana_url", "");
  t.token = RefFromJson(doc.value("token", json()));
  t.user = doc.value("user", "");
  t.password = RefFromJson(doc.value("password", json()));
  t.org_id = doc.value("org_id", 0);
  t.disable_provenance = doc.value("disable_provenance", false);
  t.loki_url = doc.value("loki_url", "");
  return t;
}

ProvisionTarget ProvisionTargetFor(const spec::EnvironmentSpec& env,
                                   const ProvisionAccess& access) {
  ProvisionTarget t;
  const json& components = env.merged.contains("spec") && env.merged["spec"].is_object()
                               ? env.merged["spec"].value("components", json::object())
                               : json::object();
  if (render::ComponentEnabled(env.merged, "grafana")) {
    const json& grafana = components["grafana"];
    const json admin = grafana.value("admin", json::object());
    t.grafana = true;
    t.grafana_local = access.grafana_local;
    t.grafana_url = access.grafana_url;
    t.org_id = static_cast<int>(grafana.value("org_id", 0));
    t.disable_provenance = grafana.value("disable_provenance", false);
    t.user = admin.is_object() ? admin.value("user", "admin") : "admin";
    if (admin.is_object() && admin.contains("password")) {
      t.password = spec::AsSecretRef(admin["password"]);
    }
    if (access.token) {
      t.token = access.token;
    } else if (access.password) {
      t.user = access.user.empty() ? "admin" : access.user;
      t.password = access.password;
    }
  }
  if (render::ComponentEnabled(env.merged, "loki")) {
    t.loki_url = access.loki_url;
  }
  return t;
}

ObjectPlan PlanProvision(const ProvisionTarget& target,
                         const render::Bundle& bundle,
                         const ProvisionContext& ctx) {
  ObjectPlan plan;
  Session session(target, ctx);
  if (target.grafana) {
    PlanGrafana(target, bundle, ctx, session, plan);
  }
  if (!target.loki_url.empty()) {
    try {
      const auto groups = provision::LoadLokiGroups(bundle);
      provision::LokiRuler ruler(session.LokiOptions(ctx), session.retrying, ctx.ledger);
      auto planned = ruler.Plan(groups);
      if (!planned.ok()) {
        plan.notes.push_back("loki: cannot plan rule groups: " + planned.error().message);
      } else {
        plan.loki = std::move(planned.value());
      }
    } catch (const core::InputError& e) {
      plan.notes.push_back(std::string("loki: cannot plan rule groups: ") + e.what());
    }
  }
  return plan;
}

namespace {

ProvisionOutcome Provision(const ProvisionTarget& target,
                           const provision::DesiredGrafana& desired,
                           const provision::LokiGroups& groups,
                           const ProvisionContext& ctx) {
  ProvisionOutcome out;
  Session session(target, ctx);
  auto fail = [&](core::Error error, const char* upstream = "grafana") {
    out.failed_target = upstream;
    out.message = error.message;
    out.error = std::move(error);
    return out;
  };
  if (target.grafana) {
    if (target.grafana_url.empty()) {
      return fail(core::MakeError(core::ErrorCode::kInvalidSpec,
                                  "grafana: the external runtime gives Grafana no url"));
    }
    auto options = GrafanaOptionsFor(target, ctx.env_lookup);
    if (!options.ok()) {
      return fail(options.error());
    }
    provision::GrafanaClient client(std::move(options.value()), session.retrying);
    provision::GrafanaProvisioner provisioner(Session::ProvisionerOptions(ctx), client, ctx.ledger,
                                              ctx.env_lookup, ctx.logger);
    auto applied = provisioner.Apply(desired);
    out.writes += client.writes();
    if (!applied.ok()) {
      return fail(applied.error());
    }
    out.changes.grafana = std::move(applied->plan.changes);
    for (const auto& health : applied->health) {
      if (!health.ok) {
        out.changes.notes.push_back("grafana: datasource \"" + health.uid +
                                    "\" health check failed: " + health.message);
      }
    }
  }
  if (!target.loki_url.empty()) {
    provision::LokiRuler ruler(session.LokiOptions(ctx), session.retrying, ctx.ledger);
    auto applied = ruler.Apply(groups);
    if (!applied.ok()) {
      return fail(applied.error(), "loki");
    }
    out.writes += applied->writes;
    out.changes.loki = std::move(applied->changes);
  }
  out.message = CountMessage(out.changes, out.writes);
  return out;
}

}  // namespace

ProvisionOutcome RunProvision(const ProvisionTarget& target,
                              const render::Bundle& bundle,
                              const ProvisionContext& ctx) {
  provision::DesiredGrafana desired;
  provision::LokiGroups groups;
  try {
    if (target.grafana) {
      desired = provision::LoadDesiredGrafana(bundle, ctx.owner);
    }
    if (!target.loki_url.empty()) {
      groups = provision::LoadLokiGroups(bundle);
    }
  } catch (const core::InputError& e) {
    ProvisionOutcome out;
    out.error = core::Error{.code = core::ErrorCode::kRender, .message = e.what()};
    out.message = e.what();
    out.failed_target = target.grafana ? "grafana" : "loki";
    return out;
  }
  return Provision(target, desired, groups, ctx);
}

ProvisionOutcome Deprovision(const ProvisionTarget& target, const ProvisionContext& ctx) {
  // Empty desired state + prune: exactly the owned objects are deleted.
  return Provision(target, provision::DesiredGrafana{}, provision::LokiGroups{}, ctx);
}

}  // namespace obsforge::apply
