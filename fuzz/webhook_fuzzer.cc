// The gitops webhook: headers and body from the input (split at the first two NUL bytes:
// X-Hub-Signature-256, X-Gitlab-Token, body). Verification and payload parsing never throw;
// nothing triggers unless a signature verifies.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gitops/webhook.h"

namespace {

std::string_view Take(std::string_view& input) {
  const std::size_t nul = input.find('\0');
  const std::string_view part = input.substr(0, nul);
  input.remove_prefix(nul == std::string_view::npos ? input.size() : nul + 1);
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string signature(Take(input));
  const std::string token(Take(input));
  const std::string body(input);

  (void)obsforge::gitops::ParsePushPayload(body);
  const bool github = obsforge::gitops::VerifyGithubSignature("s3cret", body, signature);
  const bool gitlab = obsforge::gitops::VerifyGitlabToken("s3cret", token);
  FUZZ_CHECK(!gitlab || token == "s3cret");
  FUZZ_CHECK(!obsforge::gitops::VerifyGithubSignature("", body, signature));

  obsforge::gitops::InMemoryDeliveryLog log(4);
  int triggered = 0;
  const obsforge::gitops::WebhookHandler handler({{.key = "src",
                                                   .branch = "main",
                                                   .secret = obsforge::core::Secret("s3cret"),
                                                   .trigger = [&triggered] { ++triggered; }}},
                                                 log);
  const auto response =
      handler.Handle({.header =
                          [&](const std::string& name) {
                            if (name == "X-Hub-Signature-256") {
                              return signature;
                            }
                            if (name == "X-Gitlab-Token") {
                              return token;
                            }
                            return std::string(name == "X-GitHub-Delivery" ? "d1" : "");
                          },
                      .body = body});
  FUZZ_CHECK(github || gitlab || (response.status == 401 && triggered == 0));
  FUZZ_CHECK(triggered <= 1);
  return 0;
}
