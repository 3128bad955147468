#include "netlink/rtnl_messages.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

#include <cstring>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::netlink {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

IpAddress Ip(absl::string_view text) { return *IpAddress::Parse(text); }
IpPrefix Prefix(absl::string_view text) { return *IpPrefix::Parse(text); }

struct Collected {
  std::map<uint16_t, const nlattr*> attrs;
  size_t walked = 0;
};

int Collect(const nlattr* attr, void* data) {
  auto* collected = static_cast<Collected*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  EXPECT_EQ(collected->attrs.count(type), 0u) << "duplicate attribute " << type;
  collected->attrs[type] = attr;
  collected->walked += MNL_ALIGN(mnl_attr_get_len(attr));
  return MNL_CB_OK;
}

// The attributes after `header_size` bytes of payload, parsed back with
// libmnl, by type. Fails the test if the attribute stream does not end
// exactly at the end of the message.
std::map<uint16_t, const nlattr*> Attributes(const nlmsghdr* message, size_t header_size) {
  Collected collected;
  collected.walked = header_size;
  EXPECT_EQ(mnl_attr_parse(message, header_size, Collect, &collected), MNL_CB_OK);
  EXPECT_EQ(collected.walked, mnl_nlmsg_get_payload_len(message));
  return collected.attrs;
}

std::map<uint16_t, const nlattr*> Nested(const nlattr* nest) {
  Collected collected;
  EXPECT_EQ(mnl_attr_parse_nested(nest, Collect, &collected), MNL_CB_OK);
  EXPECT_EQ(collected.walked, mnl_attr_get_payload_len(nest));
  return collected.attrs;
}

std::vector<uint8_t> Bytes(const nlattr* attr) {
  const auto* data = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
  return std::vector<uint8_t>(data, data + mnl_attr_get_payload_len(attr));
}

std::vector<uint8_t> Bytes(const IpAddress& address) {
  return std::vector<uint8_t>(address.bytes().begin(), address.bytes().end());
}

template <typename T>
T Header(const NetlinkMessage& message) {
  EXPECT_GE(mnl_nlmsg_get_payload_len(message.header()), sizeof(T));
  T value;
  std::memcpy(&value, mnl_nlmsg_get_payload(message.header()), sizeof(T));
  return value;
}

std::vector<uint16_t> Types(const std::map<uint16_t, const nlattr*>& attrs) {
  std::vector<uint16_t> types;
  for (const auto& [type, attr] : attrs) types.push_back(type);
  return types;
}

// --- NetlinkMessage ----------------------------------------------------------

TEST(NetlinkMessageTest, HeaderLengthCoversEverythingPut) {
  NetlinkMessage message(RTM_GETLINK, NLM_F_DUMP);
  EXPECT_EQ(message.bytes().size(), NLMSG_HDRLEN);
  ifinfomsg ifi{};
  message.PutStruct(ifi);
  EXPECT_EQ(message.bytes().size(), NLMSG_HDRLEN + sizeof(ifinfomsg));
  message.PutU8(IFLA_OPERSTATE, 6);  // 4 header + 1 data, padded to 8.
  EXPECT_EQ(message.bytes().size(), NLMSG_HDRLEN + sizeof(ifinfomsg) + 8);
  EXPECT_EQ(message.type(), RTM_GETLINK);
  EXPECT_EQ(message.flags(), NLM_F_DUMP);
  message.set_seq(42);
  EXPECT_EQ(message.header()->nlmsg_seq, 42u);
  EXPECT_TRUE(message.ok());
}

TEST(NetlinkMessageTest, AnAttributeThatDoesNotFitPoisonsTheMessage) {
  NetlinkMessage message(RTM_NEWLINK, 0);
  const std::vector<uint8_t> big(NetlinkMessage::kCapacity, 0xaa);
  message.PutAttr(IFLA_IFALIAS, big.data(), big.size());
  EXPECT_FALSE(message.ok());
  const size_t size = message.bytes().size();
  message.PutU32(IFLA_MTU, 1400);  // Ignored once poisoned.
  EXPECT_EQ(message.bytes().size(), size);
  EXPECT_FALSE(message.ok());
}

TEST(NetlinkMessageTest, NestsWrapTheirAttributes) {
  NetlinkMessage message(RTM_SETLINK, 0);
  message.PutStruct(ifinfomsg{});
  const size_t outer = message.NestStart(IFLA_AF_SPEC);
  message.PutU32(7, 0x01020304);
  message.NestEnd(outer);
  const auto attrs = Attributes(message.header(), sizeof(ifinfomsg));
  ASSERT_EQ(attrs.count(IFLA_AF_SPEC), 1u);
  const auto inner = Nested(attrs.at(IFLA_AF_SPEC));
  ASSERT_EQ(inner.count(7), 1u);
  EXPECT_EQ(mnl_attr_get_u32(inner.at(7)), 0x01020304u);
}

