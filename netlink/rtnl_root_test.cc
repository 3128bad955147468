// Rtnl against the real kernel, inside a private network namespace per test
// (netns_test_util.h): needs root, skipped with the reason otherwise.
#include <linux/if_addr.h>
#include <linux/if_arp.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/netns_test_util.h"
#include "netlink/rtnl.h"
#include "netlink/tun.h"

namespace sstp::netlink {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

IpAddress Ip(absl::string_view text) { return *IpAddress::Parse(text); }
IpPrefix Prefix(absl::string_view text) { return *IpPrefix::Parse(text); }

std::vector<std::string> AddressStrings(Rtnl& rtnl, int ifindex) {
  absl::StatusOr<std::vector<AddressInfo>> addresses = rtnl.ListAddresses(ifindex);
  EXPECT_TRUE(addresses.ok()) << addresses.status();
  std::vector<std::string> out;
  if (!addresses.ok()) return out;
  for (const AddressInfo& address : *addresses) {
    out.push_back(address.peer
                      ? absl::StrCat(address.local.ToString(), " peer ", address.peer->ToString())
                      : address.local.ToString());
  }
  return out;
}

// "dst [via gw] dev N metric M proto P" for every route of `family` in main.
std::vector<std::string> RouteStrings(Rtnl& rtnl, int family) {
  absl::StatusOr<std::vector<RouteInfo>> routes = rtnl.ListRoutes(family);
  EXPECT_TRUE(routes.ok()) << routes.status();
  std::vector<std::string> out;
  if (!routes.ok()) return out;
  for (const RouteInfo& route : *routes) {
    std::string text = route.destination.ToString();
    if (route.gateway) absl::StrAppend(&text, " via ", route.gateway->ToString());
    absl::StrAppend(&text, " dev ", route.oif, " metric ", route.metric, " proto ", route.protocol);
    out.push_back(text);
  }
  return out;
}

class RtnlRootTest : public testing::PrivateNetnsTest {
 protected:
  // A TUN, up, as the session would have it.
  Tun UpTun(absl::string_view name) {
    absl::StatusOr<Tun> tun = CreateTun(name);
    EXPECT_TRUE(tun.ok()) << tun.status();
    if (!tun.ok()) return Tun{};
    EXPECT_TRUE(rtnl().SetLinkUp(tun->ifindex).ok());
    return *std::move(tun);
  }
};

TEST_F(RtnlRootTest, LoopbackIsUpWithItsAddresses) {
  absl::StatusOr<LinkInfo> lo = rtnl().GetLink(lo_);
  ASSERT_TRUE(lo.ok()) << lo.status();
  EXPECT_EQ(lo->name, "lo");
  EXPECT_TRUE(lo->up());
  EXPECT_EQ(lo->type, ARPHRD_LOOPBACK);
  const std::vector<std::string> addresses = AddressStrings(rtnl(), lo_);
  EXPECT_THAT(addresses, Contains("127.0.0.1/8"));
  EXPECT_THAT(addresses, Contains("::1/128"));
}

TEST_F(RtnlRootTest, LinkIndexOfMissingInterfaceIsNotFound) {
  absl::StatusOr<int> index = rtnl().LinkIndex("nosuch0");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(index.status().message()),
              StartsWith("RTM_GETLINK nosuch0: No such device (errno 19)"));
  EXPECT_EQ(KernelErrno(index.status()), ENODEV);
}

TEST_F(RtnlRootTest, SetMtuAndLinkState) {
  absl::StatusOr<Tun> tun = CreateTun("sstp0");
  ASSERT_TRUE(tun.ok()) << tun.status();
  absl::StatusOr<LinkInfo> link = rtnl().GetLink(tun->ifindex);
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->name, "sstp0");
  EXPECT_EQ(link->type, ARPHRD_NONE);
  EXPECT_EQ(link->mtu, 1500u);
  EXPECT_FALSE(link->up());

  ASSERT_TRUE(rtnl().SetMtu(tun->ifindex, 1400).ok());
  ASSERT_TRUE(rtnl().SetLinkUp(tun->ifindex).ok());
  link = rtnl().GetLink(tun->ifindex);
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->mtu, 1400u);
  EXPECT_TRUE(link->up());

  ASSERT_TRUE(rtnl().SetLinkDown(tun->ifindex).ok());
  EXPECT_FALSE(rtnl().GetLink(tun->ifindex)->up());

  // The kernel's own range check, with its extended ack text.
  const absl::Status too_small = rtnl().SetMtu(tun->ifindex, 10);
  ASSERT_FALSE(too_small.ok());
  EXPECT_THAT(std::string(too_small.message()),
              StartsWith("RTM_SETLINK sstp0 mtu 10: Invalid argument (errno 22): "));
  EXPECT_THAT(std::string(too_small.message()), HasSubstr("mtu less than device minimum"));
}

