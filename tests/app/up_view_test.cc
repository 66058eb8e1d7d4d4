// What `obsforge up` prints about health: the lines and the live status block.
#include "app/up_view.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsforge::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

health::TimePoint At(int hour, int minute, int second) {
  return health::TimePoint(std::chrono::hours(hour) + std::chrono::minutes(minute) +
                           std::chrono::seconds(second));
}

health::Transition Change(health::Transition::Scope scope,
                          const std::string& component,
                          const std::string& check,
                          health::State from,
                          health::State to,
                          const std::string& message) {
  return {.scope = scope,
          .stack = "demo",
          .env = "dev",
          .component = component,
          .check = check,
          .from = from,
          .to = to,
          .at = At(12, 0, 5),
          .message = message};
}

control::EnvironmentNow Degraded() {
  control::EnvironmentNow now;
  now.runtime.components = {{.name = "prometheus", .state = "running", .restarts = 2},
                            {.name = "alertmanager", .state = "running"}};
  health::EnvironmentStatus status{
      .stack = "demo", .env = "dev", .state = health::State::kDegraded, .since = At(12, 0, 5)};
  status.components.push_back({.name = "alertmanager",
                               .state = health::State::kOk,
                               .checks = {{.name = "live", .state = health::State::kOk}}});
  status.components.push_back({.name = "prometheus",
                               .state = health::State::kDown,
                               .checks = {{.name = "live", .state = health::State::kFailing},
                                          {.name = "targets", .state = health::State::kUnknown}}});
  now.health = status;
  return now;
}

TEST(UpView, TransitionLinesNameTheEnvironmentOrTheComponent) {
  using Scope = health::Transition::Scope;
  using health::State;
  EXPECT_EQ(TransitionLine(Change(Scope::kEnvironment, "", "", State::kOk, State::kDegraded,
                                  "prometheus/live: timed out")),
            "12:00:05 demo/dev: ok -> degraded: prometheus/live: timed out");
  EXPECT_EQ(TransitionLine(
                Change(Scope::kComponent, "prometheus", "", State::kOk, State::kDown, "live: x")),
            "12:00:05 demo/dev prometheus: ok -> down: live: x");
}

TEST(UpView, PlainModePrintsEnvironmentAndComponentChangesOfItsEnvironmentOnly) {
  using Scope = health::Transition::Scope;
  using health::State;
  std::ostringstream out;
  TerminalView view(out, false, "demo", "dev");
  view.Print("bringing up demo [dev]");
  auto other = Change(Scope::kEnvironment, "", "", State::kOk, State::kDown, "");
  other.env = "prod";
  view.OnTransitions({Change(Scope::kCheck, "prometheus", "live", State::kOk, State::kFailing, "x"),
                      Change(Scope::kComponent, "prometheus", "", State::kOk, State::kDown, "x"),
                      Change(Scope::kEnvironment, "", "", State::kOk, State::kDegraded, "y"),
                      other});
  view.Show([] { return Degraded(); });  // no block without a terminal
  view.Refresh(true);
  EXPECT_EQ(out.str(),
            "bringing up demo [dev]\n"
            "12:00:05 demo/dev prometheus: ok -> down: x\n"
            "12:00:05 demo/dev: ok -> degraded: y\n");
}

TEST(UpView, StatusBlockShowsComponentsChecksAndTheLastChange) {
  const auto block =
      StatusBlock("demo", "dev", Degraded(), "12:00:05 demo/dev: ok -> degraded", 100);
  EXPECT_THAT(block, ElementsAre("demo/dev  degraded since 12:00:05",
                                 "  prometheus     running (2x) down      live\u2717 targets\u00b7",
                                 "  alertmanager   running      ok        live\u2713",
                                 "  last change: 12:00:05 demo/dev: ok -> degraded"));
  // Cut to the width, counting characters, not bytes.
  for (const auto& line : StatusBlock("demo", "dev", Degraded(), std::string(300, 'x'), 40)) {
    std::size_t columns = 0;
    for (const unsigned char c : line) {
      columns += (c & 0xC0U) != 0x80U ? 1 : 0;
    }
    EXPECT_LE(columns, 40U) << line;
  }
  EXPECT_THAT(StatusBlock("demo", "dev", {}, "", 100),
              ElementsAre("demo/dev  health not watched", "  last change: none"));
}

TEST(UpView, LiveModeRedrawsTheBlockInPlaceBelowThePrintedLines) {
  using Scope = health::Transition::Scope;
  using health::State;
  std::ostringstream out;
  TerminalView view(out, true, "demo", "dev");
  view.Show([] { return Degraded(); });
  const std::string first = out.str();
  EXPECT_THAT(first, HasSubstr("last change: none\n"));
  view.OnTransitions({Change(Scope::kEnvironment, "", "", State::kOk, State::kDegraded, "y")});
  EXPECT_EQ(out.str(), first);  // drawn by the main thread, not the prober's
  view.Refresh(false);
  // Back up over the 4 lines of the block, clear, draw it again with the change.
  EXPECT_THAT(out.str().substr(first.size()), ::testing::StartsWith("\r\x1b[4A\x1b[J"));
  EXPECT_THAT(out.str(), HasSubstr("last change: 12:00:05 demo/dev: ok -> degraded: y\n"));
  const std::size_t before = out.str().size();
  view.Refresh(false);  // nothing new
  EXPECT_EQ(out.str().size(), before);
  view.Print("a warning");
  EXPECT_THAT(out.str().substr(before), ::testing::StartsWith("\r\x1b[4A\x1b[Ja warning\n"));
  view.Close();
  EXPECT_THAT(out.str(), ::testing::EndsWith("\r\x1b[4A\x1b[J"));
  view.Print("stopping");
  EXPECT_THAT(out.str(), ::testing::EndsWith("\x1b[Jstopping\n"));
}

}  // namespace
}  // namespace obsforge::app
