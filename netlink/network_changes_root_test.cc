// NetworkChanges against the real kernel, inside a private network namespace
// per test (netns_test_util.h): needs root, skipped with the reason otherwise.
//
// Each test first builds "the machine" the VPN runs on, configured by
// someone else: an uplink wan0 (a veth) with addresses and default routes.
// After Undo() the namespace must look exactly as before: every address,
// route (main and local tables) and link.
#include <linux/if_link.h>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/netns_test_util.h"
#include "netlink/network_changes.h"

namespace sstp::netlink {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

IpAddress Ip(absl::string_view text) { return *IpAddress::Parse(text); }
IpPrefix Prefix(absl::string_view text) { return *IpPrefix::Parse(text); }

struct Snapshot {
  std::vector<std::string> links;
  std::vector<std::string> addresses;
  std::vector<std::string> routes;
  bool operator==(const Snapshot&) const = default;
  friend void PrintTo(const Snapshot& snapshot, std::ostream* out) {
    *out << "links {" << absl::StrJoin(snapshot.links, ", ") << "} addresses {"
         << absl::StrJoin(snapshot.addresses, ", ") << "} routes {"
         << absl::StrJoin(snapshot.routes, ", ") << "}";
  }
};

std::string RouteText(const RouteInfo& route) {
  std::string text = route.destination.ToString();
  if (route.gateway) absl::StrAppend(&text, " via ", route.gateway->ToString());
  absl::StrAppend(&text, " dev ", route.oif, " metric ", route.metric, " proto ", route.protocol);
  return text;
}

class NetworkChangesRootTest : public testing::PrivateNetnsTest {
 protected:
  void SetUp() override {
    PrivateNetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    absl::StatusOr<std::pair<int, int>> veth = testing::CreateVethPair(rtnl(), "wan0", "wan0peer");
    ASSERT_TRUE(veth.ok()) << veth.status();
    wan_ = veth->first;
    // No kernel-made IPv6 link-local addresses on the uplink: their DAD
    // would finish (and add routes) in the middle of a snapshot comparison.
    for (int ifindex : {veth->first, veth->second}) {
      ASSERT_TRUE(rtnl().SetIpv6AddrGenMode(ifindex, IN6_ADDR_GEN_MODE_NONE).ok());
      ASSERT_TRUE(rtnl().SetLinkUp(ifindex).ok());
    }
    AddressSpec v4;
    v4.ifindex = wan_;
    v4.local = Prefix("192.0.2.1/24");
    ASSERT_TRUE(rtnl().AddAddress(v4).ok());
    AddressSpec v6;
    v6.ifindex = wan_;
    v6.local = Prefix("2001:db8:1::1/64");
    v6.no_dad = true;
    ASSERT_TRUE(rtnl().AddAddress(v6).ok());
    RouteSpec default4;
    default4.destination = Prefix("0.0.0.0/0");
    default4.gateway = Ip("192.0.2.254");
    default4.oif = wan_;
    default4.protocol = RTPROT_STATIC;
    ASSERT_TRUE(rtnl().AddRoute(default4).ok());
    RouteSpec default6;
    default6.destination = Prefix("::/0");
    default6.gateway = Ip("2001:db8:1::fe");
    default6.oif = wan_;
    default6.protocol = RTPROT_STATIC;
    ASSERT_TRUE(rtnl().AddRoute(default6).ok());
    // IPv6 installs an address's local-table route from a work queue, after
    // the RTM_NEWADDR ACK (addrconf.c, even with IFA_F_NODAD): wait for it,
    // so that it does not appear in the middle of a snapshot comparison.
    ASSERT_TRUE(WaitForLocalRoute(Ip("2001:db8:1::1")));
  }

