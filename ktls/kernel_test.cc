#include "ktls/kernel.h"

#include <arpa/inet.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace sstp::ktls {
namespace {

// /proc/net/tls_stat as Debian's 6.1 kernel prints it, after one kTLS
// session in each direction and one record that failed authentication.
constexpr char kTlsStat61[] =
    "TlsCurrTxSw                     \t1\n"
    "TlsCurrRxSw                     \t1\n"
    "TlsCurrTxDevice                 \t0\n"
    "TlsCurrRxDevice                 \t0\n"
    "TlsTxSw                         \t3\n"
    "TlsRxSw                         \t2\n"
    "TlsTxDevice                     \t0\n"
    "TlsRxDevice                     \t0\n"
    "TlsDecryptError                 \t1\n"
    "TlsRxDeviceResync               \t0\n"
    "TlsDecryptRetry                 \t0\n"
    "TlsRxNoPadViolation             \t0\n";

TEST(TlsStatTest, ParsesTheKernelsFormat) {
  absl::StatusOr<TlsStat> s = ParseTlsStat(kTlsStat61);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->curr_tx_sw, 1u);
  EXPECT_EQ(s->curr_rx_sw, 1u);
  EXPECT_EQ(s->curr_tx_device, 0u);
  EXPECT_EQ(s->tx_sw, 3u);
  EXPECT_EQ(s->rx_sw, 2u);
  EXPECT_EQ(s->decrypt_error, 1u);
  EXPECT_EQ(s->rx_rekey_ok, 0u);
  EXPECT_FALSE(s->can_rekey) << "6.1 has no rekey counters";
}

TEST(TlsStatTest, IgnoresCountersOfNewerKernels) {
  absl::StatusOr<TlsStat> s = ParseTlsStat("TlsRxRekeyOk 4\nTlsSomethingNew 9\nTlsCurrTxDevice 2\n");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rx_rekey_ok, 4u);
  EXPECT_EQ(s->curr_tx_device, 2u);
  EXPECT_FALSE(s->can_rekey);
  absl::StatusOr<TlsStat> with_tx = ParseTlsStat("TlsTxRekeyOk 0\nTlsRxRekeyOk 0\n");
  ASSERT_TRUE(with_tx.ok());
  EXPECT_TRUE(with_tx->can_rekey) << "6.14 lists TlsTxRekeyOk";
}

TEST(TlsStatTest, MalformedLineIsNamed) {
  absl::StatusOr<TlsStat> s = ParseTlsStat("TlsCurrTxSw 1\nTlsCurrRxSw one\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("line 2"), absl::string_view::npos) << s.status();
  EXPECT_FALSE(ParseTlsStat("TlsCurrTxSw\n").ok());
  EXPECT_FALSE(ParseTlsStat("TlsCurrTxSw 1 2\n").ok());
  EXPECT_FALSE(ParseTlsStat("TlsCurrTxSw -1\n").ok());
}

TEST(AlertNameTest, NamesRfc8446Alerts) {
  EXPECT_EQ(AlertName(0), "close_notify");
  EXPECT_EQ(AlertName(20), "bad_record_mac");
  EXPECT_EQ(AlertName(40), "handshake_failure");
  EXPECT_EQ(AlertName(116), "certificate_required");
  EXPECT_EQ(AlertName(200), "alert 200");
}

// A connected TCP pair on loopback.
struct TcpPair {
  int client = -1, server = -1;
  ~TcpPair() {
    if (client >= 0) close(client);
    if (server >= 0) close(server);
  }
};

void MakeTcpPair(TcpPair* p) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  p->client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(p->client, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  p->server = accept(listener, nullptr, nullptr);
  close(listener);
  ASSERT_GE(p->server, 0);
}

TEST(AttachUlpTest, UnconnectedSocketIsRefusedAndNamed) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  absl::Status s = AttachUlp(fd);
  close(fd);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("TCP_ULP"), absl::string_view::npos) << s;
  if (s.message().find("ENOENT") != absl::string_view::npos) {
    // No tls module: the one answer that means "this kernel cannot".
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  } else {
    // A kernel with tls refuses the unconnected socket: a transport matter,
    // which must not pass for a missing feature (ktls = on would give up).
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    EXPECT_NE(s.message().find("connection ended"), absl::string_view::npos) << s;
  }
}

