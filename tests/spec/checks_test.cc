#include "spec/checks.h"

#include <gtest/gtest.h>

namespace obsforge::spec {
namespace {

TEST(ChecksTest, Durations) {
  for (const char* ok : {"30s", "5m", "1h30m", "15d", "1y", "500ms", "2w", "0", "1d12h"}) {
    EXPECT_TRUE(IsDuration(ok)) << ok;
  }
  for (const char* bad : {"", "5x", "30", "m", "1m1h", "1.5h", "-5m", "5 m", "5s5s"}) {
    EXPECT_FALSE(IsDuration(bad)) << bad;
  }
}

TEST(ChecksTest, HostPort) {
  for (const char* ok : {"127.0.0.1:3000", "api:8080", "node-exporter.prod:9100", "[::1]:9090"}) {
    EXPECT_TRUE(IsHostPort(ok)) << ok;
  }
  for (const char* bad : {"api", "api:notaport", ":80", "api:0", "api:65536", "http://api:80",
                          "api:80/metrics", "[]:80"}) {
    EXPECT_FALSE(IsHostPort(bad)) << bad;
  }
}

TEST(ChecksTest, Names) {
  EXPECT_TRUE(IsName("tokpulse"));
  EXPECT_TRUE(IsName("a"));
  EXPECT_TRUE(IsName("team-1-api"));
  EXPECT_TRUE(IsName(std::string(63, 'a')));
  EXPECT_FALSE(IsName(std::string(64, 'a')));
  EXPECT_FALSE(IsName("Tok_Pulse"));
  EXPECT_FALSE(IsName("-api"));
  EXPECT_FALSE(IsName("api-"));
  EXPECT_FALSE(IsName(""));
}

TEST(ChecksTest, Sizes) {
  EXPECT_TRUE(IsSize("512MiB"));
  EXPECT_TRUE(IsSize("2GiB"));
  EXPECT_TRUE(IsSize("100KB"));
  EXPECT_FALSE(IsSize("512"));
  EXPECT_FALSE(IsSize("512mb"));
  EXPECT_FALSE(IsSize("MiB"));
}

TEST(ChecksTest, HttpUrls) {
  EXPECT_TRUE(IsHttpUrl("http://prom.prod:9090"));
  EXPECT_TRUE(IsHttpUrl("https://example.com/a?b=c"));
  EXPECT_FALSE(IsHttpUrl("prom:9090"));
  EXPECT_FALSE(IsHttpUrl("ftp://example.com"));
  EXPECT_FALSE(IsHttpUrl("http://"));
}

TEST(ChecksTest, Credentials) {
  EXPECT_TRUE(LooksLikeCredential("https://hooks.slack.com/services/T0/B0/abc"));
  EXPECT_TRUE(LooksLikeCredential("xoxb-123-456-abc"));
  EXPECT_TRUE(LooksLikeCredential("Bearer xoxp-1-2"));
  EXPECT_TRUE(LooksLikeCredential("postgres://app:hunter2@db:5432/app"));
  EXPECT_TRUE(LooksLikeCredential("https://user:pass@example.com"));
  EXPECT_FALSE(LooksLikeCredential("https://user@example.com/x"));
  EXPECT_FALSE(LooksLikeCredential("http://prom:9090/api"));
  EXPECT_FALSE(LooksLikeCredential("#alerts"));
  EXPECT_FALSE(LooksLikeCredential("checkbox-one"));
}

// libstdc++'s std::regex recurses per character: on ~100 kB it overflows the stack. Requests
// may carry strings that long, so no check may hand them to it.
TEST(ChecksTest, LongInputNeitherCrashesNorMatches) {
  const std::string long_text(300000, 'a');
  EXPECT_FALSE(LooksLikeCredential(long_text));
  EXPECT_TRUE(LooksLikeCredential("https://user:" + long_text + "@host"));
  EXPECT_FALSE(LooksLikeCredential("https://user:" + long_text));
  EXPECT_FALSE(IsDuration(std::string(300000, '1') + "s"));
  EXPECT_FALSE(IsName(long_text));
}

TEST(ChecksTest, CredentialShapes) {
  EXPECT_TRUE(LooksLikeCredential("token xoxb-1"));
  EXPECT_FALSE(LooksLikeCredential("axoxb-1"));  // inside a word
  EXPECT_FALSE(LooksLikeCredential("xoxb-"));
  EXPECT_TRUE(LooksLikeCredential("see git+ssh://deploy:pw@git.example/repo"));
  EXPECT_FALSE(LooksLikeCredential("://user:pw@host"));       // no scheme
  EXPECT_FALSE(LooksLikeCredential("http://user:pw@"));       // no host
  EXPECT_FALSE(LooksLikeCredential("http://us/er:pw@host"));  // '/' ends the userinfo
  EXPECT_FALSE(LooksLikeCredential("http://user:@host"));     // empty password
}

TEST(ChecksTest, EditDistanceAndSuggestions) {
  EXPECT_EQ(EditDistance("scrap", "scrape"), 1U);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3U);
  EXPECT_EQ(EditDistance("", "abc"), 3U);
  const std::vector<std::string> keys = {"scrape", "remote_write", "external_labels", "enabled"};
  EXPECT_EQ(Suggest("scrap", keys), "scrape");
  EXPECT_EQ(Suggest("remote", keys), "remote_write");  // prefix
  EXPECT_EQ(Suggest("enabledd", keys), "enabled");     // distance 1
  EXPECT_EQ(Suggest("colour", keys), std::nullopt);
  EXPECT_EQ(Suggest("x", {"to"}), std::nullopt);  // too short to guess
}

}  // namespace
}  // namespace obsforge::spec
