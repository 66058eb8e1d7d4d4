#include "server/adapter.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <random>
#include <stdexcept>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "core/diagnostic.h"
#include "server/errors.h"
#include "spec/document.h"

namespace obsforge::server {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

struct Outgoing {
  Reply reply;
  bool close = false;  // the connection cannot be reused (framing unclear, or body too large)
};

Outgoing Fail(int status, const std::string& code, const std::string& message) {
  return {.reply = Reply::Json(status, ErrorBody(code, message))};
}

Outgoing FailAndClose(int status, const std::string& code, const std::string& message) {
  Outgoing out = Fail(status, code, message);
  out.close = true;
  return out;
}

bool IsYaml(const std::string& media) {
  return media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml" ||
         media == "text/x-yaml";
}

// An unread body left after an early answer (401, 404, 415, ...) would be read as the next
// request on a kept-alive connection. Up to this much is read and dropped so the connection
// stays usable; a longer body closes it.
constexpr std::size_t kDrainLimit = 1U << 20U;
// After closing the sending side, how much more of a body is read and dropped (for at most
// kLingerTimeoutSeconds) so the client reads the answer instead of a connection reset.
constexpr std::size_t kLingerLimit = 4U << 20U;
constexpr std::int64_t kLingerTimeoutSeconds = 1;
// Bodies are read in pieces of this size.
using Chunk = std::array<char, 8192>;

// Reads at most limit + 1 bytes: one more than allowed tells that the body is too large.
std::string ReadBody(std::istream& in, std::size_t limit) {
  std::string body;
  Chunk buffer{};
  while (body.size() <= limit && in) {
    in.read(buffer.data(), buffer.size());
    body.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  return body;
}

// Sends a streamed body chunk by chunk, flushing each; returns the bytes written. The stream
// ends the connection: no keep-alive after it.
std::size_t SendStream(const StreamBody& stream,
                       HTTPServerResponse& response,
                       Poco::Net::StreamSocket* socket) {
  response.setChunkedTransferEncoding(true);
  response.setKeepAlive(false);
  response.set("Cache-Control", "no-store");
  response.set("X-Accel-Buffering", "no");
  std::ostream& os = response.send();
  os.flush();
  std::size_t sent = 0;
  const StreamWrite write = [&](const std::string& piece) {
    if (!os) {
      return false;
    }
    os.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    os.flush();
    if (!os) {
      return false;
    }
    sent += piece.size();
    return true;
  };
  // A client that closed its side makes the socket readable with nothing to read.
  const StreamGone gone = [socket] {
    try {
      return socket != nullptr && socket->poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ) &&
             socket->available() == 0;
    } catch (const Poco::Exception&) {
      return true;
    }
  };
  stream(write, gone);
  return sent;
}

// Reads and drops up to `limit` bytes of the body; true when it ended within them.
bool Drain(std::istream& in, std::size_t limit) {
  try {
    Chunk buffer{};
    std::size_t total = 0;
    while (in && total <= limit) {
      in.read(buffer.data(), buffer.size());
      total += static_cast<std::size_t>(in.gcount());
    }
    return in.eof() && total <= limit;
  } catch (const std::exception&) {
    return false;  // malformed chunks, timeout: the framing is lost
  }
}

// Closes the sending side, then reads what the client still sends for a short while: closing
// with unread data makes the kernel reset the connection, and a client still sending its body
// may then never read the answer.
void Linger(Poco::Net::StreamSocket& socket) {
  try {
    socket.shutdownSend();
    socket.setReceiveTimeout(Poco::Timespan(kLingerTimeoutSeconds, 0));
    Chunk buffer{};
    std::size_t total = 0;
    while (total < kLingerLimit) {
      const int n = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) {
        break;
      }
      total += static_cast<std::size_t>(n);
    }
  } catch (const std::exception&) {
    // Timed out or reset: the connection is closed either way.
  }
}

