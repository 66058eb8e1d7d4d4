#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/overview.h"

namespace obsforge::server {

/// Everything the status page shows: the application's overview, with the version and time.
struct StatusPage {
  std::string version;
  std::string generated_at;  ///< RFC 3339
  std::vector<control::StatusStack> stacks;
};

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

/// The status page as a complete HTML5 document without scripts: per stack its environments
/// (state, health, failing checks), their components (state, URL, health) and the last
/// operations. Every value is escaped; URLs are links only when they start with http:// or
/// https://. Pure; never throws except std::bad_alloc.
std::string RenderStatusPage(const StatusPage& page);

}  // namespace obsforge::server
