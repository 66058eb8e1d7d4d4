#include "http/url.h"

#include <gtest/gtest.h>

namespace obsforge::http {
namespace {

TEST(JoinUrl, PutsExactlyOneSlashBetweenBaseAndPath) {
  EXPECT_EQ(JoinUrl("http://grafana:3000", "/api/health"), "http://grafana:3000/api/health");
  EXPECT_EQ(JoinUrl("http://grafana:3000/", "/api/health"), "http://grafana:3000/api/health");
  EXPECT_EQ(JoinUrl("http://grafana:3000//", "api/health"), "http://grafana:3000/api/health");
  EXPECT_EQ(JoinUrl("http://h/grafana/", "api/x?y=1"), "http://h/grafana/api/x?y=1");
}

TEST(JoinUrl, EmptyPathReturnsBase) {
  EXPECT_EQ(JoinUrl("http://h:1/", ""), "http://h:1/");
}

TEST(EncodePathSegment, KeepsUnreservedAndEncodesEverythingElse) {
  EXPECT_EQ(EncodePathSegment("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(EncodePathSegment("a/b c?d#e%f"), "a%2Fb%20c%3Fd%23e%25f");
  EXPECT_EQ(EncodePathSegment("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(EncodePathSegment(""), "");
}

TEST(EncodeQueryValue, EncodesQuerySeparators) {
  EXPECT_EQ(EncodeQueryValue("up{job=\"a\"} + 1&x"), "up%7Bjob%3D%22a%22%7D%20%2B%201%26x");
}

TEST(BuildQuery, KeepsOrderAndRepeatedNames) {
  EXPECT_EQ(BuildQuery({{"folderUIDs", "a"}, {"folderUIDs", "b c"}, {"type", "dash-db"}}),
            "folderUIDs=a&folderUIDs=b%20c&type=dash-db");
  EXPECT_EQ(BuildQuery({}), "");
}

TEST(RedactUrl, DropsUserinfo) {
  EXPECT_EQ(RedactUrl("http://admin:s3cret@grafana:3000/api/health"),
            "http://grafana:3000/api/health");
  EXPECT_EQ(RedactUrl("https://a@b:p@w@h/x"), "https://h/x");
  EXPECT_EQ(RedactUrl("http://grafana:3000"), "http://grafana:3000");
}

TEST(RedactUrl, RedactsCredentialLikeQueryValues) {
  EXPECT_EQ(RedactUrl("http://h/x?query=up&api_key=abc&Token=t&X-Amz-Signature=s#frag"),
            "http://h/x?query=up&api_key=<secret>&Token=<secret>&X-Amz-Signature=<secret>#frag");
  EXPECT_EQ(RedactUrl("http://h/x?password=p&user=u&flag"),
            "http://h/x?password=<secret>&user=u&flag");
}

TEST(RedactUrl, WithoutSchemeOnlyRedactsQuery) {
  EXPECT_EQ(RedactUrl("/api/x?token=t"), "/api/x?token=<secret>");
  EXPECT_EQ(RedactUrl("user:pw@host"), "user:pw@host");
}

TEST(OriginOf, LowercasesAndMakesDefaultPortExplicit) {
  EXPECT_EQ(OriginOf("http://Grafana:3000/api"), "http://grafana:3000");
  EXPECT_EQ(OriginOf("HTTP://u:p@Prom/x?y"), "http://prom:80");
  EXPECT_EQ(OriginOf("https://loki"), "https://loki:443");
  EXPECT_EQ(OriginOf("http://[::1]:9090/"), "http://[::1]:9090");
  EXPECT_EQ(OriginOf("http://[::1]/"), "http://[::1]:80");
  EXPECT_EQ(OriginOf("grafana:3000"), "");
}

}  // namespace
}  // namespace obsforge::http
