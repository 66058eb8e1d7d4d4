#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace obsforge::notify {

/// Slack's Block Kit limits (docs/upstream-apis.md §6), in characters (code points).
struct SlackLimits {
  std::size_t max_blocks = 50;
  std::size_t section_text = 3000;
  std::size_t field_text = 2000;
  std::size_t fields_per_section = 10;
  std::size_t header_text = 150;
};

/// One component's line in a report.
struct ComponentLine {
  std::string name;    ///< "prometheus"
  std::string state;   ///< "ok", "degraded", "down", "unknown"
  std::string detail;  ///< optional, e.g. "4/5 checks ok"
};

/// A failing check with its last error.
struct FailingCheck {
  std::string component;
  std::string check;
  std::string error;
  std::string since;  ///< RFC 3339, optional
};

/// What an environment health message says.
struct EnvironmentReport {
  std::string stack;
  std::string env;
  std::string state;           ///< new state: "ok", "degraded", "down", "unknown"
  std::string previous_state;  ///< the state last reported
  std::string at;              ///< RFC 3339
  std::vector<ComponentLine> components;
  std::vector<FailingCheck> failing;
  std::string grafana_url;  ///< optional link
};

/// How an apply ended.
struct ApplyReport {
  enum class Outcome { kSucceeded, kRolledBack, kFailed };
  std::string stack;
  std::string env;
  Outcome outcome = Outcome::kSucceeded;
  std::int64_t revision = 0;        ///< the revision applied (or attempted)
  std::int64_t rolled_back_to = 0;  ///< kRolledBack: the revision now running
  std::string reason;               ///< why it failed / was rolled back
  std::string operation_id;         ///< optional
  std::string grafana_url;          ///< optional link
};

/// A gitops commit that was not applied because it is broken (invalid spec, template error,
/// rejected config): nothing was applied anywhere and the last good commit stays live.
struct BrokenCommitReport {
  std::string source;               ///< the gitops source key
  std::string sha;                  ///< the commit
  std::vector<std::string> stacks;  ///< the stacks this message is for (they share the webhook)
  std::string summary;              ///< SyncReport::Summary()
  std::string findings;             ///< one per line, file:line:col: path: message
  std::string operation_id;         ///< the sync operation, optional
};

/// Cuts `text` to at most `max_chars` code points; when cut, the last one is "…". UTF-8 aware
/// (never splits a character). Never throws except std::bad_alloc.
std::string TruncateChars(std::string_view text, std::size_t max_chars);
/// Escapes '&', '<' and '>' as Slack mrkdwn requires.
std::string EscapeMrkdwn(std::string_view text);

/// The webhook payload {text, blocks} for an environment state change ("degraded", "down") or a
/// recovery (state "ok"): a header with the environment's state, a summary line, the components
/// as section fields (at most 10 per section), one section per failing check with its last
/// error, and a Grafana link when known. Within `limits` whatever the input: texts are cut with
/// "…", and failing checks that do not fit in the blocks left are replaced by a context block
/// "…and N more failing checks". `text` (the notification fallback) is always set.
nlohmann::json EnvironmentMessage(const EnvironmentReport& report, const SlackLimits& limits = {});

/// The payload for an apply outcome: succeeded, rolled back (with the reason and the revision
/// running now) or failed (with the reason). Same limits and fallback guarantees.
nlohmann::json ApplyMessage(const ApplyReport& report, const SlackLimits& limits = {});

/// The payload for a broken gitops commit: which commit of which source, the stacks concerned,
/// that the last good commit stays live, and the findings. Same limits and fallback guarantees.
nlohmann::json BrokenCommitMessage(const BrokenCommitReport& report,
                                   const SlackLimits& limits = {});

}  // namespace obsforge::notify
