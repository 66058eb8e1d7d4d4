#include "openapi_markdown.h"

#include <array>
#include <cctype>
#include <sstream>

namespace obsforge::docs {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 5> kMethods = {"get", "post", "put", "patch", "delete"};

std::string Upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

// Table cells: a `|` would end the cell, a newline the row.
std::string Cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Role(const json& operation) {
  if (operation.contains("security") && operation["security"].empty()) {
    return "none";
  }
  return operation.value("x-obsforge-role", "viewer");
}

// GitHub-style heading anchor of "METHOD /path".
std::string Anchor(const std::string& heading) {
  std::string out;
  for (const char c : heading) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == ' ' || c == '-') {
      out += '-';
    } else if (c == '_') {
      out += '_';
    }
  }
  return out;
}

void Operation(std::ostringstream& out,
               const std::string& method,
               const std::string& path,
               const json& op) {
  out << "\n## " << Upper(method) << ' ' << path << "\n\n";
  out << op.value("summary", "") << "\n\n";
  const std::string role = Role(op);
  out << "Role: " << (role == "none" ? "none (no token needed)" : "`" + role + "`") << ".\n";
  if (op.contains("parameters")) {
    out << "\n| parameter | in | required | description |\n|---|---|---|---|\n";
    for (const auto& p : op["parameters"]) {
      out << "| `" << p.value("name", "") << "` | " << p.value("in", "") << " | "
          << (p.value("required", false) ? "yes" : "no") << " | "
          << Cell(p.value("description", "")) << " |\n";
    }
  }
  if (op.contains("requestBody")) {
    out << "\nRequest body" << (op["requestBody"].value("required", false) ? " (required)" : "")
        << ":";
    std::string sep = " ";
    for (const auto& [media, unused] : op["requestBody"]["content"].items()) {
      out << sep << '`' << media << '`';
      sep = ", ";
    }
    out << ".\n";
  }
  out << "\n| status | description |\n|---|---|\n";
  for (const auto& [status, response] : op["responses"].items()) {
    std::string description = response.value("description", "");
    if (response.contains("content")) {
      description += " (error envelope)";
    }
    out << "| " << status << " | " << Cell(description) << " |\n";
  }
}

}  // namespace

std::string OpenApiMarkdown(const json& openapi) {
  std::ostringstream out;
  const json& info = openapi.at("info");
  out << "<!-- Generated from the OpenAPI document obsforge serves (GET /api/v1/openapi.json) by\n"
         "     docs/generate; do not edit. tests/docs checks it; OBS_UPDATE_DOCS=1 rewrites it. "
         "-->\n"
      << "# REST API reference\n\n"
      << info.value("description", "") << " OpenAPI " << openapi.value("openapi", "")
      << "; the server serves this document at `GET /api/v1/openapi.json` (its `info.version` is "
         "the server's version).\n\n";
  out << "## Conventions\n\n"
         "- **Authentication**: `Authorization: Bearer <token>`. Each route needs a role: "
         "`viewer` < `editor` < `admin` (a token may call the routes of its role and of the roles "
         "below). Routes with role *none* need no token. Without a tokens file the server accepts "
         "loopback connections only and needs no token. Tokens and roles: "
         "[operations.md](operations.md#listening-and-tokens).\n"
         "- **Bodies**: JSON, except stack specs, which may be sent as `application/yaml` or "
         "`application/json`, alone or as `{\"spec\": ..., \"files\": {\"path\": \"content\"}}` "
         "with the files the spec refers to ([stack-spec.md](stack-spec.md)).\n"
         "- **Errors**: every status of 400 and above has the body "
         "`{\"error\": {\"code\", \"message\", \"details\": [...]}}`";
  const json& error =
      openapi.at("components").at("schemas").at("Error").at("properties").at("error");
  std::string fields;
  for (const auto& name : error.value("required", json::array())) {
    fields += (fields.empty() ? "" : ", ") + ("`" + name.get<std::string>() + "`");
  }
  out << " (required: " << fields
      << "). The codes, their causes and fixes: [troubleshooting.md](troubleshooting.md).\n"
         "- Every response carries `X-Request-ID` (the client's when valid, else a new one).\n";

  out << "\n## Routes\n\n| method | path | role | summary |\n|---|---|---|---|\n";
  const json& paths = openapi.at("paths");
  for (const auto& [path, item] : paths.items()) {
    for (const char* method : kMethods) {
      if (item.contains(method)) {
        const std::string heading = Upper(method) + " " + path;
        out << "| " << Upper(method) << " | [`" << path << "`](#" << Anchor(heading) << ") | "
            << Role(item[method]) << " | " << Cell(item[method].value("summary", "")) << " |\n";
      }
    }
  }
  for (const auto& [path, item] : paths.items()) {
    for (const char* method : kMethods) {
      if (item.contains(method)) {
        Operation(out, method, path, item[method]);
      }
    }
  }
  return out.str();
}

}  // namespace obsforge::docs
