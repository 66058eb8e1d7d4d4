#include "health/prober.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <curl/curl.h>

#include "http/url.h"

namespace obsforge::health {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

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

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string id;
  std::uint64_t generation = 0;
  http::Request request;
  ResponseParser parser;
  http::Response response;
  std::size_t max_body = 0;
  bool too_big = false;
  Steady::time_point chain_start;
  std::chrono::system_clock::time_point started_at;
  std::array<char, CURL_ERROR_SIZE> error{};
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (transfer->response.body.size() + n > transfer->max_body) {
    transfer->too_big = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  transfer->response.body.append(data, n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto& headers = static_cast<Transfer*>(user)->response.headers;
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();  // a new status line: earlier headers were an interim 1xx response's
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                         std::string(Trim(line.substr(colon + 1))));
  }
  return size * count;
}

}  // namespace

class Prober::Impl {
 public:
  Impl(ProberOptions options, Callback callback, core::Clock& clock)
      : options_(options), callback_(std::move(callback)), clock_(clock) {
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_host_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(options_.max_cached_connections));
    rng_.seed(options_.seed != 0 ? options_.seed : std::random_device{}());
  }

  ~Impl() {
    Stop();
    for (auto& [easy, transfer] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
      curl_slist_free_all(transfer->headers);
      curl_easy_cleanup(easy);
    }
    for (CURL* easy : idle_) {
      curl_easy_cleanup(easy);
    }
    curl_multi_cleanup(multi_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }

  void Stop() {
    stop_ = true;
    curl_multi_wakeup(multi_);
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
      const auto now = Steady::now();
      auto first = now;
      if (options_.spread_first_run) {
        std::uniform_real_distribution<double> offset(0.0, 1.0);
        first += duration_cast<Steady::duration>(check.interval * offset(rng_));
      }
      entry.def = std::move(check);
      ScheduleRunLocked(entry, first);
    }
    curl_multi_wakeup(multi_);
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
      ScheduleRunLocked(it->second, Steady::now());
    }
    curl_multi_wakeup(multi_);
  }

  ProberStats Stats() const {
    std::lock_guard lock(mu_);
    ProberStats stats = stats_;
    stats.checks = checks_.size();
    stats.in_flight = in_flight_;
    return stats;
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

  // Pops every due event (while transfer slots are free) and returns the requests to start.
  std::vector<std::unique_ptr<Transfer>> TakeDue(Steady::time_point now) {
    std::vector<std::unique_ptr<Transfer>> out;
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
      auto transfer = std::make_unique<Transfer>();
      transfer->id = event.id;
      transfer->generation = event.generation;
      transfer->max_body = options_.max_body_bytes;
      if (event.follow) {
        transfer->request = event.follow->request;
        transfer->parser = event.follow->parser;
        transfer->chain_start = event.chain_start;
        transfer->started_at = event.started_at;
      } else {
        if (event.seq != check.run_seq || check.running) {
          continue;
        }
        check.running = true;
        if (!check.def.make_request) {
          transfer->request = check.def.request;
        }
        transfer->parser = check.def.parser;
        transfer->chain_start = now;
        transfer->started_at = clock_.Now();
      }
      makers.push_back(event.follow ? nullptr : check.def.make_request);
      ++in_flight_;
      out.push_back(std::move(transfer));
    }
    // make_request runs under the lock too: it is quick, and keeps the check's state stable.
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (makers[i]) {
        out[i]->request = makers[i]();
      }
    }
    return out;
  }

  void StartTransfer(std::unique_ptr<Transfer> transfer) {
    CURL* easy = nullptr;
    if (!idle_.empty()) {
      easy = idle_.back();
      idle_.pop_back();
      curl_easy_reset(easy);
    } else {
      easy = curl_easy_init();
    }
    if (easy == nullptr) {
      Finish(std::move(transfer),
             core::MakeError(core::ErrorCode::kInternal, "curl_easy_init failed"));
      return;
    }
    const http::Request& r = transfer->request;
    transfer->easy = easy;
    curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "obsforge-health");
    curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error.data());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
    if (r.connect_timeout.count() > 0) {
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(r.connect_timeout.count()));
    }
    if (r.timeout.count() > 0) {
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    }
    if (r.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (r.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    // No "Expect: 100-continue" round trip for the small bodies probes send.
    transfer->headers = curl_slist_append(nullptr, "Expect:");
    for (const auto& [name, value] : r.headers) {
      transfer->headers = curl_slist_append(transfer->headers, (name + ": " + value).c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
    curl_multi_add_handle(multi_, easy);
    {
      std::lock_guard lock(mu_);
      ++stats_.requests_sent;
    }
    transfers_.emplace(easy, std::move(transfer));
  }

  void Completed(CURL* easy, CURLcode code) {
    auto node = transfers_.extract(easy);
    std::unique_ptr<Transfer> transfer = std::move(node.mapped());
    curl_multi_remove_handle(multi_, easy);
    curl_slist_free_all(transfer->headers);
    transfer->headers = nullptr;
    transfer->easy = nullptr;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      transfer->response.status = static_cast<int>(status);
    }
    idle_.push_back(easy);
    const std::string prefix =
        transfer->request.method + " " + http::RedactUrl(transfer->request.url);
    if (code == CURLE_OK) {
      http::Response response = std::move(transfer->response);
      Finish(std::move(transfer), std::move(response));
    } else if (transfer->too_big) {
      Finish(std::move(transfer),
             core::MakeError(core::ErrorCode::kUpstream,
                             prefix + ": response larger than " +
                                 std::to_string(options_.max_body_bytes) + " bytes"));
    } else {
      const std::string detail =
          transfer->error[0] != '\0' ? transfer->error.data() : curl_easy_strerror(code);
      const auto error_code = code == CURLE_OPERATION_TIMEDOUT ? core::ErrorCode::kTimeout
                                                               : core::ErrorCode::kUnavailable;
      Finish(std::move(transfer), core::MakeError(error_code, prefix + ": " + detail));
    }
  }

  void Finish(std::unique_ptr<Transfer> transfer, const core::Result<http::Response>& answer) {
    ProbeOutcome outcome = transfer->parser(answer);
    const auto now = Steady::now();
    std::optional<CheckResult> result;
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      const auto it = checks_.find(transfer->id);
      if (it == checks_.end() || it->second.generation != transfer->generation) {
        return;
      }
      if (outcome.next) {
        heap_.push(Event{.due = now + outcome.next->delay,
                         .seq = ++next_seq_,
                         .id = transfer->id,
                         .generation = transfer->generation,
                         .follow = outcome.next,
                         .chain_start = transfer->chain_start,
                         .started_at = transfer->started_at});
        return;
      }
      Check& check = it->second;
      check.running = false;
      ScheduleRunLocked(check, std::max(now, NextRunAfter(check.def, transfer->chain_start)));
      ++stats_.runs_finished;
      if (!outcome.ok) {
        ++stats_.failures;
      }
      result = CheckResult{
          .id = transfer->id,
          .ok = outcome.ok,
          .error = std::move(outcome.error),
          .value = outcome.value,
          .started_at = transfer->started_at,
          .duration = duration_cast<std::chrono::microseconds>(now - transfer->chain_start)};
    }
    if (callback_) {
      callback_(*result);
    }
  }

  void Loop() {
    while (!stop_) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg == CURLMSG_DONE) {
          Completed(msg->easy_handle, msg->data.result);
        }
      }
      const auto now = Steady::now();
      auto due = TakeDue(now);
      for (auto& transfer : due) {
        StartTransfer(std::move(transfer));
      }
      if (!due.empty()) {
        continue;  // let curl start the new transfers before sleeping
      }
      int timeout_ms = 1000;
      {
        std::lock_guard lock(mu_);
        if (!heap_.empty() && in_flight_ < static_cast<std::size_t>(options_.max_in_flight)) {
          const auto wait = duration_cast<milliseconds>(heap_.top().due - now).count() + 1;
          timeout_ms = static_cast<int>(std::clamp<long long>(wait, 0, 1000));
        }
      }
      curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
    }
  }

  const ProberOptions options_;
  const Callback callback_;
  core::Clock& clock_;
  CURLM* multi_ = nullptr;
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
  std::map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<CURL*> idle_;
};

Prober::Prober(ProberOptions options, Callback callback, core::Clock& clock)
    : impl_(std::make_unique<Impl>(options, std::move(callback), clock)) {
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
ProberStats Prober::Stats() const {
  return impl_->Stats();
}

}  // namespace obsforge::health