TEST(NetlinkMessageFitsTest, ChecksHeaderAndLengthAgainstWhatRemains) {
  NetlinkMessage message(RTM_NEWLINK, 0);
  message.PutStruct(ifinfomsg{});
  const size_t size = message.bytes().size();
  EXPECT_TRUE(NetlinkMessageFits(message.header(), size));
  EXPECT_TRUE(NetlinkMessageFits(message.header(), size + 100));
  EXPECT_FALSE(NetlinkMessageFits(message.header(), size - 1));
  EXPECT_FALSE(NetlinkMessageFits(message.header(), NLMSG_HDRLEN - 1));
  message.mutable_header()->nlmsg_len = NLMSG_HDRLEN - 1;
  EXPECT_FALSE(NetlinkMessageFits(message.header(), size));
  // libmnl 1.0.4's mnl_nlmsg_ok() takes this for a negative int that fits.
  message.mutable_header()->nlmsg_len = 0xd2000000;
  EXPECT_FALSE(NetlinkMessageFits(message.header(), size));
}

TEST(MessageTypeNameTest, NamesKnownTypes) {
  EXPECT_EQ(MessageTypeName(RTM_NEWROUTE), "RTM_NEWROUTE");
  EXPECT_EQ(MessageTypeName(NLMSG_ERROR), "NLMSG_ERROR");
  EXPECT_EQ(MessageTypeName(999), "netlink type 999");
}

// --- Links ------------------------------------------------------------------

TEST(LinkBuildersTest, GetLinkByNameCarriesNulTerminatedName) {
  absl::StatusOr<NetlinkMessage> message = BuildGetLinkByName("office0");
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->type(), RTM_GETLINK);
  EXPECT_EQ(message->flags(), 0);
  EXPECT_EQ(Header<ifinfomsg>(*message).ifi_index, 0);
  const auto attrs = Attributes(message->header(), sizeof(ifinfomsg));
  EXPECT_THAT(Types(attrs), ElementsAre(IFLA_IFNAME));
  EXPECT_EQ(mnl_attr_validate(attrs.at(IFLA_IFNAME), MNL_TYPE_NUL_STRING), 0);
  EXPECT_STREQ(mnl_attr_get_str(attrs.at(IFLA_IFNAME)), "office0");
}

TEST(LinkBuildersTest, GetLinkByNameRejectsBadLengths) {
  EXPECT_EQ(BuildGetLinkByName("").status().message(), "interface name \"\" must be 1..15 bytes");
  EXPECT_EQ(BuildGetLinkByName("0123456789abcdef").status().message(),
            "interface name \"0123456789abcdef\" must be 1..15 bytes");
  EXPECT_TRUE(BuildGetLinkByName("0123456789abcde").ok());
}

TEST(LinkBuildersTest, GetLinkByIndexHasNoAttributes) {
  const NetlinkMessage message = BuildGetLinkByIndex(9);
  EXPECT_EQ(message.type(), RTM_GETLINK);
  EXPECT_EQ(Header<ifinfomsg>(message).ifi_index, 9);
  EXPECT_THAT(Attributes(message.header(), sizeof(ifinfomsg)), IsEmpty());
}

TEST(LinkBuildersTest, SetMtu) {
  const NetlinkMessage message = BuildSetMtu(5, 1400);
  EXPECT_EQ(message.type(), RTM_SETLINK);
  EXPECT_EQ(message.flags(), 0);  // Never NLM_F_CREATE.
  const ifinfomsg ifi = Header<ifinfomsg>(message);
  EXPECT_EQ(ifi.ifi_index, 5);
  EXPECT_EQ(ifi.ifi_change, 0u);  // Flags untouched.
  const auto attrs = Attributes(message.header(), sizeof(ifinfomsg));
  EXPECT_THAT(Types(attrs), ElementsAre(IFLA_MTU));
  EXPECT_EQ(mnl_attr_validate(attrs.at(IFLA_MTU), MNL_TYPE_U32), 0);
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(IFLA_MTU)), 1400u);
}

