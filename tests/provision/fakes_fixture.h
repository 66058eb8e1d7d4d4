#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "fakes/fake_grafana.h"
#include "http/curl_http_client.h"
#include "http/retrying_http_client.h"
#include "provision/grafana_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/ownership.h"
#include "support/fake_clock.h"

namespace obsforge::provision::testing {

/// libcurl's global state for the whole test binary, set up before main() starts any thread.
inline const http::CurlGlobal kCurlGlobal;

/// A FakeGrafana reached through CurlHttpClient + RetryingHttpClient (FakeClock: waits are
/// instant but measured) and a provisioner for owner tokpulse/dev.
class GrafanaFakesTest : public ::testing::Test {
 protected:
  static constexpr const char* kStack = "tokpulse";

  GrafanaOptions ClientOptions(bool disable_provenance = false) {
    return {.base_url = grafana_.url(),
            .basic_user = "admin",
            .basic_password = core::Secret("admin"),
            .disable_provenance = disable_provenance};
  }

  GrafanaProvisioner Provisioner(GrafanaClient& client, OwnershipLedger& ledger) {
    return GrafanaProvisioner({.owner = owner_, .revision = "7"}, client, ledger, env_);
  }

  Owner owner_{.stack = kStack, .env = "dev"};
  core::EnvLookup env_ = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SLACK_URL") {
      return "https://hooks.slack.example/services/T0/B0/secretvalue";
    }
    return std::nullopt;
  };
  fakes::FakeGrafana grafana_;
  http::CurlHttpClient curl_{{.max_per_host = 8}};
  obsforge::testing::FakeClock clock_;
  http::RetryingHttpClient retrying_{
      curl_, clock_, {.max_attempts = 4, .base_delay = std::chrono::milliseconds(100), .seed = 1}};
  GrafanaClient client_{ClientOptions(), retrying_};
  InMemoryLedger ledger_;
};

}  // namespace obsforge::provision::testing
