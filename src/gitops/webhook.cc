#include "gitops/webhook.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "core/bytes.h"
#include "core/hash.h"

namespace obsforge::gitops {

bool VerifyGithubSignature(std::string_view secret,
                           std::string_view body,
                           std::string_view header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (secret.empty() || header.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  std::string given(header.substr(kPrefix.size()));
  std::transform(given.begin(), given.end(), given.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto mac = core::HmacSha256(secret, body);
  const std::string expected = core::ToHex(core::CharsOf(mac));
  return core::ConstantTimeEquals(given, expected);
}

bool VerifyGitlabToken(std::string_view secret, std::string_view header) {
  return !secret.empty() && !header.empty() && core::ConstantTimeEquals(secret, header);
}

bool InMemoryDeliveryLog::Seen(const std::string& id) {
  std::lock_guard lock(mu_);
  if (ids_.contains(id)) {
    return true;
  }
  ids_.insert(id);
  order_.push_back(id);
  while (order_.size() > capacity_) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
  return false;
}

std::optional<PushEvent> ParsePushPayload(std::string_view body) {
  const auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("ref") || !doc["ref"].is_string()) {
    return std::nullopt;
  }
  PushEvent event{.ref = doc["ref"].get<std::string>()};
  // GitLab sends both `after` and `checkout_sha`; `checkout_sha` is null when the branch is gone.
  const char* sha_key = doc.contains("checkout_sha") ? "checkout_sha" : "after";
  if (doc.contains(sha_key) && doc[sha_key].is_string()) {
    event.after = doc[sha_key].get<std::string>();
  }
  if (event.after.find_first_not_of('0') == std::string::npos) {
    event.after.clear();  // GitHub reports a deleted branch as after = 000…0
  }
  return event;
}

WebhookResponse WebhookHandler::Handle(const WebhookRequest& request) const {
  const std::string signature = request.header("X-Hub-Signature-256");
  const std::string gitlab_token = request.header("X-Gitlab-Token");
  std::vector<const WebhookSource*> authenticated;
  for (const auto& source : sources_) {
    const std::string& secret = source.secret.Reveal();
    if ((!signature.empty() && VerifyGithubSignature(secret, request.body, signature)) ||
        (!gitlab_token.empty() && VerifyGitlabToken(secret, gitlab_token))) {
      authenticated.push_back(&source);
    }
  }
  if (authenticated.empty()) {
    return {.status = 401,
            .outcome = "unauthorized",
            .message = signature.empty() && gitlab_token.empty()
                           ? "missing X-Hub-Signature-256 or X-Gitlab-Token"
                           : "webhook signature does not verify"};
  }
  std::string delivery = request.header("X-GitHub-Delivery");
  if (delivery.empty()) {
    delivery = request.header("X-Gitlab-Event-UUID");
  }
  if (!delivery.empty() && log_.Seen(delivery)) {
    return {.status = 200,
            .outcome = "duplicate",
            .message = "delivery " + delivery + " was already handled"};
  }
  const auto push = ParsePushPayload(request.body);
  if (!push) {
    return {.status = 200, .outcome = "ignored", .message = "not a push event"};
  }
  if (push->after.empty()) {
    return {.status = 200, .outcome = "ignored", .message = "branch deleted: " + push->ref};
  }
  WebhookResponse response{
      .status = 200, .outcome = "ignored", .message = "no source follows " + push->ref};
  for (const WebhookSource* source : authenticated) {
    if (push->ref == "refs/heads/" + source->branch) {
      if (source->trigger) {
        source->trigger();
      }
      response.sources.push_back(source->key);
    }
  }
  if (!response.sources.empty()) {
    response.status = 202;
    response.outcome = "triggered";
    response.message = "sync triggered for " + push->ref + " at " + push->after;
  }
  return response;
}

}  // namespace obsforge::gitops
