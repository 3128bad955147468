// CreateTun against the real kernel, inside a private network namespace per
// test (netns_test_util.h): needs root, skipped with the reason otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
  options.offload = true;
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

TEST_F(TunRootTest, OffloadReadsStartWithAVirtioHeaderAndAPartialChecksum) {
  TunOptions options;
  options.offload = true;
  options.non_blocking = true;
  absl::StatusOr<Tun> tun = CreateTun("sstp0", options);
  ASSERT_TRUE(tun.ok()) << tun.status();
  EXPECT_TRUE(tun->offload_active);
  ASSERT_TRUE(rtnl().SetLinkUp(tun->ifindex).ok());
  ASSERT_TRUE(rtnl().AddAddress({tun->ifindex, *IpPrefix::Parse("10.9.0.1/24")}).ok());

  // A UDP datagram routed into the TUN: with TUN_F_CSUM the kernel leaves
  // its checksum for the reader to complete (CHECKSUM_PARTIAL).
  const int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(udp, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  inet_pton(AF_INET, "10.9.0.2", &to.sin_addr);
  ASSERT_EQ(sendto(udp, "hello", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 5);
  close(udp);

  uint8_t buffer[2048];
  ssize_t n = -1;
  for (int i = 0; i < 100; ++i) {  // Skip anything else the stack sends (IPv6 MLD, ...).
    n = read(tun->fd.get(), buffer, sizeof(buffer));
    if (n == 10 + 20 + 8 + 5 && buffer[10] >> 4 == 4 && buffer[10 + 9] == IPPROTO_UDP) break;
    if (n < 0) usleep(1000);
  }
  ASSERT_EQ(n, 10 + 20 + 8 + 5) << "no UDP packet read from the TUN";
  EXPECT_EQ(buffer[0], 1) << "VIRTIO_NET_HDR_F_NEEDS_CSUM";
  EXPECT_EQ(buffer[1], 0) << "VIRTIO_NET_HDR_GSO_NONE";
  EXPECT_EQ(buffer[6] | buffer[7] << 8, 20) << "csum_start, little-endian";
  EXPECT_EQ(buffer[8] | buffer[9] << 8, 6) << "csum_offset: the UDP checksum";
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
