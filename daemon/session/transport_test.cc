#include "daemon/session/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::session {
namespace {

// A listening socket on 127.0.0.1 with a kernel-chosen port.
struct Listener {
  Listener() {
    fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(listen(fd.get(), 4), 0);
    socklen_t len = sizeof(a);
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  UniqueFd fd;
  uint16_t port = 0;
};

TEST(ConnectTcpTest, ConnectsToALoopbackListener) {
  Listener listener;
  absl::StatusOr<UniqueFd> fd = ConnectTcp("127.0.0.1", listener.port, absl::Seconds(5), Logger("t"));
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_TRUE(fd->valid());
  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  getsockopt(fd->get(), IPPROTO_TCP, 1 /* TCP_NODELAY */, &nodelay, &len);
  EXPECT_NE(nodelay, 0);
}

TEST(ConnectTcpTest, RefusedConnectionNamesHostPortAndReason) {
  uint16_t port;
  {
    Listener listener;  // Take a free port, then close it: nothing listens there.
    port = listener.port;
  }
  absl::StatusOr<UniqueFd> fd = ConnectTcp("127.0.0.1", port, absl::Seconds(5), Logger("t"));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fd.status().message(), absl::StrCat("cannot connect to 127.0.0.1 port ", port,
                                                " (127.0.0.1: Connection refused)"));
}

}  // namespace
}  // namespace sstp::session
