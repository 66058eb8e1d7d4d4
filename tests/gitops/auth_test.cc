// The https credential path against a loopback HTTP server that always answers 401 Basic: the
// token goes out as basic auth exactly once, and never comes back in the error.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gitops/git_source.h"
#include "gitops/test_repo.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace obsforge::gitops {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Answers every request with 401 and records its Authorization header ("" when absent).
class DenyingServer {
 public:
  DenyingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~DenyingServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::vector<std::string> authorizations() {
    std::lock_guard lock(mu_);
    return authorizations_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        continue;
      }
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(client, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        request.append(buf, static_cast<size_t>(n));
      }
      std::string auth;
      const auto at = request.find("\r\nAuthorization: ");
      if (at != std::string::npos) {
        const auto start = at + 17;
        auth = request.substr(start, request.find("\r\n", start) - start);
      }
      {
        std::lock_guard lock(mu_);
        authorizations_.push_back(auth);
      }
      const std::string reply =
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(client, reply.data(), reply.size());
      ::close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> authorizations_;
};

TEST(GitAuthTest, TokenIsSentOnceAsBasicAuthAndNeverEchoed) {
  testing::TempDir tmp;
  DenyingServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/obs.git";
  GitSource source({.url = url,
                    .token = core::Secret("tok123"),
                    .token_user = "oauth2",
                    .cache_dir = tmp.path() / "cache"});
  const auto head = source.Fetch();
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, core::ErrorCode::kUpstream);
  EXPECT_EQ(
      head.error().message,
      "fetch of " + url + " failed: authentication failed: the remote rejected the credentials");
  EXPECT_THAT(head.error().message, Not(HasSubstr("tok123")));
  EXPECT_THAT(server.authorizations(), ElementsAre("", "Basic b2F1dGgyOnRvazEyMw=="));
}

TEST(GitAuthTest, NoCredentialsConfiguredFailsWithoutRetrying) {
  testing::TempDir tmp;
  DenyingServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/obs.git";
  GitSource source({.url = url, .cache_dir = tmp.path() / "cache"});
  const auto head = source.Fetch();
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(
      head.error().message,
      "fetch of " + url + " failed: authentication required but no token or ssh key is configured");
  EXPECT_THAT(server.authorizations(), ElementsAre(""));
}

}  // namespace
}  // namespace obsforge::gitops
