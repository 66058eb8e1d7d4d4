#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

struct sockaddr;

namespace obsforge::http {

/// A range of IP addresses: "10.0.0.0/8", "fd00::/8", or one address ("169.254.169.254",
/// which is "/32", or "/128" for IPv6). IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n),
/// so one range matches an address whichever family the socket used.
struct IpRange {
  std::array<std::uint8_t, 16> bytes{};
  int prefix = 0;    ///< bits of `bytes` that must match (0-128)
  std::string text;  ///< as written, for messages

  /// Parses `text`; an error naming it when it is not an address or address/prefix, or the
  /// prefix is out of range (0-32 for IPv4, 0-128 for IPv6).
  static core::Result<IpRange> Parse(std::string_view text);
  /// Whether `address` (16 bytes, IPv4 mapped) lies in the range.
  bool Contains(const std::array<std::uint8_t, 16>& address) const;
};

/// Which addresses the server may open connections to on behalf of specs and stacks
/// (obsforge.yaml `outbound:`, docs/configuration.md). It is checked on the address a
/// connection is about to be opened to, after DNS, so a host name that resolves somewhere
/// else later (DNS rebinding) is still held to it.
///
/// An address may be reached when it lies in `allow` (or `allow` is empty) and not in `deny`.
/// The default `deny` holds the link-local ranges, where clouds serve instance metadata and
/// credentials (169.254.0.0/16, fe80::/10, and AWS's fd00:ec2::254). Immutable; thread-safe.
class AddressFilter {
 public:
  /// Everything but the default deny list.
  AddressFilter();
  AddressFilter(std::vector<IpRange> allow, std::vector<IpRange> deny);

  /// Parses both lists; an error naming the first entry that is not an address or range.
  static core::Result<AddressFilter> Parse(const std::vector<std::string>& allow,
                                           const std::vector<std::string>& deny);

  /// Whether a connection to `address` (AF_INET or AF_INET6; anything else is refused) may be
  /// opened.
  bool Allows(const sockaddr* address) const;
  /// The same for an address in text ("10.1.2.3", "::1"); false when it is not one.
  bool Allows(std::string_view address) const;

  const std::vector<IpRange>& allow() const { return allow_; }
  const std::vector<IpRange>& deny() const { return deny_; }

 private:
  bool AllowsMapped(const std::array<std::uint8_t, 16>& address) const;

  std::vector<IpRange> allow_;
  std::vector<IpRange> deny_;
};

/// `address` as text ("10.1.2.3", "fe80::1"); "" for another family.
std::string AddressText(const sockaddr* address);

}  // namespace obsforge::http
