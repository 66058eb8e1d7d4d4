#include "http/curl_multi_http_client.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "http/curl_easy.h"

namespace obsforge::http {

class CurlMultiHttpClient::Impl {
 public:
  explicit Impl(CurlMultiOptions options)
      : config_{.connect_timeout = options.connect_timeout,
                .timeout = options.timeout,
                .user_agent = std::move(options.user_agent),
                .accept_encoding = false,
                .max_body_bytes = options.max_body_bytes,
                .filter = options.filter.get()},
        filter_(std::move(options.filter)),
        multi_(curl_multi_init()) {
    if (multi_ == nullptr) {
      throw std::runtime_error("curl_multi_init failed");
    }
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options.max_host_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(options.max_cached_connections));
  }

  ~Impl() {
    for (auto& [easy, transfer] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
    }
    transfers_.clear();  // header lists go after their handles left the multi handle
    for (CURL* easy : idle_) {
      curl_easy_cleanup(easy);
    }
    curl_multi_cleanup(multi_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Impl(Impl&&) = delete;
  Impl& operator=(Impl&&) = delete;

  void Start(Request request, Completion done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->done = std::move(done);
    if (auto bad = detail::CheckHeaders(transfer->request)) {
      Fail(std::move(transfer), std::move(*bad));
      return;
    }
    CURL* easy = nullptr;
    if (!idle_.empty()) {
      easy = idle_.back();
      idle_.pop_back();
      curl_easy_reset(easy);
    } else {
      easy = curl_easy_init();
    }
    if (easy == nullptr) {
      auto error = core::MakeError(core::ErrorCode::kInternal,
                                   detail::Prefix(transfer->request) + "curl_easy_init failed");
      Fail(std::move(transfer), std::move(error));
      return;
    }
    detail::Configure(easy, transfer->request, config_, transfer->exchange);
    if (const CURLMcode code = curl_multi_add_handle(multi_, easy); code != CURLM_OK) {
      idle_.push_back(easy);
      auto error = core::MakeError(core::ErrorCode::kInternal,
                                   detail::Prefix(transfer->request) + curl_multi_strerror(code));
      Fail(std::move(transfer), std::move(error));
      return;
    }
    transfers_.emplace(easy, std::move(transfer));
  }

  void Poll(std::chrono::milliseconds max_wait) {
    if (max_wait.count() > 0 && failed_.empty()) {
      curl_multi_poll(multi_, nullptr, 0,
                      static_cast<int>(std::min<std::int64_t>(max_wait.count(),
                                                              std::numeric_limits<int>::max())),
                      nullptr);
    }
    int running = 0;
    curl_multi_perform(multi_, &running);
    // Collected first, called after: a completion may Start() the next request.
    std::vector<std::pair<std::unique_ptr<Transfer>, core::Result<Response>>> finished;
    finished.swap(failed_);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) {
        continue;
      }
      CURL* easy = msg->easy_handle;
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-union-access): curl's CURLMsg is a union
      const CURLcode code = msg->data.result;
      auto node = transfers_.extract(easy);
      curl_multi_remove_handle(multi_, easy);
      std::unique_ptr<Transfer> transfer = std::move(node.mapped());
      auto answer = detail::Finish(easy, code, transfer->request, transfer->exchange);
      idle_.push_back(easy);
      finished.emplace_back(std::move(transfer), std::move(answer));
    }
    completing_ = finished.size();
    for (auto& [transfer, answer] : finished) {
      --completing_;
      transfer->done(std::move(answer));
    }
  }

  void Wakeup() { curl_multi_wakeup(multi_); }

  std::size_t InFlight() const { return transfers_.size() + failed_.size() + completing_; }

 private:
  struct Transfer {
    Request request;
    Completion done;
    detail::Exchange exchange;
  };

  void Fail(std::unique_ptr<Transfer> transfer, core::Error error) {
    failed_.emplace_back(std::move(transfer), std::move(error));
  }

  detail::EasyConfig config_;
  std::shared_ptr<const AddressFilter> filter_;  // config_.filter points into it
  CURLM* multi_;
  std::map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<std::pair<std::unique_ptr<Transfer>, core::Result<Response>>> failed_;
  std::size_t completing_ = 0;
  std::vector<CURL*> idle_;
};

CurlMultiHttpClient::CurlMultiHttpClient(CurlMultiOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
}
CurlMultiHttpClient::~CurlMultiHttpClient() = default;
void CurlMultiHttpClient::Start(Request request, Completion done) {
  impl_->Start(std::move(request), std::move(done));
}
void CurlMultiHttpClient::Poll(std::chrono::milliseconds max_wait) {
  impl_->Poll(max_wait);
}
void CurlMultiHttpClient::Wakeup() {
  impl_->Wakeup();
}
std::size_t CurlMultiHttpClient::InFlight() const {
  return impl_->InFlight();
}

}  // namespace obsforge::http
