#pragma once

// A tiny blocking HTTP client for the fakes' tests (Poco, one connection per call).

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>

#include <Poco/Base64Encoder.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <nlohmann/json.hpp>

#include "http/http_client.h"
#include "support/temp_dir.h"
#include <unistd.h>

namespace obsforge::fakes::testing {

/// A received response.
struct Reply {
  int status = 0;
  std::string body;
  Poco::Net::NameValueCollection headers;

  /// The body parsed as JSON (discarded value when it is not JSON).
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  /// A response header, or "".
  std::string Header(const std::string& name) const { return headers.get(name, ""); }
};

/// Sends one request to 127.0.0.1:`port`. Throws Poco::Exception when no response arrives.
inline Reply Call(std::uint16_t port,
                  const std::string& method,
                  const std::string& path,
                  const std::string& body = "",
                  const http::Headers& headers = {}) {
  // A connected socket with TCP_NODELAY: Poco writes headers and body separately, and Nagle plus
  // delayed ACKs would add 40 ms to every call.
  Poco::Net::StreamSocket socket;
  socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(5, 0));
  socket.setNoDelay(true);
  Poco::Net::HTTPClientSession session(socket);
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = static_cast<int>(response.getStatus());
  Poco::StreamCopier::copyToString(in, reply.body);
  for (const auto& [name, value] : response) {
    reply.headers.add(name, value);
  }
  return reply;
}

/// "Basic base64(user:password)".
inline std::string BasicAuth(const std::string& user, const std::string& password) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder << user << ":" << password;
  encoder.close();
  return "Basic " + out.str();
}

using TempDir = ::obsforge::testsupport::TempDir;

}  // namespace obsforge::fakes::testing
