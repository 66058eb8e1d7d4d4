#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/http_client.h"
#include "notify/outbox.h"

namespace obsforge::notify {

/// Options of a Notifier (an aggregate: use designated initializers).
struct NotifierOptions {
  /// At most one send (attempts included) per webhook per this interval.
  std::chrono::milliseconds min_interval{1000};
  /// First retry delay after a 5xx or a transport error; doubles per attempt up to backoff_max.
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  /// After this many failed attempts (5xx / transport) a message is dropped. 429s do not count.
  int max_attempts = 8;
  /// Wait used when a 429 has no usable Retry-After.
  std::chrono::milliseconds default_retry_after{1000};
  /// Per request.
  std::chrono::milliseconds timeout{10000};
  /// How often an idle sender looks at the outbox (Post wakes it at once).
  std::chrono::milliseconds poll{250};
};

/// Sends Slack webhook messages from a persistent Outbox: one sender thread per webhook, in
/// enqueue order, at most one message per min_interval per webhook.
///
///   200 → delivered; 429 → retried after Retry-After (seconds); 5xx or no response → retried with
///   exponential backoff, dropped after max_attempts; any other status → dropped at once with
///   "HTTP <status>: <body>" as the reason (logged as a warning).
///
/// Each mark is durable before the next message is taken, so a new Notifier on the same outbox
/// (a restart) sends what was left and nothing that was delivered. The webhook URL is a
/// core::Secret: logs, outbox errors and reasons name the channel key, never the URL.
class Notifier {
 public:
  /// All references must outlive the Notifier.
  Notifier(NotifierOptions options,
           Outbox& outbox,
           http::HttpClient& client,
           core::Clock& clock,
           core::Logger& logger);
  /// Stops every sender (see Stop()).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  Notifier(Notifier&&) = delete;
  Notifier& operator=(Notifier&&) = delete;

  /// Registers the webhook `url` under `channel_key` (a secret reference such as
  /// `{secret: SLACK_HEALTH_WEBHOOK}`) and starts its sender, which first delivers what the
  /// outbox still holds for that key. Re-adding a key replaces its URL.
  void AddWebhook(const std::string& channel_key, core::Secret url);
  /// Enqueues `payload` for `channel_key` (durably: returns the outbox's error when it could not)
  /// and wakes its sender. The key need not be registered yet.
  core::Result<std::int64_t> Post(const std::string& channel_key, const nlohmann::json& payload);
  /// Post() with `payload.channel` set to `channel` when it is not empty. A message that could
  /// not be enqueued is logged as an error with `context` (the caller reports and moves on).
  void PostToChannel(const std::string& channel_key,
                     const std::string& channel,
                     nlohmann::json payload,
                     const core::Logger::Fields& context);
  /// Stops the senders after their current send; unsent messages stay in the outbox. Idempotent.
  void Stop();

 private:
  class Sender;
  NotifierOptions options_;
  Outbox& outbox_;
  http::HttpClient& client_;
  core::Clock& clock_;
  core::Logger& logger_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Sender>> senders_;
};

}  // namespace obsforge::notify
