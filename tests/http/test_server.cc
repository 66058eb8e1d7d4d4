#include "http/test_server.h"

#include <iterator>
#include <sstream>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>

namespace obsforge::http::testing {
namespace {

class FunctionHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit FunctionHandler(const TestServer::Handler& handler) : handler_(handler) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    handler_(request, response);
  }

 private:
  const TestServer::Handler& handler_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(TestServer::Handler handler) : handler_(std::move(handler)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& /*request*/) override {
    return new FunctionHandler(handler_);
  }

 private:
  TestServer::Handler handler_;
};

}  // namespace

TestServer::TestServer(Handler handler) : pool_(2, 32) {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  port_ = socket.address().port();
  auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(1000);
  params->setKeepAliveTimeout(Poco::Timespan(5, 0));
  params->setMaxThreads(32);
  params->setMaxQueued(64);
  server_ = std::make_unique<Poco::Net::HTTPServer>(Poco::makeShared<Factory>(std::move(handler)),
                                                    pool_, socket, params);
  server_->start();
}

TestServer::~TestServer() {
  server_->stopAll(true);
  pool_.joinAll();
}

std::string TestServer::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

int TestServer::TotalConnections() const {
  return server_->totalConnections();
}

void Reply(Poco::Net::HTTPServerResponse& response,
           int status,
           const std::string& body,
           const Headers& headers) {
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  for (const auto& [name, value] : headers) {
    response.set(name, value);
  }
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.send() << body;
}

std::string ReadBody(Poco::Net::HTTPServerRequest& request) {
  std::string body;
  Poco::StreamCopier::copyToString(request.stream(), body);
  return body;
}

void EchoRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  Reply(response, 201, request.getMethod() + " " + request.getURI() + " " + ReadBody(request),
        {{"X-Reply", "yes"},
         {"Content-Type", "text/plain"},
         {"X-Seen-Test", request.get("X-Test", "")},
         {"X-Seen-Agent", request.get("User-Agent", "")},
         {"X-Seen-Type", request.get("Content-Type", "<none>")},
         {"X-Seen-Expect", request.get("Expect", "<none>")},
         {"X-Seen-Encoding", request.get("Accept-Encoding", "<none>")}});
}

void Concurrency::Meet() {
  const int now = ++current_;
  int seen = peak_.load();
  while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
  }
  (void)meeting_.Arrive(std::chrono::seconds(60));
  --current_;
}

}  // namespace obsforge::http::testing