// A method as it may appear in messages and logs: Poco accepts any bytes but blanks there.
std::string PrintableMethod(const std::string& method) {
  std::string out = method;
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x21 || byte > 0x7E) {
      c = '?';
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

// The request's framing, checked before anything is routed: a body this server would read
// differently from a proxy in front of it (Transfer-Encoding other than plain "chunked", or
// together with Content-Length; a negative Content-Length) is refused and the connection closed.
std::optional<Outgoing> CheckFraming(const HTTPServerRequest& request) {
  // A copy: get() returns a reference to its default argument when the header is absent.
  const std::string encoding = request.get("Transfer-Encoding", "");
  if (!encoding.empty() &&
      (Poco::icompare(encoding, "chunked") != 0 || request.hasContentLength())) {
    return FailAndClose(400, "bad_request",
                        "Transfer-Encoding must be \"chunked\" and come without Content-Length");
  }
  if (request.hasContentLength() && request.getContentLength64() < 0) {
    return FailAndClose(400, "bad_request", "negative Content-Length");
  }
  return std::nullopt;
}

std::optional<Outgoing> CheckUtf8(const ApiRequest& req) {
  bool valid = !spec::FindInvalidUtf8(req.path).has_value();
  for (const auto& [key, value] : req.query) {
    valid = valid && !spec::FindInvalidUtf8(key) && !spec::FindInvalidUtf8(value);
  }
  if (!valid) {
    return Fail(400, "bad_request", "the request URI is not valid UTF-8 once decoded");
  }
  return std::nullopt;
}

// One exchange as its steps see it.
struct Exchange {
  HTTPServerRequest& request;
  ApiRequest req;
  std::string method;                     // as it may appear in messages and logs
  std::string route_label = "unmatched";  // the metrics label
  bool body_pending = false;              // a body is on the wire and not read yet
};

// The request target: path and query decoded; 400 when the URI or what it decodes to is not
// UTF-8 or the URI is malformed.
std::optional<Outgoing> ReadTarget(const HTTPServerRequest& request, ApiRequest& req) {
  if (spec::FindInvalidUtf8(request.getURI())) {
    return Fail(400, "bad_request", "the request URI is not valid UTF-8");
  }
  try {
    const Poco::URI uri(request.getURI());
    req.path = uri.getPath();
    for (const auto& [key, value] : uri.getQueryParameters()) {
      req.query[key] = value;
    }
  } catch (const std::exception&) {
    return Fail(400, "bad_request", "malformed request URI");
  }
  if (auto invalid = CheckUtf8(req)) {
    req.path.clear();  // not logged either
    return invalid;
  }
  return std::nullopt;
}

// No route matched: 405 for a method the path or the API does not serve, else 404.
Outgoing NoRoute(const Router& router,
                 const RouteMatch& match,
                 const ApiRequest& req,
                 const std::string& method) {
  if (match.path_known || !router.Serves(req.method)) {
    Outgoing out = Fail(405, "method_not_allowed", method + " is not allowed on " + req.path);
    if (!match.allowed.empty()) {
      out.reply.With("Allow", Join(match.allowed));
    }
    return out;
  }
  return Fail(404, "not_found", "no route for " + method + " " + req.path);
}

// The token's actor and scope into `req`; 401/403 when it may not use the route, and 404 for a
// stack outside its scope (answered as one that does not exist).
std::optional<Outgoing> Authorize(const TokenTable& tokens,
                                  const HTTPServerRequest& request,
                                  const Route& route,
                                  ApiRequest& req) {
  const AuthResult auth = tokens.Authorize(request.get("Authorization", ""), route.role);
  if (auth.status != 200) {
    Outgoing out =
        Fail(auth.status, auth.status == 401 ? "unauthorized" : "forbidden", auth.message);
    if (auth.status == 401) {
      out.reply.With("WWW-Authenticate", "Bearer");
    }
    return out;
  }
  req.actor = auth.actor;
  req.scope = auth.scope;
  if (const auto name = req.params.find("name"); name != req.params.end() &&
                                                 route.path.starts_with("/api/v1/stacks/") &&
                                                 !req.scope.Allows(name->second)) {
    // The body left unread is drained or the connection closed, as on every early error.
    const core::Error hidden = StackNotFound(name->second);
    return Outgoing{.reply = Reply::Json(ErrorToStatus(hidden.code), ErrorBody(hidden))};
  }
  return std::nullopt;
}

// The request's headers with lower-case names, all but Authorization.
void CopyHeaders(const HTTPServerRequest& request, ApiRequest& req) {
  for (const auto& [name, value] : request) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "authorization") {
      req.headers[lower] = value;
    }
  }
}

