#include "fakes/fake_server.h"

#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>

#include <Poco/InflatingStream.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <strings.h>

namespace obsforge::fakes {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

FakeRequest ReadRequest(Poco::Net::HTTPServerRequest& request) {
  FakeRequest out;
  out.method = request.getMethod();
  const Poco::URI uri(request.getURI());
  out.path = uri.getPath();
  for (const auto& [name, value] : uri.getQueryParameters()) {
    out.query.emplace_back(name, value);
  }
  for (const auto& [name, value] : request) {
    out.headers.emplace_back(name, value);
  }
  if (EqualsIgnoreCase(out.Header("Content-Encoding"), "gzip")) {
    Poco::InflatingInputStream inflater(request.stream(), Poco::InflatingStreamBuf::STREAM_GZIP);
    Poco::StreamCopier::copyToString(inflater, out.body);
  } else {
    Poco::StreamCopier::copyToString(request.stream(), out.body);
  }
  return out;
}

void Send(const FakeResponse& reply, Poco::Net::HTTPServerResponse& response) {
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
  for (const auto& [name, value] : reply.headers) {
    response.set(name, value);
  }
  response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
  response.send() << reply.body;
}

}  // namespace

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    auto end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    out.emplace_back(path.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string FakeRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) {
      return value;
    }
  }
  return "";
}

bool FakeRequest::HasHeader(std::string_view name) const {
  for (const auto& entry : headers) {
    if (EqualsIgnoreCase(entry.first, name)) {
      return true;
    }
  }
  return false;
}

std::string FakeRequest::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

std::vector<std::string> FakeRequest::QueryAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : query) {
    if (key == name) {
      out.push_back(value);
    }
  }
  return out;
}

bool FakeRequest::HasQuery(std::string_view name) const {
  for (const auto& entry : query) {
    if (entry.first == name) {
      return true;
    }
  }
  return false;
}

std::string FakeRequest::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

FakeResponse FakeResponse::Json(int status, const nlohmann::json& body) {
  return FakeResponse{
      .status = status, .headers = {{"Content-Type", "application/json"}}, .body = body.dump()};
}

FakeResponse FakeResponse::Text(int status, std::string body) {
  return FakeResponse{.status = status,
                      .headers = {{"Content-Type", "text/plain; charset=utf-8"}},
                      .body = std::move(body)};
}

FakeResponse PlainText(int status, std::string body) {
  return FakeResponse{
      .status = status, .headers = {{"Content-Type", "text/plain"}}, .body = std::move(body)};
}

bool VersionAtLeast(const std::string& version, int major, int minor) {
  int have_major = 0;
  int have_minor = 0;
  const char* text = version.c_str();
  if (*text == 'v') {
    ++text;
  }
  if (std::sscanf(text, "%d.%d", &have_major, &have_minor) < 1) {  // NOLINT: fixed format
    return true;
  }
  return have_major != major ? have_major > major : have_minor >= minor;
}

FakeResponse FakeResponse::GoError(int status, const std::string& message) {
  return FakeResponse{.status = status,
                      .headers = {{"Content-Type", "text/plain; charset=utf-8"},
                                  {"X-Content-Type-Options", "nosniff"}},
                      .body = message + "\n"};
}

class FakeServer::Impl {
 public:
  class RequestHandler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit RequestHandler(FakeServer& server) : server_(server) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      FakeRequest fake = ReadRequest(request);
      const auto latency = server_.faults_.latency();
      if (latency.count() > 0) {
        std::this_thread::sleep_for(latency);
      }
      if (auto fault = server_.faults_.Take(fake.path)) {
        if (fault->kind == Fault::Kind::kReset) {
          // Linger 0 makes close() send RST: the client sees a reset, not a clean EOF.
          auto& socket = dynamic_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
          socket.setLinger(true, 0);
          socket.close();
          return;
        }
        Send(FakeResponse{.status = fault->status, .headers = fault->headers, .body = fault->body},
             response);
        return;
      }
      FakeResponse reply;
      try {
        reply = server_.Dispatch(fake);
      } catch (const std::exception& e) {
        // A handler bug must show up in the test as a 500 with its cause, not kill the server.
        reply = FakeResponse::Text(500, std::string("fake handler error: ") + e.what());
      }
      if (server_.observer_) {
        server_.observer_(fake, reply);
      }
      Send(reply, response);
    }

   private:
    FakeServer& server_;
  };

  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(FakeServer& server) : server_(server) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest& /*request*/) override {
      return new RequestHandler(server_);
    }

   private:
    FakeServer& server_;
  };

  explicit Impl(std::uint16_t port)
      : pool_(2, 32), socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {}

  Poco::ThreadPool pool_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  bool stopped_ = false;
};

