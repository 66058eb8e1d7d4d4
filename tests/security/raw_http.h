#pragma once

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

namespace obsforge::security::testing {

/// One HTTP response as it came over the wire.
struct RawResponse {
  std::string status_line;  ///< "HTTP/1.1 401 Unauthorized"
  int status = 0;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;

  /// Header `lower_name`, "" when absent.
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
  /// Whether the server said it closes the connection ("Connection: close", any case).
  bool Closes() const {
    std::string value = Header("connection");
    for (char& c : value) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return value == "close";
  }
};

/// A plain TCP connection to a server on 127.0.0.1, for what curl would not send as it is
/// (invented methods, broken framing, a body the server leaves unread) and to read the answers
/// byte for byte, request after request on the same connection.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    socket_.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)));
    socket_.setReceiveTimeout(Poco::Timespan(20, 0));
  }

  void Send(std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      sent += static_cast<std::size_t>(
          socket_.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent)));
    }
  }

  /// Sends what it can of `bytes` and ignores a reset: the server may answer and close before
  /// a large body is all sent.
  void SendIgnoringReset(std::string_view bytes) {
    try {
      Send(bytes);
    } catch (const Poco::Exception&) {
    }
  }

  /// The next response (a Content-Length body), or nullopt when the connection ends first.
  std::optional<RawResponse> Read() {
    std::size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    RawResponse response;
    std::string_view head(buffer_.data(), header_end);
    const std::size_t line_end = head.find("\r\n");
    response.status_line = std::string(head.substr(0, line_end));
    if (response.status_line.size() >= 12) {
      response.status = std::stoi(response.status_line.substr(9, 3));
    }
    std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t end = head.find("\r\n", pos);
      end = end == std::string_view::npos ? head.size() : end;
      const std::string_view line = head.substr(pos, end - pos);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (char& c : name) {
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
          value.remove_prefix(1);
        }
        response.headers[name] = std::string(value);
      }
      pos = end + 2;
    }
    const std::size_t length = std::stoul(
        response.Header("content-length").empty() ? "0" : response.Header("content-length"));
    const std::size_t body_start = header_end + 4;
    while (buffer_.size() < body_start + length) {
      if (!Fill()) {
        return std::nullopt;
      }
    }
    response.body = buffer_.substr(body_start, length);
    buffer_.erase(0, body_start + length);
    return response;
  }

  /// True when the server closed the connection (after what was already read).
  bool Closed() { return buffer_.empty() && !Fill(); }

 private:
  // Appends what arrives; false on end of stream or a reset.
  bool Fill() {
    char chunk[16384];
    try {
      const int n = socket_.receiveBytes(chunk, sizeof(chunk));
      if (n <= 0) {
        return false;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    } catch (const Poco::TimeoutException&) {
      throw;  // the server neither answered nor closed: a hang is a failure of its own
    } catch (const Poco::Exception&) {
      return false;
    }
  }

  Poco::Net::StreamSocket socket_;
  std::string buffer_;
};

/// "METHOD target HTTP/1.1" with Host, the given header lines and a Content-Length body.
inline std::string RawRequest(const std::string& method,
                              const std::string& target,
                              const std::string& headers = "",
                              const std::string& body = "") {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: obsforge.test\r\n" + headers;
  if (!body.empty()) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return out + "\r\n" + body;
}

}  // namespace obsforge::security::testing
