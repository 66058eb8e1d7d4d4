#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace obsforge::core {

// The only casts between char and unsigned char (which may alias each other): C libraries such
// as OpenSSL take bytes as unsigned char, digests come as std::uint8_t.

/// The characters of `text` as the unsigned bytes OpenSSL takes. Never throws.
inline const unsigned char* BytesOf(std::string_view text) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): char may alias unsigned char
  return reinterpret_cast<const unsigned char*>(text.data());
}

/// Writable form of BytesOf, for a buffer OpenSSL fills. Never throws.
inline unsigned char* BytesOf(std::string& text) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): char may alias unsigned char
  return reinterpret_cast<unsigned char*>(text.data());
}

/// The bytes of a SHA-256 digest as characters, e.g. for ToHex. Never throws.
inline std::string_view CharsOf(const std::array<std::uint8_t, 32>& digest) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): char may alias unsigned char
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace obsforge::core