TEST_F(RtnlRootTest, AddressesIpv4PeerAndIpv6LinkLocal) {
  Tun tun = UpTun("sstp0");
  ASSERT_GT(tun.ifindex, 0);
  AddressSpec v4;
  v4.ifindex = tun.ifindex;
  v4.local = Prefix("10.0.0.2/32");
  v4.peer = Ip("10.0.0.1");
  AddressSpec v6;
  v6.ifindex = tun.ifindex;
  v6.local = Ipv6LinkLocal({0x02, 0, 0, 0, 0, 0, 0, 0x2a});
  v6.no_dad = true;
  ASSERT_TRUE(rtnl().AddAddress(v4).ok());
  ASSERT_TRUE(rtnl().AddAddress(v6).ok());

  absl::StatusOr<std::vector<AddressInfo>> addresses = rtnl().ListAddresses(tun.ifindex);
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  auto find = [&](const IpAddress& local) -> const AddressInfo* {
    for (const AddressInfo& a : *addresses) {
      if (a.local.address == local) return &a;
    }
    return nullptr;
  };
  const AddressInfo* got4 = find(Ip("10.0.0.2"));
  ASSERT_NE(got4, nullptr);
  EXPECT_EQ(got4->local.length, 32);
  EXPECT_EQ(got4->peer, Ip("10.0.0.1"));
  const AddressInfo* got6 = find(Ip("fe80::200:0:0:2a"));
  ASSERT_NE(got6, nullptr);
  EXPECT_EQ(got6->local.length, 64);
  EXPECT_EQ(got6->scope, RT_SCOPE_LINK);
  EXPECT_TRUE(got6->flags & IFA_F_NODAD);

  // Adding it again is an error, never a silent success.
  const absl::Status again = rtnl().AddAddress(v4);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(
      std::string(again.message()),
      StartsWith("RTM_NEWADDR 10.0.0.2/32 peer 10.0.0.1 dev sstp0: File exists (errno 17)"));
  EXPECT_EQ(KernelErrno(again), EEXIST);
  // The kernel's extended ack text follows ("ipv4: Address already assigned").
  EXPECT_THAT(std::string(again.message()), HasSubstr("(errno 17): ipv4: Address already"));

  ASSERT_TRUE(rtnl().DeleteAddress(v4).ok());
  ASSERT_TRUE(rtnl().DeleteAddress(v6).ok());
  EXPECT_THAT(AddressStrings(rtnl(), tun.ifindex), Not(Contains("10.0.0.2/32 peer 10.0.0.1")));
  EXPECT_THAT(AddressStrings(rtnl(), tun.ifindex), Not(Contains("fe80::200:0:0:2a/64")));
  const absl::Status gone = rtnl().DeleteAddress(v4);
  EXPECT_EQ(KernelErrno(gone), EADDRNOTAVAIL) << gone;
}

TEST_F(RtnlRootTest, RoutesAddListDeleteWithOurProtocol) {
  Tun tun = UpTun("sstp0");
  ASSERT_GT(tun.ifindex, 0);
  RouteSpec v4;
  v4.destination = Prefix("10.0.0.0/8");
  v4.oif = tun.ifindex;
  RouteSpec v6;
  v6.destination = Prefix("2001:db8:100::/40");
  v6.oif = tun.ifindex;
  v6.metric = 20;
  ASSERT_TRUE(rtnl().AddRoute(v4).ok());
  ASSERT_TRUE(rtnl().AddRoute(v6).ok());
  const std::string v4_text = absl::StrCat("10.0.0.0/8 dev ", tun.ifindex, " metric 0 proto 83");
  const std::string v6_text =
      absl::StrCat("2001:db8:100::/40 dev ", tun.ifindex, " metric 20 proto 83");
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET), Contains(v4_text));
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET6), Contains(v6_text));

  ASSERT_TRUE(rtnl().DeleteRoute(v4).ok());
  ASSERT_TRUE(rtnl().DeleteRoute(v6).ok());
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET), Not(Contains(v4_text)));
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET6), Not(Contains(v6_text)));
  const absl::Status gone = rtnl().DeleteRoute(v4);
  EXPECT_EQ(KernelErrno(gone), ESRCH) << gone;
}

