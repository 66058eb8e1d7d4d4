#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"

namespace obsforge::core {

/// A 256-bit key that seals secrets at rest (AES-256-GCM). Never printed: only its id() is.
class SealKey {
 public:
  /// The key written in a key file or variable: 64 hex digits, or the base64 of 32 bytes
  /// (surrounding whitespace ignored), e.g. from `openssl rand -hex 32`. nullopt for anything
  /// else; the text is never echoed in any message.
  static std::optional<SealKey> Parse(std::string_view text);

  /// A public name of the key: the first 16 hex digits of a SHA-256 over a fixed label and the
  /// key. Stored beside what the key sealed, so that a rotation knows which key opens a value.
  const std::string& id() const { return id_; }
  /// The raw key, for the cipher.
  const std::array<std::uint8_t, 32>& bytes() const { return bytes_; }

 private:
  SealKey() = default;
  std::array<std::uint8_t, 32> bytes_{};
  std::string id_;
};

/// Seals `plaintext` under `key` with AES-256-GCM (OpenSSL EVP; a fresh random 96-bit nonce per
/// call, a 128-bit tag). `context` is authenticated but not stored: a sealed value opens only
/// with the same context (obsforge uses the stack and key name, so a value copied into another
/// row does not open). Returns "v1." followed by the base64 of nonce, ciphertext and tag. Throws
/// std::runtime_error when OpenSSL fails (no randomness, no memory).
std::string Seal(const SealKey& key, std::string_view plaintext, std::string_view context);

/// Opens what Seal() made with the same key and context. kInvalidSpec when `sealed` is not in
/// Seal()'s format, kPrecondition when it does not open (another key or context, or tampered).
/// Messages never include any part of the value.
Result<Secret> Unseal(const SealKey& key, std::string_view sealed, std::string_view context);

}  // namespace obsforge::core
