#include "server/router.h"

#include <algorithm>
#include <stdexcept>

namespace obsforge::server {
namespace {

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
  }
  return "none";
}

const std::string& ApiRequest::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

const std::string& ApiRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  auto it = headers.find(lower_name);
  return it == headers.end() ? kEmpty : it->second;
}

std::optional<std::string> ApiRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) {
    return std::nullopt;
  }
  return it->second;
}

Reply Reply::Json(int status, nlohmann::json body) {
  Reply reply;
  reply.status = status;
  reply.json = std::move(body);
  return reply;
}

Reply Reply::Raw(int status, std::string content_type, std::string body) {
  Reply reply;
  reply.status = status;
  reply.content_type = std::move(content_type);
  reply.raw = std::move(body);
  return reply;
}

Reply Reply::Stream(std::string content_type, StreamBody body) {
  Reply reply;
  reply.content_type = std::move(content_type);
  reply.stream = std::move(body);
  return reply;
}

Reply& Reply::With(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = path.empty() || path.front() != '/' ? 0 : 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    out.push_back(
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  return out;
}

void Router::Add(Route route) {
  if (route.summary.empty() || route.responses.empty()) {
    throw std::logic_error("route " + route.method + " " + route.path + " is undocumented");
  }
  if (route.path.empty() || route.path.front() != '/') {
    throw std::logic_error("route template must start with '/': " + route.path);
  }
  for (const Route& existing : routes_) {
    if (existing.method == route.method && existing.path == route.path) {
      throw std::logic_error("route " + route.method + " " + route.path + " registered twice");
    }
  }
  segments_.push_back(SplitPath(route.path));
  routes_.push_back(std::move(route));
}

RouteMatch Router::Find(const std::string& method, const std::string& path) const {
  RouteMatch match;
  const std::vector<std::string> parts = SplitPath(path);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& segments = segments_[i];
    if (segments.size() != parts.size()) {
      continue;
    }
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t s = 0; s < parts.size() && ok; ++s) {
      if (IsParam(segments[s])) {
        ok = !parts[s].empty();
        params[segments[s].substr(1, segments[s].size() - 2)] = parts[s];
      } else {
        ok = segments[s] == parts[s];
      }
    }
    if (!ok) {
      continue;
    }
    // The first route registered wins; the others only tell which methods the path has.
    if (std::find(match.allowed.begin(), match.allowed.end(), routes_[i].method) ==
        match.allowed.end()) {
      match.allowed.push_back(routes_[i].method);
    }
    if (match.route == nullptr && routes_[i].method == method) {
      match.route = &routes_[i];
      match.params = std::move(params);
    }
  }
  match.path_known = match.route == nullptr && !match.allowed.empty();
  return match;
}

bool Router::Serves(const std::string& method) const {
  return std::any_of(routes_.begin(), routes_.end(),
                     [&](const Route& route) { return route.method == method; });
}

}  // namespace obsforge::server
