#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obsforge::server {

/// One component row of the status page.
struct StatusComponent {
  std::string name;
  std::string state;   ///< runtime state ("running", "external", ...); "" when unknown
  std::string url;     ///< linked only when it is http(s)
  std::string health;  ///< "ok", "degraded", "down", "unknown"; "" when not watched
};

/// One environment of a stack.
struct StatusEnvironment {
  std::string name;
  std::string state;  ///< as the operations left it ("ready", "failed", ...); "" when never applied
  std::string health;                ///< "ok", "degraded", "down", "unknown"; "" when not watched
  std::string health_since;          ///< RFC 3339
  std::vector<std::string> failing;  ///< "component/check: last error"
  std::vector<StatusComponent> components;
  std::string message;  ///< the last error of its operations
};

/// One recent operation.
struct StatusOperation {
  std::string id;
  std::string kind;
  std::string env;
  std::string state;
  std::string created_at;  ///< RFC 3339
  std::string error;
};

/// One stack.
struct StatusStack {
  std::string name;
  std::int64_t revision = 0;
  std::vector<StatusEnvironment> environments;
  std::vector<StatusOperation> operations;  ///< newest first
};

/// Everything the status page shows.
struct StatusPage {
  std::string version;
  std::string generated_at;  ///< RFC 3339
  std::vector<StatusStack> stacks;
};

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

/// The status page as a complete HTML5 document without scripts: per stack its environments
/// (state, health, failing checks), their components (state, URL, health) and the last
/// operations. Every value is escaped; URLs are links only when they start with http:// or
/// https://. Pure; never throws except std::bad_alloc.
std::string RenderStatusPage(const StatusPage& page);

}  // namespace obsforge::server
