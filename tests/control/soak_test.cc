// The short form of bench/soak: `obsforge serve` with 20 stacks (external runtimes on loopback
// fakes) under 40 concurrent clients for 20 seconds. Only correctness is asserted — no 5xx, no
// unexpected status, no request unanswered, every accepted operation ends — never timing (the
// numbers are measured by bench/soak, see bench/README.md). A 503 with Retry-After (admission
// control: overloaded, retry later) is an answer, counted apart in `overloaded` and printed.
#include "soak/soak.h"

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <unistd.h>

namespace obsforge::soak {
namespace {

TEST(Soak, TwentySecondsOfMixedClientsLoseNothingAndNeverFail) {
  std::string dir = "/tmp/obsforge-soak-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  auto report =
      RunSoak({.obsforge = std::string(OBS_BINARY_DIR) + "/src/app/obsforge",
               .work_dir = dir,
               .stacks = 20,
               .clients = 40,
               .duration = std::chrono::seconds(20),
               .seed = 1,
               // The test asserts that every request is answered, not how soon: under a sanitizer
               // on two busy cores a plan waits seconds for its turn (a p99 of 14.6 s was seen
               // under ASan), so a client gives up only after two minutes.
               .request_timeout = std::chrono::minutes(2),
               .progress = &std::cerr});
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const std::string summary = ReportMarkdown(*report);
  EXPECT_GT(report->requests, 0U) << summary;
  EXPECT_EQ(report->server_errors, 0U) << summary;
  EXPECT_EQ(report->unexpected, 0U) << summary;
  EXPECT_GT(report->operations, 0U) << summary;
  EXPECT_EQ(report->lost, 0U) << summary;
  for (const auto& [state, n] : report->operation_states) {
    EXPECT_NE(state, "") << summary;
  }
  std::cout << summary;
}

}  // namespace
}  // namespace obsforge::soak
