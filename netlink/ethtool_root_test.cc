// Egress lookup and ethtool features against the real kernel, inside a
// private network namespace per test (netns_test_util.h): needs root,
// skipped with the reason otherwise.
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/ethtool.h"
#include "netlink/netns_test_util.h"
#include "netlink/rtnl.h"

namespace sstp::netlink {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

IpAddress Ip(absl::string_view text) { return *IpAddress::Parse(text); }
IpPrefix Prefix(absl::string_view text) { return *IpPrefix::Parse(text); }

class EthtoolRootTest : public testing::PrivateNetnsTest {
 protected:
  // veth0 (192.0.2.1/24, 2001:db8:1::1/64) <-> veth1 (203.0.113.1/24), both
  // up, and 198.51.100.0/24 via 192.0.2.2 on veth0.
  void SetUp() override {
    PrivateNetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    absl::StatusOr<std::pair<int, int>> pair = testing::CreateVethPair(rtnl(), "veth0", "veth1");
    ASSERT_TRUE(pair.ok()) << pair.status();
    std::tie(veth0_, veth1_) = *pair;
    ASSERT_TRUE(rtnl().SetLinkUp(veth0_).ok());
    ASSERT_TRUE(rtnl().SetLinkUp(veth1_).ok());
    ASSERT_TRUE(rtnl().AddAddress({veth0_, Prefix("192.0.2.1/24")}).ok());
    AddressSpec v6{veth0_, Prefix("2001:db8:1::1/64")};
    v6.no_dad = true;
    ASSERT_TRUE(rtnl().AddAddress(v6).ok());
    ASSERT_TRUE(rtnl().AddAddress({veth1_, Prefix("203.0.113.1/24")}).ok());
    RouteSpec route;
    route.destination = Prefix("198.51.100.0/24");
    route.gateway = Ip("192.0.2.2");
    route.oif = veth0_;
    const absl::Status added = rtnl().AddRoute(route);
    ASSERT_TRUE(added.ok()) << added;
  }

  int veth0_ = 0;
  int veth1_ = 0;
};

TEST_F(EthtoolRootTest, EgressInterfaceFollowsTheRoutes) {
  absl::StatusOr<EgressInterface> egress = FindEgressInterface(rtnl(), Ip("198.51.100.7"));
  ASSERT_TRUE(egress.ok()) << egress.status();
  EXPECT_EQ(egress->ifindex, veth0_);
  EXPECT_EQ(egress->name, "veth0");

  egress = FindEgressInterface(rtnl(), Ip("203.0.113.9"));
  ASSERT_TRUE(egress.ok()) << egress.status();
  EXPECT_EQ(egress->ifindex, veth1_);
  EXPECT_EQ(egress->name, "veth1");

  egress = FindEgressInterface(rtnl(), Ip("2001:db8:1::5"));
  ASSERT_TRUE(egress.ok()) << egress.status();
  EXPECT_EQ(egress->name, "veth0");

  // One of our own addresses is delivered locally.
  egress = FindEgressInterface(rtnl(), Ip("192.0.2.1"));
  ASSERT_TRUE(egress.ok()) << egress.status();
  EXPECT_EQ(egress->ifindex, lo_);
  EXPECT_EQ(egress->name, "lo");
}

TEST_F(EthtoolRootTest, NoRouteIsTheKernelsError) {
  // The namespace has no default route.
  absl::StatusOr<EgressInterface> egress = FindEgressInterface(rtnl(), Ip("8.8.8.8"));
  ASSERT_FALSE(egress.ok());
  EXPECT_EQ(KernelErrno(egress.status()), ENETUNREACH);
  EXPECT_THAT(std::string(egress.status().message()),
              StartsWith("RTM_GETROUTE 8.8.8.8: Network is unreachable"));
}

TEST_F(EthtoolRootTest, FamilyIsResolved) {
  absl::StatusOr<Ethtool> ethtool = Ethtool::Open();
  ASSERT_TRUE(ethtool.ok()) << ethtool.status();
  EXPECT_GE(ethtool->family_id(), GENL_START_ALLOC);
}

TEST_F(EthtoolRootTest, UnknownFamilyIsUnavailable) {
  absl::StatusOr<Rtnl> genl = Rtnl::OpenProtocol(NETLINK_GENERIC);
  ASSERT_TRUE(genl.ok()) << genl.status();
  absl::StatusOr<uint16_t> id = ResolveGenlFamily(*genl, "nosuchfamily0");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(id.status().message()),
              StartsWith("nosuchfamily0 netlink not available: CTRL_CMD_GETFAMILY nosuchfamily0: "
                         "No such file or directory (errno 2)"));
  // The socket is still usable after the error.
  EXPECT_TRUE(ResolveGenlFamily(*genl, ETHTOOL_GENL_NAME).ok());
}

