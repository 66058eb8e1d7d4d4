#include "core/secret.h"

#include <sstream>

#include <gtest/gtest.h>

#include "core/fs.h"

namespace obsforge::core {
namespace {

TEST(Secret, NeverPrintsItsValue) {
  const Secret s("hunter22");
  std::ostringstream out;
  out << s;
  EXPECT_EQ(out.str(), "<secret>");
  EXPECT_EQ(s.Reveal(), "hunter22");
}

TEST(ResolveSecret, FromEnvironment) {
  const EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "TOKEN") {
      return "abc";
    }
    return std::nullopt;
  };
  auto found = ResolveSecret({.kind = SecretRef::Kind::kEnv, .name = "TOKEN"}, env);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->Reveal(), "abc");
  auto missing = ResolveSecret({.kind = SecretRef::Kind::kEnv, .name = "NOPE"}, env);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "secret {secret: NOPE}: environment variable NOPE is not set");
}

TEST(ResolveSecret, FromFileDropsTrailingNewline) {
  const auto path = std::filesystem::temp_directory_path() / "obs-secret-test";
  WriteFileAtomic(path, "value\n", 0600);
  auto found = ResolveSecret({.kind = SecretRef::Kind::kFile, .name = path.string()}, ProcessEnv());
  std::filesystem::remove(path);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->Reveal(), "value");
}

}  // namespace
}  // namespace obsforge::core
