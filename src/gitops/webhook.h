#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/secret.h"

namespace obsforge::gitops {

/// True when `header` (X-Hub-Signature-256) is "sha256=<hex>" and <hex> is the HMAC-SHA256 of
/// `body` under `secret`, compared in constant time. Upper- or lower-case hex is accepted. False
/// for an empty secret, a missing header, another prefix ("sha1=") or a wrong digest.
bool VerifyGithubSignature(std::string_view secret, std::string_view body, std::string_view header);

/// True when `header` (X-Gitlab-Token) equals `secret`, compared in constant time. False for an
/// empty secret or header.
bool VerifyGitlabToken(std::string_view secret, std::string_view header);

/// Remembers webhook delivery ids so a redelivered push triggers nothing.
class DeliveryLog {
 public:
  virtual ~DeliveryLog() = default;
  /// True when `id` was seen before; otherwise records it and returns false. Thread-safe.
  virtual bool Seen(const std::string& id) = 0;
};

/// A DeliveryLog in memory remembering the last `capacity` ids (oldest forgotten first).
class InMemoryDeliveryLog final : public DeliveryLog {
 public:
  explicit InMemoryDeliveryLog(std::size_t capacity = 10'000) : capacity_(capacity) {}
  bool Seen(const std::string& id) override;

 private:
  std::size_t capacity_;
  std::mutex mu_;
  std::deque<std::string> order_;
  std::unordered_set<std::string> ids_;
};

/// What a push notification says.
struct PushEvent {
  std::string ref;    ///< "refs/heads/main"
  std::string after;  ///< new head sha (GitHub `after`, GitLab `checkout_sha`); "" on deletion
};

/// Reads `ref` and `after` (GitHub) or `checkout_sha` (GitLab) from a push payload. nullopt when
/// the body is not a JSON object with a string `ref` (e.g. a GitHub "ping"). Never throws.
std::optional<PushEvent> ParsePushPayload(std::string_view body);

/// One webhook request as the server received it.
struct WebhookRequest {
  /// Header lookup, case-insensitive; "" when absent.
  std::function<std::string(const std::string&)> header;
  std::string body;
};

/// The answer to send back.
struct WebhookResponse {
  int status = 202;     ///< 202 triggered, 200 ignored/duplicate, 401 bad or missing signature
  std::string outcome;  ///< "triggered", "duplicate", "ignored", "unauthorized"
  std::string message;  ///< a sentence for the JSON body / log (no secret in it)
  std::vector<std::string> sources;  ///< keys of the sources triggered
};

/// A gitops source as the webhook sees it.
struct WebhookSource {
  std::string key;                ///< the source key, for logs and the response
  std::string branch;             ///< pushes to other branches are ignored
  core::Secret secret;            ///< webhook_secret
  std::function<void()> trigger;  ///< e.g. Poller::TriggerNow (must not block)
};

/// Verifies a push and triggers the sources it concerns. Steps, in this order:
/// 1. authenticate: a source matches when X-Hub-Signature-256 verifies under its secret, or
///    X-Gitlab-Token equals it; none → 401 "unauthorized" (no delivery recorded, nothing run);
/// 2. dedupe on X-GitHub-Delivery / X-Gitlab-Event-UUID (when present) → 200 "duplicate";
/// 3. parse the push; not a push (ping) or a branch deletion → 200 "ignored";
/// 4. trigger every authenticated source whose `refs/heads/<branch>` is the pushed ref → 202
///    "triggered"; none → 200 "ignored".
/// Thread-safe when `log` is; the sources are fixed at construction. Never throws.
class WebhookHandler {
 public:
  WebhookHandler(std::vector<WebhookSource> sources, DeliveryLog& log)
      : sources_(std::move(sources)), log_(log) {}

  WebhookResponse Handle(const WebhookRequest& request) const;

 private:
  std::vector<WebhookSource> sources_;
  DeliveryLog& log_;
};

}  // namespace obsforge::gitops
