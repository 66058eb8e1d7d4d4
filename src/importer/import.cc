#include "importer/import.h"

#include <algorithm>
#include <set>

#include "core/diagnostic.h"
#include "importer/parts.h"
#include "importer/passthrough.h"
#include "render/emit.h"
#include "render/env.h"
#include "render/passthrough.h"
#include "render/render.h"
#include "render/yaml_json.h"
#include "spec/checks.h"

namespace obsforge::importer {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void Invalid(const std::string& path, const std::string& message) {
  throw core::InputError(core::InputError::Kind::kInvalidSpec,
                         core::Diagnostic{.file = "import", .path = path, .message = message});
}

ordered_json& At(ordered_json& doc, const std::vector<std::string>& path) {
  ordered_json* node = &doc;
  for (const auto& key : path) {
    if (!node->is_object()) {
      *node = ordered_json::object();
    }
    node = &(*node)[key];
  }
  return *node;
}

// The spec being assembled, rendered as often as the lifts need.
class Assembly {
 public:
  Assembly(const ImportRequest& request,
           std::vector<ComponentPart>& parts,
           std::optional<GrafanaPart>& grafana,
           SecretLifter& secrets)
      : request_(request), parts_(parts), grafana_(grafana), secrets_(secrets) {}

  ImportResult Run() {
    ImportResult result;
    result.spec_path = "stacks/" + request_.name + ".yaml";
    for (const auto& part : parts_) {
      files_.insert(part.files.begin(), part.files.end());
    }
    if (grafana_) {
      files_.insert(grafana_->files.begin(), grafana_->files.end());
    }
    // 1. The templates' own output with the lifts, lifts that do not render back dropped.
    std::map<std::string, ordered_json> rendered;
    // Dashboards change no main file: these renders leave them out (they are most of the work
    // with a large Grafana).
    for (int round = 0; round < 3 && !parts_.empty(); ++round) {
      rendered = RenderMain(Build(/*with_passthrough=*/false, /*with_dashboards=*/false), nullptr);
      if (rendered.empty() && !parts_.empty()) {
        // A lift the spec refuses: without lifts the passthrough carries everything.
        for (auto& part : parts_) {
          part.lifts.clear();
        }
        rendered =
            RenderMain(Build(/*with_passthrough=*/false, /*with_dashboards=*/false), nullptr);
        break;
      }
      if (!DropMismatchedLifts(rendered)) {
        break;
      }
    }
    // 2. The passthrough: what the templates do not model.
    passthrough_.clear();
    for (const auto& part : parts_) {
      const auto it = rendered.find(part.component);
      passthrough_[part.component] =
          ComputePassthrough(it == rendered.end() ? ordered_json::object() : it->second,
                             part.original, ExclusionsOf(part));
    }
    // 3. The spec, rendered once more and compared with the originals.
    result.spec = Build(/*with_passthrough=*/true, /*with_dashboards=*/true);
    const auto final_files = RenderMain(result.spec, &result.rendered);
    Verify(final_files);
    result.spec_yaml = Header() + render::EmitYaml(result.spec);
    result.files = files_;
    return result;
  }

  std::vector<std::string> review;
  std::vector<std::string> did;

 private:
  static Exclusions ExclusionsOf(const ComponentPart& part) {
    Exclusions ex;
    for (const auto& lift : part.lifts) {
      ex.lifted.insert(lift.pointers.begin(), lift.pointers.end());
    }
    for (const auto& owned : part.owned) {
      ex.owned.insert(owned.pointer);
    }
    ex.owned_kept = part.owned_kept;
    return ex;
  }

  std::string Header() const {
    std::string header = "# Imported by `obsforge import` from:\n";
    for (const auto& part : parts_) {
      header += "#   " + part.component + ": " + part.origin + "\n";
    }
    if (grafana_ && request_.grafana) {
      header += "#   grafana: " + request_.grafana->url + "\n";
    }
    return header +
           "# components.*.passthrough holds what the templates do not model (docs/import.md).\n";
  }

