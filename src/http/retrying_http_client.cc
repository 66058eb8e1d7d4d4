#include "http/retrying_http_client.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <variant>
#include <vector>

#include "http/url.h"

namespace obsforge::http {
namespace {

using std::chrono::milliseconds;

bool IsRetryableStatus(int status) {
  return status == 429 || (status >= 500 && status <= 599);
}

bool IsRetryableError(const core::Error& error) {
  return error.code == core::ErrorCode::kTimeout || error.code == core::ErrorCode::kUnavailable;
}

std::optional<std::int64_t> ParseNumber(std::string_view s) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<unsigned> MonthNumber(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto* it = std::find(kMonths.begin(), kMonths.end(), name);
  if (it == kMonths.end()) {
    return std::nullopt;
  }
  return static_cast<unsigned>(it - kMonths.begin() + 1);
}

std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = s.find_first_not_of(" ,-:", i);
    if (start == std::string_view::npos) {
      break;
    }
    size_t end = s.find_first_of(" ,-:", start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    tokens.push_back(s.substr(start, end - start));
    i = end;
  }
  return tokens;
}

// The three HTTP-date forms of RFC 9110 section 5.6.7, all UTC.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view value) {
  const std::vector<std::string_view> t = Tokens(value);
  std::optional<std::int64_t> day;
  std::optional<unsigned> month;
  std::optional<std::int64_t> year;
  size_t time_at = 0;
  if (t.size() == 7 && MonthNumber(t[1])) {  // asctime: "Sun Nov  6 08:49:37 1994"
    month = MonthNumber(t[1]);
    day = ParseNumber(t[2]);
    year = ParseNumber(t[6]);
    time_at = 3;
  } else if (t.size() == 8 && (t[7] == "GMT" || t[7] == "UTC")) {
    day = ParseNumber(t[1]);
    month = MonthNumber(t[2]);
    year = ParseNumber(t[3]);
    if (year && t[3].size() == 2) {  // RFC 850's two-digit year
      *year += *year >= 70 ? 1900 : 2000;
    }
    time_at = 4;
  } else {
    return std::nullopt;
  }
  const auto hour = ParseNumber(t[time_at]);
  const auto minute = ParseNumber(t[time_at + 1]);
  const auto second = ParseNumber(t[time_at + 2]);
  if (!day || !month || !year || !hour || !minute || !second || *hour > 23 || *minute > 59 ||
      *second > 60 || *year < 1970 || *year > 9999) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(*year)},
                                         std::chrono::month{*month},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  return std::chrono::sys_days{date} + std::chrono::hours{*hour} + std::chrono::minutes{*minute} +
         std::chrono::seconds{*second};
}

// Cuts `body` to kMaxQuotedBody bytes without splitting a UTF-8 sequence.
std::string Truncated(const std::string& body) {
  if (body.size() <= kMaxQuotedBody) {
    return body;
  }
  size_t cut = kMaxQuotedBody;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0U) == 0x80U) {
    --cut;
  }
  return body.substr(0, cut) + "... (" + std::to_string(body.size()) + " bytes)";
}

std::string Outcome(const core::Result<Response>& result) {
  return result.ok() ? std::to_string(result->status) : result.error().message;
}

}  // namespace

RetryingHttpClient::RetryingHttpClient(HttpClient& inner,
                                       core::Clock& clock,
                                       RetryOptions options,
                                       core::Logger& logger)
    : inner_(inner),
      clock_(clock),
      options_(options),
      logger_(logger),
      rng_(options.seed ? *options.seed : std::random_device{}()) {
}

milliseconds RetryingHttpClient::Backoff(int retry) {
  // Doubling stops well before overflow: 2^20 * base_delay exceeds any sensible max_delay.
  const int doublings = std::min(retry - 1, 20);
  const milliseconds ceiling =
      std::min(options_.max_delay, options_.base_delay * (milliseconds::rep{1} << doublings));
  if (ceiling.count() <= 0) {
    return milliseconds{0};
  }
  std::uniform_int_distribution<milliseconds::rep> pick(0, ceiling.count());
  std::lock_guard lock(rng_mu_);
  return milliseconds{pick(rng_)};
}

