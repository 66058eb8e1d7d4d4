// Admission control: the bookkeeping (Admission, on a fake clock), the refusal's wire format,
// and the server under it: a kept-alive connection gives its thread up to a waiting one, and a
// connection beyond the queue gets a 503 with Retry-After, never a reset.
#include "server/admission.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <thread>

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "server/config.h"
#include "server/harness.h"
#include "support/fake_clock.h"
#include "support/poll_until.h"

namespace obsforge::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Admission, QueuesUntilMaxQueuedThenRefusesQueueFull) {
  obsforge::testing::FakeClock clock;
  Admission admission({.max_queued = 2, .max_queue_wait = seconds(5)}, clock);
  EXPECT_TRUE(admission.OnAccept().admitted());
  EXPECT_TRUE(admission.OnAccept().admitted());
  clock.Advance(milliseconds(1500));
  const Verdict refused = admission.OnAccept();
  EXPECT_EQ(refused.refusal, Refusal::kQueueFull);
  EXPECT_EQ(refused.queued, 2U);
  EXPECT_EQ(refused.oldest_wait, milliseconds(1500));
  EXPECT_EQ(refused.retry_after_seconds, 2);  // 1.5 s rounded up
  admission.OnDequeue();
  EXPECT_EQ(admission.queued(), 1U);
  EXPECT_TRUE(admission.OnAccept().admitted());
}

TEST(Admission, RefusesWhileTheOldestWaitingConnectionWaitedMaxQueueWait) {
  obsforge::testing::FakeClock clock;
  Admission admission({.max_queued = 100, .max_queue_wait = seconds(5)}, clock);
  ASSERT_TRUE(admission.OnAccept().admitted());
  clock.Advance(milliseconds(4999));
  ASSERT_TRUE(admission.OnAccept().admitted());
  clock.Advance(milliseconds(1));
  const Verdict refused = admission.OnAccept();
  EXPECT_EQ(refused.refusal, Refusal::kQueueWait);
  EXPECT_EQ(refused.retry_after_seconds, 5);
  // The oldest got its thread: the next in line has waited 1 ms.
  admission.OnDequeue();
  EXPECT_EQ(admission.oldest_wait(), milliseconds(1));
  EXPECT_TRUE(admission.OnAccept().admitted());
}

TEST(Admission, AnEmptyQueueAdmitsWhateverTheClockSays) {
  obsforge::testing::FakeClock clock;
  Admission admission({.max_queued = 1, .max_queue_wait = milliseconds(1)}, clock);
  ASSERT_TRUE(admission.OnAccept().admitted());
  admission.OnDequeue();
  admission.OnDequeue();  // more dequeues than accepts (a queue cleared by Poco) stay at 0
  clock.Advance(seconds(3600));
  EXPECT_EQ(admission.queued(), 0U);
  EXPECT_EQ(admission.oldest_wait(), milliseconds(0));
  EXPECT_TRUE(admission.OnAccept().admitted());
}

TEST(Admission, RetryAfterIsAtLeastOneAndAtMostSixtySeconds) {
  obsforge::testing::FakeClock clock;
  Admission admission({.max_queued = 1, .max_queue_wait = seconds(1000)}, clock);
  ASSERT_TRUE(admission.OnAccept().admitted());
  EXPECT_EQ(admission.OnAccept().retry_after_seconds, 1);  // waited 0 ms
  clock.Advance(seconds(600));
  EXPECT_EQ(admission.OnAccept().retry_after_seconds, 60);
}

TEST(Admission, KeepAliveEndsOnlyWhileAConnectionWaitsAndIsCounted) {
  obsforge::testing::FakeClock clock;
  Admission admission({}, clock);
  EXPECT_TRUE(admission.KeepAlive());
  ASSERT_TRUE(admission.OnAccept().admitted());
  EXPECT_FALSE(admission.KeepAlive());
  EXPECT_FALSE(admission.KeepAlive());
  admission.OnDequeue();
  EXPECT_TRUE(admission.KeepAlive());
  const std::string text = admission.MetricsText();
  EXPECT_NE(text.find("obsforge_http_keepalive_ended_total 2\n"), std::string::npos) << text;
}