  ordered_json Build(bool with_passthrough, bool with_dashboards) const {
    ordered_json doc = ordered_json::object();
    doc["apiVersion"] = "obsforge/v1";
    doc["kind"] = "Stack";
    doc["metadata"] = {{"name", request_.name}};
    ordered_json spec = ordered_json::object();
    ordered_json components = ordered_json::object();
    std::vector<ordered_json> alerts;
    ordered_json runtime = ordered_json::object();
    runtime["type"] = "external";
    for (const auto& name : spec::ComponentNames()) {
      const auto part = std::find_if(parts_.begin(), parts_.end(),
                                     [&](const ComponentPart& p) { return p.component == name; });
      if (part == parts_.end()) {
        continue;
      }
      ordered_json c = ordered_json::object();
      c["enabled"] = true;
      for (const auto& [key, value] : part->fields.items()) {
        c[key] = value;
      }
      components[name] = std::move(c);
      alerts.insert(alerts.end(), part->alerts.begin(), part->alerts.end());
      ordered_json rt = ordered_json::object();
      if (!part->config_dir.empty()) {
        rt["config_dir"] = part->config_dir;
      }
      if (const auto url = request_.urls.find(name); url != request_.urls.end()) {
        rt["url"] = url->second;
      }
      if (!part->loki_tenant.empty() && part->loki_tenant != "fake" &&
          part->loki_tenant != request_.name) {
        rt["tenant"] = part->loki_tenant;
      }
      if (!rt.empty()) {
        runtime[name] = std::move(rt);
      }
    }
    for (const auto& part : parts_) {
      for (const auto& lift : part.lifts) {
        for (const auto& [path, value] : lift.fields) {
          if (path.front() == "values") {
            At(spec, path) = value;
          } else {
            At(components, std::vector<std::string>(path.begin() + 1, path.end())) = value;
          }
        }
      }
      if (with_passthrough) {
        const auto& p = passthrough_.at(part.component);
        if (!p.merge.empty()) {
          components[part.component]["passthrough"] = p.merge;
        }
        if (!p.remove.empty()) {
          components[part.component]["passthrough_remove"] = p.remove;
        }
      }
    }
    if (grafana_) {
      components["grafana"] = grafana_->component;
      runtime["grafana"] = grafana_->runtime;
      alerts.insert(alerts.end(), grafana_->alerts.begin(), grafana_->alerts.end());
    }
    spec["components"] = std::move(components);
    if (grafana_ && !grafana_->folders.empty()) {
      spec["folders"] = grafana_->folders;
    }
    if (grafana_ && with_dashboards && !grafana_->dashboards.empty()) {
      spec["dashboards"] = grafana_->dashboards;
    }
    if (!alerts.empty()) {
      spec["alerts"] = alerts;
    }
    spec["environments"] = {{request_.env, {{"runtime", std::move(runtime)}}}};
    doc["spec"] = std::move(spec);
    return doc;
  }

  // Renders `doc` and reads each imported component's main file back. On an error the reason
  // goes to the review and nothing is returned.
  std::map<std::string, ordered_json> RenderMain(const ordered_json& doc, render::Bundle* keep) {
    std::map<std::string, ordered_json> out;
    try {
      const auto content = spec::MakeMemorySource(files_);
      const auto stack =
          spec::ParseStack(render::EmitYaml(doc), "stacks/" + request_.name + ".yaml", *content);
      const auto merged = spec::ForEnvironment(stack, request_.env);
      auto bundle = render::RenderEnvironment(merged, *content, render::RenderOptions{});
      secrets_dir_ = render::SecretsDir(merged, render::RenderOptions{});
      for (const auto& part : parts_) {
        const std::string path =
            render::OutputFolder(part.component) + "/" + render::MainFile(part.component);
        if (const std::string* text = bundle.Find(path); text != nullptr) {
          out[part.component] = render::ParseYaml(*text, path);
        }
      }
      if (keep != nullptr) {
        *keep = std::move(bundle);
      }
      render_error_.clear();
    } catch (const core::InputError& e) {
      render_error_ = e.what();
    }
    return out;
  }