TEST_F(RtnlRootTest, AddingAnExistingRouteFailsWithTheKernelsWords) {
  Tun tun = UpTun("office0");
  ASSERT_GT(tun.ifindex, 0);
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.oif = tun.ifindex;
  ASSERT_TRUE(rtnl().AddRoute(spec).ok());
  const absl::Status again = rtnl().AddRoute(spec);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.message()),
              StartsWith("RTM_NEWROUTE 10.0.0.0/8 dev office0 metric 0: File exists (errno 17)"));
  EXPECT_EQ(KernelErrno(again), EEXIST);
  // fib_table_insert() (6.x) sets no extended ack text for EEXIST: the
  // message ends with the errno. Kernels that add one get it appended.

  RouteSpec v6;
  v6.destination = Prefix("2001:db8::/32");
  v6.oif = tun.ifindex;
  ASSERT_TRUE(rtnl().AddRoute(v6).ok());
  const absl::Status again6 = rtnl().AddRoute(v6);
  EXPECT_EQ(KernelErrno(again6), EEXIST) << again6;
  EXPECT_THAT(
      std::string(again6.message()),
      StartsWith("RTM_NEWROUTE 2001:db8::/32 dev office0 metric 0: File exists (errno 17)"));
}

TEST_F(RtnlRootTest, ExtendedAckTextReachesTheStatus) {
  Tun tun = UpTun("sstp0");
  ASSERT_GT(tun.ifindex, 0);
  // A gateway that is not reachable on the output device: the kernel refuses
  // with a NLMSGERR_ATTR_MSG explaining why.
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.gateway = Ip("192.0.2.99");
  spec.oif = tun.ifindex;
  const absl::Status status = rtnl().AddRoute(spec);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(KernelErrno(status), ENETUNREACH);
  EXPECT_EQ(status.message(),
            "RTM_NEWROUTE 10.0.0.0/8 via 192.0.2.99 dev sstp0 metric 0: Network is unreachable "
            "(errno 101): Nexthop has invalid gateway");
}

TEST_F(RtnlRootTest, DeleteRouteNeverMatchesAnotherProtocolsRoute) {
  Tun tun = UpTun("sstp0");
  ASSERT_GT(tun.ifindex, 0);
  // Someone else's route (RTPROT_STATIC, as `ip route add` makes it).
  RouteSpec theirs;
  theirs.destination = Prefix("172.16.0.0/12");
  theirs.oif = tun.ifindex;
  theirs.protocol = RTPROT_STATIC;
  ASSERT_TRUE(rtnl().AddRoute(theirs).ok());
  RouteSpec ours = theirs;
  ours.protocol = kRouteProtocolSstp;
  const absl::Status status = rtnl().DeleteRoute(ours);
  EXPECT_EQ(KernelErrno(status), ESRCH) << status;
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET),
              Contains(absl::StrCat("172.16.0.0/12 dev ", tun.ifindex, " metric 0 proto 4")));

  RouteSpec theirs6;
  theirs6.destination = Prefix("fd00::/8");
  theirs6.oif = tun.ifindex;
  theirs6.metric = 1024;
  theirs6.protocol = RTPROT_STATIC;
  ASSERT_TRUE(rtnl().AddRoute(theirs6).ok());
  RouteSpec ours6 = theirs6;
  ours6.protocol = kRouteProtocolSstp;
  EXPECT_EQ(KernelErrno(rtnl().DeleteRoute(ours6)), ESRCH);
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET6),
              Contains(absl::StrCat("fd00::/8 dev ", tun.ifindex, " metric 1024 proto 4")));
}

TEST_F(RtnlRootTest, GetRouteFindsTheGatewayRoute) {
  absl::StatusOr<std::pair<int, int>> veth = testing::CreateVethPair(rtnl(), "wan0", "wan0peer");
  ASSERT_TRUE(veth.ok()) << veth.status();
  const int wan = veth->first;
  ASSERT_TRUE(rtnl().SetLinkUp(wan).ok());
  ASSERT_TRUE(rtnl().SetLinkUp(veth->second).ok());
  AddressSpec address;
  address.ifindex = wan;
  address.local = Prefix("192.0.2.1/24");
  ASSERT_TRUE(rtnl().AddAddress(address).ok());
  AddressSpec address6;
  address6.ifindex = wan;
  address6.local = Prefix("2001:db8:1::1/64");
  address6.no_dad = true;
  ASSERT_TRUE(rtnl().AddAddress(address6).ok());
  RouteSpec default4;
  default4.destination = Prefix("0.0.0.0/0");
  default4.gateway = Ip("192.0.2.254");
  default4.oif = wan;
  default4.protocol = RTPROT_STATIC;
  ASSERT_TRUE(rtnl().AddRoute(default4).ok());
  RouteSpec default6;
  default6.destination = Prefix("::/0");
  default6.gateway = Ip("2001:db8:1::fe");
  default6.oif = wan;
  default6.protocol = RTPROT_STATIC;
  ASSERT_TRUE(rtnl().AddRoute(default6).ok());

  absl::StatusOr<RouteLookup> lookup = rtnl().GetRoute(Ip("203.0.113.10"));
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  EXPECT_EQ(lookup->oif, wan);
  EXPECT_EQ(lookup->gateway, Ip("192.0.2.254"));
  EXPECT_EQ(lookup->prefsrc, Ip("192.0.2.1"));
  EXPECT_EQ(lookup->table, static_cast<uint32_t>(RT_TABLE_MAIN));
  EXPECT_EQ(lookup->type, RTN_UNICAST);

  // On-link: no gateway.
  lookup = rtnl().GetRoute(Ip("192.0.2.77"));
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  EXPECT_EQ(lookup->oif, wan);
  EXPECT_FALSE(lookup->gateway.has_value());

  lookup = rtnl().GetRoute(Ip("2001:db8:ffff::10"));
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  EXPECT_EQ(lookup->oif, wan);
  EXPECT_EQ(lookup->gateway, Ip("2001:db8:1::fe"));

  // One of our own addresses comes back as RTN_LOCAL via lo.
  lookup = rtnl().GetRoute(Ip("192.0.2.1"));
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  EXPECT_EQ(lookup->type, RTN_LOCAL);
}