TEST(Admission, MetricsCountRefusalsByReason) {
  obsforge::testing::FakeClock clock;
  Admission admission({.max_queued = 1, .max_queue_wait = seconds(2)}, clock);
  ASSERT_TRUE(admission.OnAccept().admitted());
  ASSERT_EQ(admission.OnAccept().refusal, Refusal::kQueueFull);
  admission.CountUnanswered();
  clock.Advance(milliseconds(2500));
  const std::string text = admission.MetricsText();
  EXPECT_NE(text.find("# TYPE obsforge_http_rejected_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("obsforge_http_rejected_total{reason=\"queue_full\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("obsforge_http_rejected_total{reason=\"queue_wait\"} 0\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("obsforge_http_rejected_total{reason=\"backlog\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("obsforge_http_queued_connections 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("obsforge_http_queue_wait_seconds 2.5\n"), std::string::npos) << text;
}

TEST(RefusalResponse, Is503WithRetryAfterAndTheErrorEnvelope) {
  const Verdict verdict{.refusal = Refusal::kQueueWait,
                        .retry_after_seconds = 7,
                        .queued = 12,
                        .oldest_wait = milliseconds(6500)};
  const std::string response = RefusalResponse(verdict, "req-1", false);
  const std::size_t end = response.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  const std::string head = response.substr(0, end + 4);
  const std::string body = response.substr(end + 4);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << head;
  EXPECT_NE(head.find("\r\nRetry-After: 7\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nConnection: close\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nX-Request-ID: req-1\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos)
      << head;
  const auto json = nlohmann::json::parse(body);
  EXPECT_EQ(json["error"]["code"], "unavailable");
  EXPECT_EQ(json["error"]["message"],
            "the server is overloaded: 12 connections wait for a thread, the oldest for 6.5 s; "
            "retry after 7 s");
  EXPECT_EQ(json["error"]["details"], nlohmann::json::array());
}

TEST(RefusalResponse, HeadGetsNoBody) {
  const Verdict verdict{.refusal = Refusal::kQueueFull, .retry_after_seconds = 1, .queued = 3};
  const std::string full = RefusalResponse(verdict, "r", false);
  const std::string head = RefusalResponse(verdict, "r", true);
  EXPECT_EQ(head, full.substr(0, full.find("\r\n\r\n") + 4));
  EXPECT_NE(full.find("its connection queue is full (3 waiting)"), std::string::npos) << full;
}

TEST(AdmissionConfig, LimitsComeFromTheFileAndTheEnvironment) {
  const ServerOptions defaults;
  EXPECT_EQ(defaults.max_queue_wait, seconds(5));
  EXPECT_EQ(defaults.keep_alive_timeout, seconds(2));
  EXPECT_EQ(defaults.max_keep_alive_requests, 100);
  ServerConfig config = ParseServerConfig(
      "max_queue_wait: 3s\nkeep_alive_timeout: 500ms\nmax_keep_alive_requests: 7\n", "o.yaml");
  EXPECT_EQ(config.server.max_queue_wait, seconds(3));
  EXPECT_EQ(config.server.keep_alive_timeout, milliseconds(500));
  EXPECT_EQ(config.server.max_keep_alive_requests, 7);
  ApplyEnvironment(config.server, [](const std::string& name) -> std::optional<std::string> {
    return name == "OBSFORGE_MAX_QUEUE_WAIT" ? std::optional<std::string>("1500ms") : std::nullopt;
  });
  EXPECT_EQ(config.server.max_queue_wait, milliseconds(1500));
}

TEST(AdmissionConfig, BadLimitsAreNamedWithTheirLine) {
  try {
    (void)ParseServerConfig(
        "max_queue_wait: soon\nkeep_alive_timeout: 2\nmax_keep_alive_requests: 0\n", "o.yaml");
    FAIL() << "accepted";
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3U);
    EXPECT_EQ(e.diagnostics()[0].path, "max_queue_wait");
    EXPECT_EQ(e.diagnostics()[0].line, 1);
    EXPECT_EQ(e.diagnostics()[1].path, "keep_alive_timeout");
    EXPECT_EQ(e.diagnostics()[2].path, "max_keep_alive_requests");
    EXPECT_EQ(e.diagnostics()[2].line, 3);
  }
  EXPECT_THROW(ApplyEnvironment(*std::make_unique<ServerOptions>(),
                                [](const std::string& name) -> std::optional<std::string> {
                                  return name == "OBSFORGE_MAX_QUEUE_WAIT"
                                             ? std::optional<std::string>("later")
                                             : std::nullopt;
                                }),
               core::InputError);
}

// A raw HTTP/1.1 client on one connection, to see exactly what the server does with it.
class RawConnection {
 public:
  explicit RawConnection(const std::string& base)
      : socket_(Poco::Net::SocketAddress(base.substr(base.rfind('/') + 1))) {
    // A safety net only: every read below waits for an answer that must come.
    socket_.setReceiveTimeout(Poco::Timespan(60, 0));
  }
  void Send(const std::string& path, const std::string& extra_headers = "") {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
    socket_.sendBytes(request.data(), static_cast<int>(request.size()));
  }
  /// One response: the head (status line and headers) and the body.
  std::pair<std::string, std::string> Read() {
    std::size_t end = 0;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      Fill();
    }
    std::string head = buffer_.substr(0, end + 4);
    std::size_t length = 0;
    if (const auto at = head.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(head.substr(at + 16));
    }
    while (buffer_.size() < end + 4 + length) {
      Fill();
    }
    std::string body = buffer_.substr(end + 4, length);
    buffer_.erase(0, end + 4 + length);
    return {head, body};
  }
  void Close() { socket_.close(); }
  /// True when the server closed the connection in order (EOF); false when it was reset.
  bool ClosedInOrder() {
    char c = 0;
    try {
      return socket_.receiveBytes(&c, 1) == 0;
    } catch (const Poco::Net::ConnectionResetException&) {
      return false;
    }
  }

 private:
  void Fill() {
    std::array<char, 4096> chunk{};
    const int n = socket_.receiveBytes(chunk.data(), static_cast<int>(chunk.size()));
    if (n <= 0) {
      throw std::runtime_error("connection closed before a complete answer: " + buffer_);
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  }

  Poco::Net::StreamSocket socket_;
  std::string buffer_;
};

// Whether `head` has the header line `header`, compared without case (Poco writes "Close").
bool Has(std::string head, std::string header) {
  for (std::string* text : {&head, &header}) {
    std::transform(text->begin(), text->end(), text->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  return head.find("\r\n" + header + "\r\n") != std::string::npos;
}

// Waits until the server's /metrics (read in process) shows `queued` waiting connections; false
// when it did not within 30 s.
bool AwaitQueued(Server& server, int queued) {
  const std::string line = "obsforge_http_queued_connections " + std::to_string(queued) + "\n";
  return obsforge::testing::PollUntil(
      [&] { return server.metrics().Render().find(line) != std::string::npos; });
}

// One connection thread, a client keeping its connection alive and asking again: the
// regression of the soak, where kept-alive connections held every thread and the others never
// got one.
TEST(AdmissionServer, AKeptAliveConnectionGivesItsThreadUpToAWaitingOne) {
  server::testing::ServerHarness h(false, [](ServerOptions& o) {
    o.max_threads = 1;
    o.keep_alive_timeout = std::chrono::minutes(10);  // only fairness can free the thread
    o.max_queue_wait = std::chrono::minutes(10);
  });
  RawConnection first(h.base());
  first.Send("/healthz");
  auto [head1, body1] = first.Read();
  EXPECT_TRUE(head1.starts_with("HTTP/1.1 200")) << head1;
  EXPECT_FALSE(Has(head1, "Connection: close")) << head1;  // nobody waits: kept alive

  RawConnection second(h.base());
  second.Send("/healthz");
  ASSERT_TRUE(AwaitQueued(h.server(), 1));

  first.Send("/healthz");
  auto [head2, body2] = first.Read();
  EXPECT_TRUE(head2.starts_with("HTTP/1.1 200")) << head2;
  EXPECT_TRUE(Has(head2, "Connection: close")) << head2;
  EXPECT_TRUE(first.ClosedInOrder());

  auto [head3, body3] = second.Read();
  EXPECT_TRUE(head3.starts_with("HTTP/1.1 200")) << head3;
  const std::string metrics = h.server().metrics().Render();
  EXPECT_NE(metrics.find("obsforge_http_keepalive_ended_total 1\n"), std::string::npos) << metrics;
}

// Every one of many kept-alive clients gets its answers through one thread.
TEST(AdmissionServer, ManyKeptAliveClientsShareOneThread) {
  server::testing::ServerHarness h(false, [](ServerOptions& o) {
    o.max_threads = 1;
    o.keep_alive_timeout = std::chrono::minutes(10);
    o.max_queue_wait = std::chrono::minutes(10);
  });
  constexpr int kClients = 8;
  constexpr int kRequests = 5;
  std::vector<int> answered(kClients, 0);
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto connection = std::make_unique<RawConnection>(h.base());
      for (int i = 0; i < kRequests; ++i) {
        connection->Send("/healthz");
        auto [head, body] = connection->Read();
        answered[static_cast<std::size_t>(c)] += head.starts_with("HTTP/1.1 200") ? 1 : 0;
        if (Has(head, "Connection: close")) {
          connection = std::make_unique<RawConnection>(h.base());  // as a client reconnects
        }
      }
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  EXPECT_EQ(answered, std::vector<int>(kClients, kRequests));
}

// One thread, a queue of one: the next connection is answered 503 with Retry-After in the
// API's envelope and closed in order; the server serves on.
TEST(AdmissionServer, AConnectionBeyondTheQueueGets503WithRetryAfterNeverAReset) {
  server::testing::ServerHarness h(false, [](ServerOptions& o) {
    o.max_threads = 1;
    o.max_queued = 1;
    o.keep_alive_timeout = std::chrono::minutes(10);
    o.max_queue_wait = std::chrono::minutes(10);  // refused for the full queue, never the wait
  });
  RawConnection holder(h.base());
  holder.Send("/healthz");
  ASSERT_TRUE(holder.Read().first.starts_with("HTTP/1.1 200"));  // holds the only thread

  RawConnection waiting(h.base());
  waiting.Send("/healthz");
  ASSERT_TRUE(AwaitQueued(h.server(), 1));

  RawConnection refused(h.base());
  refused.Send("/api/v1/stacks", "X-Request-ID: overflow-1\r\n");
  auto [head, body] = refused.Read();
  EXPECT_TRUE(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << head;
  const std::size_t retry = head.find("\r\nRetry-After: ");
  ASSERT_NE(retry, std::string::npos) << head;
  EXPECT_GE(std::stoi(head.substr(retry + 15)), 1) << head;
  EXPECT_TRUE(Has(head, "Connection: close")) << head;
  EXPECT_TRUE(Has(head, "X-Request-ID: overflow-1")) << head;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  EXPECT_EQ(json["error"]["code"], "unavailable") << body;
  EXPECT_TRUE(refused.ClosedInOrder());

  holder.Send("/healthz");
  EXPECT_TRUE(Has(holder.Read().first, "Connection: close"));
  EXPECT_TRUE(waiting.Read().first.starts_with("HTTP/1.1 200"));
  waiting.Close();  // kept alive, it would hold the thread for keep_alive_timeout
  EXPECT_EQ(h.Call("GET", "/healthz", "").status, 200);
  const std::string metrics = h.server().metrics().Render();
  EXPECT_NE(metrics.find("obsforge_http_rejected_total{reason=\"queue_full\"} 1\n"),
            std::string::npos)
      << metrics;
}

// A refused client that never sends its request does not hold the refusals up: the one after
// it gets its 503 once the silent one's read budget is spent.
TEST(AdmissionServer, ASilentRefusedClientDoesNotHoldTheNextRefusal) {
  server::testing::ServerHarness h(false, [](ServerOptions& o) {
    o.max_threads = 1;
    o.max_queued = 1;
    o.keep_alive_timeout = std::chrono::minutes(10);
    o.max_queue_wait = std::chrono::minutes(10);
  });
  RawConnection holder(h.base());
  holder.Send("/healthz");
  ASSERT_TRUE(holder.Read().first.starts_with("HTTP/1.1 200"));
  RawConnection waiting(h.base());
  waiting.Send("/healthz");
  ASSERT_TRUE(AwaitQueued(h.server(), 1));

  RawConnection silent(h.base());  // connects, never sends
  RawConnection next(h.base());
  next.Send("/healthz");
  EXPECT_TRUE(next.Read().first.starts_with("HTTP/1.1 503")) << "after the silent one";
  EXPECT_TRUE(next.ClosedInOrder());
  const std::string metrics = h.server().metrics().Render();
  EXPECT_NE(metrics.find("obsforge_http_rejected_total{reason=\"queue_full\"} 2\n"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace obsforge::server
