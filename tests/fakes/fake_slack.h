#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/fake_server.h"

namespace obsforge::fakes {

/// Slack incoming webhooks on loopback, following docs/upstream-apis.md §6: POST
/// /services/{team}/{bot}/{secret} with Content-Type application/json answers 200 "ok" and
/// records the message; plain-text errors (400 invalid_payload, no_text, invalid_blocks);
/// Block Kit limits (50 blocks, section text ≤ 3000, section fields ≤ 10 × 2000, header ≤ 150
/// characters); injected failures (429 + Retry-After, 500 rollup_error, 404 channel_not_found,
/// 410 channel_is_archived, …). Thread-safe; stops in its destructor.
class FakeSlack {
 public:
  /// Starts serving on 127.0.0.1:`port` (0 = any). Throws Poco::Exception when binding fails.
  explicit FakeSlack(std::uint16_t port = 0);
  ~FakeSlack();
  FakeSlack(const FakeSlack&) = delete;
  FakeSlack& operator=(const FakeSlack&) = delete;
  FakeSlack(FakeSlack&&) = delete;
  FakeSlack& operator=(FakeSlack&&) = delete;

  std::uint16_t port() const { return server_->port(); }
  /// "http://127.0.0.1:<port>".
  std::string url() const { return server_->url(); }
  /// A webhook URL this fake accepts: url() + "/services/T0FAKE/B0FAKE/" + `secret`.
  std::string WebhookUrl(const std::string& secret = "XXXXXXXXXXXXXXXXXXXXXXXX") const;
  FaultPlan& faults() { return server_->faults(); }
  FakeServer& server() { return *server_; }

  /// The next `count` posts answer 429 with `Retry-After: <seconds>` and a JSON body.
  void RateLimitNext(int count, int retry_after_seconds);
  /// The next `count` posts answer `status` with plain-text `error` (e.g. 500 "rollup_error",
  /// 400 "invalid_payload", 404 "channel_not_found", 410 "channel_is_archived").
  void FailNext(int count, int status, const std::string& error);

  /// Every accepted message (parsed JSON), in arrival order.
  std::vector<nlohmann::json> Messages() const;
  /// The webhook path each accepted message was posted to, in the same order.
  std::vector<std::string> MessagePaths() const;
  /// Every POST received, accepted or not (injected faults included).
  int Attempts() const;
  /// Waits until at least `count` messages were accepted; false on timeout.
  bool WaitForMessages(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<FakeServer> server_;
};

}  // namespace obsforge::fakes