  std::map<std::string, std::string> SecretFiles() const {
    std::map<std::string, std::string> files;
    for (const auto& s : secrets_.secrets()) {
      files[render::SecretFilePath({.kind = core::SecretRef::Kind::kEnv, .name = s.name},
                                   secrets_dir_)] = s.name;
    }
    return files;
  }

  std::set<std::string> SecretNames() const {
    std::set<std::string> names;
    for (const auto& s : secrets_.secrets()) {
      names.insert(s.name);
    }
    return names;
  }

  // Drops every lift whose places do not render back to the original; true when one was.
  bool DropMismatchedLifts(const std::map<std::string, ordered_json>& rendered) {
    bool dropped = false;
    const auto files = SecretFiles();
    const auto names = SecretNames();
    for (auto& part : parts_) {
      const auto it = rendered.find(part.component);
      if (it == rendered.end()) {
        continue;
      }
      const ordered_json back = Unsecret(it->second, files, names);
      std::vector<Lift> kept;
      for (auto& lift : part.lifts) {
        const bool same = std::all_of(
            lift.pointers.begin(), lift.pointers.end(), [&](const std::string& pointer) {
              const ordered_json::json_pointer ptr(pointer);
              return back.contains(ptr) && part.original.contains(ptr) &&
                     DiffAsData(back[ptr], part.original[ptr], {}).empty();
            });
        if (same) {
          kept.push_back(std::move(lift));
        } else {
          dropped = true;
        }
      }
      part.lifts = std::move(kept);
    }
    return dropped;
  }

  void Verify(const std::map<std::string, ordered_json>& rendered) {
    if (!render_error_.empty()) {
      review.push_back("the imported spec does not render yet: " + render_error_);
      return;
    }
    const auto files = SecretFiles();
    const auto names = SecretNames();
    for (const auto& part : parts_) {
      const std::string file = render::MainFile(part.component);
      const auto it = rendered.find(part.component);
      if (it == rendered.end()) {
        review.push_back(file + " was not rendered");
        continue;
      }
      std::vector<std::string> ignored;
      for (const auto& owned : part.owned) {
        ignored.push_back(owned.pointer);
      }
      const auto diffs = DiffAsData(Unsecret(it->second, files, names), part.original, ignored);
      if (diffs.empty()) {
        std::string modelled;
        for (const auto& lift : part.lifts) {
          modelled += (modelled.empty() ? "" : ", ") + lift.what;
        }
        did.push_back(file + " renders back equal as data" +
                      (modelled.empty() ? std::string() : "; modelled: " + modelled));
      } else {
        std::string where;
        for (const auto& d : diffs) {
          where += (where.empty() ? "" : ", ") + PointerToPath(d);
        }
        review.push_back(file + " renders back different from the original at " + where);
      }
    }
  }

  const ImportRequest& request_;
  std::vector<ComponentPart>& parts_;
  std::optional<GrafanaPart>& grafana_;
  SecretLifter& secrets_;
  std::map<std::string, std::string> files_;
  std::map<std::string, Passthrough> passthrough_;
  std::string secrets_dir_;
  std::string render_error_;
};

}  // namespace

std::string Words(const std::string& text, char separator, bool upper) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0) {
      out += static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    } else if (!out.empty() && out.back() != separator) {
      out += separator;
    }
  }
  while (!out.empty() && out.back() == separator) {
    out.pop_back();
  }
  return out;
}

std::string Slug(const std::string& text, const std::string& fallback) {
  std::string out = Words(text, '-', /*upper=*/false);
  if (out.size() > 80) {
    out.resize(80);
  }
  return out.empty() ? (fallback.empty() ? std::string("unnamed") : Slug(fallback, "unnamed"))
                     : out;
}

std::string UniqueIn(std::set<std::string>& taken, const std::string& stem) {
  std::string name = stem;
  for (int n = 2; taken.count(name) != 0; ++n) {
    name = stem + "-" + std::to_string(n);
  }
  taken.insert(name);
  return name;
}

