#include "spec/checks.h"

#include <algorithm>
#include <regex>

#include "core/duration.h"

namespace obsforge::spec {

namespace {

// Bounds that keep std::regex well inside its recursion limit (see checks.h).
constexpr std::size_t kMaxShort = 64;
constexpr std::size_t kMaxHost = 253;
constexpr std::size_t kMaxUrl = 8192;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsAlnum(char c) {
  return IsAlpha(c) || IsDigit(c);
}

// ECMAScript's \s (ASCII part).
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Advances `i` over digits; true when there was at least one.
bool Digits(std::string_view text, std::size_t& i) {
  const std::size_t start = i;
  while (i < text.size() && IsDigit(text[i])) {
    ++i;
  }
  return i > start;
}

// `xoxb-`/`xoxp-` followed by a token character, at the start or after a non-alphanumeric.
bool HasSlackToken(std::string_view text) {
  for (std::size_t pos = text.find("xox"); pos != std::string_view::npos;
       pos = text.find("xox", pos + 1)) {
    if ((pos == 0 || !IsAlnum(text[pos - 1])) && pos + 5 < text.size() &&
        (text[pos + 3] == 'b' || text[pos + 3] == 'p') && text[pos + 4] == '-' &&
        (IsAlnum(text[pos + 5]) || text[pos + 5] == '-')) {
      return true;
    }
  }
  return false;
}

// scheme://user:password@host: a scheme (a letter, then letters, digits, '+', '.', '-') right
// before "://", a user without '/', '@', ':' or blanks, a non-empty password without '/', '@'
// or blanks, then '@' and a host.
bool HasPasswordInUserinfo(std::string_view text) {
  const auto scheme_char = [](char c) { return IsAlnum(c) || c == '+' || c == '.' || c == '-'; };
  for (std::size_t pos = text.find("://"); pos != std::string_view::npos;
       pos = text.find("://", pos + 1)) {
    bool letter = false;
    for (std::size_t k = pos; k > 0 && scheme_char(text[k - 1]); --k) {
      letter = letter || IsAlpha(text[k - 1]);
    }
    if (!letter) {
      continue;
    }
    std::size_t i = pos + 3;
    while (i < text.size() && text[i] != '/' && text[i] != '@' && text[i] != ':' &&
           !IsSpace(text[i])) {
      ++i;
    }
    if (i >= text.size() || text[i] != ':') {
      continue;
    }
    std::size_t j = i + 1;
    while (j < text.size() && text[j] != '/' && text[j] != '@' && !IsSpace(text[j])) {
      ++j;
    }
    if (j > i + 1 && j + 1 < text.size() && text[j] == '@' && !IsSpace(text[j + 1])) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool IsPlainInteger(std::string_view text) {
  std::size_t i = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  return Digits(text, i) && i == text.size();
}

bool IsPlainFloat(std::string_view text) {
  std::size_t i = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!Digits(text, i)) {
      return false;
    }
  } else {
    if (!Digits(text, i)) {
      return false;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      Digits(text, i);
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
      ++i;
    }
    if (!Digits(text, i)) {
      return false;
    }
  }
  return i == text.size();
}

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
  if (host.size() > kMaxHost) {
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
  return text.size() <= kMaxShort && std::regex_match(text.begin(), text.end(), kSize);
}

bool IsHttpUrl(std::string_view text) {
  static const std::regex kUrl("https?://[^/\\s?#]+([/?#]\\S*)?");
  return text.size() <= kMaxUrl && std::regex_match(text.begin(), text.end(), kUrl);
}

bool LooksLikeCredential(std::string_view text) {
  return text.find("hooks.slack.com/services/") != std::string_view::npos || HasSlackToken(text) ||
         HasPasswordInUserinfo(text);
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