std::variant<milliseconds, std::string> RetryingHttpClient::NextWait(
    const core::Result<Response>& result,
    int attempt,
    std::chrono::steady_clock::time_point start) {
  if (attempt >= std::max(options_.max_attempts, 1)) {
    return std::string("max_attempts reached");
  }
  std::optional<milliseconds> retry_after;
  if (result.ok() && (result->status == 429 || result->status == 503)) {
    retry_after = ParseRetryAfter(result->Header("Retry-After"), clock_.Now());
  }
  const milliseconds delay = retry_after ? *retry_after : Backoff(attempt);
  const auto elapsed = std::chrono::duration_cast<milliseconds>(clock_.Monotonic() - start);
  if (elapsed + delay > options_.max_total) {
    return "waiting " + std::to_string(delay.count()) + " ms more would exceed max_total " +
           std::to_string(options_.max_total.count()) + " ms";
  }
  return delay;
}

core::Result<Response> RetryingHttpClient::Send(const Request& request) {
  const auto start = clock_.Monotonic();
  for (int attempt = 1;; ++attempt) {
    core::Result<Response> result = inner_.Send(request);
    if (result.ok()) {
      result->attempts = attempt;
    }
    const bool retryable =
        result.ok() ? IsRetryableStatus(result->status) : IsRetryableError(result.error());
    if (!retryable) {
      return result;
    }
    const auto wait = NextWait(result, attempt, start);
    if (const auto* reason = std::get_if<std::string>(&wait)) {
      logger_.Warn("http request failed, giving up", {{"method", request.method},
                                                      {"url", RedactUrl(request.url)},
                                                      {"attempts", std::to_string(attempt)},
                                                      {"outcome", Outcome(result)},
                                                      {"reason", *reason}});
      if (result.ok()) {
        return result;
      }
      core::Error error = result.error();
      error.message += " (gave up after " + std::to_string(attempt) +
                       (attempt == 1 ? " attempt)" : " attempts)");
      return error;
    }
    const milliseconds delay = std::get<milliseconds>(wait);
    logger_.Warn("http request failed, retrying", {{"method", request.method},
                                                   {"url", RedactUrl(request.url)},
                                                   {"attempt", std::to_string(attempt)},
                                                   {"outcome", Outcome(result)},
                                                   {"delay_ms", std::to_string(delay.count())}});
    clock_.SleepFor(delay);
  }
}

std::optional<milliseconds> ParseRetryAfter(std::string_view value,
                                            std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    // Anything beyond a day is as good as "never"; clamping keeps the arithmetic in range.
    const auto seconds = ParseNumber(value.size() > 9 ? "999999999" : value);
    return seconds ? std::optional(milliseconds{*seconds * 1000}) : std::nullopt;
  }
  const auto date = ParseHttpDate(value);
  if (!date) {
    return std::nullopt;
  }
  if (*date <= now) {
    return milliseconds{0};
  }
  return std::chrono::ceil<milliseconds>(*date - now);
}

std::string DescribeFailure(const Request& request, const core::Result<Response>& result) {
  if (!result.ok()) {
    return result.error().message;
  }
  std::string text =
      request.method + " " + RedactUrl(request.url) + ": " + std::to_string(result->status);
  if (!result->body.empty()) {
    text += ' ';
    text += Truncated(result->body);
  }
  if (result->attempts > 1) {
    text += " (after " + std::to_string(result->attempts) + " attempts)";
  }
  return text;
}

core::Error UpstreamError(const Request& request, const core::Result<Response>& result) {
  if (!result.ok()) {
    return result.error();
  }
  return core::Error{.code = core::ErrorCode::kUpstream,
                     .message = DescribeFailure(request, result),
                     .upstream_status = result->status,
                     .upstream_body = Truncated(result->body)};
}

}  // namespace obsforge::http
