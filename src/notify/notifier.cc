#include "notify/notifier.h"

#include <algorithm>
#include <condition_variable>
#include <thread>

#include "http/url.h"

namespace obsforge::notify {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string ReplaceAll(std::string text, const std::string& what, const std::string& with) {
  if (what.empty()) {
    return text;
  }
  for (std::size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + with.size())) {
    text.replace(pos, what.size(), with);
  }
  return text;
}

std::string Excerpt(const std::string& body) {
  std::string out = body.substr(0, 200);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

}  // namespace

class Notifier::Sender {
 public:
  Sender(Notifier& owner, std::string key, core::Secret url)
      : owner_(owner), key_(std::move(key)), url_(std::move(url)) {
    owner_.logger_.AddRedaction(url_.Reveal());
    thread_ = std::thread([this] { Run(); });
  }
  ~Sender() { Stop(); }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  Sender(Sender&&) = delete;
  Sender& operator=(Sender&&) = delete;

  void SetUrl(core::Secret url) {
    owner_.logger_.AddRedaction(url.Reveal());
    std::lock_guard lock(mu_);
    url_ = std::move(url);
  }

  void Wake() {
    std::lock_guard lock(mu_);
    woken_ = true;
    cv_.notify_all();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  // Sleeps until `deadline`, or until Wake() when `wakeable`; false once stopping.
  bool SleepUntil(Steady::time_point deadline, bool wakeable) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return stop_ || (wakeable && woken_); });
    if (wakeable) {
      woken_ = false;
    }
    return !stop_;
  }

  bool Stopping() {
    std::lock_guard lock(mu_);
    return stop_;
  }

  TimeMs NowMs() {
    return std::chrono::duration_cast<milliseconds>(owner_.clock_.Now().time_since_epoch()).count();
  }

  // Never let the URL (the credential) reach an error, a reason or a log line.
  std::string Scrub(const std::string& text, const std::string& url) const {
    return ReplaceAll(ReplaceAll(text, url, key_), http::RedactUrl(url), key_);
  }

  // Retries a mark until it is durable: the next message must not go out before it is.
  void Mark(const std::function<core::Result<void>()>& mark) {
    while (true) {
      auto result = mark();
      if (result.ok() || result.error().code == core::ErrorCode::kNotFound ||
          result.error().code == core::ErrorCode::kPrecondition) {
        if (!result.ok()) {
          owner_.logger_.Error("outbox mark refused",
                               {{"channel", key_}, {"error", result.error().message}});
        }
        return;
      }
      owner_.logger_.Error("outbox mark failed; retrying",
                           {{"channel", key_}, {"error", result.error().message}});
      if (!SleepUntil(Steady::now() + owner_.options_.poll, false)) {
        return;
      }
    }
  }

  milliseconds Backoff(int attempts) const {
    auto delay = owner_.options_.backoff_initial;
    for (int i = 0; i < attempts && delay < owner_.options_.backoff_max; ++i) {
      delay *= 2;
    }
    return std::min(delay, owner_.options_.backoff_max);
  }

  // The wait a 429 answer asks for in seconds (Retry-After), or `fallback`.
  static milliseconds RetryAfter(const http::Response& response, milliseconds fallback) {
    const std::string header = response.Header("Retry-After");
    try {
      if (!header.empty()) {
        return std::chrono::seconds(std::max(0, std::stoi(header)));
      }
    } catch (const std::exception&) {
      // an HTTP-date or junk: the default wait
    }
    return fallback;
  }

  void Run() {
    const NotifierOptions& options = owner_.options_;
    Steady::time_point last_send{};
    while (!Stopping()) {
      auto next = owner_.outbox_.NextDue(key_, NowMs());
      if (!next.ok()) {
        owner_.logger_.Error("outbox read failed",
                             {{"channel", key_}, {"error", next.error().message}});
        SleepUntil(Steady::now() + options.poll, false);
        continue;
      }
      if (!next->has_value()) {
        SleepUntil(Steady::now() + options.poll, true);
        continue;
      }
      if (!SleepUntil(last_send + options.min_interval, false)) {
        return;
      }
      const OutboxEntry message = std::move(**next);
      std::string url;
      {
        std::lock_guard lock(mu_);
        url = url_.Reveal();
      }
      http::Request request{.method = "POST", .url = url};
      request.headers = {{"Content-Type", "application/json"}};
      request.body = message.payload_json;
      request.timeout = options.timeout;
      auto response = owner_.client_.Send(request);
      last_send = Steady::now();
      const int attempts = message.attempts + 1;
      const std::string id = std::to_string(message.id);

      if (response.ok() && response->status >= 200 && response->status < 300) {
        Mark([&] { return owner_.outbox_.MarkDelivered(message.id); });
        owner_.logger_.Info("slack message delivered", {{"channel", key_}, {"message", id}});
        continue;
      }
      if (response.ok() && response->status == 429) {
        const milliseconds wait = RetryAfter(*response, options.default_retry_after);
        const std::string error =
            "HTTP 429: rate limited, retry after " + std::to_string(wait.count()) + " ms";
        // Wait out Retry-After before any further send of this webhook, not only this message.
        last_send = Steady::now() + wait - options.min_interval;
        Mark([&] { return owner_.outbox_.MarkAttempt(message.id, NowMs() + wait.count(), error); });
        continue;
      }
      const bool retryable = !response.ok() || response->status >= 500;
      const std::string error = response.ok() ? "HTTP " + std::to_string(response->status) + ": " +
                                                    Scrub(Excerpt(response->body), url)
                                              : Scrub(response.error().message, url);
      if (retryable && attempts < options.max_attempts) {
        const auto delay = Backoff(message.attempts);
        owner_.logger_.Warn("slack send failed; will retry",
                            {{"channel", key_},
                             {"message", id},
                             {"error", error},
                             {"retry_in_ms", std::to_string(delay.count())}});
        Mark(
            [&] { return owner_.outbox_.MarkAttempt(message.id, NowMs() + delay.count(), error); });
        continue;
      }
      const std::string reason =
          retryable ? "gave up after " + std::to_string(attempts) + " attempts: " + error : error;
      owner_.logger_.Warn("slack message dropped",
                          {{"channel", key_}, {"message", id}, {"reason", reason}});
      Mark([&] { return owner_.outbox_.MarkDropped(message.id, reason); });
    }
  }

  Notifier& owner_;
  const std::string key_;
  std::mutex mu_;
  std::condition_variable cv_;
  core::Secret url_;
  bool woken_ = false;
  bool stop_ = false;
  std::thread thread_;
};

