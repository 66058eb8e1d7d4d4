#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "control/overview.h"

namespace obsforge::console {

/// The pages of the console. Each one is a server-rendered shell linking console.css and
/// console.js (no inline script or style, so a strict Content-Security-Policy holds); the script
/// fills the shells from the REST API and keeps them live (GET /api/v1/events).
enum class PageKind { kOverview, kStack, kEnvironment, kOperation, kRevisions, kGitOps };

/// What one page shows around its content (an aggregate).
struct PageShell {
  PageKind kind = PageKind::kOverview;
  std::string title;
  std::map<std::string, std::string> data;  ///< data-* attributes of <body> (stack, env, op)
  std::string version;
  std::string generated_at;  ///< RFC 3339
  bool tokens = false;       ///< tokens are configured: the script asks for one
  std::string content;       ///< HTML of <main>, already escaped
};

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

/// A complete HTML5 document: header (navigation, live indicator, token form), `content`,
/// footer. Pure; never throws except std::bad_alloc.
std::string RenderPage(const PageShell& shell);

/// The overview's tiles, one per stack × environment, worst state first (down, a component
/// down or failed, then degraded, then unknown or in progress, then ok; by stack and environment
/// name within a state): name, environment, health and since when, live revision, last operation,
/// failing checks. Every value escaped. Pure; never throws except std::bad_alloc.
std::string RenderTiles(const std::vector<control::StatusStack>& stacks);

/// The overview's content: the filter and the tiles (`with_tiles`), or a placeholder that the
/// script replaces once it has a token.
std::string RenderOverviewContent(const std::vector<control::StatusStack>& stacks, bool with_tiles);

/// The content of the other pages before the script fills them: a heading and a note for a
/// browser without JavaScript.
std::string RenderPlaceholder(const std::string& heading);

/// 0 (worst: down, a component down, failed) to 3 (ok): the overview's order of an environment.
int Severity(const control::StatusEnvironment& env);

}  // namespace obsforge::console
