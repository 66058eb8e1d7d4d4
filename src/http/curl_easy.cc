#include "http/curl_easy.h"

#include <algorithm>
#include <cctype>

#include "http/url.h"
#include <sys/socket.h>

namespace obsforge::http::detail {
namespace {

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
  auto* exchange = static_cast<Exchange*>(user);
  const size_t n = size * count;
  if (n > exchange->max_body_bytes - exchange->response.body.size()) {
    exchange->too_big = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  exchange->response.body.append(data, n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  AddHeaderLine(static_cast<Exchange*>(user)->response.headers,
                std::string_view(data, size * count));
  return size * count;
}

Slist BuildHeaders(const Request& request) {
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

void SetMethod(CURL* curl, const Request& request) {
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

// Opens the socket of a connection, unless the exchange's filter refuses its address (curl
// calls this after DNS, for each address it tries, so a name is held to where it resolved).
curl_socket_t OpenSocket(void* data, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto& exchange = *static_cast<Exchange*>(data);
  if (exchange.filter != nullptr && !exchange.filter->Allows(&address->addr)) {
    exchange.refused = AddressText(&address->addr);
    return CURL_SOCKET_BAD;
  }
  // Close-on-exec: the server starts component processes, which must not inherit connections.
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

}  // namespace

std::string Prefix(const Request& request) {
  return request.method + " " + RedactUrl(request.url) + ": ";
}

std::optional<core::Error> CheckHeaders(const Request& request) {
  for (const auto& [name, value] : request.headers) {
    // A CR or LF would let a caller-supplied value smuggle extra headers or a second request.
    if (name.empty() || name.find_first_of("\r\n: \t") != std::string::npos) {
      return core::Error{.code = core::ErrorCode::kInternal,
                         .message = Prefix(request) + "invalid header name '" + name + "'"};
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      return core::Error{
          .code = core::ErrorCode::kInternal,
          .message = Prefix(request) + "header '" + name + "' contains a line break"};
    }
  }
  return std::nullopt;
}

void AddHeaderLine(Headers& headers, std::string_view line) {
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();
  } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    if (!headers.empty()) {
      headers.back().second += ' ';
      headers.back().second += Trim(line);
    }
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                         std::string(Trim(line.substr(colon + 1))));
  }
}

void Configure(CURL* curl, const Request& request, const EasyConfig& config, Exchange& exchange) {
  const auto timeout = request.timeout.count() > 0 ? request.timeout : config.timeout;
  const auto connect_timeout =
      request.connect_timeout.count() > 0 ? request.connect_timeout : config.connect_timeout;
  exchange.max_body_bytes = config.max_body_bytes;
  exchange.filter = config.filter;
  exchange.headers = BuildHeaders(request);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, exchange.error.data());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals are process-wide: not thread-safe
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, config.user_agent.c_str());
  if (config.accept_encoding) {
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, exchange.headers.get());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &exchange);
  if (config.filter != nullptr) {
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &exchange);
  }
  SetMethod(curl, request);
}

core::Result<Response> Finish(CURL* easy,
                              CURLcode code,
                              const Request& request,
                              Exchange& exchange) {
  if (code == CURLE_OK) {
    long status = 0;  // NOLINT(google-runtime-int): the type curl writes
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    exchange.response.status = static_cast<int>(status);
    return std::move(exchange.response);
  }
  if (exchange.too_big) {
    return core::MakeError(core::ErrorCode::kUpstream, Prefix(request) + "response larger than " +
                                                           std::to_string(exchange.max_body_bytes) +
                                                           " bytes");
  }
  if (!exchange.refused.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidSpec,
                           Prefix(request) + "the server may not connect to " + exchange.refused +
                               " (obsforge.yaml outbound: allow/deny)");
  }
  const std::string text =
      exchange.error[0] != '\0' ? exchange.error.data() : curl_easy_strerror(code);
  return core::MakeError(ErrorCodeFor(code), Prefix(request) + text);
}

core::ErrorCode ErrorCodeFor(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return core::ErrorCode::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return core::ErrorCode::kInternal;
    default:
      return core::ErrorCode::kUnavailable;
  }
}

}  // namespace obsforge::http::detail
