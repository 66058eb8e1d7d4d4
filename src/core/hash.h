#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace obsforge::core {

/// Incremental SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  /// The 32-byte digest. The object must not be updated afterwards.
  std::array<std::uint8_t, 32> Finish();

 private:
  void Block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// Raw HMAC-SHA256 (RFC 2104) of `message` under `key`.
std::array<std::uint8_t, 32> HmacSha256(std::string_view key, std::string_view message);

/// Lower-case hex of `bytes`.
std::string ToHex(std::string_view bytes);

/// Compares in time independent of where the strings differ (length is not hidden).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace obsforge::core
