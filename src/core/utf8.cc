#include "core/utf8.h"

#include "core/bytes.h"

namespace obsforge::core {
namespace {

// What a UTF-8 lead byte says: how many continuation bytes follow, and the range of the first
// one, which rules out overlong forms, UTF-16 surrogates and code points above U+10FFFF (RFC
// 3629's table). extra == 0 for a byte that cannot lead a sequence.
struct Utf8Lead {
  std::size_t extra = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
};

Utf8Lead LeadOf(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) {
    return {.extra = 1};
  }
  if (c == 0xE0) {
    return {.extra = 2, .low = 0xA0};
  }
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return {.extra = 2};
  }
  if (c == 0xED) {
    return {.extra = 2, .high = 0x9F};
  }
  if (c == 0xF0) {
    return {.extra = 3, .low = 0x90};
  }
  if (c >= 0xF1 && c <= 0xF3) {
    return {.extra = 3};
  }
  if (c == 0xF4) {
    return {.extra = 3, .high = 0x8F};
  }
  return {};
}

}  // namespace

std::size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) {
    return 0;
  }
  const auto* bytes = BytesOf(s);
  if (bytes[0] < 0x80) {
    return 1;
  }
  const Utf8Lead lead = LeadOf(bytes[0]);
  if (lead.extra == 0 || s.size() <= lead.extra) {  // not a lead byte, or truncated
    return 0;
  }
  if (bytes[1] < lead.low || bytes[1] > lead.high) {
    return 0;
  }
  for (std::size_t k = 2; k <= lead.extra; ++k) {
    if (bytes[k] < 0x80 || bytes[k] > 0xBF) {
      return 0;
    }
  }
  return lead.extra + 1;
}

std::optional<std::size_t> FindInvalidUtf8(std::string_view text) {
  const auto* bytes = BytesOf(text);
  std::size_t i = 0;
  while (i < text.size()) {
    if (bytes[i] < 0x80) {  // ASCII: the common case of specs and bodies, without a call
      ++i;
      continue;
    }
    const std::size_t n = Utf8SequenceLength(text.substr(i));
    if (n == 0) {
      return i;
    }
    i += n;
  }
  return std::nullopt;
}

}  // namespace obsforge::core
