#include "core/hash.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

std::string HexOf(const std::array<std::uint8_t, 32>& d) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  const std::string data(1000, 'x');
  Sha256 sha;
  for (std::size_t i = 0; i < data.size(); i += 7) {
    sha.Update(std::string_view(data).substr(i, 7));
  }
  EXPECT_EQ(HexOf(sha.Finish()), Sha256Hex(data));
}

TEST(Sha256, UseAfterFinishIsAnErrorNotAWrongDigest) {
  Sha256 sha;
  sha.Update("abc");
  (void)sha.Finish();
  EXPECT_THROW(sha.Update("more"), std::logic_error);
  EXPECT_THROW((void)sha.Finish(), std::logic_error);
}

TEST(HmacSha256, Rfc4231Vectors) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexOf(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4231 test case 6: a key longer than the block size.
  EXPECT_EQ(HexOf(HmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // An empty key and message are legal (a widely published vector).
  EXPECT_EQ(HexOf(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

}  // namespace
}  // namespace obsforge::core
