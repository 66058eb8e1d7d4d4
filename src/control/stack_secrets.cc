#include "control/stack_secrets.h"

#include <algorithm>

#include "core/diagnostic.h"
#include "core/fs.h"
#include "spec/checks.h"

namespace obsforge::control {
namespace {

using core::ErrorCode;
using core::MakeError;

// What the cipher authenticates with a value: it only opens in its own row.
std::string Context(const std::string& stack, const std::string& key) {
  return "obsforge stack secret\n" + stack + "\n" + key;
}

core::Result<core::SealKey> ReadKey(const std::filesystem::path& file, const std::string& what) {
  std::string text;
  try {
    text = core::ReadFile(file);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kPrecondition, what + ": " + e.what());
  }
  auto key = core::SealKey::Parse(text);
  std::fill(text.begin(), text.end(), '\0');
  if (!key) {
    return MakeError(ErrorCode::kPrecondition,
                     what + " " + file.string() +
                         " does not hold a key (64 hex digits or the base64 of 32 bytes)");
  }
  return *key;
}

void Refuse(const std::string& path, const std::string& message) {
  throw core::InputError(core::InputError::Kind::kInvalidSpec,
                         core::Diagnostic{.file = "request", .path = path, .message = message});
}

}  // namespace

std::string SecretKeyProblem(const std::string& key) {
  const bool ok = !key.empty() && key.size() <= 128 && key.front() != '.' &&
                  std::all_of(key.begin(), key.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
                  });
  return ok ? "" : "must be 1-128 characters of A-Z, a-z, 0-9, _, - and . (not first)";
}

StackSecrets::StackSecrets(SecretKeyOptions options, store::SecretStore& store)
    : options_(std::move(options)), store_(store) {
}

core::Result<void> StackSecrets::LoadKeys() {
  std::optional<core::SealKey> current;
  if (!options_.key.empty()) {
    current = core::SealKey::Parse(options_.key.Reveal());
    if (!current) {
      return MakeError(ErrorCode::kPrecondition,
                       "OBSFORGE_SECRETS_KEY does not hold a key (64 hex digits or the base64 of "
                       "32 bytes)");
    }
  } else if (!options_.key_file.empty()) {
    auto key = ReadKey(options_.key_file, "secrets.key_file");
    if (!key.ok()) {
      return key.error();
    }
    current = *key;
  }
  std::vector<core::SealKey> previous;
  for (const auto& file : options_.previous_key_files) {
    auto key = ReadKey(file, "secrets.previous_key_files");
    if (!key.ok()) {
      return key.error();
    }
    previous.push_back(*key);
  }
  if (!current && !previous.empty()) {
    return MakeError(ErrorCode::kPrecondition,
                     "secrets.previous_key_files needs a current key (secrets.key_file or "
                     "OBSFORGE_SECRETS_KEY) to re-seal under");
  }
  std::lock_guard lock(mu_);
  current_ = std::move(current);
  previous_ = std::move(previous);
  return {};
}

bool StackSecrets::Enabled() const {
  std::lock_guard lock(mu_);
  return current_.has_value();
}

const core::SealKey* StackSecrets::KeyFor(const std::string& key_id) const {
  if (current_ && current_->id() == key_id) {
    return &*current_;
  }
  for (const auto& key : previous_) {
    if (key.id() == key_id) {
      return &key;
    }
  }
  return nullptr;
}

core::Result<int> StackSecrets::Rotate() {
  std::lock_guard lock(mu_);
  if (!current_ || previous_.empty()) {
    return 0;
  }
  auto all = store_.ListSecrets("");
  if (!all.ok()) {
    return all.error();
  }
  int resealed = 0;
  for (store::StackSecret& row : *all) {
    if (row.key_id == current_->id()) {
      continue;
    }
    const core::SealKey* old = KeyFor(row.key_id);
    if (old == nullptr) {
      continue;  // no key of ours sealed it; Get() reports it when it is used
    }
    auto value = core::Unseal(*old, row.sealed, Context(row.stack, row.key));
    if (!value.ok()) {
      return MakeError(ErrorCode::kPrecondition, "secret " + row.key + " of stack " + row.stack +
                                                     ": " + value.error().message);
    }
    row.sealed = core::Seal(*current_, value->Reveal(), Context(row.stack, row.key));
    row.key_id = current_->id();
    if (auto saved = store_.PutSecret(row); !saved.ok()) {
      return saved.error();
    }
    ++resealed;
  }
  return resealed;
}

