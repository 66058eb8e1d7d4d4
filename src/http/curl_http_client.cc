#include "http/curl_http_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <curl/curl.h>

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

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool HasHeader(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return EqualsIgnoreCase(header.first, name); });
}

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

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto& headers = *static_cast<Headers*>(user);
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line: whatever came before belonged to an interim (1xx) response.
    headers.clear();
  } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    if (!headers.empty()) {  // obsolete line folding continues the previous value
      headers.back().second += ' ';
      headers.back().second += Trim(line);
    }
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                         std::string(Trim(line.substr(colon + 1))));
  }
  return size * count;
}

ErrorCode CodeFor(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return ErrorCode::kInternal;
    default:
      return ErrorCode::kUnavailable;
  }
}

std::string Prefix(const Request& request) {
  return request.method + " " + RedactUrl(request.url) + ": ";
}

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
    for (const auto& [name, value] : request.headers) {
      // A CR or LF would let a caller-supplied value smuggle extra headers or a second request.
      if (name.empty() || name.find_first_of("\r\n: \t") != std::string::npos) {
        return MakeError(ErrorCode::kInternal,
                         Prefix(request) + "invalid header name '" + name + "'");
      }
      if (value.find_first_of("\r\n") != std::string::npos) {
        return MakeError(ErrorCode::kInternal,
                         Prefix(request) + "header '" + name + "' contains a line break");
      }
    }

    const std::string origin = OriginOf(request.url);
    EasyHandle handle = Acquire(origin, timeout);
    if (!handle) {
      return MakeError(ErrorCode::kTimeout,
                       Prefix(request) + "no connection slot to " + origin +
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
    std::array<char, CURL_ERROR_SIZE> error_text{};
    Response response;
    Slist headers = BuildHeaders(request);

    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text.data());
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals are process-wide: not thread-safe
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
    SetMethod(curl, request);

    const CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
      const std::string text = error_text[0] != '\0' ? error_text.data() : curl_easy_strerror(code);
      return MakeError(CodeFor(code), Prefix(request) + text);
    }
    long status = 0;  // NOLINT(google-runtime-int): the type curl writes
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  static Slist BuildHeaders(const Request& request) {
    Slist list;
    const auto append = [&](const std::string& line) {
      curl_slist* grown = curl_slist_append(list.get(), line.c_str());
      if (grown != nullptr) {
        static_cast<void>(list.release());
        list.reset(grown);
      }
    };
    for (const auto& [name, value] : request.headers) {
      // "Name;" is curl's syntax for a header with an empty value ("Name:" would remove it).
      std::string line = name;
      line += value.empty() ? ";" : ": ";
      line += value;
      append(line);
    }
    if (!HasHeader(request.headers, "Expect")) {
      append("Expect:");  // 100-continue costs a round trip (or a 1 s stall) for nothing here
    }
    if (!HasHeader(request.headers, "Content-Type")) {
      append("Content-Type:");  // curl would claim form-urlencoded for every POST body
    }
    return list;
  }

  static void SetMethod(CURL* curl, const Request& request) {
    const std::string& method = request.method;
    if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
      return;
    }
    const bool has_body =
        !request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (has_body) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    } else {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    if (method != (has_body ? "POST" : "GET")) {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
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
