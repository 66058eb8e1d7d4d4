#include "http/address_filter.h"

#include <cstring>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace obsforge::http {
namespace {

AddressFilter Filter(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
  auto filter = AddressFilter::Parse(allow, deny);
  EXPECT_TRUE(filter.ok()) << filter.error().message;
  return filter.ok() ? std::move(*filter) : AddressFilter();
}

TEST(IpRange, ParsesAddressesAndRangesOfBothFamilies) {
  for (const char* text : {"10.0.0.0/8", "192.168.1.7", "0.0.0.0/0", "fd00::/8", "::1", "::/0",
                           "fe80::/10", "10.1.2.3/32", "::ffff:10.0.0.0/104"}) {
    EXPECT_TRUE(IpRange::Parse(text).ok()) << text;
  }
}

TEST(IpRange, RefusesWhatIsNotAnAddressOrRangeNamingIt) {
  for (const char* text :
       {"", "example.com", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "fd00::/129",
        "10.0.0", "127.0.0.1.evil", "10.0.0.0/ 8", "/8"}) {
    const auto range = IpRange::Parse(text);
    ASSERT_FALSE(range.ok()) << text;
    EXPECT_NE(range.error().message.find(std::string("\"") + text + "\""), std::string::npos)
        << range.error().message;
  }
}

TEST(AddressFilter, ByDefaultRefusesOnlyLinkLocalWhereCloudsServeMetadata) {
  const AddressFilter filter;
  for (const char* address :
       {"169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"}) {
    EXPECT_FALSE(filter.Allows(address)) << address;
  }
  for (const char* address : {"127.0.0.1", "::1", "10.1.2.3", "192.168.0.1", "8.8.8.8",
                              "2001:db8::1", "169.253.255.255", "169.255.0.0"}) {
    EXPECT_TRUE(filter.Allows(address)) << address;
  }
  EXPECT_FALSE(filter.Allows("not an address"));
}

TEST(AddressFilter, AnAllowListLetsOnlyItsRangesThroughAndDenyStillWins) {
  const AddressFilter filter = Filter({"10.0.0.0/8", "127.0.0.1", "fd00::/8"}, {"10.9.0.0/16"});
  EXPECT_TRUE(filter.Allows("10.1.2.3"));
  EXPECT_TRUE(filter.Allows("127.0.0.1"));
  EXPECT_TRUE(filter.Allows("::ffff:127.0.0.1"));  // the same address over an IPv6 socket
  EXPECT_TRUE(filter.Allows("fd12::1"));
  EXPECT_FALSE(filter.Allows("10.9.1.1"));
  EXPECT_FALSE(filter.Allows("127.0.0.2"));
  EXPECT_FALSE(filter.Allows("11.0.0.1"));
  EXPECT_FALSE(filter.Allows("::1"));
  EXPECT_FALSE(filter.Allows("169.254.169.254"));  // an explicit list replaces the default
}

TEST(AddressFilter, PrefixesThatEndInsideAByteCompareOnlyTheirBits) {
  const AddressFilter filter = Filter({"172.16.0.0/12"}, {});
  EXPECT_TRUE(filter.Allows("172.16.0.1"));
  EXPECT_TRUE(filter.Allows("172.31.255.255"));
  EXPECT_FALSE(filter.Allows("172.32.0.0"));
  EXPECT_FALSE(filter.Allows("172.15.255.255"));
}

// A socket address of `family` holding `text`, as a connection would be opened to.
sockaddr_storage SocketAddress(int family, const char* text) {
  sockaddr_storage storage{};
  storage.ss_family = static_cast<sa_family_t>(family);
  void* address = nullptr;
  if (family == AF_INET) {
    address = &reinterpret_cast<sockaddr_in*>(&storage)->sin_addr;  // NOLINT: the sockets API
  } else {
    address = &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr;  // NOLINT: the sockets API
  }
  EXPECT_EQ(::inet_pton(family, text, address), 1) << text;
  return storage;
}

const sockaddr* Raw(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr*>(&storage);  // NOLINT: the sockets API
}

TEST(AddressFilter, ChecksSocketAddressesOfBothFamilies) {
  const AddressFilter filter = Filter({}, {"10.0.0.0/8", "fd00::/8"});
  const auto v4 = SocketAddress(AF_INET, "10.2.3.4");
  const auto v6 = SocketAddress(AF_INET6, "fd00::5");
  const auto mapped = SocketAddress(AF_INET6, "::ffff:10.2.3.4");
  const auto other = SocketAddress(AF_INET, "11.2.3.4");
  sockaddr_storage unix_socket{};
  unix_socket.ss_family = AF_UNIX;

  EXPECT_FALSE(filter.Allows(Raw(v4)));
  EXPECT_FALSE(filter.Allows(Raw(v6)));
  EXPECT_FALSE(filter.Allows(Raw(mapped)));
  EXPECT_TRUE(filter.Allows(Raw(other)));
  EXPECT_FALSE(filter.Allows(Raw(unix_socket)));
  EXPECT_FALSE(filter.Allows(static_cast<const sockaddr*>(nullptr)));
  EXPECT_EQ(AddressText(Raw(v4)), "10.2.3.4");
  EXPECT_EQ(AddressText(Raw(v6)), "fd00::5");
}

TEST(AddressFilter, ParseNamesTheFirstBadEntryOfEitherList) {
  const auto bad_allow = AddressFilter::Parse({"10.0.0.0/8", "intranet"}, {});
  ASSERT_FALSE(bad_allow.ok());
  EXPECT_NE(bad_allow.error().message.find("\"intranet\""), std::string::npos);
  const auto bad_deny = AddressFilter::Parse({}, {"169.254.0.0/99"});
  ASSERT_FALSE(bad_deny.ok());
  EXPECT_NE(bad_deny.error().message.find("0-32"), std::string::npos);
}

}  // namespace
}  // namespace obsforge::http