std::string PointerToPath(const std::string& pointer) {
  std::string out;
  std::size_t start = 1;
  while (start <= pointer.size() && pointer.size() > 1) {
    const auto slash = std::min(pointer.find('/', start), pointer.size());
    std::string token = pointer.substr(start, slash - start);
    for (std::size_t i = 0; (i = token.find('~', i)) != std::string::npos; ++i) {
      token.replace(i, 2, token.compare(i, 2, "~1") == 0 ? "/" : "~");
    }
    const bool index = !token.empty() && std::all_of(token.begin(), token.end(), ::isdigit);
    out += index ? "[" + token + "]" : (out.empty() ? "" : ".") + token;
    start = slash + 1;
  }
  return out.empty() ? "/" : out;
}

ImportResult Import(const ImportRequest& request) {
  if (!spec::IsName(request.name)) {
    Invalid("name", "\"" + request.name +
                        "\" is not a valid stack name: lower-case letters, digits and \"-\", "
                        "at most 63 characters");
  }
  if (!spec::IsName(request.env)) {
    Invalid("env", "\"" + request.env + "\" is not a valid environment name");
  }
  if (!request.prometheus && !request.alertmanager && !request.loki && !request.tempo &&
      !request.grafana) {
    Invalid("",
            "nothing to import: give a Prometheus, Alertmanager, Loki or Tempo "
            "configuration, or a Grafana");
  }
  SecretLifter secrets(request.name);
  std::vector<ComponentPart> parts;
  if (request.prometheus) {
    parts.push_back(ImportPrometheus(*request.prometheus, request.files, request.name, secrets));
  }
  if (request.alertmanager) {
    parts.push_back(
        ImportAlertmanager(*request.alertmanager, request.files, request.name, secrets));
  }
  if (request.loki) {
    parts.push_back(ImportLoki(*request.loki, request.files, request.name, secrets));
  }
  if (request.tempo) {
    parts.push_back(ImportTempo(*request.tempo, request.files, request.name, secrets));
  }
  std::optional<GrafanaPart> grafana;
  if (request.grafana) {
    grafana = ImportGrafana(*request.grafana, request.name, request.adopt, secrets);
  }

  Assembly assembly(request, parts, grafana, secrets);
  ImportResult result = assembly.Run();
  Report& report = result.report;
  report.stack = request.name;
  report.env = request.env;
  report.spec_path = result.spec_path;
  for (const auto& part : parts) {
    report.did.insert(report.did.end(), part.did.begin(), part.did.end());
    report.owned.insert(report.owned.end(), part.owned.begin(), part.owned.end());
    report.review.insert(report.review.end(), part.review.begin(), part.review.end());
    if (part.config_dir.empty()) {
      report.review.push_back("runtime." + part.component +
                              ".config_dir: unknown (the configuration was not read from an "
                              "absolute path); set it to where " +
                              render::MainFile(part.component) + " lives");
    }
    if (!request.urls.count(part.component) &&
        (part.component == "prometheus" || part.component == "alertmanager")) {
      report.review.push_back("runtime." + part.component +
                              ".url: not given, so an apply writes the files but does not "
                              "reload " +
                              part.component + "; set it to reload and verify");
    }
  }
  if (grafana) {
    report.did.insert(report.did.end(), grafana->did.begin(), grafana->did.end());
    report.review.insert(report.review.end(), grafana->review.begin(), grafana->review.end());
    report.adopted = grafana->adopted;
  }
  report.did.insert(report.did.end(), assembly.did.begin(), assembly.did.end());
  report.review.insert(report.review.end(), assembly.review.begin(), assembly.review.end());
  report.secrets = secrets.secrets();
  for (const auto& s : report.secrets) {
    if (s.component == "loki" || s.component == "tempo") {
      report.review.push_back(s.name + ": " + s.component + " reads it as ${" + s.name +
                              "}: run it with -config.expand-env=true and the variable set");
    }
  }
  report.files.push_back(result.spec_path);
  for (const auto& [path, text] : result.files) {
    report.files.push_back(path);
  }
  return result;
}

}  // namespace obsforge::importer
