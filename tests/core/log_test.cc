#include "core/log.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Logger, WritesOneJsonObjectPerLine) {
  std::ostringstream out;
  Logger log(out);
  log.Info("applied", {{"stack", "demo"}, {"env", "dev"}});
  EXPECT_THAT(out.str(),
              HasSubstr(R"("level":"info","msg":"applied","stack":"demo","env":"dev"})"));
  EXPECT_EQ(out.str().back(), '\n');
}

TEST(Logger, RedactsRegisteredSecretsEverywhere) {
  std::ostringstream out;
  Logger log(out);
  log.AddRedaction("hooks.slack.com/services/T000/B000/XXXX");
  log.Error("slack said no for https://hooks.slack.com/services/T000/B000/XXXX",
            {{"body", "url=https://hooks.slack.com/services/T000/B000/XXXX"}});
  EXPECT_THAT(out.str(), Not(HasSubstr("T000/B000/XXXX")));
  EXPECT_THAT(out.str(), HasSubstr("https://<secret>"));
}

TEST(Logger, EscapesControlCharacters) {
  std::ostringstream out;
  Logger log(out);
  log.Warn("line1\nline2 \"quoted\"");
  EXPECT_THAT(out.str(), HasSubstr(R"(line1\nline2 \"quoted\")"));
}

TEST(Logger, DropsMessagesBelowTheLevel) {
  std::ostringstream out;
  Logger log(out, LogLevel::kWarn);
  log.Info("quiet");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace obsforge::core