TEST(LinkBuildersTest, SetLinkUpAndDownChangeOnlyIffUp) {
  const ifinfomsg up = Header<ifinfomsg>(BuildSetLinkUp(5, true));
  EXPECT_EQ(up.ifi_index, 5);
  EXPECT_EQ(up.ifi_change, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(up.ifi_flags, static_cast<unsigned>(IFF_UP));
  const ifinfomsg down = Header<ifinfomsg>(BuildSetLinkUp(5, false));
  EXPECT_EQ(down.ifi_change, static_cast<unsigned>(IFF_UP));
  EXPECT_EQ(down.ifi_flags, 0u);
}

TEST(LinkBuildersTest, Ipv6AddrGenModeIsNestedUnderAfSpecInet6) {
  const NetlinkMessage message = BuildSetIpv6AddrGenMode(5, IN6_ADDR_GEN_MODE_NONE);
  EXPECT_EQ(message.type(), RTM_SETLINK);
  const auto attrs = Attributes(message.header(), sizeof(ifinfomsg));
  ASSERT_THAT(Types(attrs), ElementsAre(IFLA_AF_SPEC));
  const auto af = Nested(attrs.at(IFLA_AF_SPEC));
  ASSERT_THAT(Types(af), ElementsAre(AF_INET6));
  const auto inet6 = Nested(af.at(AF_INET6));
  ASSERT_THAT(Types(inet6), ElementsAre(IFLA_INET6_ADDR_GEN_MODE));
  EXPECT_EQ(mnl_attr_validate(inet6.at(IFLA_INET6_ADDR_GEN_MODE), MNL_TYPE_U8), 0);
  EXPECT_EQ(mnl_attr_get_u8(inet6.at(IFLA_INET6_ADDR_GEN_MODE)), IN6_ADDR_GEN_MODE_NONE);
}

// --- Addresses --------------------------------------------------------------

TEST(AddressBuilderTest, Ipv4PointToPointPutsPeerInIfaAddress) {
  AddressSpec spec;
  spec.ifindex = 7;
  spec.local = Prefix("10.0.0.2/32");
  spec.peer = Ip("10.0.0.1");
  absl::StatusOr<NetlinkMessage> message = BuildAddress(RTM_NEWADDR, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->type(), RTM_NEWADDR);
  // An address that exists already must fail, not be adopted.
  EXPECT_EQ(message->flags(), NLM_F_CREATE | NLM_F_EXCL);
  const ifaddrmsg ifa = Header<ifaddrmsg>(*message);
  EXPECT_EQ(ifa.ifa_family, AF_INET);
  EXPECT_EQ(ifa.ifa_prefixlen, 32);
  EXPECT_EQ(ifa.ifa_index, 7u);
  EXPECT_EQ(ifa.ifa_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(ifa.ifa_flags, 0);
  const auto attrs = Attributes(message->header(), sizeof(ifaddrmsg));
  EXPECT_THAT(Types(attrs), ElementsAre(IFA_ADDRESS, IFA_LOCAL));
  EXPECT_THAT(Bytes(attrs.at(IFA_LOCAL)), ElementsAre(10, 0, 0, 2));
  EXPECT_THAT(Bytes(attrs.at(IFA_ADDRESS)), ElementsAre(10, 0, 0, 1));
}

TEST(AddressBuilderTest, WithoutPeerIfaAddressRepeatsLocal) {
  AddressSpec spec;
  spec.ifindex = 3;
  spec.local = Prefix("192.0.2.1/24");
  absl::StatusOr<NetlinkMessage> message = BuildAddress(RTM_NEWADDR, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  const auto attrs = Attributes(message->header(), sizeof(ifaddrmsg));
  EXPECT_THAT(Bytes(attrs.at(IFA_ADDRESS)), ElementsAre(192, 0, 2, 1));
  EXPECT_THAT(Bytes(attrs.at(IFA_LOCAL)), ElementsAre(192, 0, 2, 1));
  EXPECT_EQ(Header<ifaddrmsg>(*message).ifa_prefixlen, 24);
}

TEST(AddressBuilderTest, Ipv6LinkLocalWithNoDad) {
  AddressSpec spec;
  spec.ifindex = 4;
  spec.local = Ipv6LinkLocal({0, 0, 0, 0, 0, 0, 0, 0x2a});
  spec.no_dad = true;
  absl::StatusOr<NetlinkMessage> message = BuildAddress(RTM_NEWADDR, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  const ifaddrmsg ifa = Header<ifaddrmsg>(*message);
  EXPECT_EQ(ifa.ifa_family, AF_INET6);
  EXPECT_EQ(ifa.ifa_prefixlen, 64);
  EXPECT_EQ(ifa.ifa_scope, RT_SCOPE_LINK);
  EXPECT_EQ(ifa.ifa_flags, IFA_F_NODAD);
  const auto attrs = Attributes(message->header(), sizeof(ifaddrmsg));
  EXPECT_THAT(Types(attrs), ElementsAre(IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS));
  EXPECT_THAT(Bytes(attrs.at(IFA_LOCAL)),
              ElementsAre(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a));
  EXPECT_EQ(Bytes(attrs.at(IFA_ADDRESS)), Bytes(attrs.at(IFA_LOCAL)));
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(IFA_FLAGS)), static_cast<uint32_t>(IFA_F_NODAD));
}

TEST(AddressBuilderTest, NoPrefixRouteNeedsIfaFlags) {
  AddressSpec spec;
  spec.ifindex = 4;
  spec.local = Prefix("10.9.0.2/24");
  spec.no_prefix_route = true;
  absl::StatusOr<NetlinkMessage> message = BuildAddress(RTM_NEWADDR, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  // 0x200 does not fit the u8 ifa_flags; only IFA_FLAGS carries it.
  EXPECT_EQ(Header<ifaddrmsg>(*message).ifa_flags, 0);
  const auto attrs = Attributes(message->header(), sizeof(ifaddrmsg));
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(IFA_FLAGS)), static_cast<uint32_t>(IFA_F_NOPREFIXROUTE));
}

TEST(AddressBuilderTest, DeleteCarriesTheSameAddressWithoutCreateFlags) {
  AddressSpec spec;
  spec.ifindex = 7;
  spec.local = Prefix("10.0.0.2/32");
  spec.peer = Ip("10.0.0.1");
  absl::StatusOr<NetlinkMessage> add = BuildAddress(RTM_NEWADDR, spec);
  absl::StatusOr<NetlinkMessage> del = BuildAddress(RTM_DELADDR, spec);
  ASSERT_TRUE(add.ok() && del.ok());
  EXPECT_EQ(del->type(), RTM_DELADDR);
  EXPECT_EQ(del->flags(), 0);
  // Same payload: the kernel matches local, peer and prefix length.
  EXPECT_THAT(std::vector<uint8_t>(del->bytes().begin() + NLMSG_HDRLEN, del->bytes().end()),
              ElementsAreArray(add->bytes().subspan(NLMSG_HDRLEN)));
}

TEST(AddressBuilderTest, RejectsInconsistentSpecs) {
  AddressSpec spec;
  spec.local = Prefix("10.0.0.2/32");
  EXPECT_EQ(BuildAddress(RTM_NEWADDR, spec).status().message(),
            "RTM_NEWADDR 10.0.0.2/32 dev #0: no interface index");
  spec.ifindex = 2;
  spec.peer = Ip("fe80::1");
  EXPECT_EQ(BuildAddress(RTM_NEWADDR, spec).status().message(),
            "RTM_NEWADDR 10.0.0.2/32 peer fe80::1 dev #2: peer family differs from local");
  spec.peer.reset();
  EXPECT_THAT(BuildAddress(RTM_NEWROUTE, spec).status().message(),
              HasSubstr("not an address request"));
}

// --- Routes -----------------------------------------------------------------

TEST(RouteBuilderTest, Ipv4RouteViaGateway) {
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.gateway = Ip("192.0.2.254");
  spec.oif = 3;
  spec.metric = 50;
  absl::StatusOr<NetlinkMessage> message = BuildRoute(RTM_NEWROUTE, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->type(), RTM_NEWROUTE);
  EXPECT_EQ(message->flags(), NLM_F_CREATE | NLM_F_EXCL);
  const rtmsg rtm = Header<rtmsg>(*message);
  EXPECT_EQ(rtm.rtm_family, AF_INET);
  EXPECT_EQ(rtm.rtm_dst_len, 8);
  EXPECT_EQ(rtm.rtm_src_len, 0);
  EXPECT_EQ(rtm.rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm.rtm_protocol, kRouteProtocolSstp);
  EXPECT_EQ(rtm.rtm_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(rtm.rtm_type, RTN_UNICAST);
  const auto attrs = Attributes(message->header(), sizeof(rtmsg));
  EXPECT_THAT(Types(attrs), ElementsAre(RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE));
  EXPECT_THAT(Bytes(attrs.at(RTA_DST)), ElementsAre(10, 0, 0, 0));
  EXPECT_THAT(Bytes(attrs.at(RTA_GATEWAY)), ElementsAre(192, 0, 2, 254));
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(RTA_OIF)), 3u);
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(RTA_PRIORITY)), 50u);
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(RTA_TABLE)), static_cast<uint32_t>(RT_TABLE_MAIN));
}

