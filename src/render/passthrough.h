#pragma once

#include <string>

#include <nlohmann/json.hpp>

// A component's `passthrough` block: what the templates do not model, merged into the
// component's main file last, and the secret references in that file turned into what the
// component reads (a *_file option, an environment variable, a file provider).
namespace obsforge::render {

/// The file of a component that its `passthrough` is merged into: prometheus.yml,
/// alertmanager.yml, loki.yaml, tempo.yaml, grafana.ini, config.yaml (otel_collector); "" for
/// an unknown component.
std::string MainFile(const std::string& component);

/// A component's passthrough applied to the template's `base`: first every place listed in
/// `remove` (`passthrough_remove`: JSON pointers, "/server/grpc_listen_address") is taken out
/// (a place `base` lacks is skipped: templates change between versions), then `overlay`
/// (`passthrough`) is merged over the result: maps merge recursively, everything else
/// (lists, scalars, null) replaces — a null is written as null, since for components such as
/// Tempo and the collector `grpc:` with no value differs from no `grpc` at all. `base`'s keys
/// keep their order; new keys follow in `overlay`'s order. Never throws (except
/// std::bad_alloc); `remove` entries that are not JSON pointers are skipped (the spec's
/// validation reports them).
nlohmann::ordered_json MergePassthrough(nlohmann::ordered_json base,
                                        const nlohmann::json& overlay,
                                        const nlohmann::json& remove = nlohmann::json());

/// Removes the place `pointer` (a JSON pointer) from `doc`: an object member or an array
/// element. Nothing happens when `pointer` is not a JSON pointer, is empty or names no place of
/// `doc`. Never throws (except std::bad_alloc).
void RemovePointer(nlohmann::ordered_json& doc, const std::string& pointer);

/// Whether `component` (prometheus or alertmanager) has a `<key>_file` option, i.e. whether a
/// secret under `key` in its main file can be rendered. Always true for the other components.
bool CanReadSecretAt(const std::string& component, const std::string& key);

/// Whether `config` holds a secret reference prepared by the renderer (see below).
bool HasSecretReferences(const nlohmann::ordered_json& config);

/// Replaces every secret reference the renderer prepared (`{secret: NAME, file: F}` or
/// `{secret_file: P, file: F}`) inside `config`, the main file of `component`, with what the
/// component reads, so the value itself never appears:
/// - prometheus, alertmanager: `KEY: ref` becomes `KEY_file: F` (their *_file options; e.g.
///   password, credentials, bearer_token, client_secret, api_url, routing_key, auth_password);
/// - loki, tempo: the string `${NAME}` (they must run with -config.expand-env=true and the
///   variable set; only `{secret: NAME}` can be read that way);
/// - otel_collector: `${file:F}` (the collector's file provider);
/// - grafana (grafana.ini): `$__file{F}`.
/// Throws core::InputError (kRender) naming `file` and the path of a reference the component
/// cannot read (a key without a *_file option, a reference inside a list, a secret_file for
/// Loki or Tempo).
void ResolveSecretReferences(nlohmann::ordered_json& config,
                             const std::string& component,
                             const std::string& file);

}  // namespace obsforge::render
