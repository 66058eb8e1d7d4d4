#include "http/curl_http_client.h"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "http/curl_easy.h"
#include "http/url.h"

#ifndef OBS_VERSION
#define OBS_VERSION "0.0.0"
#endif

namespace obsforge::http {
namespace {

using core::ErrorCode;
using core::MakeError;

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

}  // namespace

CurlGlobal::CurlGlobal() {
  if (const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    throw std::runtime_error(std::string("curl_global_init failed: ") + curl_easy_strerror(code));
  }
}

CurlGlobal::~CurlGlobal() {
  curl_global_cleanup();
}

std::string CurlOptions::DefaultUserAgent() {
  return "obsforge/" OBS_VERSION;
}

class CurlHttpClient::Impl {
 public:
  explicit Impl(CurlOptions options) : options_(std::move(options)) {
    if (options_.max_per_host < 1) {
      options_.max_per_host = 1;
    }
  }

  core::Result<Response> Send(const Request& request) {
    const auto timeout = request.timeout.count() > 0 ? request.timeout : options_.timeout;
    const auto connect_timeout =
        request.connect_timeout.count() > 0 ? request.connect_timeout : options_.connect_timeout;
    if (auto bad = detail::CheckHeaders(request)) {
      return *bad;
    }

    const std::string origin = OriginOf(request.url);
    EasyHandle handle = Acquire(origin, timeout);
    if (!handle) {
      return MakeError(ErrorCode::kTimeout,
                       detail::Prefix(request) + "no connection slot to " + origin +
                           " became free within " + std::to_string(timeout.count()) +
                           " ms (max_per_host " + std::to_string(options_.max_per_host) + ")");
    }
    auto result = Perform(handle.get(), request, connect_timeout, timeout);
    Release(origin, std::move(handle));
    return result;
  }

  ~Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

 private:
  struct Origin {
    int in_use = 0;
    std::vector<EasyHandle> idle;  // most recently used last: its connection is the freshest
    std::condition_variable freed;
  };

  // Takes a slot for `origin`, waiting up to `timeout`; null when none freed up in time.
  EasyHandle Acquire(const std::string& origin, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    Origin& state = origins_[origin];
    const auto has_slot = [&] { return state.in_use < options_.max_per_host; };
    if (timeout.count() <= 0) {
      state.freed.wait(lock,
                       has_slot);  // no timeout configured at all: curl would wait forever too
    } else if (!state.freed.wait_for(lock, timeout, has_slot)) {
      return nullptr;
    }
    ++state.in_use;
    if (!state.idle.empty()) {
      EasyHandle handle = std::move(state.idle.back());
      state.idle.pop_back();
      return handle;
    }
    lock.unlock();
    EasyHandle handle(curl_easy_init());
    if (!handle) {
      // Only allocation failure makes curl_easy_init fail; give the slot back.
      Release(origin, nullptr);
    }
    return handle;
  }

  void Release(const std::string& origin, EasyHandle handle) {
    if (handle) {
      // reset clears options but keeps the connection cache: the point of pooling.
      curl_easy_reset(handle.get());
    }
    std::lock_guard lock(mu_);
    Origin& state = origins_[origin];
    --state.in_use;
    if (handle) {
      state.idle.push_back(std::move(handle));
    }
    state.freed.notify_one();
  }

  core::Result<Response> Perform(CURL* curl,
                                 const Request& request,
                                 std::chrono::milliseconds connect_timeout,
                                 std::chrono::milliseconds timeout) const {
    detail::Exchange exchange;
    detail::Configure(curl, request,
                      detail::EasyConfig{.connect_timeout = connect_timeout,
                                         .timeout = timeout,
                                         .user_agent = options_.user_agent,
                                         .filter = options_.filter.get()},
                      exchange);
    const CURLcode code = curl_easy_perform(curl);
    return detail::Finish(curl, code, request, exchange);
  }

  CurlOptions options_;
  std::mutex mu_;
  std::map<std::string, Origin> origins_;  // nodes are stable: waiters hold references
};

CurlHttpClient::CurlHttpClient(CurlOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
}

CurlHttpClient::~CurlHttpClient() = default;

core::Result<Response> CurlHttpClient::Send(const Request& request) {
  return impl_->Send(request);
}

}  // namespace obsforge::http