TEST_F(RtnlRootTest, GetRouteWithoutARouteIsUnreachable) {
  const absl::StatusOr<RouteLookup> lookup = rtnl().GetRoute(Ip("203.0.113.10"));
  ASSERT_FALSE(lookup.ok());
  EXPECT_THAT(std::string(lookup.status().message()),
              StartsWith("RTM_GETROUTE 203.0.113.10: Network is unreachable (errno 101)"));
}

TEST_F(RtnlRootTest, ListRoutesFiltersByTable) {
  Tun tun = UpTun("sstp0");
  ASSERT_GT(tun.ifindex, 0);
  RouteSpec spec;
  spec.destination = Prefix("10.0.0.0/8");
  spec.oif = tun.ifindex;
  spec.table = 1000;
  ASSERT_TRUE(rtnl().AddRoute(spec).ok());
  absl::StatusOr<std::vector<RouteInfo>> table = rtnl().ListRoutes(AF_INET, 1000);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->size(), 1u);
  EXPECT_EQ((*table)[0].destination.ToString(), "10.0.0.0/8");
  EXPECT_EQ((*table)[0].table, 1000u);
  EXPECT_EQ((*table)[0].protocol, kRouteProtocolSstp);
  EXPECT_THAT(RouteStrings(rtnl(), AF_INET), Not(Contains(HasSubstr("10.0.0.0/8"))));
  ASSERT_TRUE(rtnl().DeleteRoute(spec).ok());
  EXPECT_THAT(*rtnl().ListRoutes(AF_INET, 1000), IsEmpty());
}

TEST_F(RtnlRootTest, Ipv6AddrGenModeNoneKeepsTheKernelsLinkLocalAway) {
  absl::StatusOr<Tun> with_auto = CreateTun("auto0");
  absl::StatusOr<Tun> without = CreateTun("none0");
  ASSERT_TRUE(with_auto.ok() && without.ok());
  ASSERT_TRUE(rtnl().SetIpv6AddrGenMode(without->ifindex, IN6_ADDR_GEN_MODE_NONE).ok());
  ASSERT_TRUE(rtnl().SetLinkUp(with_auto->ifindex).ok());
  ASSERT_TRUE(rtnl().SetLinkUp(without->ifindex).ok());
  // A TUN (ARPHRD_NONE) gets a random link-local address when it comes up
  // (addrconf.c), unless its generation mode is NONE.
  EXPECT_THAT(AddressStrings(rtnl(), with_auto->ifindex), Contains(StartsWith("fe80::")));
  EXPECT_THAT(AddressStrings(rtnl(), without->ifindex), IsEmpty());
}

TEST_F(RtnlRootTest, ExecuteSendsArbitraryRequests) {
  absl::StatusOr<std::pair<int, int>> veth = testing::CreateVethPair(rtnl(), "v0", "v1");
  ASSERT_TRUE(veth.ok()) << veth.status();
  EXPECT_GT(veth->first, lo_);
  EXPECT_NE(veth->first, veth->second);
  // The same again: the kernel's EEXIST, with the description we gave.
  const absl::StatusOr<std::pair<int, int>> again = testing::CreateVethPair(rtnl(), "v0", "v1");
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.status().message()),
              StartsWith("RTM_NEWLINK veth v0 peer v1: File exists (errno 17)"));
}

}  // namespace
}  // namespace sstp::netlink
