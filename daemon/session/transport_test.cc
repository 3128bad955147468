#include "daemon/session/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

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

namespace sstp::session {
namespace {

std::string WriteTemp(const std::string& text, mode_t mode) {
  char path[] = "/tmp/secret_test_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  fchmod(fd, mode);
  close(fd);
  return path;
}

TEST(ReadSecretFileTest, FirstLineWithoutLineEnd) {
  const std::string path = WriteTemp("s3cret pass\r\nsecond line\n", 0600);
  absl::StatusOr<SecretString> secret = ReadSecretFile(path);
  unlink(path.c_str());
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->reveal(), "s3cret pass");
}

TEST(ReadSecretFileTest, RefusesFilesOthersCanReadAndEmptyOnes) {
  const std::string open_path = WriteTemp("x\n", 0644);
  EXPECT_EQ(ReadSecretFile(open_path).status().message(),
            "secret file " + open_path + " is readable by group or others; chmod 600 it");
  unlink(open_path.c_str());
  const std::string empty_path = WriteTemp("\n", 0600);
  EXPECT_EQ(ReadSecretFile(empty_path).status().message(), "secret file " + empty_path + " is empty");
  unlink(empty_path.c_str());
  EXPECT_EQ(ReadSecretFile("/nonexistent/pass").status().code(), absl::StatusCode::kNotFound);
}

// A proxy on the other end of a socketpair: reads the request, sends `reply`.
class FakeProxy {
 public:
  explicit FakeProxy(std::string reply) {
    int fds[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    client_.reset(fds[0]);
    server_.reset(fds[1]);
    reply_ = std::move(reply);
  }
  int client() const { return client_.get(); }
  std::string Serve() {
    std::string request;
    char c;
    while (request.find("\r\n\r\n") == std::string::npos && read(server_.get(), &c, 1) == 1) {
      request.push_back(c);
    }
    (void)!write(server_.get(), reply_.data(), reply_.size());
    return request;
  }

 private:
  UniqueFd client_, server_;
  std::string reply_;
};

TEST(ProxyConnectTest, SendsConnectWithCredentialsAndLeavesTheTlsBytes) {
  FakeProxy proxy("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03");
  std::string request;
  std::thread t([&] { request = proxy.Serve(); });
  const absl::Status s = ProxyConnect(proxy.client(), "vpn.example.test", 443,
                                      proto::ProxyCredentials{"bob", SecretString("pw")},
                                      absl::Seconds(5));
  t.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(request, ::testing::HasSubstr("CONNECT vpn.example.test:443 HTTP/1.1\r\n"));
  EXPECT_THAT(request, ::testing::HasSubstr("Proxy-Authorization: Basic Ym9iOnB3\r\n"));
  // The first bytes of the server's TLS stream are still in the socket.
  char first = 0;
  ASSERT_EQ(read(proxy.client(), &first, 1), 1);
  EXPECT_EQ(first, 0x16);
}

TEST(ProxyConnectTest, RefusalNamesTheProxysStatus) {
  FakeProxy proxy("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
  std::thread t([&] { proxy.Serve(); });
  const absl::Status s =
      ProxyConnect(proxy.client(), "vpn.example.test", 443, std::nullopt, absl::Seconds(5));
  t.join();
  EXPECT_EQ(s.message(),
            "the HTTP proxy refused CONNECT vpn.example.test:443: HTTP 407 Proxy Authentication "
            "Required");
}

TEST(PlanSocketBuffersTest, AutotuningCoversShortPaths) {
  // 1 Gbit/s x 20 ms = 2.5 MB; Linux's default limit of 4 MiB (tcp_rmem
  // 6.1: 6 MiB) is below 2 x BDP, so fixed buffers take over.
  SocketBufferPlan far = PlanSocketBuffers(20000, 1000000000, 4 << 20);
  EXPECT_EQ(far.bdp_bytes, 2500000u);
  EXPECT_TRUE(far.override_kernel);
  EXPECT_EQ(far.buffer_bytes, 5000000);
  // The same rate at 1 ms: 125 kB, autotuning is enough.
  SocketBufferPlan near = PlanSocketBuffers(1000, 1000000000, 4 << 20);
  EXPECT_EQ(near.bdp_bytes, 125000u);
  EXPECT_FALSE(near.override_kernel);
}

TEST(PlanSocketBuffersTest, CappedAt64MiB) {
  SocketBufferPlan huge = PlanSocketBuffers(300000, 100000000000ull, 4 << 20);
  EXPECT_TRUE(huge.override_kernel);
  EXPECT_EQ(huge.buffer_bytes, 64 << 20);
}

}  // namespace
}  // namespace sstp::session
