#include "core/utf8.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

TEST(Utf8Test, SequenceLengthFollowsRfc3629sTable) {
  EXPECT_EQ(Utf8SequenceLength(""), 0U);
  EXPECT_EQ(Utf8SequenceLength("a"), 1U);
  EXPECT_EQ(Utf8SequenceLength(std::string_view("\0x", 2)), 1U);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9x"), 2U);         // é
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC"), 3U);      // €
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80"), 4U);  // 😀
  EXPECT_EQ(Utf8SequenceLength("\xF4\x8F\xBF\xBF"), 4U);  // U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80"), 0U);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xC0\xAF"), 0U);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xE0\x80\xAF"), 0U);      // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xF0\x80\x80\xAF"), 0U);  // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xED\x9F\xBF"), 3U);      // U+D7FF
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80"), 0U);      // U+D800, a surrogate
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0U);              // a continuation byte alone
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82"), 0U);          // truncated
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82x"), 0U);         // interrupted
  EXPECT_EQ(Utf8SequenceLength("\xFF"), 0U);
}

TEST(Utf8Test, FindInvalidUtf8GivesTheOffsetOfTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9 \xC3"), 6U);
  EXPECT_EQ(FindInvalidUtf8("ab\xED\xA0\x80"
                            "cd"),
            2U);
  // Every byte value alone: ASCII is valid, no other byte is a sequence by itself.
  for (int c = 0; c < 256; ++c) {
    const std::string one(1, static_cast<char>(c));
    EXPECT_EQ(FindInvalidUtf8(one).has_value(), c >= 0x80) << c;
  }
}

}  // namespace
}  // namespace obsforge::core
