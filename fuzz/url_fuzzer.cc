// URLs: the helpers that build and redact upstream URLs, and the request-target parsing the
// API adapter does (Poco::URI, then the decoded path and query). Nothing crashes, and only
// Poco's exceptions (which the adapter answers with 400) are thrown.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "fuzz_check.h"
#include "http/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = text.find('\n');
  const std::string_view first = text.substr(0, cut);
  const std::string_view second = cut == std::string_view::npos ? "" : text.substr(cut + 1);

  const std::string redacted = obsforge::http::RedactUrl(text);
  FUZZ_CHECK(redacted.size() <= text.size() + 8 * (1 + text.size() / 2));
  const std::string origin = obsforge::http::OriginOf(text);
  FUZZ_CHECK(origin.empty() || origin.find("://") != std::string::npos);
  const std::string joined = obsforge::http::JoinUrl(first, second);
  FUZZ_CHECK(second.empty() || joined.size() <= first.size() + second.size() + 1);
  const std::string segment = obsforge::http::EncodePathSegment(text);
  FUZZ_CHECK(segment.find_first_of("/?#& ") == std::string::npos);
  (void)obsforge::http::BuildQuery({{std::string(first), std::string(second)}});

  try {
    const Poco::URI uri{std::string(text)};
    (void)uri.getPath();
    (void)uri.getQueryParameters();
  } catch (const Poco::Exception&) {
    // The adapter answers 400 "malformed request URI".
  }
  return 0;
}
