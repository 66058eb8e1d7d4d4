#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obsforge::spec {

/// True for a Prometheus duration (core::ParseDuration: `30s`, `1h30m`, `500ms`, `0s`, within
/// Prometheus's range).
bool IsDuration(std::string_view text);

/// True for `host:port` with a non-empty host (name, IPv4, or `[IPv6]`) and a port 1..65535.
bool IsHostPort(std::string_view text);

/// True for a name: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
bool IsName(std::string_view text);

/// True for a size with a binary or decimal unit (`512MiB`, `2GiB`, `100KB`, `1024B`).
bool IsSize(std::string_view text);

/// True for an http:// or https:// URL with a host.
bool IsHttpUrl(std::string_view text);

/// True when `text` is evidently a credential written inline: a Slack webhook URL, a Slack
/// `xoxb-`/`xoxp-` token, or a URL with a password in its userinfo.
bool LooksLikeCredential(std::string_view text);

/// Levenshtein distance between `a` and `b`.
std::size_t EditDistance(std::string_view a, std::string_view b);

/// The candidate a mistyped `word` most likely meant: the closest within edit distance 2, else
/// one that `word` is a prefix of (or that is a prefix of `word`); nullopt when none is close or
/// `word` is longer than 128 bytes (no name is).
std::optional<std::string> Suggest(std::string_view word,
                                   const std::vector<std::string>& candidates);

}  // namespace obsforge::spec
