#include "netlink/netns_test_util.h"

#include <linux/if_link.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::netlink::testing {
namespace {

struct NamespaceId {
  dev_t dev;
  ino_t ino;
  bool operator==(const NamespaceId&) const = default;
};

absl::StatusOr<NamespaceId> NetNamespaceOf(const char* path) {
  struct stat st;
  if (stat(path, &st) != 0) return LastErrnoStatus(absl::StrCat("stat(", path, ")"));
  return NamespaceId{st.st_dev, st.st_ino};
}

}  // namespace

absl::Status EnterPrivateNetworkNamespace() {
  constexpr absl::string_view kWhy = "needs root for a private network namespace";
  if (geteuid() != 0) {
    return absl::FailedPreconditionError(absl::StrCat(kWhy, ": euid is ", geteuid()));
  }
  ASSIGN_OR_RETURN(const NamespaceId before, NetNamespaceOf("/proc/thread-self/ns/net"));
  // The namespace the process started in (the machine's, as far as this
  // process can tell), remembered before the first unshare.
  static const NamespaceId original = before;
  if (unshare(CLONE_NEWNET) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kWhy, ": ", LastErrnoStatus("unshare(CLONE_NEWNET)").message()));
  }
  // From here on a failure is a safety failure, not a reason to skip: the
  // caller must not configure anything.
  auto check = [](absl::StatusOr<NamespaceId> id) -> absl::StatusOr<NamespaceId> {
    if (!id.ok()) return absl::InternalError(id.status().message());
    return id;
  };
  ASSIGN_OR_RETURN(const NamespaceId thread, check(NetNamespaceOf("/proc/thread-self/ns/net")));
  ASSIGN_OR_RETURN(const NamespaceId process, check(NetNamespaceOf("/proc/self/ns/net")));
  if (thread == before || thread == original) {
    return absl::InternalError("unshare(CLONE_NEWNET) succeeded but the namespace is unchanged");
  }
  if (process != thread) {
    return absl::InternalError("the test runs on a thread other than the process's main thread");
  }
  // PID 1's namespace, where /proc lets us see it (a sandbox may hide it
  // with EACCES; the checks above already hold without it).
  absl::StatusOr<NamespaceId> init = NetNamespaceOf("/proc/1/ns/net");
  if (init.ok() && *init == thread) {
    return absl::InternalError("after unshare(CLONE_NEWNET) the thread is in PID 1's namespace");
  }
  if (!init.ok() && !absl::IsPermissionDenied(init.status())) {
    return absl::InternalError(init.status().message());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<int, int>> CreateVethPair(Rtnl& rtnl, absl::string_view name,
                                                   absl::string_view peer) {
  // drivers/net/veth.c veth_newlink(): the peer comes as a whole ifinfomsg
  // plus IFLA_* attributes inside IFLA_INFO_DATA / VETH_INFO_PEER.
  NetlinkMessage message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  message.PutStruct(ifi);
  message.PutString(IFLA_IFNAME, name);
  const size_t linkinfo = message.NestStart(IFLA_LINKINFO);
  message.PutString(IFLA_INFO_KIND, "veth");
  const size_t data = message.NestStart(IFLA_INFO_DATA);
  const size_t peer_nest = message.NestStart(VETH_INFO_PEER);
  message.PutStruct(ifi);
  message.PutString(IFLA_IFNAME, peer);
  message.NestEnd(peer_nest);
  message.NestEnd(data);
  message.NestEnd(linkinfo);
  RETURN_IF_ERROR(
      rtnl.Execute(std::move(message), absl::StrCat("RTM_NEWLINK veth ", name, " peer ", peer)));
  ASSIGN_OR_RETURN(const int first, rtnl.LinkIndex(name));
  ASSIGN_OR_RETURN(const int second, rtnl.LinkIndex(peer));
  return std::make_pair(first, second);
}

void PrivateNetnsTest::SetUp() {
  const absl::Status entered = EnterPrivateNetworkNamespace();
  if (absl::IsFailedPrecondition(entered)) GTEST_SKIP() << entered.message();
  ASSERT_TRUE(entered.ok()) << "refusing to configure anything: " << entered;

  absl::StatusOr<Rtnl> rtnl = Rtnl::Open();
  ASSERT_TRUE(rtnl.ok()) << rtnl.status();
  rtnl_.emplace(*std::move(rtnl));
  absl::StatusOr<int> lo = rtnl_->LinkIndex("lo");
  ASSERT_TRUE(lo.ok()) << lo.status();
  lo_ = *lo;
  // A fresh namespace has only `lo`, and it is down.
  absl::StatusOr<std::vector<AddressInfo>> addresses = rtnl_->ListAddresses(0);
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  ASSERT_TRUE(addresses->empty()) << "the new namespace already has addresses";
  ASSERT_TRUE(rtnl_->SetLinkUp(lo_).ok());
}

}  // namespace sstp::netlink::testing
