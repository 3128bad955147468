// Test-only: a private network namespace per test, so tests that create
// TUNs, addresses and routes can never touch the machine's real network.
//
// PrivateNetnsTest::SetUp() moves the test process into a brand-new network
// namespace (unshare(CLONE_NEWNET)), verifies through /proc that the move
// happened before anything is configured, opens an Rtnl bound there and
// brings `lo` up. The namespace holds only what the test puts in it and
// disappears when the process leaves it (the next test's unshare, or exit).
// Without root, or if unshare fails, the test is skipped with the reason;
// if the verification fails the test fails without touching anything.
#ifndef SSTP_KTLS_NETLINK_NETNS_TEST_UTIL_H_
#define SSTP_KTLS_NETLINK_NETNS_TEST_UTIL_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "netlink/rtnl.h"

namespace sstp::netlink::testing {

// Moves the calling thread (the process's only thread in a gtest binary)
// into a new network namespace. FailedPrecondition when it can't (not root,
// unshare refused): the caller skips. Internal when unshare reported success
// but /proc shows the thread still in its old namespace or in PID 1's: the
// caller must not configure anything.
absl::Status EnterPrivateNetworkNamespace();

// Creates a veth pair `name` <-> `peer` in the current namespace with
// RTM_NEWLINK (IFLA_INFO_KIND "veth", VETH_INFO_PEER); returns their
// ifindexes.
absl::StatusOr<std::pair<int, int>> CreateVethPair(Rtnl& rtnl, absl::string_view name,
                                                   absl::string_view peer);

class PrivateNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;

  Rtnl& rtnl() { return *rtnl_; }

  std::optional<Rtnl> rtnl_;
  int lo_ = 0;
};

}  // namespace sstp::netlink::testing

#endif  // SSTP_KTLS_NETLINK_NETNS_TEST_UTIL_H_
