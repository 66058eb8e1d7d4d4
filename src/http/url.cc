#include "http/url.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace obsforge::http {
namespace {

constexpr std::string_view kSchemeSeparator = "://";

char ToLower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

std::string Lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ToLower);
  return out;
}

bool IsUnreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

std::string PercentEncode(std::string_view s) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4U];
      out += kHex[byte & 0x0FU];
    }
  }
  return out;
}

bool LooksSecret(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kMarkers = {"token", "key", "secret",    "pass",
                                                               "auth",  "sig", "credential"};
  const std::string lowered = Lowered(name);
  return std::any_of(kMarkers.begin(), kMarkers.end(), [&](std::string_view marker) {
    return lowered.find(marker) != std::string::npos;
  });
}

// Redacts the values of credential-like parameters in "a=1&token=x" (no '?' and no fragment).
std::string RedactQuery(std::string_view query) {
  std::string out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) {
      end = query.size();
    }
    const std::string_view param = query.substr(start, end - start);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && LooksSecret(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out += "<secret>";
    } else {
      out.append(param);
    }
    if (end == query.size()) {
      break;
    }
    out += '&';
    start = end + 1;
  }
  return out;
}

struct UrlParts {
  std::string_view scheme;
  std::string_view authority;  // without userinfo
  std::string_view rest;       // path, query and fragment
};

// Splits "scheme://[userinfo@]authority/rest"; false when there is no "://".
bool SplitUrl(std::string_view url, UrlParts& parts) {
  const size_t sep = url.find(kSchemeSeparator);
  if (sep == std::string_view::npos || sep == 0) {
    return false;
  }
  parts.scheme = url.substr(0, sep);
  const size_t authority_start = sep + kSchemeSeparator.size();
  size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) {
    authority_end = url.size();
  }
  std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  // The last '@' ends the userinfo: passwords may contain unencoded '@' in careless configs.
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  parts.authority = authority;
  parts.rest = url.substr(authority_end);
  return true;
}

// Redacts the query inside "path?query#fragment".
std::string RedactRest(std::string_view rest) {
  const size_t question = rest.find('?');
  if (question == std::string_view::npos) {
    return std::string(rest);
  }
  size_t fragment = rest.find('#', question);
  if (fragment == std::string_view::npos) {
    fragment = rest.size();
  }
  std::string out(rest.substr(0, question + 1));
  out += RedactQuery(rest.substr(question + 1, fragment - question - 1));
  out.append(rest.substr(fragment));
  return out;
}

}  // namespace

std::string JoinUrl(std::string_view base, std::string_view path) {
  if (path.empty()) {
    return std::string(base);
  }
  while (!base.empty() && base.back() == '/') {
    base.remove_suffix(1);
  }
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  std::string out(base);
  out += '/';
  out.append(path);
  return out;
}

std::string EncodePathSegment(std::string_view segment) {
  return PercentEncode(segment);
}

std::string EncodeQueryValue(std::string_view value) {
  return PercentEncode(value);
}

std::string BuildQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) {
      out += '&';
    }
    out += PercentEncode(name);
    out += '=';
    out += PercentEncode(value);
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  UrlParts parts;
  if (!SplitUrl(url, parts)) {
    return RedactRest(url);
  }
  std::string out(parts.scheme);
  out += kSchemeSeparator;
  out.append(parts.authority);
  out += RedactRest(parts.rest);
  return out;
}

std::string OriginOf(std::string_view url) {
  UrlParts parts;
  if (!SplitUrl(url, parts)) {
    return "";
  }
  const std::string scheme = Lowered(parts.scheme);
  std::string authority = Lowered(parts.authority);
  // A ':' after the closing ']' of an IPv6 literal (or anywhere, for names) starts the port.
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  const bool has_port =
      colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) {
    authority += scheme == "https" ? ":443" : ":80";
  }
  return scheme + std::string(kSchemeSeparator) + authority;
}

}  // namespace obsforge::http
