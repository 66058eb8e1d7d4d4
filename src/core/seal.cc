#include "core/seal.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "core/bytes.h"
#include "core/hash.h"
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace obsforge::core {
namespace {

constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::string_view kPrefix = "v1.";

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Cipher = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

Cipher NewCipher() {
  Cipher ctx(EVP_CIPHER_CTX_new());
  if (!ctx) {
    throw std::bad_alloc();
  }
  return ctx;
}

int Length(std::string_view s) {
  return static_cast<int>(s.size());
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

void Check(int ok, const char* what) {
  if (ok != 1) {
    throw std::runtime_error(std::string("AES-256-GCM: ") + what + " failed");
  }
}

}  // namespace

std::optional<SealKey> SealKey::Parse(std::string_view text) {
  text = Trim(text);
  std::optional<std::string> raw = text.size() == 64 ? FromHex(text) : Base64Decode(text);
  if (!raw || raw->size() != 32) {
    return std::nullopt;
  }
  SealKey key;
  std::copy(raw->begin(), raw->end(), key.bytes_.begin());
  key.id_ = Sha256Hex("obsforge seal key id\n" + *raw).substr(0, 16);
  std::fill(raw->begin(), raw->end(), '\0');
  return key;
}

std::string Seal(const SealKey& key, std::string_view plaintext, std::string_view context) {
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* nonce = BytesOf(out);
  Check(RAND_bytes(nonce, static_cast<int>(kNonceSize)), "random nonce");
  Cipher ctx = NewCipher();
  Check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce),
        "init");
  int n = 0;
  Check(EVP_EncryptUpdate(ctx.get(), nullptr, &n, BytesOf(context), Length(context)), "context");
  auto* body = nonce + kNonceSize;
  Check(EVP_EncryptUpdate(ctx.get(), body, &n, BytesOf(plaintext), Length(plaintext)), "encrypt");
  int tail = 0;
  Check(EVP_EncryptFinal_ex(ctx.get(), body + n, &tail), "final");
  Check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                            body + plaintext.size()),
        "tag");
  return std::string(kPrefix) + Base64Encode(out);
}

Result<Secret> Unseal(const SealKey& key, std::string_view sealed, std::string_view context) {
  std::optional<std::string> raw;
  if (sealed.starts_with(kPrefix)) {
    raw = Base64Decode(sealed.substr(kPrefix.size()));
  }
  if (!raw || raw->size() < kNonceSize + kTagSize) {
    return MakeError(ErrorCode::kInvalidSpec, "not a sealed value");
  }
  const auto* nonce = BytesOf(std::string_view(*raw));
  const std::size_t size = raw->size() - kNonceSize - kTagSize;
  std::string plain(size, '\0');
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer (it only reads it): give it a copy.
  std::array<unsigned char, kTagSize> tag{};
  std::copy_n(nonce + kNonceSize + size, kTagSize, tag.begin());
  Cipher ctx = NewCipher();
  int n = 0;
  int tail = 0;
  const bool opened =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, BytesOf(context), Length(context)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), BytesOf(plain), &n, nonce + kNonceSize,
                        static_cast<int>(size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), BytesOf(plain) + n, &tail) == 1;
  std::fill(raw->begin(), raw->end(), '\0');
  if (!opened) {
    std::fill(plain.begin(), plain.end(), '\0');
    return MakeError(ErrorCode::kPrecondition, "sealed value does not open with key " + key.id() +
                                                   " (sealed under another key, or altered)");
  }
  return Secret(std::move(plain));
}

}  // namespace obsforge::core
