#include "console/pages.h"

#include <algorithm>
#include <sstream>
#include <tuple>

#include "console/assets.h"

namespace obsforge::console {
namespace {

const char* KindName(PageKind kind) {
  switch (kind) {
    case PageKind::kOverview:
      return "overview";
    case PageKind::kStack:
      return "stack";
    case PageKind::kEnvironment:
      return "environment";
    case PageKind::kOperation:
      return "operation";
    case PageKind::kRevisions:
      return "revisions";
    case PageKind::kGitOps:
      return "gitops";
  }
  return "overview";
}

// The asset's URL with its ETag as a version, so a new build is never served from a stale cache.
std::string AssetUrl(std::string_view name) {
  std::string url = "/console/" + std::string(name);
  if (const Asset* asset = FindAsset(name); asset != nullptr) {
    url += "?v=" + std::string(asset->etag.substr(1, asset->etag.size() - 2));
  }
  return url;
}

// One CSS class per severity keeps the page readable at a glance without any script.
const char* SeverityClass(int severity) {
  static const char* const kClasses[] = {"s-bad", "s-warn", "s-none", "s-ok"};
  return kClasses[std::clamp(severity, 0, 3)];
}

// The severity of one state word (health, environment or operation state).
int StateSeverity(const std::string& state) {
  if (state == "down" || state == "failed" || state == "failing" || state == "rolled_back") {
    return 0;
  }
  if (state == "degraded" || state == "superseded") {
    return 1;
  }
  if (state == "ok" || state == "ready" || state == "succeeded" || state == "running") {
    return 3;
  }
  return 2;
}

std::string Badge(const std::string& state) {
  return "<span class=\"badge " + std::string(SeverityClass(StateSeverity(state))) + "\">" +
         HtmlEscape(state.empty() ? "not watched" : state) + "</span>";
}

const control::StatusOperation* LastOperation(const control::StatusStack& stack,
                                              const std::string& env) {
  for (const auto& op : stack.operations) {  // newest first
    if (op.env == env) {
      return &op;
    }
  }
  return nullptr;
}

// "2026-12-05T04:35:02.816Z" → "2026-12-05 04:35:02Z": the datetime attribute keeps the rest.
std::string ShortTime(const std::string& rfc3339) {
  std::string out = rfc3339.substr(0, 19);
  if (out.size() > 10 && out[10] == 'T') {
    out[10] = ' ';
  }
  return HtmlEscape(out) + (out.size() == 19 ? "Z" : "");
}

std::string Labels(const control::StatusStack& stack) {
  std::string out;
  for (const auto& [key, value] : stack.labels) {
    out += (out.empty() ? "" : " ") + key + "=" + value;
  }
  return out;
}

void WriteTile(std::ostringstream& out,
               const control::StatusStack& stack,
               const control::StatusEnvironment& env) {
  const int severity = Severity(env);
  const std::string href = "/stacks/" + stack.name + "/environments/" + env.name;
  const std::string state =
      env.health.empty() ? (env.state.empty() ? "new" : env.state) : env.health;
  out << "<a class=\"tile t-" << SeverityClass(severity) << "\" href=\"" << HtmlEscape(href)
      << "\" data-stack=\"" << HtmlEscape(stack.name) << "\" data-env=\"" << HtmlEscape(env.name)
      << "\" data-state=\"" << HtmlEscape(state) << "\" data-labels=\"" << HtmlEscape(Labels(stack))
      << "\">\n<span class=\"tile-head\"><b>" << HtmlEscape(stack.name)
      << "</b> <span class=\"env\">" << HtmlEscape(env.name)
      << "</span></span>\n<span class=\"tile-state\">" << Badge(env.health);
  if (!env.state.empty() && env.state != "ready") {
    out << ' ' << Badge(env.state);
  }
  out << "</span>\n";
  if (!env.health_since.empty()) {
    out << "<span class=\"since\">since <time datetime=\"" << HtmlEscape(env.health_since) << "\">"
        << ShortTime(env.health_since) << "</time></span>\n";
  }
  out << "<span class=\"rev\">revision "
      << (env.applied_revision > 0 ? std::to_string(env.applied_revision) : std::string("none"))
      << " of " << stack.revision << "</span>\n";
  const control::StatusOperation* op = LastOperation(stack, env.name);
  if (op != nullptr) {
    out << "<span class=\"lastop\">" << HtmlEscape(op->kind) << ' ' << Badge(op->state)
        << " <time datetime=\"" << HtmlEscape(op->created_at) << "\">" << ShortTime(op->created_at)
        << "</time></span>\n";
  }
  if (!env.failing.empty()) {
    out << "<span class=\"failing\">";
    // A tile stays small: the environment page lists every failing check.
    const std::size_t shown = std::min<std::size_t>(env.failing.size(), 3);
    for (std::size_t i = 0; i < shown; ++i) {
      out << HtmlEscape(env.failing[i]) << "<br>";
    }
    if (env.failing.size() > shown) {
      out << "and " << env.failing.size() - shown << " more";
    }
    out << "</span>\n";
  } else if (severity <= 1) {
    // Not failing checks but the last apply: say why.
    const std::string why = !env.message.empty() ? env.message : op != nullptr ? op->error : "";
    if (!why.empty()) {
      out << "<span class=\"failing\">" << HtmlEscape(why) << "</span>\n";
    }
  }
  out << "</a>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

int Severity(const control::StatusEnvironment& env) {
  if (env.health == "down" || env.state == "failed" || env.state == "rolled_back") {
    return 0;
  }
  // A component that is down (a frozen Prometheus) is red even while the others keep the
  // environment merely degraded.
  for (const auto& component : env.components) {
    if (component.health == "down") {
      return 0;
    }
  }
  if (env.health == "degraded" || env.state == "degraded") {
    return 1;
  }
  if (env.health == "ok" && (env.state.empty() || env.state == "ready")) {
    return 3;
  }
  return 2;
}

std::string RenderPage(const PageShell& shell) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
         "<link rel=\"icon\" href=\"data:,\">\n<title>"
      << HtmlEscape(shell.title) << " &middot; obsforge</title>\n<link rel=\"stylesheet\" href=\""
      << AssetUrl("console.css") << "\">\n<script src=\"" << AssetUrl("console.js")
      << "\" defer></script>\n</head>\n<body data-page=\"" << KindName(shell.kind)
      << "\" data-tokens=\"" << (shell.tokens ? "required" : "none") << "\"";
  for (const auto& [key, value] : shell.data) {
    out << " data-" << HtmlEscape(key) << "=\"" << HtmlEscape(value) << "\"";
  }
  out << ">\n<header>\n<a class=\"brand\" href=\"/\">obsforge</a>\n<nav><a href=\"/\">overview</a> "
         "<a href=\"/gitops\">gitops</a></nav>\n<span id=\"live\" class=\"live\" "
         "title=\"live updates\"></span>\n<span id=\"who\" class=\"who\"></span>\n</header>\n"
         "<form id=\"login\" class=\"login\" hidden>\n<label>API token <input id=\"token\" "
         "type=\"password\" autocomplete=\"off\" required></label>\n<button>Sign in</button>\n"
         "<span id=\"login-error\" class=\"msg\"></span>\n</form>\n<main id=\"main\">\n"
      << shell.content << "</main>\n<footer>obsforge " << HtmlEscape(shell.version)
      << " &middot; <time datetime=\"" << HtmlEscape(shell.generated_at) << "\">"
      << HtmlEscape(shell.generated_at) << "</time></footer>\n</body>\n</html>\n";
  return out.str();
}

std::string RenderTiles(const std::vector<control::StatusStack>& stacks) {
  std::vector<std::tuple<int, const control::StatusStack*, const control::StatusEnvironment*>>
      tiles;
  for (const auto& stack : stacks) {
    for (const auto& env : stack.environments) {
      tiles.emplace_back(Severity(env), &stack, &env);
    }
  }
  std::stable_sort(tiles.begin(), tiles.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)->name, std::get<2>(a)->name) <
           std::tie(std::get<0>(b), std::get<1>(b)->name, std::get<2>(b)->name);
  });
  std::ostringstream out;
  if (tiles.empty()) {
    out << "<p class=\"empty\">No stacks yet.</p>\n";
  }
  for (const auto& [severity, stack, env] : tiles) {
    WriteTile(out, *stack, *env);
  }
  return out.str();
}

std::string RenderOverviewContent(const std::vector<control::StatusStack>& stacks,
                                  bool with_tiles) {
  std::ostringstream out;
  out << "<h1>Stacks</h1>\n<p class=\"filters\"><input id=\"filter\" type=\"search\" "
         "placeholder=\"filter: name, label=value or state\" aria-label=\"filter\"> <span "
         "id=\"counts\"></span></p>\n<div id=\"tiles\" class=\"tiles\">\n";
  if (with_tiles) {
    out << RenderTiles(stacks);
  } else {
    out << "<p class=\"empty\">Sign in with an API token to see the stacks (this page needs "
           "JavaScript when tokens are configured).</p>\n";
  }
  out << "</div>\n";
  return out.str();
}

std::string RenderPlaceholder(const std::string& heading) {
  return "<h1>" + HtmlEscape(heading) +
         "</h1>\n<div id=\"view\"><p class=\"empty\">Loading&hellip; (this page needs "
         "JavaScript)</p></div>\n";
}

}  // namespace obsforge::console
