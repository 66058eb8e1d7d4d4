#include "spec/checks.h"

#include <algorithm>
#include <regex>

#include "core/duration.h"

namespace obsforge::spec {

bool IsDuration(std::string_view text) {
  return core::ParseDuration(text).has_value();
}

bool IsHostPort(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  const auto host = text.substr(0, colon);
  const auto port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int number = std::stoi(std::string(port));
  if (number < 1 || number > 65535) {
    return false;
  }
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']';
  }
  static const std::regex kHost("[A-Za-z0-9_]([-A-Za-z0-9_.]*[A-Za-z0-9_])?");
  return std::regex_match(host.begin(), host.end(), kHost);
}

bool IsName(std::string_view text) {
  static const std::regex kName("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return text.size() <= 63 && std::regex_match(text.begin(), text.end(), kName);
}

bool IsSize(std::string_view text) {
  static const std::regex kSize("[0-9]+(\\.[0-9]+)?(B|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)");
  return std::regex_match(text.begin(), text.end(), kSize);
}

bool IsHttpUrl(std::string_view text) {
  static const std::regex kUrl("https?://[^/\\s?#]+([/?#]\\S*)?");
  return std::regex_match(text.begin(), text.end(), kUrl);
}

bool LooksLikeCredential(std::string_view text) {
  if (text.find("hooks.slack.com/services/") != std::string_view::npos) {
    return true;
  }
  static const std::regex kSlackToken("(^|[^A-Za-z0-9])xox[bp]-[A-Za-z0-9-]+");
  if (std::regex_search(text.begin(), text.end(), kSlackToken)) {
    return true;
  }
  // scheme://user:password@host — a password in the userinfo. `user@host` alone is fine.
  static const std::regex kUserinfo("[A-Za-z][A-Za-z0-9+.-]*://[^/@\\s:]*:[^/@\\s]+@[^\\s]+");
  return std::regex_search(text.begin(), text.end(), kUserinfo);
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> Suggest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;
  for (const auto& candidate : candidates) {
    const auto distance = EditDistance(word, candidate);
    // A one-letter key is "close" to every two-letter one; only hint when most letters match.
    if (distance < best_distance && distance < word.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best) {
    return best;
  }
  if (word.size() < 3) {
    return std::nullopt;  // "a" is a prefix of too much to be a useful hint
  }
  for (const auto& candidate : candidates) {
    if (candidate.starts_with(word) || word.starts_with(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace obsforge::spec
