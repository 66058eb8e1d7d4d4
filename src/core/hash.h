#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace obsforge::core {

/// Incremental SHA-256 (OpenSSL's EVP digest). Throws std::bad_alloc when OpenSSL cannot
/// allocate its context, std::runtime_error (with OpenSSL's reason) when a digest call fails, and
/// std::logic_error when used after Finish().
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  /// The 32-byte digest. The object must not be updated afterwards.
  std::array<std::uint8_t, 32> Finish();

 private:
  evp_md_ctx_st* ctx_;
  bool finished_ = false;
};

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// Raw HMAC-SHA256 (RFC 2104, OpenSSL's HMAC) of `message` under `key`. Throws
/// std::runtime_error when OpenSSL fails.
std::array<std::uint8_t, 32> HmacSha256(std::string_view key, std::string_view message);

/// Lower-case hex of `bytes`.
std::string ToHex(std::string_view bytes);

/// The value of hex digit `c` (either case), or -1 when it is not one.
int HexDigit(char c);

/// The bytes `hex` spells (either case); nullopt when it has an odd length or a non-hex digit.
std::optional<std::string> FromHex(std::string_view hex);

/// Standard base64 (RFC 4648 §4, with `=` padding, no line breaks) of `bytes`. Throws
/// std::length_error for input over 1 GiB.
std::string Base64Encode(std::string_view bytes);

/// The bytes standard base64 `text` spells; nullopt unless it is canonical (length a multiple of
/// 4, padding only at the end, at most 1 GiB).
std::optional<std::string> Base64Decode(std::string_view text);

/// Compares in time independent of where the strings differ (OpenSSL's CRYPTO_memcmp; the length
/// is not hidden).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace obsforge::core
