#include "health/prober.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

namespace obsforge::health {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// A scheduled thing: a new run of a check (follow == nullptr) or the next step of a running one.
struct Event {
  Steady::time_point due;
  std::uint64_t seq = 0;
  std::string id;
  std::uint64_t generation = 0;
  std::shared_ptr<FollowUp> follow;
  Steady::time_point chain_start;
  std::chrono::system_clock::time_point started_at;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.due != b.due ? a.due > b.due : a.seq > b.seq;
  }
};

// One request of a run, from TakeDue to its answer.
struct Transfer {
  std::string id;
  std::uint64_t generation = 0;
  http::Request request;
  ResponseParser parser;
  Steady::time_point chain_start;
  std::chrono::system_clock::time_point started_at;
};

}  // namespace

class Prober::Impl {
 public:
  Impl(ProberOptions options, Callback callback, core::Clock& clock, http::MultiHttpClient& http)
      : options_(options), callback_(std::move(callback)), clock_(clock), http_(http) {
    rng_.seed(options_.seed != 0 ? options_.seed : std::random_device{}());
  }

  ~Impl() { Stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void Start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        Step(milliseconds(1000));
      }
    });
  }

  void Stop() {
    stop_ = true;
    http_.Wakeup();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  void Add(CheckDefinition check) {
    if (check.id.empty() || !check.parser || check.interval.count() <= 0) {
      throw std::invalid_argument("Prober::Add: a check needs an id, a parser and an interval > 0");
    }
    {
      std::lock_guard lock(mu_);
      auto& entry = checks_[check.id];
      entry.generation = ++next_generation_;
      entry.running = false;
      auto first = clock_.Monotonic();
      if (options_.spread_first_run) {
        std::uniform_real_distribution<double> offset(0.0, 1.0);
        first += duration_cast<Steady::duration>(check.interval * offset(rng_));
      }
      entry.def = std::move(check);
      ScheduleRunLocked(entry, first);
    }
    http_.Wakeup();
  }

  void Remove(const std::string& id) {
    std::lock_guard lock(mu_);
    checks_.erase(id);
  }

  void RemovePrefix(const std::string& prefix) {
    std::lock_guard lock(mu_);
    for (auto it = checks_.lower_bound(prefix);
         it != checks_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      it = checks_.erase(it);
    }
  }

  void RunNow(const std::string& id) {
    {
      std::lock_guard lock(mu_);
      const auto it = checks_.find(id);
      if (it == checks_.end() || it->second.running) {
        return;
      }
      ScheduleRunLocked(it->second, clock_.Monotonic());
    }
    http_.Wakeup();
  }

  ProberStats Stats() const {
    std::lock_guard lock(mu_);
    ProberStats stats = stats_;
    stats.checks = checks_.size();
    stats.in_flight = in_flight_;
    return stats;
  }

  void Step(milliseconds max_wait) {
    http_.Poll(started_last_step_ ? milliseconds(0) : WaitFor(max_wait));
    auto due = TakeDue(clock_.Monotonic());
    started_last_step_ = !due.empty();
    for (auto& transfer : due) {
      http::Request request = std::move(transfer.request);
      http_.Start(std::move(request),
                  [this, transfer = std::move(transfer)](core::Result<http::Response> answer) {
                    Finish(transfer, answer);
                  });
    }
  }

 private:
  struct Check {
    CheckDefinition def;
    std::uint64_t generation = 0;
    // Only the run event carrying this seq is live; RunNow and rescheduling supersede others.
    std::uint64_t run_seq = 0;
    bool running = false;
  };

  void ScheduleRunLocked(Check& check, Steady::time_point due) {
    Event event{.due = due, .seq = ++next_seq_, .id = check.def.id, .generation = check.generation};
    check.run_seq = event.seq;
    heap_.push(std::move(event));
  }

  Steady::time_point NextRunAfter(const CheckDefinition& def, Steady::time_point start) {
    std::uniform_real_distribution<double> jitter(-options_.jitter, options_.jitter);
    const auto interval = def.interval * (1.0 + jitter(rng_));
    return start + duration_cast<Steady::duration>(interval);
  }

  // Until the next event is due (when a transfer slot is free), at most `max_wait`.
  milliseconds WaitFor(milliseconds max_wait) {
    std::lock_guard lock(mu_);
    if (heap_.empty() || in_flight_ >= static_cast<std::size_t>(options_.max_in_flight)) {
      return max_wait;
    }
    // Rounded up: waking before the event is due would only spin.
    const auto wait = std::chrono::ceil<milliseconds>(heap_.top().due - clock_.Monotonic());
    return std::clamp(wait, milliseconds(0), max_wait);
  }

  // Pops every due event (while transfer slots are free) and returns the requests to start.
  std::vector<Transfer> TakeDue(Steady::time_point now) {
    std::vector<Transfer> out;
    std::vector<std::function<http::Request()>> makers;
    std::lock_guard lock(mu_);
    while (!heap_.empty() && heap_.top().due <= now &&
           in_flight_ < static_cast<std::size_t>(options_.max_in_flight)) {
      Event event = heap_.top();
      heap_.pop();
      const auto it = checks_.find(event.id);
      if (it == checks_.end() || it->second.generation != event.generation) {
        continue;
      }
      Check& check = it->second;
      Transfer transfer{.id = event.id, .generation = event.generation};
      if (event.follow) {
        transfer.request = event.follow->request;
        transfer.parser = event.follow->parser;
        transfer.chain_start = event.chain_start;
        transfer.started_at = event.started_at;
      } else {
        if (event.seq != check.run_seq || check.running) {
          continue;
        }
        check.running = true;
        if (!check.def.make_request) {
          transfer.request = check.def.request;
        }
        transfer.parser = check.def.parser;
        transfer.chain_start = now;
        transfer.started_at = clock_.Now();
      }
      makers.push_back(event.follow ? nullptr : check.def.make_request);
      ++in_flight_;
      ++stats_.requests_sent;
      out.push_back(std::move(transfer));
    }
    // make_request runs under the lock too: it is quick, and keeps the check's state stable.
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (makers[i]) {
        out[i].request = makers[i]();
      }
    }
    return out;
  }

  void Finish(const Transfer& transfer, const core::Result<http::Response>& answer) {
    ProbeOutcome outcome = transfer.parser(answer);
    const auto now = clock_.Monotonic();
    std::optional<CheckResult> result;
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      const auto it = checks_.find(transfer.id);
      if (it == checks_.end() || it->second.generation != transfer.generation) {
        return;
      }
      if (outcome.next) {
        heap_.push(Event{.due = now + outcome.next->delay,
                         .seq = ++next_seq_,
                         .id = transfer.id,
                         .generation = transfer.generation,
                         .follow = outcome.next,
                         .chain_start = transfer.chain_start,
                         .started_at = transfer.started_at});
        return;
      }
      Check& check = it->second;
      check.running = false;
      ScheduleRunLocked(check, std::max(now, NextRunAfter(check.def, transfer.chain_start)));
      ++stats_.runs_finished;
      if (!outcome.ok) {
        ++stats_.failures;
      }
      result = CheckResult{
          .id = transfer.id,
          .ok = outcome.ok,
          .error = std::move(outcome.error),
          .value = outcome.value,
          .started_at = transfer.started_at,
          .duration = duration_cast<std::chrono::microseconds>(now - transfer.chain_start)};
    }
    if (callback_) {
      callback_(*result);
    }
  }

  const ProberOptions options_;
  const Callback callback_;
  core::Clock& clock_;
  http::MultiHttpClient& http_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;
  std::map<std::string, Check> checks_;
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::uint64_t next_generation_ = 0;
  std::uint64_t next_seq_ = 0;
  std::size_t in_flight_ = 0;
  ProberStats stats_;
  std::mt19937_64 rng_;

  // Loop thread only.
  bool started_last_step_ = false;
};

Prober::Prober(ProberOptions options,
               Callback callback,
               core::Clock& clock,
               http::MultiHttpClient& http)
    : impl_(std::make_unique<Impl>(options, std::move(callback), clock, http)) {
}
Prober::~Prober() = default;
void Prober::Start() {
  impl_->Start();
}
void Prober::Stop() {
  impl_->Stop();
}
void Prober::Add(CheckDefinition check) {
  impl_->Add(std::move(check));
}
void Prober::Remove(const std::string& id) {
  impl_->Remove(id);
}
void Prober::RemovePrefix(const std::string& prefix) {
  impl_->RemovePrefix(prefix);
}
void Prober::RunNow(const std::string& id) {
  impl_->RunNow(id);
}
void Prober::Step(std::chrono::milliseconds max_wait) {
  impl_->Step(max_wait);
}
ProberStats Prober::Stats() const {
  return impl_->Stats();
}

}  // namespace obsforge::health
