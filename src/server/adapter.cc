#include "server/adapter.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include "core/diagnostic.h"
#include "server/errors.h"

namespace obsforge::server {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

struct Outgoing {
  Reply reply;
  bool close = false;  // the body was not read: the connection cannot be reused
};

Outgoing Fail(int status, const std::string& code, const std::string& message) {
  return {.reply = Reply::Json(status, ErrorBody(code, message))};
}

bool IsYaml(const std::string& media) {
  return media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml" ||
         media == "text/x-yaml";
}

// 1-based line and column of byte `offset` in `text`.
std::pair<int, int> LineColumn(const std::string& text, std::size_t offset) {
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i < std::min(offset, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// Reads at most limit + 1 bytes: one more than allowed tells that the body is too large.
std::string ReadBody(std::istream& in, std::size_t limit) {
  std::string body;
  char buffer[8192];
  while (body.size() <= limit && in) {
    in.read(buffer, sizeof(buffer));
    body.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  return body;
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
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(random()));
  return id;
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
  ApiRequest req;
  req.method = request.getMethod();
  req.request_id = RequestId(request.get("X-Request-ID", ""));
  std::string route_label = "unmatched";

  auto serve = [&]() -> Outgoing {
    try {
      const Poco::URI uri(request.getURI());
      req.path = uri.getPath();
      for (const auto& [key, value] : uri.getQueryParameters()) {
        req.query[key] = value;
      }
    } catch (const std::exception&) {
      return Fail(400, "bad_request", "malformed request URI");
    }
    RouteMatch match = router_.Find(req.method, req.path);
    if (match.route == nullptr) {
      return match.path_known
                 ? Fail(405, "method_not_allowed", req.method + " is not allowed on " + req.path)
                 : Fail(404, "not_found", "no route for " + req.method + " " + req.path);
    }
    const Route& route = *match.route;
    route_label = route.path;
    req.route = route.path;
    req.params = std::move(match.params);

    const AuthResult auth = tokens_.Authorize(request.get("Authorization", ""), route.role);
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
    // A stack outside the token's scope is answered as one that does not exist.
    if (const auto name = req.params.find("name"); name != req.params.end() &&
                                                   route.path.starts_with("/api/v1/stacks/") &&
                                                   !req.scope.Allows(name->second)) {
      const core::Error hidden = StackNotFound(name->second);
      Outgoing out{.reply = Reply::Json(ErrorToStatus(hidden.code), ErrorBody(hidden))};
      // A body left unread must not be taken for the next request.
      out.close = request.getChunkedTransferEncoding() ||
                  (request.hasContentLength() && request.getContentLength64() > 0);
      return out;
    }
    for (const auto& [name, value] : request) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower != "authorization") {
        req.headers[lower] = value;
      }
    }

    const bool has_body = request.hasContentLength() ? request.getContentLength64() > 0
                                                     : request.getChunkedTransferEncoding();
    if (has_body) {
      if (request.hasContentLength() &&
          static_cast<std::uint64_t>(request.getContentLength64()) > options_.body_limit) {
        Outgoing out =
            Fail(413, "payload_too_large",
                 "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
        out.close = true;
        return out;
      }
      req.media_type = MediaType(request.getContentType());
      const bool json = req.media_type == "application/json";
      if ((route.body == BodyKind::kSpec && !json && !IsYaml(req.media_type)) ||
          (route.body == BodyKind::kJson && !json)) {
        Outgoing out =
            Fail(415, "unsupported_media_type",
                 "content type \"" + req.media_type + "\" is not supported here; use " +
                     (route.body == BodyKind::kJson ? "application/json"
                                                    : "application/yaml or application/json"));
        out.close = true;  // the body is left unread
        return out;
      }
      req.body = ReadBody(request.stream(), options_.body_limit);
      if (req.body.size() > options_.body_limit) {
        Outgoing out =
            Fail(413, "payload_too_large",
                 "request body exceeds " + std::to_string(options_.body_limit) + " bytes");
        out.close = true;
        return out;
      }
    } else if (route.body != BodyKind::kNone) {
      return Fail(400, "invalid_spec", "request body required");
    }
    if (route.body == BodyKind::kJson) {
      try {
        req.json = nlohmann::json::parse(req.body);
      } catch (const nlohmann::json::parse_error& e) {
        const auto [line, column] = LineColumn(req.body, e.byte == 0 ? 0 : e.byte - 1);
        throw core::InputError(
            core::InputError::Kind::kInvalidSpec,
            core::Diagnostic{
                .file = "body", .line = line, .column = column, .message = "malformed JSON"});
      }
    }
    core::Result<Reply> result = route.handler(req);
    if (!result.ok()) {
      return {.reply = Reply::Json(ErrorToStatus(result.error().code), ErrorBody(result.error()))};
    }
    return {.reply = std::move(result).value()};
  };

  Outgoing out;
  try {
    out = serve();
  } catch (const core::InputError& e) {
    out = {.reply = Reply::Json(InputErrorStatus(e), ErrorBody(e))};
  } catch (const std::exception& e) {
    logger_.Error("handler failed", {{"request_id", req.request_id}, {"error", e.what()}});
    out = Fail(500, "internal", "internal error (request id " + req.request_id + ")");
  }

  Reply& reply = out.reply;
  const std::string body = reply.raw ? *reply.raw : reply.json.dump();
  std::size_t sent = 0;
  try {
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    if (impl != nullptr) {
      impl->socket().setSendTimeout(Poco::Timespan(options_.write_timeout_ms * 1000LL));
    }
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
    response.setContentType(reply.content_type);
    response.set("X-Request-ID", req.request_id);
    for (const auto& [name, value] : reply.headers) {
      response.set(name, value);
    }
    if (out.close) {
      response.setKeepAlive(false);
    }
    response.setContentLength64(static_cast<Poco::Int64>(body.size()));
    response.sendBuffer(body.data(), body.size());
    sent = body.size();
  } catch (const std::exception& e) {
    logger_.Warn("cannot send response", {{"request_id", req.request_id}, {"error", e.what()}});
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.ObserveRequest(req.method, route_label, reply.status, seconds);
  // Never the Authorization header, the query string or the body: they may hold secrets.
  logger_.Info("request", {{"request_id", req.request_id},
                           {"method", req.method},
                           {"path", req.path},
                           {"route", route_label},
                           {"status", std::to_string(reply.status)},
                           {"duration_ms", std::to_string(seconds * 1000)},
                           {"actor", req.actor},
                           {"bytes", std::to_string(sent)}});
}

}  // namespace obsforge::server
