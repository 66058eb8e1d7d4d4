// Alertmanager notification templates carried all the way with the real Alertmanager 0.25 from
// Debian: a stack's Slack template is rendered, applied, loaded, and used for the message; a
// changed template is hot-reloaded (the next message uses it); a template Alertmanager rejects is
// rolled back. Slack is a loopback server that records what Alertmanager posts.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apply/environment_controller.h"
#include "core/fs.h"
#include "fakes/fake_server.h"
#include "http/curl_http_client.h"
#include "spec/stack.h"
#include "support/real_upstreams.h"
#include <unistd.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kStack = R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: amtpl}
spec:
  components:
    prometheus: {enabled: false}
    alertmanager:
      route: {receiver: team, group_by: [alertname], group_wait: 100ms}
      receivers:
        - name: team
          slack:
            channel: "#team"
            webhook: {secret: AMTPL_SLACK_WEBHOOK}
            title: '{{ template "team.title" . }}'
            text: '{{ template "team.text" . }}'
      templates: [notify/*.tmpl]
  environments:
    dev: {runtime: {type: local}}
)";

std::string Template(const std::string& words) {
  return "{{ define \"team.title\" }}{{ .CommonLabels.alertname }}{{ end }}\n"
         "{{ define \"team.text\" }}" +
         words + " {{ .CommonLabels.alertname }}{{ end }}\n";
}

// Slack's incoming webhook as Alertmanager's notifier uses it: records each message's first
// attachment as "title|text".
class SlackRecorder {
 public:
  SlackRecorder() {
    server_.Route("POST", "/services/{a}/{b}/{c}", [this](fakes::FakeRequest& request) {
      const auto body = nlohmann::json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.contains("attachments") || body["attachments"].empty()) {
        return fakes::FakeResponse::Text(400, "invalid_payload");
      }
      const auto& attachment = body["attachments"][0];
      {
        std::lock_guard lock(mutex_);
        messages_.push_back(attachment.value("title", "") + "|" + attachment.value("text", ""));
      }
      arrived_.notify_all();
      return fakes::FakeResponse::Text(200, "ok");
    });
    server_.Start();
  }

  std::string WebhookUrl() const { return server_.url() + "/services/T0/B0/secret"; }

  /// Waits until `message` has arrived (Alertmanager sends after its group_wait).
  bool WaitFor(const std::string& message) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, std::chrono::seconds(60), [&] {
      return std::find(messages_.begin(), messages_.end(), message) != messages_.end();
    });
  }

  std::vector<std::string> Messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  fakes::FakeServer server_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::string> messages_;
};

class AlertmanagerTemplatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FindOnPath("prometheus-alertmanager") && !testing::FindOnPath("alertmanager")) {
      if (std::getenv("CI") != nullptr) {  // NOLINT(concurrency-mt-unsafe)
        FAIL() << "CI must have prometheus-alertmanager";
      }
      GTEST_SKIP() << "prometheus-alertmanager not installed";
    }
    dir_ = fs::temp_directory_path() /
           ("obs-amtpl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ControllerOptions options;
    options.data_dir = dir_ / "var";
    options.ready_timeout = std::chrono::seconds(30);
    options.env_lookup = [this](const std::string& name) -> std::optional<std::string> {
      if (name == "AMTPL_SLACK_WEBHOOK") {
        return slack_.WebhookUrl();
      }
      return std::nullopt;
    };
    controller_ = std::make_unique<EnvironmentController>(options, http_, clock_, log_);
  }
  void TearDown() override {
    controller_.reset();
    fs::remove_all(dir_);
  }

  ApplyResult Apply() {
    auto content = spec::MakeMemorySource(files_);
    return controller_->Apply(spec::ParseStack(kStack, "amtpl.yaml", *content), "dev", *content);
  }

  std::string AlertmanagerUrl() {
    auto content = spec::MakeMemorySource(files_);
    return controller_->Urls(spec::ParseStack(kStack, "amtpl.yaml", *content), "dev")
        .at("alertmanager");
  }

  void Fire(const std::string& alertname) {
    const auto r = http_.Send(
        {.method = "POST",
         .url = AlertmanagerUrl() + "/api/v2/alerts",
         .headers = {{"Content-Type", "application/json"}},
         .body = nlohmann::json::array({{{"labels", {{"alertname", alertname}}}}}).dump()});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->status, 200) << r->body;
  }

  fs::path dir_;
  std::map<std::string, std::string> files_;
  SlackRecorder slack_;
  core::SystemClock clock_;
  std::ostringstream log_stream_;
  core::Logger log_{log_stream_, core::LogLevel::kDebug};
  http::CurlHttpClient http_;
  std::unique_ptr<EnvironmentController> controller_;
};

TEST_F(AlertmanagerTemplatesTest, TemplateIsUsedHotReloadedAndABrokenOneRolledBack) {
  files_["notify/team.tmpl"] = Template("first template:");
  const auto first = Apply();
  ASSERT_EQ(first.outcome, Outcome::kApplied) << (first.error ? first.error->message : "");
  Fire("One");
  ASSERT_TRUE(slack_.WaitFor("One|first template: One"))
      << ::testing::PrintToString(slack_.Messages());

  // A changed template alone: only Alertmanager's files change, it is reloaded in place and the
  // next message uses the new text.
  files_["notify/team.tmpl"] = Template("second template:");
  const auto second = Apply();
  ASSERT_EQ(second.outcome, Outcome::kApplied) << (second.error ? second.error->message : "");
  EXPECT_EQ(second.components, std::vector<std::string>{"alertmanager"});
  Fire("Two");
  ASSERT_TRUE(slack_.WaitFor("Two|second template: Two"))
      << ::testing::PrintToString(slack_.Messages());

  // A template Alertmanager cannot parse: its reload fails, the apply is rolled back with
  // Alertmanager's words, and the previous template is what it keeps using.
  files_["notify/team.tmpl"] = "{{ define \"team.text\" }}{{ .Broken \n";
  const auto third = Apply();
  ASSERT_EQ(third.outcome, Outcome::kRolledBack) << (third.error ? third.error->message : "");
  ASSERT_TRUE(third.error);
  EXPECT_THAT(third.error->message, HasSubstr("team.tmpl"));
  Fire("Three");
  ASSERT_TRUE(slack_.WaitFor("Three|second template: Three"))
      << ::testing::PrintToString(slack_.Messages());
}

}  // namespace
}  // namespace obsforge::apply
