// TUN errors that need neither root nor a network namespace: name checks and
// a missing or wrong clone device. tun_root_test.cc creates real TUNs.
#include "netlink/tun.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::netlink {
namespace {

using ::testing::HasSubstr;

TEST(CheckInterfaceNameTest, AcceptsWhatTheKernelAccepts) {
  for (absl::string_view name : {"office0", "sstp%d", "a", "0123456789abcde", "vpn-1.work_2"}) {
    EXPECT_TRUE(CheckInterfaceName(name).ok()) << name;
  }
}

TEST(CheckInterfaceNameTest, RejectsWhatTheKernelRejects) {
  EXPECT_EQ(CheckInterfaceName("").message(), "interface name \"\" is empty");
  EXPECT_EQ(CheckInterfaceName("0123456789abcdef").message(),
            "interface name \"0123456789abcdef\" is longer than 15 bytes");
  EXPECT_EQ(CheckInterfaceName(".").message(), "interface name \".\" is not allowed");
  EXPECT_EQ(CheckInterfaceName("..").message(), "interface name \"..\" is not allowed");
  EXPECT_EQ(CheckInterfaceName("a/b").message(), "interface name \"a/b\" contains '/'");
  EXPECT_EQ(CheckInterfaceName("eth0:1").message(), "interface name \"eth0:1\" contains ':'");
  EXPECT_EQ(CheckInterfaceName("a b").message(),
            "interface name \"a b\" contains white space or NUL");
  EXPECT_EQ(CheckInterfaceName(absl::string_view("a\0b", 3)).message(),
            absl::StrCat("interface name \"", absl::string_view("a\0b", 3),
                         "\" contains white space or NUL"));
}

TEST(CreateTunTest, BadNameFailsBeforeOpeningAnything) {
  TunOptions options;
  options.device_path = "/nonexistent/tun";
  absl::StatusOr<Tun> tun = CreateTun("much-too-long-name", options);
  ASSERT_FALSE(tun.ok());
  EXPECT_THAT(tun.status().message(), HasSubstr("longer than 15 bytes"));
}

TEST(CreateTunTest, MissingDeviceNodeSaysSo) {
  TunOptions options;
  options.device_path = "/nonexistent/net/tun";
  absl::StatusOr<Tun> tun = CreateTun("office0", options);
  ASSERT_FALSE(tun.ok());
  EXPECT_EQ(tun.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tun.status().message(),
            "open(/nonexistent/net/tun): No such file or directory (errno 2): the TUN device "
            "node is missing (kernel without CONFIG_TUN, or the tun module not loaded: "
            "modprobe tun)");
}

TEST(CreateTunTest, DeviceThatIsNotTunFailsTunsetiff) {
  // /dev/null opens fine but knows no TUNSETIFF.
  TunOptions options;
  options.device_path = "/dev/null";
  absl::StatusOr<Tun> tun = CreateTun("office0", options);
  ASSERT_FALSE(tun.ok());
  EXPECT_EQ(tun.status().message(), "TUNSETIFF office0: Inappropriate ioctl for device (errno 25)");
}

TEST(AttachTunQueueTest, NeedsAMultiQueueTun) {
  Tun tun;
  tun.name = "office0";
  tun.ifindex = 5;
  absl::StatusOr<UniqueFd> queue = AttachTunQueue(tun);
  ASSERT_FALSE(queue.ok());
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue.status().message(), "TUNSETIFF office0 (attach queue): TUN is not multi-queue");
}

}  // namespace
}  // namespace sstp::netlink
