#include "server/refuser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <exception>
#include <string>

#include <Poco/Timespan.h>

#include "server/adapter.h"

namespace obsforge::server {
namespace {

constexpr std::size_t kMaxHead = 16U << 10U;
constexpr std::size_t kMaxDrain = 1U << 20U;
// How long reading the request head may take in all, and reading what follows the answer: a
// client sending a byte at a time must not hold the one refusing thread.
constexpr std::chrono::milliseconds kReadBudget{1000};

// Receives into `buffer` before `deadline`; 0 at the deadline, at the end of the stream or on
// a reset.
int ReceiveBefore(Poco::Net::StreamSocket& socket,
                  char* buffer,
                  int size,
                  std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return 0;
  }
  socket.setReceiveTimeout(Poco::Timespan(left.count()));
  return socket.receiveBytes(buffer, size);
}

// The value of the X-Request-ID header in a request head, or "".
std::string ClientRequestId(const std::string& head) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string name = "\r\nx-request-id:";
  const std::size_t at = lower.find(name);
  if (at == std::string::npos) {
    return "";
  }
  std::size_t begin = at + name.size();
  const std::size_t end = head.find("\r\n", begin);
  if (end == std::string::npos) {
    return "";
  }
  while (begin < end && (head[begin] == ' ' || head[begin] == '\t')) {
    ++begin;
  }
  std::size_t last = end;
  while (last > begin && (head[last - 1] == ' ' || head[last - 1] == '\t')) {
    --last;
  }
  return head.substr(begin, last - begin);
}

// Reads the request head, answers, closes. Never throws.
void Answer(Poco::Net::StreamSocket& socket, const Verdict& verdict) {
  try {
    socket.setSendTimeout(Poco::Timespan(1, 0));
    std::string head;
    std::array<char, 4096> buffer{};
    auto deadline = std::chrono::steady_clock::now() + kReadBudget;
    while (head.size() < kMaxHead && head.find("\r\n\r\n") == std::string::npos) {
      const int n = ReceiveBefore(socket, buffer.data(), static_cast<int>(buffer.size()), deadline);
      if (n <= 0) {
        break;
      }
      head.append(buffer.data(), static_cast<std::size_t>(n));
    }
    const std::string answer =
        RefusalResponse(verdict, RequestId(ClientRequestId(head)), head.starts_with("HEAD "));
    for (std::size_t sent = 0; sent < answer.size();) {
      const int n = socket.sendBytes(answer.data() + sent, static_cast<int>(answer.size() - sent));
      if (n <= 0) {
        break;
      }
      sent += static_cast<std::size_t>(n);
    }
    // Closing with unread data would reset the connection, and the client might lose the answer:
    // the rest of the request (a body) is read and dropped until the client closes.
    socket.shutdownSend();
    deadline = std::chrono::steady_clock::now() + kReadBudget;
    for (std::size_t drained = 0; drained < kMaxDrain;) {
      const int n = ReceiveBefore(socket, buffer.data(), static_cast<int>(buffer.size()), deadline);
      if (n <= 0) {
        break;
      }
      drained += static_cast<std::size_t>(n);
    }
  } catch (const std::exception&) {
    // Reset or timed out: the connection is closed either way.
  }
  try {
    socket.close();
  } catch (const std::exception&) {
  }
}

}  // namespace

Refuser::Refuser(std::size_t backlog) : backlog_(backlog), thread_([this] { Run(); }) {
}

Refuser::~Refuser() {
  Stop();
}

bool Refuser::Offer(const Poco::Net::StreamSocket& socket, const Verdict& verdict) {
  {
    std::lock_guard lock(mu_);
    if (stopped_ || pending_.size() >= backlog_) {
      return false;
    }
    pending_.emplace_back(socket, verdict);
  }
  wake_.notify_one();
  return true;
}

void Refuser::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
  std::lock_guard lock(mu_);
  for (auto& [socket, verdict] : pending_) {
    try {
      socket.close();
    } catch (const std::exception&) {
    }
  }
  pending_.clear();
}

void Refuser::Run() {
  while (true) {
    std::pair<Poco::Net::StreamSocket, Verdict> next;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopped_ || !pending_.empty(); });
      if (stopped_) {
        return;
      }
      next = std::move(pending_.front());
      pending_.pop_front();
    }
    Answer(next.first, next.second);
  }
}

}  // namespace obsforge::server
