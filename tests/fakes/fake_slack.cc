#include "fakes/fake_slack.h"

#include <condition_variable>
#include <mutex>

namespace obsforge::fakes {
namespace {

using nlohmann::json;

// Slack counts characters, not bytes.
std::size_t Utf8Length(const std::string& text) {
  std::size_t count = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
      ++count;
    }
  }
  return count;
}

std::string TextOf(const json& object) {
  if (object.is_object() && object.contains("text") && object["text"].is_string()) {
    return object["text"];
  }
  return "";
}

// "" when the blocks respect Block Kit's limits, else Slack's explanation.
std::string CheckBlocks(const json& blocks) {
  if (!blocks.is_array()) {
    return "invalid_blocks_format";
  }
  if (blocks.size() > 50) {
    return "invalid_blocks";
  }
  for (const auto& block : blocks) {
    if (!block.is_object() || !block.contains("type") || !block["type"].is_string()) {
      return "invalid_blocks";
    }
    const std::string type = block["type"];
    const json text = block.value("text", json());
    if (block.contains("block_id") && Utf8Length(block.value("block_id", "")) > 255) {
      return "invalid_blocks";
    }
    if (type == "header" && (!text.is_object() || Utf8Length(TextOf(text)) > 150 ||
                             text.value("type", "") != "plain_text")) {
      return "invalid_blocks";
    }
    if (type == "section") {
      if (!text.is_null() && Utf8Length(TextOf(text)) > 3000) {
        return "invalid_blocks";
      }
      const json fields = block.value("fields", json::array());
      if (fields.size() > 10) {
        return "invalid_blocks";
      }
      for (const auto& field : fields) {
        if (Utf8Length(TextOf(field)) > 2000) {
          return "invalid_blocks";
        }
      }
      if (text.is_null() && fields.empty()) {
        return "invalid_blocks";
      }
    }
    if (type == "context" && block.value("elements", json::array()).size() > 10) {
      return "invalid_blocks";
    }
    if (type == "actions" && block.value("elements", json::array()).size() > 25) {
      return "invalid_blocks";
    }
  }
  return "";
}

}  // namespace

struct FakeSlack::State {
  mutable std::mutex mutex;
  mutable std::condition_variable arrived;
  std::vector<json> messages;
  std::vector<std::string> paths;

  FakeResponse Post(FakeRequest& request) {
    if (!request.Header("Content-Type").starts_with("application/json")) {
      return FakeResponse::Text(400, "invalid_payload");
    }
    auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return FakeResponse::Text(400, "invalid_payload");
    }
    const bool has_text = body.contains("text") && body["text"].is_string() &&
                          !body["text"].get<std::string>().empty();
    const bool has_blocks = body.contains("blocks");
    // Legacy attachments carry a message on their own (Slack shows their text, or their
    // fallback in notifications): a payload of attachments only is accepted.
    bool has_attachments = false;
    if (body.contains("attachments")) {
      if (!body["attachments"].is_array()) {
        return FakeResponse::Text(400, "invalid_attachments");
      }
      for (const auto& attachment : body["attachments"]) {
        if (!attachment.is_object()) {
          return FakeResponse::Text(400, "invalid_attachments");
        }
        for (const char* key : {"text", "fallback", "pretext", "title"}) {
          has_attachments =
              has_attachments || (attachment.contains(key) && attachment[key].is_string() &&
                                  !attachment[key].get<std::string>().empty());
        }
        has_attachments = has_attachments || attachment.contains("blocks") ||
                          !attachment.value("fields", json::array()).empty();
      }
    }
    if (!has_text && !has_blocks && !has_attachments) {
      return FakeResponse::Text(400, "no_text");
    }
    if (has_blocks) {
      if (auto bad = CheckBlocks(body["blocks"]); !bad.empty()) {
        return FakeResponse::Text(400, bad);
      }
    }
    {
      std::lock_guard lock(mutex);
      messages.push_back(std::move(body));
      paths.push_back(request.path);
    }
    arrived.notify_all();
    return FakeResponse::Text(200, "ok");
  }
};

FakeSlack::FakeSlack(std::uint16_t port)
    : state_(std::make_unique<State>()), server_(std::make_unique<FakeServer>(port)) {
  State& s = *state_;
  server_->Route("POST", "/services/{team}/{bot}/{secret}",
                 [&s](FakeRequest& r) { return s.Post(r); });
  server_->Start();
}

FakeSlack::~FakeSlack() {
  server_->Stop();
}

std::string FakeSlack::WebhookUrl(const std::string& secret) const {
  return url() + "/services/T0FAKE/B0FAKE/" + secret;
}

void FakeSlack::RateLimitNext(int count, int retry_after_seconds) {
  server_->faults().Add(Fault{.kind = Fault::Kind::kStatus,
                              .status = 429,
                              .headers = {{"Content-Type", "application/json"},
                                          {"Retry-After", std::to_string(retry_after_seconds)}},
                              .body = R"({"ok":false,"error":"rate_limited"})",
                              .path_prefix = "/services/"},
                        count);
}

void FakeSlack::FailNext(int count, int status, const std::string& error) {
  server_->faults().FailNext(count, status, error, "/services/");
}

std::vector<json> FakeSlack::Messages() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages;
}

std::vector<std::string> FakeSlack::MessagePaths() const {
  std::lock_guard lock(state_->mutex);
  return state_->paths;
}

int FakeSlack::Attempts() const {
  return server_->TotalRequests() + server_->faults().delivered();
}

bool FakeSlack::WaitForMessages(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->arrived.wait_for(lock, timeout, [&] { return state_->messages.size() >= count; });
}

}  // namespace obsforge::fakes
