#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "store/types.h"

namespace obsforge::store {

/// One secret of a stack as stored: SEALED by the caller (control::StackSecrets encrypts with
/// AES-256-GCM before it gets here); the store never sees, logs or returns a clear value.
struct StackSecret {
  std::string stack;
  std::string key;        ///< the NAME of `{secret: NAME}`
  std::string sealed;     ///< the encrypted value, opaque text
  std::string key_id;     ///< which encryption key sealed it (key rotation re-seals the others)
  TimeMs updated_at = 0;  ///< stamped by PutSecret
};

/// Per-stack secrets (PUT /api/v1/stacks/{name}/secrets/{key}). A stack's secrets may exist
/// before the stack itself (a spec can only name secrets that are set), so rows do not reference
/// the stacks table; the application deletes them with the stack. Same contract as the other
/// store interfaces (store.h): thread-safe, expected failures returned, writes durable.
class SecretStore {
 public:
  virtual ~SecretStore() = default;

  /// Inserts or replaces (secret.stack, secret.key); updated_at stamped. Returns the stored row.
  virtual core::Result<StackSecret> PutSecret(const StackSecret& secret) = 0;
  /// The secret (sealed). kNotFound when absent.
  virtual core::Result<StackSecret> GetSecret(const std::string& stack, const std::string& key) = 0;
  /// The secrets of `stack` sorted by key; every stack's (sorted by stack, then key) when `stack`
  /// is empty.
  virtual core::Result<std::vector<StackSecret>> ListSecrets(const std::string& stack) = 0;
  /// Forgets (stack, key). kNotFound when absent.
  virtual core::Result<void> DeleteSecret(const std::string& stack, const std::string& key) = 0;
};

}  // namespace obsforge::store