// Fills `fd`'s send path (the peer reads nothing) until a send would
// block; returns the bytes it took.
size_t FillSendBuffer(int fd) {
  const std::vector<uint8_t> chunk(64 * 1024, 0x5a);
  size_t total = 0;
  ssize_t n;
  while ((n = send(fd, chunk.data(), chunk.size(), MSG_DONTWAIT)) > 0) total += static_cast<size_t>(n);
  EXPECT_EQ(errno, EAGAIN);
  return total;
}

size_t DrainAll(int fd) {
  std::vector<uint8_t> buffer(256 * 1024);
  size_t total = 0;
  ssize_t n;
  while ((n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT)) > 0) total += static_cast<size_t>(n);
  return total;
}

// A TCP pair whose client fills up after a few KiB.
void MakeSmallBufferPair(TcpPair* pair) {
  MakeTcpPair(pair);
  if (::testing::Test::HasFatalFailure()) return;
  const int small = 4096;
  ASSERT_EQ(setsockopt(pair->client, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  ASSERT_EQ(setsockopt(pair->server, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
}

// SendRecord's waiting needs no tls: on a plain TCP socket the record-type
// control message is ignored and the body goes out as it is.
TEST(SendRecordTest, FullSocketFailsAtOnceWithoutWaitAndAfterTheWaitOtherwise) {
  TcpPair pair;
  MakeSmallBufferPair(&pair);
  if (HasFatalFailure()) return;
  FillSendBuffer(pair.client);
  // Room freed by ACKs still in flight is taken too: now it stays full.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  FillSendBuffer(pair.client);
  const uint8_t body[] = {24, 0, 0, 1, 0};

  absl::Status now = SendRecord(pair.client, kHandshake, body);
  EXPECT_EQ(now.code(), absl::StatusCode::kUnavailable) << now;
  EXPECT_NE(now.message().find("record of type 22"), absl::string_view::npos) << now;

  const absl::Time start = absl::Now();
  absl::Status waited = SendRecord(pair.client, kHandshake, body, absl::Milliseconds(200));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable) << waited;
  EXPECT_NE(waited.message().find("stayed full for 200ms"), absl::string_view::npos) << waited;
}

TEST(SendRecordTest, WaitsForRoomAndSendsTheWholeRecord) {
  TcpPair pair;
  MakeSmallBufferPair(&pair);
  if (HasFatalFailure()) return;
  const size_t filler = FillSendBuffer(pair.client);
  const uint8_t body[] = {24, 0, 0, 1, 0};
  size_t received = 0;
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Read until the record's bytes have come after the filler (or 10 s).
    for (int i = 0; i < 2000 && received < filler + sizeof(body); ++i) {
      received += DrainAll(pair.server);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const absl::Status s = SendRecord(pair.client, kHandshake, body, absl::Seconds(10));
  reader.join();
  EXPECT_TRUE(s.ok()) << s;
  // The filler and then the record arrived, each once.
  EXPECT_EQ(received, filler + sizeof(body));
}

// Keys of a fixed pattern; both ends install the same ones (one direction).
TrafficKeys PatternKeys(Cipher cipher, uint8_t seed) {
  TrafficKeys k;
  k.cipher = cipher;
  for (size_t i = 0; i < kMaxKeyLength; ++i) k.key.span()[i] = static_cast<uint8_t>(seed + i);
  for (size_t i = 0; i < kIvLength; ++i) k.iv.span()[i] = static_cast<uint8_t>(0xa0 + seed + i);
  return k;
}

class KernelTlsTest : public ::testing::TestWithParam<std::tuple<TlsVersion, Cipher>> {
 protected:
  void SetUp() override {
    MakeTcpPair(&pair_);
    if (HasFatalFailure()) return;
    absl::Status s = AttachUlp(pair_.client);
    if (!s.ok()) {
      // The development machines' kernel has no tls; tests/vm runs this on
      // Debian's kernel, where it must not skip.
      GTEST_SKIP() << "no kernel TLS on this kernel (" << s.message()
                   << "); tests/vm runs these under Debian's kernel";
    }
    ASSERT_TRUE(AttachUlp(pair_.server).ok());
  }
  TcpPair pair_;
};

TEST_P(KernelTlsTest, InstallsVerifiesCarriesDataAndRecordTypes) {
  const auto [version, cipher] = GetParam();
  const TrafficKeys keys = PatternKeys(cipher, 7);
  // As after a handshake: 3 records already protected in this direction.
  const KernelCryptoInfo info = BuildCryptoInfo(version, keys, 3);
  absl::Status tx = Install(pair_.client, Direction::kTx, info);
  if (tx.code() == absl::StatusCode::kUnavailable) {
    GTEST_SKIP() << "this kernel lacks the cipher: " << tx.message();
  }
  ASSERT_TRUE(tx.ok()) << tx;
  ASSERT_TRUE(Install(pair_.server, Direction::kRx, info).ok());
  EXPECT_TRUE(VerifyInstalled(pair_.client, Direction::kTx, info).ok());
  EXPECT_TRUE(VerifyInstalled(pair_.server, Direction::kRx, info).ok());
  // A different sequence is noticed.
  const KernelCryptoInfo other = BuildCryptoInfo(version, keys, 4);
  absl::Status mismatch = VerifyInstalled(pair_.client, Direction::kTx, other);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInternal);
  EXPECT_NE(mismatch.message().find("sequence is 3, installed 4"), absl::string_view::npos)
      << mismatch;

  const std::string text = "through the kernel's record layer";
  ASSERT_EQ(send(pair_.client, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  std::array<uint8_t, 256> buffer{};
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint8_t))> control{};
  auto receive = [&](uint8_t* type) -> ssize_t {
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = recvmsg(pair_.server, &msg, 0);
    *type = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE) *type = *CMSG_DATA(c);
    }
    return n;
  };
  uint8_t type = 0;
  ASSERT_EQ(receive(&type), static_cast<ssize_t>(text.size()));
  EXPECT_EQ(type, kApplicationData);
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + text.size()), text);

  const uint8_t alert[] = {kAlertWarning, kCloseNotify};
  ASSERT_TRUE(SendRecord(pair_.client, kAlert, alert).ok());
  ASSERT_EQ(receive(&type), 2);
  EXPECT_EQ(type, kAlert);
  EXPECT_EQ(buffer[0], kAlertWarning);
  EXPECT_EQ(buffer[1], kCloseNotify);

  // Two records went out: the sequence moved from 3 to 5 on both ends.
  absl::StatusOr<InstalledState> sent = ReadInstalled(pair_.client, Direction::kTx);
  absl::StatusOr<InstalledState> received = ReadInstalled(pair_.server, Direction::kRx);
  ASSERT_TRUE(sent.ok() && received.ok());
  EXPECT_EQ(sent->record_sequence, 5u);
  EXPECT_EQ(received->record_sequence, 5u);

  // A second TLS_TX: Linux < 6.14 refuses it (no rekey); newer kernels take
  // it for TLS 1.3 only.
  absl::Status again = Install(pair_.client, Direction::kTx, BuildCryptoInfo(version, keys, 0));
  if (!again.ok()) {
    EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
    EXPECT_NE(again.message().find("6.14"), absl::string_view::npos) << again;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllVersionsAndCiphers, KernelTlsTest,
    ::testing::Combine(::testing::Values(TlsVersion::kTls12, TlsVersion::kTls13),
                       ::testing::Values(Cipher::kAes128Gcm, Cipher::kAes256Gcm,
                                         Cipher::kChacha20Poly1305)),
    [](const auto& info) {
      std::string name = std::get<0>(info.param) == TlsVersion::kTls12 ? "Tls12" : "Tls13";
      switch (std::get<1>(info.param)) {
        case Cipher::kAes128Gcm: return name + "Aes128Gcm";
        case Cipher::kAes256Gcm: return name + "Aes256Gcm";
        case Cipher::kChacha20Poly1305: return name + "Chacha20";
      }
      return name;
    });

}  // namespace
}  // namespace sstp::ktls
