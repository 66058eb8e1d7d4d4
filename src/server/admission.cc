#include "server/admission.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

#include "core/error.h"
#include "core/exposition.h"
#include "server/errors.h"

namespace obsforge::server {
namespace {

constexpr int kMaxRetryAfterSeconds = 60;

// Whole seconds, rounded up, within [1, kMaxRetryAfterSeconds].
int RetryAfter(std::chrono::milliseconds wait) {
  const auto seconds = (wait.count() + 999) / 1000;
  return static_cast<int>(std::clamp<std::int64_t>(seconds, 1, kMaxRetryAfterSeconds));
}

}  // namespace

std::string_view RefusalName(Refusal refusal) {
  switch (refusal) {
    case Refusal::kNone:
      return "";
    case Refusal::kQueueFull:
      return "queue_full";
    case Refusal::kQueueWait:
      return "queue_wait";
    case Refusal::kBacklog:
      return "backlog";
  }
  return "";
}

Admission::Admission(AdmissionOptions options, core::Clock& clock)
    : options_(options), clock_(clock) {
}

Verdict Admission::OnAccept() {
  std::lock_guard lock(mu_);
  Verdict verdict{.queued = queued_.size(), .oldest_wait = OldestWaitLocked()};
  if (queued_.size() >= options_.max_queued) {
    verdict.refusal = Refusal::kQueueFull;
    ++queue_full_;
  } else if (!queued_.empty() && verdict.oldest_wait >= options_.max_queue_wait) {
    verdict.refusal = Refusal::kQueueWait;
    ++queue_wait_;
  } else {
    queued_.push_back(clock_.Monotonic());
    return verdict;
  }
  verdict.retry_after_seconds = RetryAfter(verdict.oldest_wait);
  return verdict;
}

void Admission::OnDequeue() {
  std::lock_guard lock(mu_);
  if (!queued_.empty()) {
    queued_.pop_front();
  }
}

bool Admission::KeepAlive() {
  std::lock_guard lock(mu_);
  if (queued_.empty()) {
    return true;
  }
  ++keepalive_ended_;
  return false;
}

void Admission::CountUnanswered() {
  std::lock_guard lock(mu_);
  ++backlog_;
}

std::size_t Admission::queued() const {
  std::lock_guard lock(mu_);
  return queued_.size();
}

std::chrono::milliseconds Admission::oldest_wait() const {
  std::lock_guard lock(mu_);
  return OldestWaitLocked();
}

std::chrono::milliseconds Admission::OldestWaitLocked() const {
  if (queued_.empty()) {
    return std::chrono::milliseconds(0);
  }
  return std::max(
      std::chrono::milliseconds(0),
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - queued_.front()));
}

std::string Admission::MetricsText() const {
  std::lock_guard lock(mu_);
  core::ExpositionWriter out;
  out.Family("obsforge_http_rejected_total", "counter",
             "New connections refused with 503 and Retry-After (backlog: closed unanswered), by "
             "reason.");
  for (const auto& [refusal, count] :
       {std::pair{Refusal::kQueueFull, queue_full_}, std::pair{Refusal::kQueueWait, queue_wait_},
        std::pair{Refusal::kBacklog, backlog_}}) {
    out.Sample("obsforge_http_rejected_total", {{"reason", std::string(RefusalName(refusal))}},
               count);
  }
  out.Family("obsforge_http_keepalive_ended_total", "counter",
             "Answers that closed their kept-alive connection because other connections waited "
             "for a thread.");
  out.Sample("obsforge_http_keepalive_ended_total", {}, keepalive_ended_);
  out.Family("obsforge_http_queued_connections", "gauge",
             "Accepted connections waiting for a connection thread.");
  out.Sample("obsforge_http_queued_connections", {}, std::uint64_t{queued_.size()});
  out.Family("obsforge_http_queue_wait_seconds", "gauge",
             "How long the oldest waiting connection has waited.");
  out.Sample("obsforge_http_queue_wait_seconds", {},
             std::chrono::duration<double>(OldestWaitLocked()).count());
  return out.Take();
}

std::string RefusalResponse(const Verdict& verdict, const std::string& request_id, bool head) {
  std::array<char, 32> wait{};
  std::snprintf(wait.data(), wait.size(), "%.1f",
                std::chrono::duration<double>(verdict.oldest_wait).count());
  const std::string why =
      verdict.refusal == Refusal::kQueueFull
          ? "its connection queue is full (" + std::to_string(verdict.queued) + " waiting)"
          : std::to_string(verdict.queued) + " connections wait for a thread, the oldest for " +
                wait.data() + " s";
  const std::string body =
      ErrorBody(core::MakeError(core::ErrorCode::kUnavailable,
                                "the server is overloaded: " + why + "; retry after " +
                                    std::to_string(verdict.retry_after_seconds) + " s"))
          .dump();
  std::string out = "HTTP/1.1 503 Service Unavailable\r\n";
  out += "Content-Type: application/json\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Retry-After: " + std::to_string(verdict.retry_after_seconds) + "\r\n";
  out += "X-Request-ID: " + request_id + "\r\n";
  out += "Connection: close\r\n";
  out += "Server: obsforge\r\n\r\n";
  if (!head) {
    out += body;
  }
  return out;
}

}  // namespace obsforge::server
