#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obsforge::http {

/// Joins `base` ("http://grafana:3000" or "http://host/prefix/") and `path` ("/api/health" or
/// "api/health") with exactly one '/' between them. An empty `path` returns `base` unchanged.
/// Neither part is encoded: encode path segments with EncodePathSegment first. Never throws.
std::string JoinUrl(std::string_view base, std::string_view path);

/// Percent-encodes `segment` for use as ONE path segment: every byte except the RFC 3986
/// unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX, so '/', '?', '#' and ' ' cannot
/// change the URL's structure. Never throws.
std::string EncodePathSegment(std::string_view segment);

/// Percent-encodes a query parameter name or value, like EncodePathSegment ('&', '=', '+' and
/// ' ' are all encoded; a space becomes %20). Never throws.
std::string EncodeQueryValue(std::string_view value);

/// Builds an encoded query string "a=1&b=x%20y" (no leading '?') from name/value pairs, in the
/// given order (repeated names are kept, as Grafana's `folderUIDs=a&folderUIDs=b`). Never throws.
std::string BuildQuery(const std::vector<std::pair<std::string, std::string>>& params);

/// Returns `url` safe to show in logs and error messages: the userinfo ("user:pass@") is
/// dropped, and the value of every query parameter whose name suggests a credential (contains
/// "token", "key", "secret", "pass", "auth", "sig" or "credential", case-insensitive) is replaced
/// by "<secret>". Anything that does not parse as scheme://authority is returned with only the
/// query redacted. Never throws.
std::string RedactUrl(std::string_view url);

/// The origin "scheme://host:port" of `url`, lower-cased, with the default port made explicit
/// (80 for http, 443 for https) and without userinfo: the key connection limits are counted
/// under. Returns "" when `url` has no "scheme://". Never throws.
std::string OriginOf(std::string_view url);

}  // namespace obsforge::http
