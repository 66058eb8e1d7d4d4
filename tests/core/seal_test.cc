#include "core/seal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kHexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
// The same 32 bytes in base64.
const std::string kBase64Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

SealKey Key(const std::string& text) {
  auto key = SealKey::Parse(text);
  EXPECT_TRUE(key.has_value()) << text;
  return key.value_or(*SealKey::Parse(kHexKey));
}

TEST(SealKey, ParsesHexAndBase64AndRefusesTheRest) {
  const SealKey hex = Key(kHexKey + "\n");
  const SealKey b64 = Key("  " + kBase64Key);
  EXPECT_EQ(hex.bytes(), b64.bytes());
  EXPECT_EQ(hex.id(), b64.id());
  EXPECT_EQ(hex.id().size(), 16U);
  EXPECT_EQ(hex.bytes()[31], 0x1f);
  for (const std::string& bad : std::vector<std::string>{
           "", "short", kHexKey.substr(2), kHexKey + "00", "zz" + kHexKey.substr(2),
           "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==" /* 31 bytes */}) {
    EXPECT_FALSE(SealKey::Parse(bad).has_value()) << bad;
  }
  EXPECT_NE(Key(std::string(64, 'a')).id(), hex.id());
}

TEST(Seal, RoundTripsAnyBytesAndNeverShowsThePlaintext) {
  const SealKey key = Key(kHexKey);
  const std::string value = std::string("hunter2\0\xff\n", 11) + std::string(5000, 'x');
  const std::string sealed = Seal(key, value, "shop/TOKEN");
  EXPECT_TRUE(sealed.starts_with("v1."));
  EXPECT_THAT(sealed, Not(HasSubstr("hunter2")));
  auto opened = Unseal(key, sealed, "shop/TOKEN");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->Reveal(), value);
  EXPECT_EQ(Unseal(key, Seal(key, "", "c"), "c")->Reveal(), "");
}

TEST(Seal, EverySealIsFreshlyNonced) {
  const SealKey key = Key(kHexKey);
  EXPECT_NE(Seal(key, "same", "ctx"), Seal(key, "same", "ctx"));
}

TEST(Seal, OpensOnlyWithTheSameKeyAndContextAndUnaltered) {
  const SealKey key = Key(kHexKey);
  const SealKey other = Key(std::string(64, 'b'));
  const std::string sealed = Seal(key, "hunter2", "shop/TOKEN");
  auto wrong_key = Unseal(other, sealed, "shop/TOKEN");
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.error().code, ErrorCode::kPrecondition);
  EXPECT_THAT(wrong_key.error().message, HasSubstr(other.id()));
  EXPECT_FALSE(Unseal(key, sealed, "blog/TOKEN").ok()) << "moved to another stack's row";
  std::string altered = sealed;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Unseal(key, altered, "shop/TOKEN").error().code, ErrorCode::kPrecondition);
  for (const std::string& bad :
       std::vector<std::string>{"", "v1.", "v1.@@@@", "v2." + sealed.substr(3), "v1.AAAA"}) {
    const auto result = Unseal(key, bad, "shop/TOKEN");
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidSpec) << bad;
  }
}

}  // namespace
}  // namespace obsforge::core