core::Result<SecretWritten> StackSecrets::Put(const std::string& stack,
                                              const std::string& key,
                                              const core::Secret& value) {
  if (!spec::IsName(stack)) {
    Refuse("name", "\"" + stack + "\" is not a stack name");
  }
  if (auto problem = SecretKeyProblem(key); !problem.empty()) {
    Refuse("key", problem);
  }
  if (value.empty()) {
    Refuse("body", "the secret's value must not be empty");
  }
  if (value.Reveal().size() > kMaxValueBytes) {
    Refuse("body", "the secret's value exceeds " + std::to_string(kMaxValueBytes) + " bytes");
  }
  std::string sealed;
  std::string key_id;
  {
    std::lock_guard lock(mu_);
    if (!current_) {
      return MakeError(ErrorCode::kUnavailable,
                       "stack secrets are off: the operator sets secrets.key_file (or "
                       "OBSFORGE_SECRETS_KEY) in the server config");
    }
    sealed = core::Seal(*current_, value.Reveal(), Context(stack, key));
    key_id = current_->id();
  }
  auto existing = store_.GetSecret(stack, key);
  if (!existing.ok() && existing.error().code != ErrorCode::kNotFound) {
    return existing.error();
  }
  auto saved = store_.PutSecret(
      {.stack = stack, .key = key, .sealed = std::move(sealed), .key_id = std::move(key_id)});
  if (!saved.ok()) {
    return saved.error();
  }
  return SecretWritten{
      .stack = stack, .key = key, .created = !existing.ok(), .updated_at = saved->updated_at};
}

core::Result<void> StackSecrets::Delete(const std::string& stack, const std::string& key) {
  return store_.DeleteSecret(stack, key);
}

core::Result<void> StackSecrets::DeleteAll(const std::string& stack) {
  auto secrets = store_.ListSecrets(stack);
  if (!secrets.ok()) {
    return secrets.error();
  }
  for (const auto& secret : *secrets) {
    if (auto deleted = store_.DeleteSecret(stack, secret.key);
        !deleted.ok() && deleted.error().code != ErrorCode::kNotFound) {
      return deleted.error();
    }
  }
  return {};
}

core::Result<std::vector<SecretInfo>> StackSecrets::List(const std::string& stack) {
  auto secrets = store_.ListSecrets(stack);
  if (!secrets.ok()) {
    return secrets.error();
  }
  std::vector<SecretInfo> out;
  for (const auto& secret : *secrets) {
    out.push_back({.key = secret.key, .updated_at = secret.updated_at});
  }
  return out;
}

core::Result<std::optional<core::Secret>> StackSecrets::Get(const std::string& stack,
                                                            const std::string& key) {
  auto row = store_.GetSecret(stack, key);
  if (!row.ok()) {
    if (row.error().code == ErrorCode::kNotFound) {
      return std::optional<core::Secret>();
    }
    return row.error();
  }
  std::lock_guard lock(mu_);
  const core::SealKey* sealer = KeyFor(row->key_id);
  if (sealer == nullptr) {
    return MakeError(ErrorCode::kPrecondition, "secret " + key + " of stack " + stack +
                                                   " was sealed under key " + row->key_id +
                                                   ", which this server does not have");
  }
  auto value = core::Unseal(*sealer, row->sealed, Context(stack, key));
  if (!value.ok()) {
    return MakeError(value.error().code,
                     "secret " + key + " of stack " + stack + ": " + value.error().message);
  }
  return std::optional<core::Secret>(std::move(*value));
}

}  // namespace obsforge::control
