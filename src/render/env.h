#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/secret.h"
#include "render/render.h"
#include "spec/stack.h"

namespace obsforge::render {

/// Absolute path of the file that holds the value of `ref` inside `secrets_dir`: the variable
/// name for `{secret: NAME}`, `file-<hash of the path>` for `{secret_file: PATH}`. Apply writes
/// secret values there (mode 0600); templates point components at it.
std::string SecretFilePath(const core::SecretRef& ref, const std::string& secrets_dir);

/// Directory of secret files for an environment.
std::string SecretsDir(const spec::EnvironmentSpec& spec, const RenderOptions& options);

/// The `stack` value templates get: `merged` with every secret reference extended with `file`
/// (SecretFilePath) and every known component carrying `enabled` as a bool (absent = false).
nlohmann::json PrepareStack(const nlohmann::json& merged, const std::string& secrets_dir);

/// Whether `component` is enabled in a PrepareStack() result.
bool ComponentEnabled(const nlohmann::json& stack, const std::string& component);

/// The `env` value templates get (docs/templates.md): name, stack, runtime, listen, tenant,
/// ports, urls, dirs and datasources of the enabled components.
nlohmann::json BuildEnv(const spec::EnvironmentSpec& spec,
                        const nlohmann::json& stack,
                        const RenderOptions& options);

}  // namespace obsforge::render
