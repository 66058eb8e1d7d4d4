#include "server/status_page.h"

#include <sstream>

namespace obsforge::server {
namespace {

// A CSS class per state keeps the page readable at a glance without any script.
std::string Badge(const std::string& state) {
  if (state.empty()) {
    return "<span class=\"s-none\">not watched</span>";
  }
  std::string cls = "s-other";
  if (state == "ok" || state == "ready" || state == "running" || state == "succeeded") {
    cls = "s-ok";
  } else if (state == "degraded" || state == "rolled_back" || state == "queued" ||
             state == "pending") {
    cls = "s-warn";
  } else if (state == "down" || state == "failed" || state == "failing") {
    cls = "s-bad";
  }
  return "<span class=\"" + cls + "\">" + HtmlEscape(state) + "</span>";
}

bool IsHttpUrl(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

void WriteEnvironment(std::ostringstream& out, const control::StatusEnvironment& env) {
  out << "<h3>" << HtmlEscape(env.name) << " &middot; " << Badge(env.state) << " &middot; health "
      << Badge(env.health);
  if (!env.health_since.empty()) {
    out << " <small>since " << HtmlEscape(env.health_since) << "</small>";
  }
  out << "</h3>\n";
  if (!env.message.empty()) {
    out << "<p class=\"msg\">" << HtmlEscape(env.message) << "</p>\n";
  }
  if (!env.failing.empty()) {
    out << "<ul class=\"failing\">\n";
    for (const auto& f : env.failing) {
      out << "<li>" << HtmlEscape(f) << "</li>\n";
    }
    out << "</ul>\n";
  }
  if (env.components.empty()) {
    return;
  }
  out << "<table>\n<tr><th>component</th><th>state</th><th>health</th><th>URL</th></tr>\n";
  for (const auto& c : env.components) {
    out << "<tr><td>" << HtmlEscape(c.name) << "</td><td>"
        << (c.state.empty() ? "" : Badge(c.state)) << "</td><td>" << Badge(c.health) << "</td><td>";
    if (IsHttpUrl(c.url)) {
      out << "<a href=\"" << HtmlEscape(c.url) << "\">" << HtmlEscape(c.url) << "</a>";
    } else {
      out << HtmlEscape(c.url);
    }
    out << "</td></tr>\n";
  }
  out << "</table>\n";
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

std::string RenderStatusPage(const StatusPage& page) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<title>obsforge status</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em;max-width:70em}"
         "table{border-collapse:collapse;margin:.5em 0 1em}"
         "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
         ".s-ok{color:#176f2c}.s-warn{color:#9a6700}.s-bad{color:#b00020;font-weight:bold}"
         ".s-none,.s-other{color:#666}.msg{color:#b00020}\n"
         "</style>\n</head>\n<body>\n<h1>obsforge status</h1>\n<p><small>version "
      << HtmlEscape(page.version) << " &middot; " << HtmlEscape(page.generated_at)
      << "</small></p>\n";
  if (page.stacks.empty()) {
    out << "<p>No stacks yet.</p>\n";
  }
  for (const auto& stack : page.stacks) {
    out << "<section>\n<h2>" << HtmlEscape(stack.name) << " <small>revision " << stack.revision
        << "</small></h2>\n";
    for (const auto& env : stack.environments) {
      WriteEnvironment(out, env);
    }
    if (!stack.operations.empty()) {
      out << "<h3>last operations</h3>\n<table>\n<tr><th>id</th><th>kind</th><th>env</th>"
             "<th>state</th><th>created</th><th>error</th></tr>\n";
      for (const auto& op : stack.operations) {
        out << "<tr><td>" << HtmlEscape(op.id) << "</td><td>" << HtmlEscape(op.kind) << "</td><td>"
            << HtmlEscape(op.env) << "</td><td>" << Badge(op.state) << "</td><td>"
            << HtmlEscape(op.created_at) << "</td><td>" << HtmlEscape(op.error) << "</td></tr>\n";
      }
      out << "</table>\n";
    }
    out << "</section>\n";
  }
  out << "</body>\n</html>\n";
  return out.str();
}

}  // namespace obsforge::server
