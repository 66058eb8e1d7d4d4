#include "core/hash.h"

#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace obsforge::core {

// OpenSSL's EVP digest: with SHA extensions it hashes ~1.5 GB/s, eight times the portable code
// this replaced (a resync hashes every dashboard, ~100 MB for 1,000 of them).
namespace {

// A digest that silently came out wrong would make different content look unchanged (hashes
// decide what is written): every OpenSSL failure is an exception.
[[noreturn]] void Fail(const char* what) {
  const auto code = ERR_get_error();
  std::string text = std::string("SHA-256: ") + what + " failed";
  if (code != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    text += std::string(": ") + buf.data();
  }
  throw std::runtime_error(text);
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) {
    throw std::bad_alloc();
  }
  if (EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    Fail("EVP_DigestInit_ex");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256::Update(std::string_view data) {
  if (finished_) {
    throw std::logic_error("SHA-256: Update after Finish");
  }
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) {
    Fail("EVP_DigestUpdate");
  }
}

std::array<std::uint8_t, 32> Sha256::Finish() {
  if (finished_) {
    throw std::logic_error("SHA-256: Finish called twice");
  }
  finished_ = true;
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size()) {
    Fail("EVP_DigestFinal_ex");
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigit(hex[i]);
    const int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  constexpr std::size_t kMax = std::size_t{1} << 30;
  if (bytes.size() > kMax) {
    throw std::length_error("base64 input over 1 GiB");
  }
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(BytesOf(out), BytesOf(bytes), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > (std::size_t{1} << 30)) {
    return std::nullopt;
  }
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(BytesOf(out), BytesOf(text), static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts padding as zero bytes: drop them.
  auto size = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    --size;
  }
  out.resize(size);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 sha;
  sha.Update(data);
  const auto digest = sha.Finish();
  return ToHex(CharsOf(digest));
}

std::array<std::uint8_t, 32> HmacSha256(std::string_view key, std::string_view message) {
  std::array<std::uint8_t, 32> hashed_key{};
  if (key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    // HMAC replaces a key longer than the block by its digest (RFC 2104); doing it here keeps
    // the length within OpenSSL's int.
    Sha256 sha;
    sha.Update(key);
    hashed_key = sha.Finish();
    key = CharsOf(hashed_key);
  }
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
  static constexpr unsigned char kEmpty = 0;
  const auto* key_bytes = key.empty() ? &kEmpty : BytesOf(key);
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), BytesOf(message), message.size(),
           out.data(), &len) == nullptr ||
      len != out.size()) {
    Fail("HMAC");
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace obsforge::core
