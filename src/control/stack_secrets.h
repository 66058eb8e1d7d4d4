#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/seal.h"
#include "core/secret.h"
#include "store/secret_store.h"

namespace obsforge::control {

/// Where the key that seals stack secrets comes from (server config `secrets:`).
struct SecretKeyOptions {
  /// `secrets.key_file`: a file holding the key (64 hex digits or base64 of 32 bytes).
  std::filesystem::path key_file;
  /// OBSFORGE_SECRETS_KEY: the key itself; takes precedence over key_file.
  core::Secret key;
  /// `secrets.previous_key_files`: keys being rotated out. Values sealed under one of them are
  /// re-sealed under the current key when the application starts.
  std::vector<std::filesystem::path> previous_key_files;

  /// True when a current key is configured.
  bool Configured() const { return !key.empty() || !key_file.empty(); }
};

/// The name and age of one secret: what the API lists (never the value).
struct SecretInfo {
  std::string key;
  store::TimeMs updated_at = 0;
};

/// The outcome of a write.
struct SecretWritten {
  std::string stack;
  std::string key;
  bool created = false;  ///< false: an existing value was replaced
  store::TimeMs updated_at = 0;
};

/// Per-stack secrets, sealed at rest with AES-256-GCM (core::Seal) under the operator's key, the
/// stack and key name authenticated with each value. Values go in (Put) and come out only to
/// resolve a `{secret: NAME}` of their own stack (Get); nothing returns them to a client.
/// Thread-safe.
class StackSecrets {
 public:
  /// `store` must outlive this. No I/O until LoadKeys().
  StackSecrets(SecretKeyOptions options, store::SecretStore& store);

  /// Reads the current key and the previous ones. kPrecondition naming the file or variable
  /// (never its content) when one cannot be read or is not a key. Without a configured key,
  /// secrets stay off (Enabled() false) and this succeeds.
  core::Result<void> LoadKeys();
  /// Re-seals under the current key every value sealed under a previous one, leaving values
  /// sealed under an unknown key alone (each one logged by the caller through the error).
  /// Returns how many were re-sealed. kPrecondition when a value sealed under a previous key
  /// does not open (the store was altered).
  core::Result<int> Rotate();
  /// True when a key is loaded.
  bool Enabled() const;

  /// Sets secret `key` of `stack` (both must be names: stack a DNS label, key as in
  /// KeyProblem()). Throws core::InputError (kInvalidSpec) for a bad name or an empty or
  /// oversized value; kUnavailable when no key is configured.
  core::Result<SecretWritten> Put(const std::string& stack,
                                  const std::string& key,
                                  const core::Secret& value);
  /// Forgets secret `key` of `stack`. kNotFound when absent.
  core::Result<void> Delete(const std::string& stack, const std::string& key);
  /// Forgets every secret of `stack` (the stack was deleted).
  core::Result<void> DeleteAll(const std::string& stack);
  /// The names of the secrets of `stack`, sorted.
  core::Result<std::vector<SecretInfo>> List(const std::string& stack);
  /// The value of secret `key` of `stack`; nullopt when there is none.
  /// kPrecondition when it does not open under any loaded key.
  core::Result<std::optional<core::Secret>> Get(const std::string& stack, const std::string& key);

  /// Largest value Put() accepts.
  static constexpr std::size_t kMaxValueBytes = 64U << 10U;

 private:
  // The key that sealed a value with `key_id`, or null.
  const core::SealKey* KeyFor(const std::string& key_id) const;

  SecretKeyOptions options_;
  store::SecretStore& store_;
  mutable std::mutex mu_;  // guards the keys (loaded once, read by every request)
  std::optional<core::SealKey> current_;
  std::vector<core::SealKey> previous_;
};

/// Why `key` cannot name a secret ("" when it can): 1-128 characters of [A-Za-z0-9_.-], not
/// starting with '.'.
std::string SecretKeyProblem(const std::string& key);

}  // namespace obsforge::control
