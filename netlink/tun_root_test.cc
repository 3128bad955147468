// CreateTun against the real kernel, inside a private network namespace per
// test (netns_test_util.h): needs root, skipped with the reason otherwise.
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/netns_test_util.h"
#include "netlink/rtnl.h"
#include "netlink/tun.h"

namespace sstp::netlink {
namespace {

using ::testing::StartsWith;

class TunRootTest : public testing::PrivateNetnsTest {};

TEST_F(TunRootTest, CreatesABlockingCloseOnExecTun) {
  absl::StatusOr<Tun> tun = CreateTun("sstp0");
  ASSERT_TRUE(tun.ok()) << tun.status();
  EXPECT_EQ(tun->name, "sstp0");
  absl::StatusOr<int> index = rtnl().LinkIndex("sstp0");
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(tun->ifindex, *index);
  EXPECT_FALSE(fcntl(tun->fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(tun->fd.get(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(TunRootTest, NonBlockingOptionSetsONonblock) {
  TunOptions options;
  options.non_blocking = true;
  absl::StatusOr<Tun> tun = CreateTun("sstp0", options);
  ASSERT_TRUE(tun.ok()) << tun.status();
  EXPECT_TRUE(fcntl(tun->fd.get(), F_GETFL) & O_NONBLOCK);
  // Nothing to read yet: the fd does not block.
  char byte;
  EXPECT_EQ(read(tun->fd.get(), &byte, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(TunRootTest, KernelTemplateNameIsExpanded) {
  absl::StatusOr<Tun> first = CreateTun("sstp%d");
  absl::StatusOr<Tun> second = CreateTun("sstp%d");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->name, "sstp0");
  EXPECT_EQ(second->name, "sstp1");
  EXPECT_EQ(*rtnl().LinkIndex("sstp1"), second->ifindex);
}

TEST_F(TunRootTest, ClosingTheFdDeletesTheInterface) {
  absl::StatusOr<Tun> tun = CreateTun("sstp0");
  ASSERT_TRUE(tun.ok()) << tun.status();
  tun->fd.reset();
  const absl::StatusOr<int> index = rtnl().LinkIndex("sstp0");
  EXPECT_EQ(index.status().code(), absl::StatusCode::kNotFound) << index.status();
}

TEST_F(TunRootTest, RefusesANameInUseByANonTunDevice) {
  const absl::StatusOr<Tun> tun = CreateTun("lo");
  ASSERT_FALSE(tun.ok());
  EXPECT_EQ(tun.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(tun.status().message(),
            "TUNSETIFF lo: interface lo already exists (ifindex 1); refusing to attach to a "
            "device sstp-ktls did not create");
}

TEST_F(TunRootTest, RefusesToAttachToAnExistingTun) {
  // Someone else's TUN (here: ours, kept open), of the same kind we'd create.
  TunOptions options;
  options.multi_queue = true;
  absl::StatusOr<Tun> theirs = CreateTun("office0", options);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  const absl::StatusOr<Tun> ours = CreateTun("office0", options);
  ASSERT_FALSE(ours.ok());
  EXPECT_EQ(ours.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(ours.status().message()),
              StartsWith("TUNSETIFF office0: interface office0 already exists (ifindex "));
  // The existing device is untouched.
  EXPECT_EQ(*rtnl().LinkIndex("office0"), theirs->ifindex);
}

TEST_F(TunRootTest, RefusesANameInUseByAVeth) {
  ASSERT_TRUE(testing::CreateVethPair(rtnl(), "wan0", "wan0peer").ok());
  const absl::StatusOr<Tun> tun = CreateTun("wan0peer");
  EXPECT_EQ(tun.status().code(), absl::StatusCode::kAlreadyExists) << tun.status();
}

TEST_F(TunRootTest, MultiQueueAttachJoinsTheSameInterface) {
  TunOptions options;
  options.multi_queue = true;
  options.vnet_hdr = true;
  absl::StatusOr<Tun> tun = CreateTun("sstp0", options);
  ASSERT_TRUE(tun.ok()) << tun.status();
  absl::StatusOr<UniqueFd> queue = AttachTunQueue(*tun);
  ASSERT_TRUE(queue.ok()) << queue.status();
  // The interface lives while any queue is open.
  tun->fd.reset();
  EXPECT_EQ(*rtnl().LinkIndex("sstp0"), tun->ifindex);
  queue->reset();
  EXPECT_EQ(rtnl().LinkIndex("sstp0").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TunRootTest, AttachFailsWhenTheTunIsGone) {
  TunOptions options;
  options.multi_queue = true;
  absl::StatusOr<Tun> tun = CreateTun("sstp0", options);
  ASSERT_TRUE(tun.ok()) << tun.status();
  tun->fd.reset();
  // Attaching would create a fresh interface with the old name: refused.
  const absl::StatusOr<UniqueFd> queue = AttachTunQueue(*tun);
  ASSERT_FALSE(queue.ok());
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue.status().message(),
            absl::StrCat("TUNSETIFF sstp0 (attach queue): interface is ifindex 0, not the TUN "
                         "we created (ifindex ",
                         tun->ifindex, ")"));
  EXPECT_EQ(rtnl().LinkIndex("sstp0").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sstp::netlink