TEST(RouteBuilderTest, OnLinkRouteHasLinkScopeAndNoGateway) {
  RouteSpec spec;
  spec.destination = Prefix("128.0.0.0/1");
  spec.oif = 9;
  absl::StatusOr<NetlinkMessage> message = BuildRoute(RTM_NEWROUTE, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(Header<rtmsg>(*message).rtm_scope, RT_SCOPE_LINK);
  const auto attrs = Attributes(message->header(), sizeof(rtmsg));
  EXPECT_THAT(Types(attrs), ElementsAre(RTA_DST, RTA_OIF, RTA_PRIORITY, RTA_TABLE));
  EXPECT_THAT(Bytes(attrs.at(RTA_DST)), ElementsAre(128, 0, 0, 0));
  EXPECT_EQ(Header<rtmsg>(*message).rtm_dst_len, 1);
}

TEST(RouteBuilderTest, Ipv6SplitHalfAndPrefsrc) {
  RouteSpec spec;
  spec.destination = Prefix("8000::/1");
  spec.oif = 9;
  spec.prefsrc = Ip("2001:db8::2");
  absl::StatusOr<NetlinkMessage> message = BuildRoute(RTM_NEWROUTE, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  const rtmsg rtm = Header<rtmsg>(*message);
  EXPECT_EQ(rtm.rtm_family, AF_INET6);
  EXPECT_EQ(rtm.rtm_dst_len, 1);
  const auto attrs = Attributes(message->header(), sizeof(rtmsg));
  EXPECT_EQ(Bytes(attrs.at(RTA_DST)), Bytes(Ip("8000::")));
  EXPECT_EQ(Bytes(attrs.at(RTA_PREFSRC)), Bytes(Ip("2001:db8::2")));
}

TEST(RouteBuilderTest, DefaultRouteOmitsRtaDst) {
  RouteSpec spec;
  spec.destination = Prefix("0.0.0.0/0");
  spec.gateway = Ip("192.0.2.254");
  absl::StatusOr<NetlinkMessage> message = BuildRoute(RTM_NEWROUTE, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(Types(Attributes(message->header(), sizeof(rtmsg))),
              ElementsAre(RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE));
}

TEST(RouteBuilderTest, LargeTableGoesOnlyInRtaTable) {
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.oif = 2;
  spec.table = 1000;
  absl::StatusOr<NetlinkMessage> message = BuildRoute(RTM_NEWROUTE, spec);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(Header<rtmsg>(*message).rtm_table, RT_TABLE_UNSPEC);
  const auto attrs = Attributes(message->header(), sizeof(rtmsg));
  EXPECT_EQ(mnl_attr_get_u32(attrs.at(RTA_TABLE)), 1000u);
}

TEST(RouteBuilderTest, DeleteMatchesProtocolAndEveryField) {
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.gateway = Ip("192.0.2.254");
  spec.oif = 3;
  absl::StatusOr<NetlinkMessage> add = BuildRoute(RTM_NEWROUTE, spec);
  absl::StatusOr<NetlinkMessage> del = BuildRoute(RTM_DELROUTE, spec);
  ASSERT_TRUE(add.ok() && del.ok());
  EXPECT_EQ(del->type(), RTM_DELROUTE);
  EXPECT_EQ(del->flags(), 0);
  EXPECT_EQ(Header<rtmsg>(*del).rtm_protocol, kRouteProtocolSstp);
  EXPECT_THAT(std::vector<uint8_t>(del->bytes().begin() + NLMSG_HDRLEN, del->bytes().end()),
              ElementsAreArray(add->bytes().subspan(NLMSG_HDRLEN)));
}

TEST(RouteBuilderTest, RejectsInconsistentSpecs) {
  RouteSpec spec;
  spec.destination = Prefix("10.1.0.0/8");
  spec.oif = 2;
  EXPECT_EQ(BuildRoute(RTM_NEWROUTE, spec).status().message(),
            "RTM_NEWROUTE 10.1.0.0/8 dev #2 metric 0: destination has host bits set "
            "(did you mean 10.0.0.0/8?)");
  spec.destination = Prefix("10.0.0.0/8");
  spec.oif = 0;
  EXPECT_EQ(BuildRoute(RTM_NEWROUTE, spec).status().message(),
            "RTM_NEWROUTE 10.0.0.0/8 metric 0: needs a gateway or an interface");
  spec.gateway = Ip("fe80::1");
  EXPECT_EQ(
      BuildRoute(RTM_NEWROUTE, spec).status().message(),
      "RTM_NEWROUTE 10.0.0.0/8 via fe80::1 metric 0: gateway family differs from destination");
  spec.gateway.reset();
  spec.oif = 2;
  spec.prefsrc = Ip("::1");
  EXPECT_THAT(BuildRoute(RTM_DELROUTE, spec).status().message(),
              HasSubstr("prefsrc family differs"));
}

TEST(RouteBuilderTest, GetRouteAsksForOneHostDestination) {
  const NetlinkMessage message = BuildGetRoute(Ip("203.0.113.10"));
  EXPECT_EQ(message.type(), RTM_GETROUTE);
  EXPECT_EQ(message.flags(), 0);  // Not a dump.
  const rtmsg rtm = Header<rtmsg>(message);
  EXPECT_EQ(rtm.rtm_family, AF_INET);
  EXPECT_EQ(rtm.rtm_dst_len, 32);
  const auto attrs = Attributes(message.header(), sizeof(rtmsg));
  EXPECT_THAT(Types(attrs), ElementsAre(RTA_DST));
  EXPECT_THAT(Bytes(attrs.at(RTA_DST)), ElementsAre(203, 0, 113, 10));
  EXPECT_EQ(Header<rtmsg>(BuildGetRoute(Ip("2001:db8::1"))).rtm_dst_len, 128);
}

TEST(DumpBuilderTest, UsesEachTypesFamilyHeader) {
  const NetlinkMessage routes = BuildDump(RTM_GETROUTE, AF_INET6);
  EXPECT_EQ(routes.flags(), NLM_F_DUMP);
  EXPECT_EQ(routes.bytes().size(), NLMSG_HDRLEN + sizeof(rtmsg));
  EXPECT_EQ(Header<rtmsg>(routes).rtm_family, AF_INET6);
  const NetlinkMessage addresses = BuildDump(RTM_GETADDR, AF_INET);
  EXPECT_EQ(addresses.bytes().size(), NLMSG_HDRLEN + sizeof(ifaddrmsg));
  EXPECT_EQ(Header<ifaddrmsg>(addresses).ifa_family, AF_INET);
  const NetlinkMessage links = BuildDump(RTM_GETLINK, AF_UNSPEC);
  EXPECT_EQ(links.bytes().size(), NLMSG_HDRLEN + sizeof(ifinfomsg));
}

TEST(DescribeTest, UsesTheGivenDeviceName) {
  RouteSpec route;
  route.destination = Prefix("10.0.0.0/8");
  route.oif = 4;
  route.table = 100;
  EXPECT_EQ(DescribeRoute(route), "10.0.0.0/8 dev #4 metric 0 table 100");
  EXPECT_EQ(DescribeRoute(route, "office0"), "10.0.0.0/8 dev office0 metric 0 table 100");
  AddressSpec address;
  address.ifindex = 4;
  address.local = Prefix("10.0.0.2/32");
  address.peer = Ip("10.0.0.1");
  EXPECT_EQ(DescribeAddress(address, "office0"), "10.0.0.2/32 peer 10.0.0.1 dev office0");
}

// --- Parsers: kernel replies built by hand --------------------------------------

NetlinkMessage RouteReply(int family, uint8_t dst_len) {
  NetlinkMessage message(RTM_NEWROUTE, 0);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<uint8_t>(family);
  rtm.rtm_dst_len = dst_len;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = RTPROT_STATIC;
  rtm.rtm_type = RTN_UNICAST;
  message.PutStruct(rtm);
  return message;
}

TEST(ParseRouteTest, ReadsEveryField) {
  NetlinkMessage message = RouteReply(AF_INET, 24);
  message.PutAddress(RTA_DST, Ip("198.51.100.0"));
  message.PutAddress(RTA_GATEWAY, Ip("192.0.2.254"));
  message.PutAddress(RTA_PREFSRC, Ip("192.0.2.1"));
  message.PutU32(RTA_OIF, 6);
  message.PutU32(RTA_PRIORITY, 100);
  message.PutU32(RTA_TABLE, 1000);  // Overrides rtm_table.
  message.PutU32(RTA_MAX + 10, 1);  // A newer kernel's attribute: skipped.
  absl::StatusOr<RouteInfo> route = ParseRouteMessage(message.header());
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->destination.ToString(), "198.51.100.0/24");
  EXPECT_EQ(route->gateway, Ip("192.0.2.254"));
  EXPECT_EQ(route->prefsrc, Ip("192.0.2.1"));
  EXPECT_EQ(route->oif, 6);
  EXPECT_EQ(route->metric, 100u);
  EXPECT_EQ(route->table, 1000u);
  EXPECT_EQ(route->protocol, RTPROT_STATIC);
  EXPECT_EQ(route->type, RTN_UNICAST);
}

TEST(ParseRouteTest, DefaultRouteWithoutRtaDst) {
  NetlinkMessage message = RouteReply(AF_INET6, 0);
  message.PutAddress(RTA_GATEWAY, Ip("fe80::1"));
  absl::StatusOr<RouteInfo> route = ParseRouteMessage(message.header());
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->destination.ToString(), "::/0");
  EXPECT_EQ(route->table, static_cast<uint32_t>(RT_TABLE_MAIN));
  EXPECT_EQ(route->oif, 0);
}

TEST(ParseRouteTest, RejectsMalformedReplies) {
  NetlinkMessage bad_gateway = RouteReply(AF_INET, 0);
  const uint8_t three[3] = {1, 2, 3};
  bad_gateway.PutAttr(RTA_GATEWAY, three, sizeof(three));
  EXPECT_EQ(ParseRouteMessage(bad_gateway.header()).status().message(),
            "RTA_GATEWAY of 3 bytes for inet (want 4)");

  NetlinkMessage bad_oif = RouteReply(AF_INET, 0);
  bad_oif.PutU8(RTA_OIF, 1);
  EXPECT_EQ(ParseRouteMessage(bad_oif.header()).status().message(), "RTA_OIF of 1 bytes (want 4)");

  NetlinkMessage short_header(RTM_NEWROUTE, 0);
  short_header.PutRaw(three, sizeof(three));
  EXPECT_EQ(ParseRouteMessage(short_header.header()).status().message(),
            "RTM_NEWROUTE payload of 4 bytes < 12");

  NetlinkMessage bad_family = RouteReply(AF_PACKET, 0);
  EXPECT_EQ(ParseRouteMessage(bad_family.header()).status().message(),
            "RTM_NEWROUTE: unsupported address family 17");

  NetlinkMessage bad_length = RouteReply(AF_INET, 33);
  EXPECT_EQ(ParseRouteMessage(bad_length.header()).status().message(),
            "RTM_NEWROUTE prefix length 33 > 32");
}

TEST(ParseRouteTest, RejectsAnAttributeRunningPastTheMessage) {
  NetlinkMessage message = RouteReply(AF_INET, 0);
  message.PutU32(RTA_OIF, 6);
  // Claim 12 bytes for the 8-byte attribute just written.
  nlmsghdr* header = message.mutable_header();
  uint8_t* attr = reinterpret_cast<uint8_t*>(header) + NLMSG_HDRLEN + sizeof(rtmsg);
  const uint16_t length = 12;
  std::memcpy(attr, &length, sizeof(length));
  EXPECT_EQ(ParseRouteMessage(message.header()).status().message(),
            "RTM_NEWROUTE: truncated attribute at payload offset 12 of 20");
}

TEST(ParseAddressTest, PointToPointHasLocalAndPeer) {
  NetlinkMessage message(RTM_NEWADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 32;
  ifa.ifa_index = 7;
  ifa.ifa_flags = IFA_F_PERMANENT;
  message.PutStruct(ifa);
  message.PutAddress(IFA_ADDRESS, Ip("10.0.0.1"));
  message.PutAddress(IFA_LOCAL, Ip("10.0.0.2"));
  absl::StatusOr<AddressInfo> address = ParseAddressMessage(message.header());
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->ifindex, 7);
  EXPECT_EQ(address->local.ToString(), "10.0.0.2/32");
  EXPECT_EQ(address->peer, Ip("10.0.0.1"));
  EXPECT_EQ(address->flags, static_cast<uint32_t>(IFA_F_PERMANENT));
}

TEST(ParseAddressTest, Ipv6WithOnlyIfaAddressAndExtendedFlags) {
  NetlinkMessage message(RTM_NEWADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET6;
  ifa.ifa_prefixlen = 64;
  ifa.ifa_index = 4;
  ifa.ifa_scope = RT_SCOPE_LINK;
  message.PutStruct(ifa);
  message.PutAddress(IFA_ADDRESS, Ip("fe80::2a"));
  message.PutU32(IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
  absl::StatusOr<AddressInfo> address = ParseAddressMessage(message.header());
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->local.ToString(), "fe80::2a/64");
  EXPECT_FALSE(address->peer.has_value());
  EXPECT_EQ(address->flags, static_cast<uint32_t>(IFA_F_NODAD | IFA_F_NOPREFIXROUTE));
  EXPECT_EQ(address->scope, RT_SCOPE_LINK);
}

TEST(ParseAddressTest, RejectsMissingOrWrongSizedAddresses) {
  NetlinkMessage empty(RTM_NEWADDR, 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET6;
  empty.PutStruct(ifa);
  EXPECT_EQ(ParseAddressMessage(empty.header()).status().message(),
            "RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS");
  NetlinkMessage wrong(RTM_NEWADDR, 0);
  wrong.PutStruct(ifa);
  wrong.PutAddress(IFA_LOCAL, Ip("10.0.0.1"));  // 4 bytes for AF_INET6.
  EXPECT_EQ(ParseAddressMessage(wrong.header()).status().message(),
            "IFA_LOCAL of 4 bytes for inet6 (want 16)");
}

TEST(ParseLinkTest, ReadsNameMtuAndFlags) {
  NetlinkMessage message(RTM_NEWLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_index = 5;
  ifi.ifi_flags = IFF_UP | IFF_POINTOPOINT;
  ifi.ifi_type = 65534;  // ARPHRD_NONE, as a TUN.
  message.PutStruct(ifi);
  message.PutString(IFLA_IFNAME, "office0");
  message.PutU32(IFLA_MTU, 1400);
  absl::StatusOr<LinkInfo> link = ParseLinkMessage(message.header());
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->ifindex, 5);
  EXPECT_EQ(link->name, "office0");
  EXPECT_EQ(link->mtu, 1400u);
  EXPECT_TRUE(link->up());
  EXPECT_EQ(link->type, 65534);
}

TEST(ParseLinkTest, RejectsAnUnterminatedName) {
  NetlinkMessage message(RTM_NEWLINK, 0);
  message.PutStruct(ifinfomsg{});
  message.PutAttr(IFLA_IFNAME, "abcd", 4);
  EXPECT_EQ(ParseLinkMessage(message.header()).status().message(),
            "IFLA_IFNAME is not a NUL-terminated string");
}

// --- NLMSG_ERROR / NLMSG_DONE --------------------------------------------------

TEST(ParseErrorTest, CappedErrorWithExtendedAck) {
  // NETLINK_CAP_ACK: nlmsgerr carries only the request's header, then the
  // NLMSGERR_ATTR_* TLVs (netlink.h).
  NetlinkMessage message(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  nlmsgerr err{};
  err.error = -EEXIST;
  err.msg.nlmsg_len = 60;
  err.msg.nlmsg_type = RTM_NEWROUTE;
  err.msg.nlmsg_seq = 7;
  message.PutStruct(err);
  message.PutString(NLMSGERR_ATTR_MSG, "Route already exists");
  message.PutU32(NLMSGERR_ATTR_OFFS, 36);
  absl::StatusOr<NetlinkError> parsed = ParseErrorMessage(message.header());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->error, EEXIST);
  EXPECT_EQ(parsed->acked_seq, 7u);
  EXPECT_EQ(parsed->message, "Route already exists");
  EXPECT_EQ(parsed->bad_attribute_offset, 36u);
}

TEST(ParseErrorTest, UncappedErrorSkipsTheEchoedRequest) {
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.oif = 2;
  absl::StatusOr<NetlinkMessage> request = BuildRoute(RTM_NEWROUTE, spec);
  ASSERT_TRUE(request.ok());
  request->set_seq(9);
  NetlinkMessage message(NLMSG_ERROR, NLM_F_ACK_TLVS);
  const int error = -ENETUNREACH;
  message.PutRaw(&error, sizeof(error));
  message.PutRaw(request->bytes().data(), request->bytes().size());
  message.PutString(NLMSGERR_ATTR_MSG, "Nexthop has invalid gateway");
  absl::StatusOr<NetlinkError> parsed = ParseErrorMessage(message.header());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->error, ENETUNREACH);
  EXPECT_EQ(parsed->acked_seq, 9u);
  EXPECT_EQ(parsed->message, "Nexthop has invalid gateway");
  EXPECT_FALSE(parsed->bad_attribute_offset.has_value());
}

TEST(ParseErrorTest, AckHasErrorZero) {
  NetlinkMessage message(NLMSG_ERROR, NLM_F_CAPPED);
  nlmsgerr err{};
  err.msg.nlmsg_seq = 3;
  message.PutStruct(err);
  absl::StatusOr<NetlinkError> parsed = ParseErrorMessage(message.header());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->error, 0);
  EXPECT_EQ(parsed->acked_seq, 3u);
  EXPECT_TRUE(parsed->message.empty());
}

TEST(ParseErrorTest, RejectsMalformedErrors) {
  NetlinkMessage positive(NLMSG_ERROR, NLM_F_CAPPED);
  nlmsgerr err{};
  err.error = 5;
  positive.PutStruct(err);
  EXPECT_EQ(ParseErrorMessage(positive.header()).status().message(), "NLMSG_ERROR with error 5");

  NetlinkMessage short_echo(NLMSG_ERROR, 0);
  err.error = -EINVAL;
  err.msg.nlmsg_len = 200;  // Claims more than the message carries.
  short_echo.PutStruct(err);
  EXPECT_EQ(ParseErrorMessage(short_echo.header()).status().message(),
            "NLMSG_ERROR echoes 200 bytes but carries 16");

  NetlinkMessage truncated(NLMSG_ERROR, 0);
  const int just_errno = -EINVAL;
  truncated.PutRaw(&just_errno, sizeof(just_errno));
  EXPECT_EQ(ParseErrorMessage(truncated.header()).status().message(),
            "NLMSG_ERROR payload of 4 bytes < 20");

  NetlinkMessage bad_text(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  err.msg.nlmsg_len = 20;
  bad_text.PutStruct(err);
  bad_text.PutAttr(NLMSGERR_ATTR_MSG, "no NUL", 6);
  EXPECT_EQ(ParseErrorMessage(bad_text.header()).status().message(),
            "NLMSGERR_ATTR_MSG is not a NUL-terminated string");
}

TEST(ParseDoneTest, DoneWithAndWithoutError) {
  NetlinkMessage bare(NLMSG_DONE, NLM_F_MULTI);
  bare.set_seq(4);
  absl::StatusOr<NetlinkError> done = ParseDoneMessage(bare.header());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->error, 0);
  EXPECT_EQ(done->acked_seq, 4u);

  NetlinkMessage failed(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS);
  const int error = -EMSGSIZE;
  failed.PutRaw(&error, sizeof(error));
  failed.PutString(NLMSGERR_ATTR_MSG, "dump failed");
  done = ParseDoneMessage(failed.header());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->error, EMSGSIZE);
  EXPECT_EQ(done->message, "dump failed");
}

}  // namespace
}  // namespace sstp::netlink
