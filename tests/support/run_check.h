#pragma once

#include <string>

#include "health/checks.h"
#include "health/prober.h"
#include "http/http_client.h"
#include "support/fake_clock.h"

namespace obsforge::testing {

/// Runs one run of `check` to its end on the caller's thread, without a Prober: its request
/// (make_request when set) through `http`, its parser, then each follow-up in turn, with the
/// clock advanced by the follow-up's delay instead of waiting. Returns the last outcome; a
/// chain still going after `max_steps` requests fails with "did not finish".
inline health::ProbeOutcome RunCheckOnce(const health::CheckDefinition& check,
                                         http::HttpClient& http,
                                         FakeClock& clock,
                                         int max_steps = 1000) {
  http::Request request = check.make_request ? check.make_request() : check.request;
  health::ResponseParser parser = check.parser;
  for (int step = 0; step < max_steps; ++step) {
    health::ProbeOutcome outcome = parser(http.Send(request));
    if (!outcome.next) {
      return outcome;
    }
    clock.Advance(outcome.next->delay);
    request = outcome.next->request;
    parser = outcome.next->parser;
  }
  return health::ProbeOutcome::Fail("did not finish");
}

/// The check `component`/`name` of `checks`, or nullptr.
inline const health::ComponentCheck* FindCheck(const std::vector<health::ComponentCheck>& checks,
                                               const std::string& component,
                                               const std::string& name) {
  for (const auto& check : checks) {
    if (check.component == component && check.name == name) {
      return &check;
    }
  }
  return nullptr;
}

}  // namespace obsforge::testing
