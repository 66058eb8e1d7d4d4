#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "http/http_client.h"

namespace obsforge::testing {

/// A scripted HttpClient for unit tests of the modules that talk to upstreams. Thread-safe.
///
/// Requests are matched by method and URL. For each request the fake tries these keys in order,
/// and the first that has something scripted answers:
///   (method, full URL), (method, URL without "?query"), ("*", full URL), ("*", URL without query).
/// For one key, queued outcomes (Enqueue) are used first, oldest first, then the handler (On).
/// A request nothing matches gets OnUnmatched's handler, by default the error
///   kInternal "FakeHttpClient: nothing scripted for GET http://host/path".
/// Every request is recorded, matched or not. Handlers run without the fake's lock held, so they
/// may block (to test concurrency) or call the fake again.
///
/// Example:
///   FakeHttpClient http;
///   http.Enqueue("GET", "http://grafana:3000/api/health", FakeHttpClient::Json(503, "{}"));
///   http.On("POST", "http://grafana:3000/api/folders", [](const http::Request& r) {
///     return FakeHttpClient::Json(200, r.body);
///   });
///   ... EXPECT_EQ(http.CountRequests("POST", "http://grafana:3000/api/folders"), 1);
class FakeHttpClient final : public http::HttpClient {
 public:
  using Outcome = core::Result<http::Response>;
  using Handler = std::function<Outcome(const http::Request&)>;

  /// Queues `outcome` as the answer to one future request matching `method` ("*" = any) and
  /// `url` (full, or without its query to match any query).
  void Enqueue(const std::string& method, const std::string& url, Outcome outcome) {
    std::lock_guard lock(mu_);
    routes_[{method, url}].queue.push_back(std::move(outcome));
  }

  /// Answers every request matching `method` and `url` (as for Enqueue) with `handler`, once that
  /// key's queue is empty. Replaces the key's previous handler.
  void On(const std::string& method, const std::string& url, Handler handler) {
    std::lock_guard lock(mu_);
    routes_[{method, url}].handler = std::move(handler);
  }

  /// Answers requests that match nothing scripted.
  void OnUnmatched(Handler handler) {
    std::lock_guard lock(mu_);
    unmatched_ = std::move(handler);
  }

  Outcome Send(const http::Request& request) override {
    Handler handler;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      const std::string bare = WithoutQuery(request.url);
      for (const auto& key :
           {std::pair{request.method, request.url}, std::pair{request.method, bare},
            std::pair<std::string, std::string>{"*", request.url},
            std::pair<std::string, std::string>{"*", bare}}) {
        const auto it = routes_.find(key);
        if (it == routes_.end()) {
          continue;
        }
        if (!it->second.queue.empty()) {
          Outcome outcome = std::move(it->second.queue.front());
          it->second.queue.pop_front();
          return outcome;
        }
        if (it->second.handler) {
          handler = it->second.handler;
          break;
        }
      }
      if (!handler) {
        handler = unmatched_;
      }
    }
    if (handler) {
      return handler(request);
    }
    return core::MakeError(core::ErrorCode::kInternal, "FakeHttpClient: nothing scripted for " +
                                                           request.method + " " + request.url);
  }

  /// Every request sent so far, in order.
  std::vector<http::Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  /// The requests sent so far with exactly this method and URL (query included).
  std::vector<http::Request> RequestsTo(const std::string& method, const std::string& url) const {
    std::lock_guard lock(mu_);
    std::vector<http::Request> out;
    for (const auto& request : requests_) {
      if (request.method == method && request.url == url) {
        out.push_back(request);
      }
    }
    return out;
  }

  /// How many requests were sent with exactly this method and URL (query included).
  size_t CountRequests(const std::string& method, const std::string& url) const {
    return RequestsTo(method, url).size();
  }

  /// How many requests used a method other than GET and HEAD (idempotency tests assert 0).
  size_t CountWrites() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& request : requests_) {
      n += request.method != "GET" && request.method != "HEAD" ? 1 : 0;
    }
    return n;
  }

  /// Forgets the recorded requests (scripts stay).
  void ClearRequests() {
    std::lock_guard lock(mu_);
    requests_.clear();
  }

  /// True when every queued outcome has been used.
  bool AllQueuedUsed() const {
    std::lock_guard lock(mu_);
    for (const auto& [key, route] : routes_) {
      if (!route.queue.empty()) {
        return false;
      }
    }
    return true;
  }

  /// A response with `status`, `body` and `headers`.
  static http::Response Reply(int status, std::string body = "", http::Headers headers = {}) {
    return http::Response{.status = status, .headers = std::move(headers), .body = std::move(body)};
  }

  /// A response with `status`, a JSON `body` and Content-Type application/json.
  static http::Response Json(int status, std::string body) {
    return Reply(status, std::move(body), {{"Content-Type", "application/json"}});
  }

  /// A transport error as CurlHttpClient reports it: kUnavailable, "<METHOD> <url>: <text>".
  static core::Error Unavailable(const std::string& method,
                                 const std::string& url,
                                 const std::string& text = "Couldn't connect to server") {
    return core::MakeError(core::ErrorCode::kUnavailable, method + " " + url + ": " + text);
  }

 private:
  struct Route {
    std::deque<Outcome> queue;
    Handler handler;
  };

  static std::string WithoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Route> routes_;
  Handler unmatched_;
  std::vector<http::Request> requests_;
};

}  // namespace obsforge::testing
