#include "spec/checks.h"

#include <algorithm>
#include <iterator>

#include "core/duration.h"

namespace obsforge::spec {

namespace {

// Hand-written matchers: std::regex recurses once per character it repeats and overflowed the
// stack on values of some 100 KB, which a spec sent over the API may hold.

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAlnum(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// `first` and `last` characters satisfy `edge`, those between satisfy `middle`.
template <class Edge, class Middle>
bool EdgesAndMiddle(std::string_view text, Edge edge, Middle middle) {
  if (text.empty() || !edge(text.front()) || !edge(text.back())) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), middle);
}

// `scheme://user:password@rest` starting at the "://" at `sep`, with the scheme anywhere in the
// run of scheme characters before it.
bool UserinfoWithPasswordAt(std::string_view text, std::size_t sep) {
  std::size_t start = sep;
  bool letter = false;
  while (start > 0) {
    const char c = text[start - 1];
    if (!IsAlnum(c) && c != '+' && c != '.' && c != '-') {
      break;
    }
    letter = letter || (IsAlnum(c) && !IsDigit(c));
    --start;
  }
  if (!letter) {
    return false;
  }
  std::size_t i = sep + 3;
  while (i < text.size() && text[i] != '/' && text[i] != '@' && text[i] != ':' &&
         !IsSpace(text[i])) {
    ++i;
  }
  if (i >= text.size() || text[i] != ':') {
    return false;
  }
  const std::size_t password = ++i;
  while (i < text.size() && text[i] != '/' && text[i] != '@' && !IsSpace(text[i])) {
    ++i;
  }
  return i > password && i + 1 < text.size() && text[i] == '@' && !IsSpace(text[i + 1]);
}

}  // namespace

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
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
    return false;
  }
  const int number = std::stoi(std::string(port));
  if (number < 1 || number > 65535) {
    return false;
  }
  if (host.front() == '[') {
    return host.size() > 2 && host.back() == ']';
  }
  // [A-Za-z0-9_]([-A-Za-z0-9_.]*[A-Za-z0-9_])?
  return EdgesAndMiddle(
      host, [](char c) { return IsAlnum(c) || c == '_'; },
      [](char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; });
}

bool IsName(std::string_view text) {
  // [a-z0-9]([-a-z0-9]*[a-z0-9])?
  const auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || IsDigit(c); };
  return text.size() <= 63 && EdgesAndMiddle(text, lower_or_digit,
                                             [&](char c) { return lower_or_digit(c) || c == '-'; });
}

bool IsSize(std::string_view text) {
  // [0-9]+(\.[0-9]+)?(B|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)
  std::size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) {
    ++i;
  }
  if (i == 0) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction = ++i;
    while (i < text.size() && IsDigit(text[i])) {
      ++i;
    }
    if (i == fraction) {
      return false;
    }
  }
  static constexpr std::string_view kUnits[] = {"B",   "KB",  "MB",  "GB",  "TB", "PB",
                                                "KiB", "MiB", "GiB", "TiB", "PiB"};
  const std::string_view unit = text.substr(i);
  return std::find(std::begin(kUnits), std::end(kUnits), unit) != std::end(kUnits);
}

bool IsHttpUrl(std::string_view text) {
  // https?://[^/\s?#]+([/?#]\S*)?
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    rest = text.substr(8);
  } else {
    return false;
  }
  std::size_t host = 0;
  while (host < rest.size() && rest[host] != '/' && rest[host] != '?' && rest[host] != '#' &&
         !IsSpace(rest[host])) {
    ++host;
  }
  return host > 0 &&
         std::none_of(rest.begin() + static_cast<std::ptrdiff_t>(host), rest.end(), IsSpace);
}

bool LooksLikeCredential(std::string_view text) {
  if (text.find("hooks.slack.com/services/") != std::string_view::npos) {
    return true;
  }
  // (^|[^A-Za-z0-9])xox[bp]-[A-Za-z0-9-]+
  for (std::size_t at = text.find("xox"); at != std::string_view::npos;
       at = text.find("xox", at + 1)) {
    const bool boundary = at == 0 || !IsAlnum(text[at - 1]);
    if (boundary && at + 5 < text.size() && (text[at + 3] == 'b' || text[at + 3] == 'p') &&
        text[at + 4] == '-' && (IsAlnum(text[at + 5]) || text[at + 5] == '-')) {
      return true;
    }
  }
  // scheme://user:password@host: a password in the userinfo. `user@host` alone is fine.
  for (std::size_t sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 1)) {
    if (UserinfoWithPasswordAt(text, sep)) {
      return true;
    }
  }
  return false;
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
  // Edit distance costs the product of the lengths: a word of a few KB (an environment named in
  // a query string) against thousands of candidates would cost minutes. Names are short.
  constexpr std::size_t kLongest = 128;
  if (word.size() > kLongest) {
    return std::nullopt;
  }
  std::optional<std::string> best;
  std::size_t best_distance = 3;
  for (const auto& candidate : candidates) {
    const std::size_t gap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                           : word.size() - candidate.size();
    if (gap >= best_distance) {
      continue;  // the distance is at least the difference in length
    }
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
