#include "http/address_filter.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace obsforge::http {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

// ::ffff:a.b.c.d: how an IPv4 address is held, so one comparison serves both families.
Bytes Mapped(const in_addr& v4) {
  Bytes out{};
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(&out[12], &v4, 4);
  return out;
}

Bytes FromV6(const in6_addr& v6) {
  Bytes out{};
  std::memcpy(out.data(), &v6, 16);
  return out;
}

// The address in `text` (IPv4 mapped), and whether it was IPv4; false when it is neither.
bool ParseAddress(const std::string& text, Bytes& out, bool& v4) {
  in_addr a4{};
  if (::inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    out = Mapped(a4);
    v4 = true;
    return true;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    out = FromV6(a6);
    v4 = false;
    return true;
  }
  return false;
}

core::Result<std::vector<IpRange>> ParseAll(const std::vector<std::string>& texts) {
  std::vector<IpRange> ranges;
  for (const std::string& text : texts) {
    auto range = IpRange::Parse(text);
    if (!range.ok()) {
      return range.error();
    }
    ranges.push_back(std::move(*range));
  }
  return ranges;
}

}  // namespace

core::Result<IpRange> IpRange::Parse(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return core::MakeError(core::ErrorCode::kInvalidSpec, "\"" + std::string(text) + "\": " + why);
  };
  const auto slash = text.find('/');
  IpRange range;
  range.text = std::string(text);
  bool v4 = false;
  if (!ParseAddress(std::string(text.substr(0, slash)), range.bytes, v4)) {
    return bad("not an IP address or range (such as 10.0.0.0/8 or fd00::/8)");
  }
  const int width = v4 ? 32 : 128;
  int prefix = width;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, prefix);
    if (digits.empty() || ec != std::errc() || ptr != end || prefix < 0 || prefix > width) {
      return bad("the prefix length must be 0-" + std::to_string(width));
    }
  }
  range.prefix = v4 ? 96 + prefix : prefix;
  return range;
}

bool IpRange::Contains(const Bytes& address) const {
  const int whole = prefix / 8;
  if (!std::equal(bytes.begin(), bytes.begin() + whole, address.begin())) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xffU << (8 - rest));
  const auto at = static_cast<std::size_t>(whole);
  return (bytes.at(at) & mask) == (address.at(at) & mask);
}

AddressFilter::AddressFilter() {
  // Link-local: where clouds serve instance metadata and credentials.
  for (const char* text : {"169.254.0.0/16", "fe80::/10", "fd00:ec2::254"}) {
    deny_.push_back(IpRange::Parse(text).value());
  }
}

AddressFilter::AddressFilter(std::vector<IpRange> allow, std::vector<IpRange> deny)
    : allow_(std::move(allow)), deny_(std::move(deny)) {
}

core::Result<AddressFilter> AddressFilter::Parse(const std::vector<std::string>& allow,
                                                 const std::vector<std::string>& deny) {
  auto allowed = ParseAll(allow);
  if (!allowed.ok()) {
    return allowed.error();
  }
  auto denied = ParseAll(deny);
  if (!denied.ok()) {
    return denied.error();
  }
  return AddressFilter(std::move(*allowed), std::move(*denied));
}

bool AddressFilter::Allows(const sockaddr* address) const {
  if (address == nullptr) {
    return false;
  }
  if (address->sa_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof v4);
    return AllowsMapped(Mapped(v4.sin_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof v6);
    return AllowsMapped(FromV6(v6.sin6_addr));
  }
  return false;
}

bool AddressFilter::Allows(std::string_view address) const {
  Bytes bytes{};
  bool v4 = false;
  return ParseAddress(std::string(address), bytes, v4) && AllowsMapped(bytes);
}

bool AddressFilter::AllowsMapped(const Bytes& address) const {
  const auto in = [&](const std::vector<IpRange>& ranges) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [&](const IpRange& r) { return r.Contains(address); });
  };
  return (allow_.empty() || in(allow_)) && !in(deny_);
}

std::string AddressText(const sockaddr* address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address != nullptr && address->sa_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof v4);
    return ::inet_ntop(AF_INET, &v4.sin_addr, text.data(), text.size()) != nullptr ? text.data()
                                                                                   : "";
  }
  if (address != nullptr && address->sa_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof v6);
    return ::inet_ntop(AF_INET6, &v6.sin6_addr, text.data(), text.size()) != nullptr ? text.data()
                                                                                     : "";
  }
  return "";
}

}  // namespace obsforge::http
