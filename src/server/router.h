#pragma once

#include <map>
#include <string>
#include <vector>

#include "server/api.h"

namespace obsforge::server {

/// A query parameter a route understands (documented in the OpenAPI document).
struct QueryParamDoc {
  std::string name;
  std::string description;
};

/// One route: method, path template with `{name}` segments, who may call it, and its docs.
struct Route {
  std::string method;  ///< "GET", "POST", "PUT", "DELETE"
  std::string path;    ///< e.g. "/api/v1/stacks/{name}"; OpenAPI syntax
  Role role = Role::kViewer;
  BodyKind body = BodyKind::kNone;
  std::string summary;                   ///< one line for the OpenAPI document
  std::vector<QueryParamDoc> query;      ///< query parameters
  std::map<int, std::string> responses;  ///< status -> description
  Handler handler;
};

/// The result of Router::Find.
struct RouteMatch {
  const Route* route = nullptr;  ///< nullptr when nothing matched
  std::map<std::string, std::string> params;
  bool path_known = false;  ///< the path matched some route, but not with this method (405)
  std::vector<std::string> allowed;  ///< methods of the routes the path matched (`Allow`)
};

/// Maps (method, path) to a route. Built once at start-up, then read concurrently.
class Router {
 public:
  /// Registers `route`. Throws std::logic_error when it is undocumented (empty summary or no
  /// responses), its template is malformed, or the same method and template is already there:
  /// every route that serves requests is in the OpenAPI document.
  void Add(Route route);
  /// The route for `method` and `path` (no query string), with its parameters.
  RouteMatch Find(const std::string& method, const std::string& path) const;
  /// Whether some route is served with `method` (any other method gets 405 on every path).
  bool Serves(const std::string& method) const;
  /// Every route in registration order.
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // split templates, parallel to routes_
};

/// Splits "/a/b/c" into {"a","b","c"} (empty segments kept, leading '/' dropped).
std::vector<std::string> SplitPath(const std::string& path);

}  // namespace obsforge::server
