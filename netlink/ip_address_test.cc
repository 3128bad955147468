#include "netlink/ip_address.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::netlink {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

IpAddress Ip(absl::string_view text) {
  absl::StatusOr<IpAddress> address = IpAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << address.status();
  return *address;
}

IpPrefix Prefix(absl::string_view text) {
  absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(text);
  EXPECT_TRUE(prefix.ok()) << prefix.status();
  return *prefix;
}

TEST(IpAddressTest, ParsesIpv4IntoNetworkOrderBytes) {
  const IpAddress address = Ip("192.0.2.33");
  EXPECT_EQ(address.family(), AF_INET);
  EXPECT_EQ(address.size(), 4u);
  EXPECT_EQ(address.bits(), 32);
  EXPECT_THAT(address.bytes(), ElementsAre(192, 0, 2, 33));
  EXPECT_EQ(address.ToString(), "192.0.2.33");
}

TEST(IpAddressTest, ParsesIpv6AndPrintsCanonicalForm) {
  const IpAddress address = Ip("2001:DB8:0:0::1");
  EXPECT_EQ(address.family(), AF_INET6);
  EXPECT_EQ(address.size(), 16u);
  EXPECT_THAT(address.bytes(),
              ElementsAre(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
  // RFC 5952 4: lower case, longest zero run compressed.
  EXPECT_EQ(address.ToString(), "2001:db8::1");
}

TEST(IpAddressTest, RejectsWhatIsNotAnAddress) {
  for (absl::string_view text :
       {"", "10.0.0.256", "10.0.0", "fe80::1%eth0", "10.0.0.1/8", " 10.0.0.1"}) {
    absl::StatusOr<IpAddress> address = IpAddress::Parse(text);
    ASSERT_FALSE(address.ok()) << text;
    EXPECT_EQ(address.status().message(), absl::StrCat("not an IP address: \"", text, "\""));
  }
}

TEST(IpAddressTest, FromBytesTakesFourOrSixteen) {
  const std::vector<uint8_t> v4 = {10, 1, 2, 3};
  ASSERT_TRUE(IpAddress::FromBytes(v4).ok());
  EXPECT_EQ(IpAddress::FromBytes(v4)->ToString(), "10.1.2.3");
  const std::vector<uint8_t> five = {1, 2, 3, 4, 5};
  EXPECT_EQ(IpAddress::FromBytes(five).status().message(), "IP address of 5 bytes (want 4 or 16)");
}

TEST(IpAddressTest, DefaultAndAnyAreAllZero) {
  EXPECT_EQ(IpAddress().ToString(), "0.0.0.0");
  EXPECT_EQ(IpAddress::Any(AF_INET6).ToString(), "::");
  EXPECT_NE(IpAddress::Any(AF_INET), IpAddress::Any(AF_INET6));
}

TEST(IpAddressTest, ClassifiesLinkLocalAndLoopback) {
  EXPECT_TRUE(Ip("169.254.1.1").IsLinkLocal());
  EXPECT_TRUE(Ip("fe80::1").IsLinkLocal());
  EXPECT_TRUE(Ip("febf::1").IsLinkLocal());  // fe80::/10 ends at febf.
  EXPECT_FALSE(Ip("fec0::1").IsLinkLocal());
  EXPECT_FALSE(Ip("10.0.0.1").IsLinkLocal());
  EXPECT_TRUE(Ip("127.0.0.1").IsLoopback());
  EXPECT_TRUE(Ip("::1").IsLoopback());
  EXPECT_FALSE(Ip("::2").IsLoopback());
}

TEST(IpPrefixTest, ParsesWithAndWithoutLength) {
  const IpPrefix net = Prefix("10.0.0.0/8");
  EXPECT_EQ(net.address.ToString(), "10.0.0.0");
  EXPECT_EQ(net.length, 8);
  EXPECT_EQ(net.ToString(), "10.0.0.0/8");
  EXPECT_EQ(Prefix("2001:db8::1").ToString(), "2001:db8::1/128");
  EXPECT_EQ(Prefix("10.0.0.1").length, 32);
  EXPECT_EQ(Prefix("0.0.0.0/0").length, 0);
}

TEST(IpPrefixTest, RejectsBadLengths) {
  EXPECT_EQ(IpPrefix::Parse("10.0.0.0/33").status().message(),
            "prefix length 33 > 32 in \"10.0.0.0/33\"");
  EXPECT_EQ(IpPrefix::Parse("::/129").status().message(), "prefix length 129 > 128 in \"::/129\"");
  for (absl::string_view text :
       {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8x", "10.0.0.0/0008"}) {
    absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(text);
    ASSERT_FALSE(prefix.ok()) << text;
    EXPECT_THAT(prefix.status().message(), HasSubstr("bad prefix length")) << text;
  }
  EXPECT_EQ(IpPrefix::Parse("10.0.0/8").status().message(), "not an IP prefix: \"10.0.0/8\"");
}

TEST(IpPrefixTest, MaskedClearsHostBits) {
  EXPECT_EQ(Prefix("10.1.2.3/8").Masked().ToString(), "10.0.0.0/8");
  EXPECT_EQ(Prefix("10.17.2.3/12").Masked().ToString(), "10.16.0.0/12");
  EXPECT_EQ(Prefix("192.0.2.255/31").Masked().ToString(), "192.0.2.254/31");
  EXPECT_EQ(Prefix("2001:db8:1234::1/36").Masked().ToString(), "2001:db8:1000::/36");
  EXPECT_EQ(Prefix("203.0.113.7/0").Masked().ToString(), "0.0.0.0/0");
  EXPECT_EQ(Prefix("203.0.113.7/32").Masked().ToString(), "203.0.113.7/32");
  EXPECT_TRUE(Prefix("10.16.0.0/12").IsMasked());
  EXPECT_FALSE(Prefix("10.17.0.0/12").IsMasked());
}

TEST(IpPrefixTest, ContainsMatchesTheLeadingBitsOfTheSameFamily) {
  const IpPrefix net = Prefix("10.16.0.0/12");
  EXPECT_TRUE(net.Contains(Ip("10.31.255.255")));
  EXPECT_FALSE(net.Contains(Ip("10.32.0.0")));
  EXPECT_FALSE(net.Contains(Ip("::a10:0")));  // Other family.
  EXPECT_TRUE(Prefix("::/0").Contains(Ip("2001:db8::1")));
}

TEST(Ipv6LinkLocalTest, PutsTheInterfaceIdentifierAfterFe80) {
  // RFC 4291 2.5.6: fe80:0:0:0 then the 64-bit interface identifier.
  const IpPrefix link_local = Ipv6LinkLocal({0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55});
  EXPECT_EQ(link_local.ToString(), "fe80::211:22ff:fe33:4455/64");
  EXPECT_TRUE(link_local.address.IsLinkLocal());
}

TEST(SplitDefaultPrefixesTest, TwoHalvesCoverTheAddressSpace) {
  const std::array<IpPrefix, 2> v4 = SplitDefaultPrefixes(AF_INET);
  EXPECT_EQ(v4[0].ToString(), "0.0.0.0/1");
  EXPECT_EQ(v4[1].ToString(), "128.0.0.0/1");
  const std::array<IpPrefix, 2> v6 = SplitDefaultPrefixes(AF_INET6);
  EXPECT_EQ(v6[0].ToString(), "::/1");
  EXPECT_EQ(v6[1].ToString(), "8000::/1");
  for (const IpPrefix& half : v4) EXPECT_TRUE(half.IsMasked());
  for (const IpPrefix& half : v6) EXPECT_TRUE(half.IsMasked());
  // Every address falls in exactly one half.
  for (absl::string_view text : {"0.0.0.0", "127.255.255.255", "128.0.0.0", "255.255.255.255"}) {
    EXPECT_NE(v4[0].Contains(Ip(text)), v4[1].Contains(Ip(text))) << text;
  }
  for (absl::string_view text : {"::", "7fff:ffff::", "8000::", "ffff::1"}) {
    EXPECT_NE(v6[0].Contains(Ip(text)), v6[1].Contains(Ip(text))) << text;
  }
}

TEST(FamilyNameTest, NamesFamilies) {
  EXPECT_EQ(FamilyName(AF_INET), "inet");
  EXPECT_EQ(FamilyName(AF_INET6), "inet6");
  EXPECT_EQ(FamilyName(AF_UNSPEC), "family 0");
}

}  // namespace
}  // namespace sstp::netlink