Notifier::Notifier(NotifierOptions options,
                   Outbox& outbox,
                   http::HttpClient& client,
                   core::Clock& clock,
                   core::Logger& logger)
    : options_(options), outbox_(outbox), client_(client), clock_(clock), logger_(logger) {
}

Notifier::~Notifier() {
  Stop();
}

void Notifier::AddWebhook(const std::string& channel_key, core::Secret url) {
  std::lock_guard lock(mu_);
  auto& sender = senders_[channel_key];
  if (sender) {
    sender->SetUrl(std::move(url));
  } else {
    sender = std::make_unique<Sender>(*this, channel_key, std::move(url));
  }
}

void Notifier::PostToChannel(const std::string& channel_key,
                             const std::string& channel,
                             nlohmann::json payload,
                             const core::Logger::Fields& context) {
  if (!channel.empty()) {
    payload["channel"] = channel;
  }
  auto posted = Post(channel_key, payload);
  if (!posted.ok()) {
    core::Logger::Fields fields = context;
    fields.emplace_back("error", posted.error().message);
    logger_.Error("could not enqueue a Slack message", fields);
  }
}

core::Result<std::int64_t> Notifier::Post(const std::string& channel_key,
                                          const nlohmann::json& payload) {
  const auto now = std::chrono::duration_cast<milliseconds>(clock_.Now().time_since_epoch());
  auto id = outbox_.Enqueue(channel_key, payload.dump(), now.count());
  if (!id.ok()) {
    return id;
  }
  std::lock_guard lock(mu_);
  if (const auto it = senders_.find(channel_key); it != senders_.end()) {
    it->second->Wake();
  }
  return id;
}

void Notifier::Stop() {
  std::lock_guard lock(mu_);
  for (auto& [key, sender] : senders_) {
    sender->Stop();
  }
}

}  // namespace obsforge::notify