FakeServer::FakeServer(std::uint16_t port) : impl_(std::make_unique<Impl>(port)) {
  port_ = impl_->socket_.address().port();
  not_found_ = [](FakeRequest&) { return FakeResponse::Text(404, "404 page not found\n"); };
}

FakeServer::~FakeServer() {
  Stop();
}

void FakeServer::Route(std::string method, std::string pattern, Handler handler) {
  auto segments = SplitPath(pattern);
  routes_.push_back(RouteEntry{.method = std::move(method),
                               .segments = std::move(segments),
                               .pattern = std::move(pattern),
                               .handler = std::move(handler)});
}

void FakeServer::SetGuard(Guard guard) {
  guard_ = std::move(guard);
}

void FakeServer::SetNotFound(Handler handler) {
  not_found_ = std::move(handler);
}

void FakeServer::SetObserver(Observer observer) {
  observer_ = std::move(observer);
}

void FakeServer::Start() {
  auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(10000);
  params->setKeepAliveTimeout(Poco::Timespan(5, 0));
  params->setMaxThreads(32);
  params->setMaxQueued(128);
  // A dispatcher thread started during Stop() waits this long for work before it exits; Poco's
  // 10 s default would stall the join.
  params->setThreadIdleTime(Poco::Timespan(0, 250000));
  impl_->server_ = std::make_unique<Poco::Net::HTTPServer>(Poco::makeShared<Impl::Factory>(*this),
                                                           impl_->pool_, impl_->socket_, params);
  impl_->server_->start();
}

void FakeServer::Stop() {
  if (impl_->stopped_ || !impl_->server_) {
    return;
  }
  impl_->stopped_ = true;
  // Poco's acceptor polls with a 250 ms timeout before it notices the stop; connecting wakes it
  // at once, which keeps suites that start many fakes fast.
  std::atomic<bool> done{false};
  std::thread waker([this, &done] {
    while (!done) {
      try {
        Poco::Net::StreamSocket poke;
        poke.connect(Poco::Net::SocketAddress("127.0.0.1", port_), Poco::Timespan(0, 100000));
      } catch (const Poco::Exception&) {
        // Refused or timed out: the acceptor is gone or busy; try again until stopAll returns.
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  impl_->server_->stopAll(true);
  done = true;
  waker.join();
  impl_->pool_.joinAll();
}

std::string FakeServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

FakeResponse FakeServer::Dispatch(FakeRequest& request) {
  const auto segments = SplitPath(request.path);
  const bool head = request.method == "HEAD";
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) {
      continue;
    }
    if (route.method != request.method && !(head && route.method == "GET")) {
      continue;
    }
    std::map<std::string, std::string> params;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const auto& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        params[want.substr(1, want.size() - 2)] = segments[i];
      } else {
        match = want == segments[i];
      }
    }
    if (!match) {
      continue;
    }
    request.params = std::move(params);
    request.route = route.pattern;
    if (guard_) {
      if (auto denied = guard_(request)) {
        return *denied;
      }
    }
    {
      std::lock_guard lock(counters_mutex_);
      ++requests_;
      if (request.method != "GET" && request.method != "HEAD") {
        ++writes_[request.method + " " + route.pattern];
      }
    }
    auto reply = route.handler(request);
    if (head) {
      reply.body.clear();
    }
    return reply;
  }
  return not_found_(request);
}

int FakeServer::Writes(const std::string& key) const {
  std::lock_guard lock(counters_mutex_);
  auto it = writes_.find(key);
  return it == writes_.end() ? 0 : it->second;
}

std::map<std::string, int> FakeServer::WriteCounts() const {
  std::lock_guard lock(counters_mutex_);
  return writes_;
}

int FakeServer::TotalWrites() const {
  std::lock_guard lock(counters_mutex_);
  int total = 0;
  for (const auto& entry : writes_) {
    total += entry.second;
  }
  return total;
}

int FakeServer::TotalRequests() const {
  std::lock_guard lock(counters_mutex_);
  return requests_;
}

void FakeServer::ResetCounters() {
  std::lock_guard lock(counters_mutex_);
  writes_.clear();
  requests_ = 0;
}

}  // namespace obsforge::fakes