TEST_F(EthtoolRootTest, VethHasNoNicTlsOffload) {
  absl::StatusOr<Ethtool> ethtool = Ethtool::Open();
  ASSERT_TRUE(ethtool.ok()) << ethtool.status();
  absl::StatusOr<TlsOffloadFeatures> features = ethtool->GetTlsOffload(veth0_);
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_EQ(features->ifindex, veth0_);
  EXPECT_EQ(features->interface, "veth0");
  EXPECT_FALSE(features->tx_capable);
  EXPECT_FALSE(features->tx_active);
  EXPECT_FALSE(features->rx_capable);
  EXPECT_FALSE(features->rx_active);
  EXPECT_FALSE(features->record_capable);
  EXPECT_EQ(features->Describe(), "veth0: no NIC TLS offload");

  // Loopback neither; the same socket serves several requests.
  features = ethtool->GetTlsOffload(lo_);
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_EQ(features->Describe(), "lo: no NIC TLS offload");
}

TEST_F(EthtoolRootTest, TheKernelNamesTheTlsFeatures) {
  // "Off" must mean the device lacks the feature, not that the kernel did
  // not say: HW's mask is every feature, so the names are in the reply.
  absl::StatusOr<Rtnl> genl = Rtnl::OpenProtocol(NETLINK_GENERIC);
  ASSERT_TRUE(genl.ok()) << genl.status();
  absl::StatusOr<uint16_t> family = ResolveGenlFamily(*genl, ETHTOOL_GENL_NAME);
  ASSERT_TRUE(family.ok()) << family.status();
  std::string reply;
  const absl::Status status =
      genl->Execute(BuildFeaturesGet(*family, veth0_), "features", [&](const nlmsghdr* message) {
        reply.assign(reinterpret_cast<const char*>(message), message->nlmsg_len);
        return ParseFeaturesReply(message).status();
      });
  ASSERT_TRUE(status.ok()) << status;
  for (const char* name : {kTlsTxOffloadFeature, kTlsRxOffloadFeature, kTlsRecordFeature}) {
    EXPECT_THAT(reply, HasSubstr(absl::StrCat(name, std::string(1, '\0')))) << name;
  }
}

TEST_F(EthtoolRootTest, TlsOffloadTowardsTheServer) {
  absl::StatusOr<TlsOffloadFeatures> features = TlsOffloadTowards(Ip("198.51.100.7"));
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_EQ(features->ifindex, veth0_);
  EXPECT_EQ(features->Describe(), "veth0: no NIC TLS offload");

  features = TlsOffloadTowards(Ip("8.8.8.8"));
  ASSERT_FALSE(features.ok());
  EXPECT_THAT(std::string(features.status().message()),
              StartsWith("NIC TLS offload towards 8.8.8.8: RTM_GETROUTE 8.8.8.8: Network is "
                         "unreachable"));
}

TEST_F(EthtoolRootTest, MissingDeviceIsNotFound) {
  absl::StatusOr<Ethtool> ethtool = Ethtool::Open();
  ASSERT_TRUE(ethtool.ok()) << ethtool.status();
  absl::StatusOr<TlsOffloadFeatures> features = ethtool->GetTlsOffload(9999);
  ASSERT_FALSE(features.ok());
  EXPECT_EQ(features.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(KernelErrno(features.status()), ENODEV);
  EXPECT_THAT(std::string(features.status().message()),
              StartsWith("ETHTOOL_MSG_FEATURES_GET #9999: No such device (errno 19)"));

  EXPECT_EQ(ethtool->GetTlsOffload(0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sstp::netlink