// Reads the body the route takes into `req`: 413 beyond `limit`, 415 for a content type the
// route does not take, 408/400 when it cannot be read.
std::optional<Outgoing> ReadRequestBody(HTTPServerRequest& request,
                                        const Route& route,
                                        std::size_t limit,
                                        ApiRequest& req) {
  const std::string too_large = "request body exceeds " + std::to_string(limit) + " bytes";
  if (request.hasContentLength() &&
      static_cast<std::uint64_t>(request.getContentLength64()) > limit) {
    return FailAndClose(413, "payload_too_large", too_large);
  }
  req.media_type = MediaType(request.getContentType());
  const bool json = req.media_type == "application/json";
  if ((route.body == BodyKind::kSpec && !json && !IsYaml(req.media_type)) ||
      (route.body == BodyKind::kJson && !json)) {
    return Fail(415, "unsupported_media_type",
                "content type \"" + req.media_type + "\" is not supported here; use " +
                    (route.body == BodyKind::kJson ? "application/json"
                                                   : "application/yaml or application/json"));
  }
  try {
    req.body = ReadBody(request.stream(), limit);
  } catch (const Poco::TimeoutException&) {
    return FailAndClose(408, "request_timeout", "the request body did not arrive in time");
  } catch (const Poco::Exception& e) {
    return FailAndClose(400, "bad_request", "cannot read the request body: " + e.message());
  }
  if (req.body.size() > limit) {
    return FailAndClose(413, "payload_too_large", too_large);
  }
  return std::nullopt;
}

// Calls the route's handler; its error becomes the envelope.
Outgoing Dispatch(const Route& route, ApiRequest& req) {
  if (route.body == BodyKind::kJson) {
    // The spec reader's JSON: limits, UTF-8 and finite numbers, errors with line and column.
    req.json = spec::ParseJsonDocument(req.body, "body").document;
  }
  core::Result<Reply> result = route.handler(req);
  if (!result.ok()) {
    return {.reply = Reply::Json(ErrorToStatus(result.error().code), ErrorBody(result.error()))};
  }
  return {.reply = std::move(result).value()};
}

// The answer to one request, in order: framing, target, route, auth, headers, body, handler.
// May throw (the caller maps exceptions to the envelope).
Outgoing Serve(Exchange& ex, const Router& router, const TokenTable& tokens, std::size_t limit) {
  HTTPServerRequest& request = ex.request;
  ApiRequest& req = ex.req;
  if (auto framing = CheckFraming(request)) {
    ex.body_pending = true;
    return *framing;
  }
  const bool has_body = request.hasContentLength() ? request.getContentLength64() > 0
                                                   : request.getChunkedTransferEncoding();
  ex.body_pending = has_body;
  if (auto bad = ReadTarget(request, req)) {
    return *bad;
  }
  RouteMatch match = router.Find(req.method, req.path);
  if (match.route == nullptr) {
    return NoRoute(router, match, req, ex.method);
  }
  const Route& route = *match.route;
  ex.route_label = route.path;
  req.route = route.path;
  req.params = std::move(match.params);
  if (auto denied = Authorize(tokens, request, route, req)) {
    return *denied;
  }
  CopyHeaders(request, req);
  if (has_body) {
    if (auto failed = ReadRequestBody(request, route, limit, req)) {
      return *failed;
    }
    ex.body_pending = false;
  } else if (route.body != BodyKind::kNone) {
    return Fail(400, "invalid_spec", "request body required");
  }
  return Dispatch(route, req);
}

