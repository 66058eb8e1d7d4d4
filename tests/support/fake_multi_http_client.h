#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "http/multi_http_client.h"
#include "support/fake_clock.h"
#include "support/fake_http_client.h"

namespace obsforge::testing {

/// A scripted http::MultiHttpClient for tests of what runs on an event loop (the health
/// prober), on a FakeClock. Requests are answered from script(), a FakeHttpClient (Enqueue, On;
/// see there), when a Poll() delivers them, never when they start; a handler may Advance() the
/// clock to model time on the wire. Hold(url) keeps the requests to `url` (query ignored) in
/// flight until Release(url).
///
/// Time: Poll(max_wait) with nothing to deliver advances the clock by `max_wait`, as the real
/// loop would sleep that long, so a test drives "15 s later" by stepping the loop, never by
/// sleeping. Loop thread only, like the real client (Wakeup is a no-op).
class FakeMultiHttpClient final : public http::MultiHttpClient {
 public:
  explicit FakeMultiHttpClient(FakeClock& clock) : clock_(clock) {}

  /// The answers.
  FakeHttpClient& script() { return script_; }

  /// Keeps requests to `url` (without query) in flight until Release(url).
  void Hold(const std::string& url) { held_.insert(url); }
  /// Lets the held requests to `url` be answered by the next Poll().
  void Release(const std::string& url) { held_.erase(url); }

  void Start(http::Request request, Completion done) override {
    started_.push_back(request);
    pending_.push_back({std::move(request), std::move(done)});
  }

  void Poll(std::chrono::milliseconds max_wait) override {
    std::vector<Pending> ready;
    std::vector<Pending> still;
    for (auto& p : pending_) {
      (held_.count(p.request.url.substr(0, p.request.url.find('?'))) != 0 ? still : ready)
          .push_back(std::move(p));
    }
    pending_ = std::move(still);
    if (ready.empty()) {
      clock_.Advance(max_wait);
      return;
    }
    delivering_ = ready.size();
    for (auto& p : ready) {
      --delivering_;
      p.done(script_.Send(p.request));
    }
  }

  void Wakeup() override {}

  std::size_t InFlight() const override { return pending_.size() + delivering_; }

  /// Every request started so far, in order.
  const std::vector<http::Request>& started() const { return started_; }

 private:
  struct Pending {
    http::Request request;
    Completion done;
  };

  FakeClock& clock_;
  FakeHttpClient script_;
  std::set<std::string> held_;
  std::vector<Pending> pending_;
  std::vector<http::Request> started_;
  std::size_t delivering_ = 0;
};

}  // namespace obsforge::testing