  bool WaitForLocalRoute(const IpAddress& address) {
    for (int i = 0; i < 500; ++i) {
      absl::StatusOr<std::vector<RouteInfo>> routes =
          rtnl().ListRoutes(address.family(), RT_TABLE_LOCAL);
      if (routes.ok()) {
        for (const RouteInfo& route : *routes) {
          if (route.destination == IpPrefix::Host(address)) return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Someone else's route (RTPROT_STATIC, as `ip route add` makes it).
  void AddTheirRoute(absl::string_view destination, int oif) {
    RouteSpec spec;
    spec.destination = Prefix(destination);
    spec.oif = oif;
    spec.protocol = RTPROT_STATIC;
    ASSERT_TRUE(rtnl().AddRoute(spec).ok());
  }

  Snapshot Take() {
    Snapshot snapshot;
    NetlinkMessage dump = BuildDump(RTM_GETLINK, AF_UNSPEC);
    EXPECT_TRUE(rtnl()
                    .Execute(std::move(dump), "RTM_GETLINK dump",
                             [&](const nlmsghdr* message) -> absl::Status {
                               absl::StatusOr<LinkInfo> link = ParseLinkMessage(message);
                               if (!link.ok()) return link.status();
                               snapshot.links.push_back(absl::StrCat(link->ifindex, " ", link->name,
                                                                     " mtu ", link->mtu,
                                                                     link->up() ? " up" : " down"));
                               return absl::OkStatus();
                             })
                    .ok());
    absl::StatusOr<std::vector<AddressInfo>> addresses = rtnl().ListAddresses(0);
    EXPECT_TRUE(addresses.ok()) << addresses.status();
    for (const AddressInfo& a : *addresses) {
      snapshot.addresses.push_back(absl::StrCat(a.ifindex, " ", a.local.ToString(),
                                                a.peer ? " peer " + a.peer->ToString() : ""));
    }
    for (int family : {AF_INET, AF_INET6}) {
      for (uint32_t table : {RT_TABLE_MAIN, RT_TABLE_LOCAL}) {
        absl::StatusOr<std::vector<RouteInfo>> routes = rtnl().ListRoutes(family, table);
        EXPECT_TRUE(routes.ok()) << routes.status();
        for (const RouteInfo& route : *routes) {
          snapshot.routes.push_back(absl::StrCat("table ", table, " ", RouteText(route)));
        }
      }
    }
    std::sort(snapshot.links.begin(), snapshot.links.end());
    std::sort(snapshot.addresses.begin(), snapshot.addresses.end());
    std::sort(snapshot.routes.begin(), snapshot.routes.end());
    return snapshot;
  }

  std::vector<std::string> MainRoutes(int family) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<RouteInfo>> routes = rtnl().ListRoutes(family);
    EXPECT_TRUE(routes.ok()) << routes.status();
    for (const RouteInfo& route : *routes) out.push_back(RouteText(route));
    return out;
  }

  // Creates and adopts TUN `name`, without a kernel-made IPv6 link-local
  // address (as the session does it), returning its ifindex (0 on failure).
  int AdoptNewTun(NetworkChanges& changes, absl::string_view name, TunOptions options = {}) {
    absl::StatusOr<Tun> tun = CreateTun(name, options);
    EXPECT_TRUE(tun.ok()) << tun.status();
    if (!tun.ok()) return 0;
    const int ifindex = tun->ifindex;
    EXPECT_TRUE(changes.AdoptTun(*std::move(tun)).ok());
    EXPECT_TRUE(changes.DisableIpv6AutoLinkLocal(ifindex).ok());
    return ifindex;
  }

  Logger logger_{"sstp0"};
  int wan_ = 0;
};

TEST_F(NetworkChangesRootTest, SessionSetupIsUndoneExactly) {
  const Snapshot before = Take();
  NetworkChanges changes(&rtnl(), logger_);

  // ARCHITECTURE.md lifecycle step 6, in the order the session does it.
  const int tun = AdoptNewTun(changes, "sstp0");  // + DisableIpv6AutoLinkLocal.
  ASSERT_GT(tun, 0);
  ASSERT_TRUE(changes.SetMtu(tun, 1400).ok());
  ASSERT_TRUE(changes.SetLinkUp(tun).ok());
  AddressSpec v4;
  v4.ifindex = tun;
  v4.local = Prefix("10.0.0.2/32");
  v4.peer = Ip("10.0.0.1");
  ASSERT_TRUE(changes.AddAddress(v4).ok());
  AddressSpec v6;
  v6.ifindex = tun;
  v6.local = Ipv6LinkLocal({0x02, 0, 0, 0, 0, 0, 0, 0x2a});
  v6.no_dad = true;
  ASSERT_TRUE(changes.AddAddress(v6).ok());
  absl::StatusOr<std::optional<RouteSpec>> host4 = changes.AddServerHostRoute(Ip("203.0.113.10"));
  ASSERT_TRUE(host4.ok()) << host4.status();
  ASSERT_TRUE(host4->has_value());
  EXPECT_EQ((*host4)->gateway, Ip("192.0.2.254"));
  EXPECT_EQ((*host4)->oif, wan_);
  absl::StatusOr<std::optional<RouteSpec>> host6 =
      changes.AddServerHostRoute(Ip("2001:db8:ff::10"));
  ASSERT_TRUE(host6.ok()) << host6.status();
  ASSERT_TRUE(host6->has_value());
  ASSERT_TRUE(changes.AddSplitDefaultRoute(AF_INET, tun).ok());
  ASSERT_TRUE(changes.AddSplitDefaultRoute(AF_INET6, tun).ok());
  RouteSpec office;
  office.destination = Prefix("172.16.0.0/12");
  office.oif = tun;
  ASSERT_TRUE(changes.AddRoute(office).ok());

  EXPECT_EQ(changes.size(), 12u);
  const std::vector<std::string> described = changes.Describe();
  ASSERT_EQ(described.size(), 12u);
  EXPECT_EQ(described[0], absl::StrCat("tun sstp0 (ifindex ", tun, ")"));
  EXPECT_EQ(described[1], "mtu sstp0 1500 -> 1400");
  EXPECT_EQ(described[2], "link sstp0 up");
  EXPECT_EQ(described[3], "address 10.0.0.2/32 peer 10.0.0.1 dev sstp0");
  EXPECT_EQ(described[5], "route 203.0.113.10/32 via 192.0.2.254 dev wan0 metric 0");
  EXPECT_EQ(described[7], "route 0.0.0.0/1 dev sstp0 metric 0");

  // Everything is in place, next to the untouched default routes.
  const std::vector<std::string> routes4 = MainRoutes(AF_INET);
  EXPECT_THAT(routes4, Contains(absl::StrCat("0.0.0.0/1 dev ", tun, " metric 0 proto 83")));
  EXPECT_THAT(routes4, Contains(absl::StrCat("128.0.0.0/1 dev ", tun, " metric 0 proto 83")));
  EXPECT_THAT(routes4, Contains(absl::StrCat("172.16.0.0/12 dev ", tun, " metric 0 proto 83")));
  EXPECT_THAT(routes4, Contains(absl::StrCat("203.0.113.10/32 via 192.0.2.254 dev ", wan_,
                                             " metric 0 proto 83")));
  EXPECT_THAT(routes4,
              Contains(absl::StrCat("0.0.0.0/0 via 192.0.2.254 dev ", wan_, " metric 0 proto 4")));
  const std::vector<std::string> routes6 = MainRoutes(AF_INET6);
  EXPECT_THAT(routes6, Contains(absl::StrCat("::/1 dev ", tun, " metric 1024 proto 83")));
  EXPECT_THAT(routes6, Contains(absl::StrCat("8000::/1 dev ", tun, " metric 1024 proto 83")));
  EXPECT_THAT(routes6, Contains(absl::StrCat("2001:db8:ff::10/128 via 2001:db8:1::fe dev ", wan_,
                                             " metric 1024 proto 83")));
  EXPECT_THAT(routes6,
              Contains(absl::StrCat("::/0 via 2001:db8:1::fe dev ", wan_, " metric 1024 proto 4")));
  // Only the addresses we added: no kernel-made link-local on the TUN.
  absl::StatusOr<std::vector<AddressInfo>> tun_addresses = rtnl().ListAddresses(tun);
  ASSERT_TRUE(tun_addresses.ok());
  std::vector<std::string> tun_address_text;
  for (const AddressInfo& a : *tun_addresses) tun_address_text.push_back(a.local.ToString());
  EXPECT_THAT(tun_address_text, UnorderedElementsAre("10.0.0.2/32", "fe80::200:0:0:2a/64"));

  // The kernel now sends everything into the tunnel except the server.
  EXPECT_EQ(rtnl().GetRoute(Ip("198.51.100.7"))->oif, tun);
  EXPECT_EQ(rtnl().GetRoute(Ip("2001:db8:abcd::1"))->oif, tun);
  EXPECT_EQ(rtnl().GetRoute(Ip("203.0.113.10"))->oif, wan_);
  EXPECT_EQ(rtnl().GetRoute(Ip("2001:db8:ff::10"))->oif, wan_);

  ASSERT_TRUE(changes.Undo().ok());
  EXPECT_EQ(changes.size(), 0u);
  EXPECT_EQ(changes.tun(), nullptr);
  EXPECT_EQ(rtnl().LinkIndex("sstp0").status().code(), absl::StatusCode::kNotFound);
  const Snapshot after = Take();
  EXPECT_EQ(after.links, before.links);
  EXPECT_EQ(after.addresses, before.addresses);
  EXPECT_EQ(after.routes, before.routes);
  // Idempotent.
  EXPECT_TRUE(changes.Undo().ok());
  EXPECT_EQ(Take(), before);
}

TEST_F(NetworkChangesRootTest, WhatAlreadyExistsIsAnErrorAndSurvivesUndo) {
  NetworkChanges changes(&rtnl(), logger_);
  const int tun = AdoptNewTun(changes, "sstp0");
  ASSERT_GT(tun, 0);
  ASSERT_TRUE(changes.SetLinkUp(tun).ok());
  AddTheirRoute("172.16.0.0/12", wan_);
  const Snapshot before = Take();

  RouteSpec office;
  office.destination = Prefix("172.16.0.0/12");
  office.oif = tun;
  const absl::Status route = changes.AddRoute(office);
  EXPECT_EQ(route.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(route.message()),
              StartsWith("RTM_NEWROUTE 172.16.0.0/12 dev sstp0 metric 0: File exists (errno 17)"));
  AddressSpec theirs;
  theirs.ifindex = wan_;
  theirs.local = Prefix("192.0.2.1/24");
  const absl::Status address = changes.AddAddress(theirs);
  EXPECT_EQ(address.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(address.message()),
              StartsWith("RTM_NEWADDR 192.0.2.1/24 dev wan0: File exists (errno 17)"));
  EXPECT_EQ(changes.size(), 2u);  // The TUN and its link state only.
  EXPECT_EQ(Take(), before);

  ASSERT_TRUE(changes.Undo().ok());
  EXPECT_THAT(MainRoutes(AF_INET),
              Contains(absl::StrCat("172.16.0.0/12 dev ", wan_, " metric 0 proto 4")));
  absl::StatusOr<std::vector<AddressInfo>> wan_addresses = rtnl().ListAddresses(wan_, AF_INET);
  ASSERT_TRUE(wan_addresses.ok());
  ASSERT_EQ(wan_addresses->size(), 1u);
  EXPECT_EQ((*wan_addresses)[0].local.ToString(), "192.0.2.1/24");
}

TEST_F(NetworkChangesRootTest, PartialSetupFailureUndoesOnlyWhatWasAdded) {
  AddTheirRoute("128.0.0.0/1", wan_);
  const Snapshot before = Take();
  NetworkChanges changes(&rtnl(), logger_);
  const int tun = AdoptNewTun(changes, "sstp0");
  ASSERT_GT(tun, 0);
  ASSERT_TRUE(changes.SetLinkUp(tun).ok());
  // The first half goes in; the second collides with someone's route.
  const absl::Status split = changes.AddSplitDefaultRoute(AF_INET, tun);
  EXPECT_EQ(split.code(), absl::StatusCode::kAlreadyExists) << split;
  EXPECT_THAT(std::string(split.message()), StartsWith("RTM_NEWROUTE 128.0.0.0/1 dev sstp0"));
  EXPECT_THAT(changes.Describe(),
              ElementsAre(absl::StrCat("tun sstp0 (ifindex ", tun, ")"), "link sstp0 up",
                          "route 0.0.0.0/1 dev sstp0 metric 0"));

  ASSERT_TRUE(changes.Undo().ok());
  EXPECT_EQ(Take(), before);
  EXPECT_THAT(MainRoutes(AF_INET),
              Contains(absl::StrCat("128.0.0.0/1 dev ", wan_, " metric 0 proto 4")));
}

TEST_F(NetworkChangesRootTest, UndoContinuesPastAFailureAndReportsIt) {
  const Snapshot before = Take();
  NetworkChanges changes(&rtnl(), logger_);
  // Recorded before the TUN, so undone after it.
  RouteSpec lab;
  lab.destination = Prefix("10.99.0.0/16");
  lab.gateway = Ip("192.0.2.254");
  lab.oif = wan_;
  ASSERT_TRUE(changes.AddRoute(lab).ok());
  TunOptions options;
  options.multi_queue = true;
  absl::StatusOr<Tun> tun = CreateTun("sstp0", options);
  ASSERT_TRUE(tun.ok()) << tun.status();
  // A second queue that the data plane failed to close: closing the first
  // fd then cannot delete the interface.
  absl::StatusOr<UniqueFd> stray_queue = AttachTunQueue(*tun);
  ASSERT_TRUE(stray_queue.ok()) << stray_queue.status();
  const int tun_index = tun->ifindex;
  ASSERT_TRUE(changes.AdoptTun(*std::move(tun)).ok());
  ASSERT_TRUE(changes.DisableIpv6AutoLinkLocal(tun_index).ok());
  ASSERT_TRUE(changes.SetLinkUp(tun_index).ok());
  AddressSpec address;
  address.ifindex = tun_index;
  address.local = Prefix("10.0.0.2/32");
  address.peer = Ip("10.0.0.1");
  ASSERT_TRUE(changes.AddAddress(address).ok());

  const absl::Status undo = changes.Undo();
  EXPECT_EQ(undo.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(undo.message(),
            "undo: 1 of 4 changes failed: TUN sstp0 still exists after closing its fd "
            "(another queue is open?)");
  // Everything else was undone, including what came after the failure.
  EXPECT_THAT(MainRoutes(AF_INET), Not(Contains(StartsWith("10.99.0.0/16"))));
  absl::StatusOr<std::vector<AddressInfo>> left = rtnl().ListAddresses(tun_index, AF_INET);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  EXPECT_FALSE(rtnl().GetLink(tun_index)->up());
  EXPECT_EQ(changes.size(), 0u);
  EXPECT_TRUE(changes.Undo().ok());  // Reported once, not retried.

  stray_queue->reset();
  EXPECT_EQ(Take(), before);
}

TEST_F(NetworkChangesRootTest, AlreadyGoneCountsAsUndone) {
  NetworkChanges changes(&rtnl(), logger_);
  const int tun = AdoptNewTun(changes, "sstp0");
  ASSERT_GT(tun, 0);
  ASSERT_TRUE(changes.SetLinkUp(tun).ok());
  RouteSpec office;
  office.destination = Prefix("172.16.0.0/12");
  office.oif = tun;
  ASSERT_TRUE(changes.AddRoute(office).ok());
  // A second uplink whose MTU we changed, and which then disappears.
  absl::StatusOr<std::pair<int, int>> veth = testing::CreateVethPair(rtnl(), "lte0", "lte0peer");
  ASSERT_TRUE(veth.ok()) << veth.status();
  ASSERT_TRUE(changes.SetMtu(veth->first, 1280).ok());

  // Someone removes our route, and the second uplink goes away.
  RouteSpec ours = office;
  ours.protocol = kRouteProtocolSstp;
  ASSERT_TRUE(rtnl().DeleteRoute(ours).ok());
  NetlinkMessage del(RTM_DELLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_index = veth->first;
  del.PutStruct(ifi);
  ASSERT_TRUE(rtnl().Execute(std::move(del), "RTM_DELLINK lte0").ok());

  EXPECT_TRUE(changes.Undo().ok());
  EXPECT_EQ(rtnl().LinkIndex("sstp0").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(NetworkChangesRootTest, NoOpsAreNotRecorded) {
  NetworkChanges changes(&rtnl(), logger_);
  ASSERT_TRUE(changes.SetLinkUp(lo_).ok());  // Already up.
  absl::StatusOr<LinkInfo> wan = rtnl().GetLink(wan_);
  ASSERT_TRUE(wan.ok());
  ASSERT_TRUE(changes.SetMtu(wan_, wan->mtu).ok());  // Already that MTU.
  EXPECT_EQ(changes.size(), 0u);

  ASSERT_TRUE(changes.SetMtu(wan_, 1400).ok());
  EXPECT_THAT(changes.Describe(), ElementsAre("mtu wan0 1500 -> 1400"));
  ASSERT_TRUE(changes.Undo().ok());
  EXPECT_EQ(rtnl().GetLink(wan_)->mtu, 1500u);
  EXPECT_TRUE(rtnl().GetLink(lo_)->up());
}

TEST_F(NetworkChangesRootTest, DestructorUndoes) {
  const Snapshot before = Take();
  {
    NetworkChanges changes(&rtnl(), logger_);
    const int tun = AdoptNewTun(changes, "sstp0");
    ASSERT_GT(tun, 0);
    ASSERT_TRUE(changes.SetLinkUp(tun).ok());
    ASSERT_TRUE(changes.AddServerHostRoute(Ip("203.0.113.10")).ok());
    ASSERT_TRUE(changes.AddSplitDefaultRoute(AF_INET, tun).ok());
    EXPECT_NE(Take(), before);
  }
  EXPECT_EQ(Take(), before);
}

TEST_F(NetworkChangesRootTest, ServerHostRouteSpecialCases) {
  NetworkChanges changes(&rtnl(), logger_);
  // The server is this host: the local table wins anyway, nothing to add.
  absl::StatusOr<std::optional<RouteSpec>> local = changes.AddServerHostRoute(Ip("192.0.2.1"));
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_FALSE(local->has_value());
  EXPECT_EQ(changes.size(), 0u);

  // An identical host route is already there: used, not recorded, kept.
  RouteSpec theirs;
  theirs.destination = Prefix("203.0.113.10/32");
  theirs.gateway = Ip("192.0.2.254");
  theirs.oif = wan_;
  theirs.protocol = RTPROT_STATIC;
  ASSERT_TRUE(rtnl().AddRoute(theirs).ok());
  absl::StatusOr<std::optional<RouteSpec>> existing =
      changes.AddServerHostRoute(Ip("203.0.113.10"));
  ASSERT_TRUE(existing.ok()) << existing.status();
  EXPECT_FALSE(existing->has_value());
  EXPECT_EQ(changes.size(), 0u);

  // Once traffic goes into the tunnel it is too late to pin the server.
  const int tun = AdoptNewTun(changes, "sstp0");
  ASSERT_GT(tun, 0);
  ASSERT_TRUE(changes.SetLinkUp(tun).ok());
  ASSERT_TRUE(changes.AddSplitDefaultRoute(AF_INET, tun).ok());
  const absl::StatusOr<std::optional<RouteSpec>> late =
      changes.AddServerHostRoute(Ip("198.51.100.9"));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(late.status().message(),
            "route to server 198.51.100.9 already goes through sstp0: add the server host "
            "route before routing traffic into the tunnel");

  ASSERT_TRUE(changes.Undo().ok());
  EXPECT_THAT(MainRoutes(AF_INET), Contains(absl::StrCat("203.0.113.10/32 via 192.0.2.254 dev ",
                                                         wan_, " metric 0 proto 4")));
}

TEST_F(NetworkChangesRootTest, RefusesWhatItCannotOwn) {
  NetworkChanges changes(&rtnl(), logger_);
  const absl::Status addrgen = changes.DisableIpv6AutoLinkLocal(wan_);
  EXPECT_EQ(addrgen.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(addrgen.message(),
            "IPv6 address generation of wan0: only changed on the TUN sstp-ktls created");
  ASSERT_GT(AdoptNewTun(changes, "sstp0"), 0);
  absl::StatusOr<Tun> second = CreateTun("sstp1");
  ASSERT_TRUE(second.ok());
  const absl::Status adopt = changes.AdoptTun(*std::move(second));
  EXPECT_EQ(adopt.message(), "adopt TUN sstp1: already holding TUN sstp0");
  EXPECT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes.Undo().ok());
}

}  // namespace
}  // namespace sstp::netlink