// Writes the answer; returns the body bytes written. Throws when the connection fails.
std::size_t Respond(Outgoing& out,
                    const ApiRequest& req,
                    Poco::Net::HTTPServerRequestImpl* impl,
                    int write_timeout_ms,
                    HTTPServerResponse& response) {
  Reply& reply = out.reply;
  // Never throws on text that is not UTF-8 (a handler may echo what the client sent).
  const std::string body =
      reply.stream ? ""
      : reply.raw  ? *reply.raw
                   : reply.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (impl != nullptr) {
    impl->socket().setSendTimeout(Poco::Timespan(write_timeout_ms * 1000LL));
  }
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
  response.setContentType(reply.content_type);
  response.set("X-Request-ID", req.request_id);
  for (const auto& [name, value] : reply.headers) {
    response.set(name, value);
  }
  if (out.close) {
    response.setKeepAlive(false);
  }
  if (reply.stream) {
    return SendStream(reply.stream, response, impl != nullptr ? &impl->socket() : nullptr);
  }
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  // send() and a flush rather than sendBuffer(), which keeps the answer in a stream Poco writes
  // only after the handler returns: Linger() must come after the answer is on the wire.
  std::ostream& stream = response.send();
  if (req.method != "HEAD") {
    stream.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  stream.flush();
  if (!stream) {
    throw std::runtime_error("the connection failed while the answer was written");
  }
  return body.size();
}

}  // namespace

std::string RequestId(const std::string& client_value) {
  const bool valid = !client_value.empty() && client_value.size() <= 128 &&
                     std::all_of(client_value.begin(), client_value.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                              c == '_' || c == ':' || c == '-';
                     });
  if (valid) {
    return client_value;
  }
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::array<char, 17> id{};
  std::snprintf(id.data(), id.size(), "%016llx", static_cast<unsigned long long>(random()));
  return id.data();
}

std::string MediaType(const std::string& content_type) {
  std::string media = content_type.substr(0, content_type.find(';'));
  media.erase(std::remove_if(media.begin(), media.end(),
                             [](unsigned char c) { return std::isspace(c) != 0; }),
              media.end());
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return media;
}

ApiAdapter::ApiAdapter(const Router& router,
                       const TokenTable& tokens,
                       Metrics& metrics,
                       core::Logger& logger,
                       AdapterOptions options)
    : router_(router), tokens_(tokens), metrics_(metrics), logger_(logger), options_(options) {
}

void ApiAdapter::Handle(HTTPServerRequest& request, HTTPServerResponse& response) {
  const auto started = std::chrono::steady_clock::now();
  Exchange ex{.request = request};
  ex.req.method = request.getMethod();
  ex.req.request_id = RequestId(request.get("X-Request-ID", ""));
  ex.method = PrintableMethod(ex.req.method);

  Outgoing out;
  try {
    out = Serve(ex, router_, tokens_, options_.body_limit);
  } catch (const core::InputError& e) {
    out = {.reply = Reply::Json(InputErrorStatus(e), ErrorBody(e))};
  } catch (const std::exception& e) {
    logger_.Error("handler failed", {{"request_id", ex.req.request_id}, {"error", e.what()}});
    out = Fail(500, "internal", "internal error (request id " + ex.req.request_id + ")");
  }
  if (ex.body_pending && !out.close) {
    out.close = !Drain(request.stream(), kDrainLimit);
  }

  std::size_t sent = 0;
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  try {
    sent = Respond(out, ex.req, impl, options_.write_timeout_ms, response);
  } catch (const std::exception& e) {
    logger_.Warn("cannot send response", {{"request_id", ex.req.request_id}, {"error", e.what()}});
  }
  if (out.close && ex.body_pending && impl != nullptr) {
    Linger(impl->socket());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.ObserveRequest(ex.req.method, ex.route_label, out.reply.status, seconds);
  // Never the Authorization header, the query string or the body: they may hold secrets.
  logger_.Info("request", {{"request_id", ex.req.request_id},
                           {"method", ex.method},
                           {"path", ex.req.path},
                           {"route", ex.route_label},
                           {"status", std::to_string(out.reply.status)},
                           {"duration_ms", std::to_string(seconds * 1000)},
                           {"actor", ex.req.actor},
                           {"bytes", std::to_string(sent)}});
}

}  // namespace obsforge::server
