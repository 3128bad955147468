#include "daemon/dataplane/engine.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "daemon/ppp/frame.h"
#include "daemon/sstp/packet.h"
#include "daemon/sstp/stream.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::dataplane {
namespace {

using Bytes = std::vector<uint8_t>;

struct Recorder final : ControlPlane {
  void OnSstpControl(absl::Span<const uint8_t> packet) override {
    control.emplace_back(packet.begin(), packet.end());
  }
  void OnPppFrame(uint16_t protocol, absl::Span<const uint8_t> information,
                  bool had_address_control) override {
    ppp.push_back({protocol, Bytes(information.begin(), information.end())});
    address_control.push_back(had_address_control);
  }
  void OnTraffic() override { ++traffic; }
  void OnTlsRecord(uint8_t type, absl::Span<const uint8_t>) override { tls_records.push_back(type); }
  void OnTransportClosed(absl::Status reason) override { closed = reason; }

  std::vector<Bytes> control;
  std::vector<std::pair<uint16_t, Bytes>> ppp;
  std::vector<bool> address_control;
  int traffic = 0;
  std::vector<uint8_t> tls_records;
  std::optional<absl::Status> closed;
};

// A toy record layer standing in for TLS: each record is a 2-byte length
// followed by the plaintext XOR 0x5a. Enough to prove the engine seals at
// record boundaries and reassembles records cut across receives.
class XorCodec final : public RecordCodec {
 public:
  absl::Status Seal(absl::Span<const uint8_t> plaintext, std::vector<uint8_t>* out) override {
    if (plaintext.size() > 16384) return absl::InternalError("record too large");
    ++sealed_records;
    out->push_back(static_cast<uint8_t>(plaintext.size() >> 8));
    out->push_back(static_cast<uint8_t>(plaintext.size()));
    for (uint8_t b : plaintext) out->push_back(b ^ 0x5a);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Open(absl::Span<const uint8_t> in, std::vector<uint8_t>* plain,
                            std::vector<uint8_t>*) override {
    buffer_.insert(buffer_.end(), in.begin(), in.end());
    while (buffer_.size() >= 2) {
      const size_t n = size_t{buffer_[0]} << 8 | buffer_[1];
      if (n == 0) return true;  // Our stand-in for close_notify.
      if (buffer_.size() < 2 + n) break;
      for (size_t i = 0; i < n; ++i) plain->push_back(buffer_[2 + i] ^ 0x5a);
      buffer_.erase(buffer_.begin(), buffer_.begin() + 2 + n);
    }
    return false;
  }
  static Bytes Wrap(const Bytes& plaintext) {
    XorCodec c;
    Bytes out;
    EXPECT_TRUE(c.Seal(plaintext, &out).ok());
    return out;
  }
  static Bytes Unwrap(const Bytes& ciphertext) {
    XorCodec c;
    Bytes out;
    EXPECT_TRUE(c.Open(ciphertext, &out, nullptr).ok());
    return out;
  }
  int sealed_records = 0;

 private:
  Bytes buffer_;
};

Bytes IpPacket(int version, size_t size, uint8_t fill) {
  Bytes p(size, fill);
  p[0] = static_cast<uint8_t>(version << 4 | 5);
  return p;
}

Bytes SstpData(uint16_t protocol, const Bytes& information) {
  Bytes frame = *ppp::EncodeFrame(protocol, information);
  return *proto::EncodeDataPacket(frame);
}

class EngineTest : public ::testing::TestWithParam<bool> {
 protected:
  bool user_space() const { return GetParam(); }

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<uring::Ring>> ring = uring::Ring::Create(256);
    ASSERT_TRUE(ring.ok()) << ring.status();
    ring_ = std::move(*ring);
    int s[2], t[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
    // A SOCK_SEQPACKET pair behaves like a TUN: one read, one packet.
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, t), 0);
    socket_.reset(s[0]);
    server_.reset(s[1]);
    tun_.reset(t[0]);
    tun_peer_.reset(t[1]);
    fcntl(server_.get(), F_SETFL, O_NONBLOCK);
    fcntl(tun_peer_.get(), F_SETFL, O_NONBLOCK);
  }

  void MakeEngine(EngineOptions options = {}) {
    options.socket_fd = socket_.get();
    options.codec = user_space() ? &codec_ : nullptr;
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(*ring_, options, control_, Logger("test"));
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    engine_->Start();
  }

  void Pump(int turns = 1) {
    for (int i = 0; i < turns; ++i) {
      ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(2)).ok());
      engine_->Flush();
    }
  }

  // What the server side would see: SSTP packets, after the toy TLS.
  std::vector<Bytes> ServerReceivedPackets() {
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(server_.get(), buf, sizeof(buf))) > 0) server_bytes_.insert(server_bytes_.end(), buf, buf + n);
    const Bytes plain = user_space() ? XorCodec::Unwrap(server_bytes_) : server_bytes_;
    std::vector<Bytes> packets;
    proto::PacketReassembler reassembler;
    EXPECT_TRUE(reassembler
                    .Feed(plain, [&](absl::Span<const uint8_t> p) { packets.emplace_back(p.begin(), p.end()); })
                    .ok());
    return packets;
  }

  void ServerSend(const Bytes& plaintext) {
    const Bytes wire = user_space() ? XorCodec::Wrap(plaintext) : plaintext;
    ASSERT_EQ(write(server_.get(), wire.data(), wire.size()), static_cast<ssize_t>(wire.size()));
  }

  std::vector<Bytes> TunPeerReceived() {
    std::vector<Bytes> out;
    uint8_t buf[8192];
    ssize_t n;
    while ((n = read(tun_peer_.get(), buf, sizeof(buf))) > 0) out.emplace_back(buf, buf + n);
    return out;
  }

  void StopAndDrain() {
    engine_->Stop();
    for (int i = 0; i < 500 && !engine_->stopped(); ++i) {
      ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(2)).ok());
    }
    ASSERT_TRUE(engine_->stopped());
  }

  void TearDown() override {
    if (engine_ && !engine_->stopped()) StopAndDrain();
    engine_.reset();
  }

  std::unique_ptr<uring::Ring> ring_;
  UniqueFd socket_, server_, tun_, tun_peer_;
  Recorder control_;
  XorCodec codec_;
  std::unique_ptr<Engine> engine_;
  Bytes server_bytes_;
};

TEST_P(EngineTest, TunPacketsGoOutFramedInOrder) {
  MakeEngine();
  ASSERT_TRUE(engine_->AttachTun(tun_.get()).ok());
  std::vector<Bytes> sent;
  std::vector<Bytes> got;
  for (int turn = 0; turn < 1000 && got.size() < 200; ++turn) {
    while (sent.size() < 200) {
      const int i = static_cast<int>(sent.size());
      Bytes p = IpPacket(i % 3 == 0 ? 6 : 4, 40 + (i * 37) % 1300, static_cast<uint8_t>(i));
      if (write(tun_peer_.get(), p.data(), p.size()) < 0) break;  // Queue full: pump first.
      sent.push_back(std::move(p));
    }
    Pump();
    got = ServerReceivedPackets();
  }
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    absl::StatusOr<proto::Packet> packet = proto::ParsePacket(got[i]);
    ASSERT_TRUE(packet.ok()) << packet.status();
    ASSERT_NE(packet->data(), nullptr);
    // Always FF 03 and a 2-byte protocol field (SSTP-NOTES.md).
    const Bytes payload(packet->data()->payload.begin(), packet->data()->payload.end());
    ASSERT_EQ(payload[0], 0xff);
    ASSERT_EQ(payload[1], 0x03);
    absl::StatusOr<ppp::Frame> frame = ppp::DecodeFrame(payload);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->protocol, i % 3 == 0 ? ppp::kProtocolIpv6 : ppp::kProtocolIpv4);
    EXPECT_EQ(Bytes(frame->information.begin(), frame->information.end()), sent[i]) << i;
  }
  EXPECT_EQ(engine_->counters().tx_packets, 200u);
  EXPECT_LT(engine_->counters().socket_sends, 200u) << "packets must be batched per send";
  if (user_space()) {
    EXPECT_LT(codec_.sealed_records, 200);
  }
}

TEST_P(EngineTest, ServerBytesReachTunAndControlPlaneInOrder) {
  MakeEngine();
  ASSERT_TRUE(engine_->AttachTun(tun_.get()).ok());
  Bytes stream;
  std::vector<Bytes> ip;
  for (int i = 0; i < 50; ++i) {
    ip.push_back(IpPacket(i % 2 ? 6 : 4, 60 + i * 50, static_cast<uint8_t>(i)));
    const Bytes p = SstpData(i % 2 ? ppp::kProtocolIpv6 : ppp::kProtocolIpv4, ip.back());
    stream.insert(stream.end(), p.begin(), p.end());
    if (i == 10) {
      const Bytes echo = proto::EncodeEchoRequest();
      stream.insert(stream.end(), echo.begin(), echo.end());
    }
    if (i == 20) {
      const Bytes lcp = SstpData(ppp::kProtocolLcp, {9, 1, 0, 8, 0, 0, 0, 0});
      stream.insert(stream.end(), lcp.begin(), lcp.end());
    }
  }
  // Cut the stream at awkward places: 1-byte pieces, then larger ones.
  std::mt19937 rng(7);
  size_t off = 0;
  while (off < stream.size()) {
    const size_t n = std::min<size_t>(stream.size() - off, off < 100 ? 1 : 1 + rng() % 3000);
    ServerSend(Bytes(stream.begin() + off, stream.begin() + off + n));
    off += n;
    Pump();
  }
  std::vector<Bytes> got;
  for (int i = 0; i < 200 && got.size() < ip.size(); ++i) {
    Pump();
    for (Bytes& b : TunPeerReceived()) got.push_back(std::move(b));
  }
  EXPECT_EQ(got, ip);
  ASSERT_EQ(control_.control.size(), 1u);
  EXPECT_EQ(control_.control[0], proto::EncodeEchoRequest());
  ASSERT_EQ(control_.ppp.size(), 1u);
  EXPECT_EQ(control_.ppp[0].first, ppp::kProtocolLcp);
  EXPECT_GT(control_.traffic, 0);
  EXPECT_EQ(engine_->counters().rx_packets, 50u);
  EXPECT_FALSE(control_.closed.has_value());
}

TEST_P(EngineTest, IpBeforeTunIsAttachedIsDropped) {
  MakeEngine();
  ServerSend(SstpData(ppp::kProtocolIpv4, IpPacket(4, 100, 1)));
  for (int i = 0; i < 20 && engine_->counters().rx_dropped == 0; ++i) Pump();
  EXPECT_EQ(engine_->counters().rx_dropped, 1u);
  EXPECT_EQ(engine_->counters().rx_packets, 0u);
}

TEST_P(EngineTest, ReportsWhetherFramesCarriedFF03) {
  MakeEngine();
  ServerSend(SstpData(ppp::kProtocolLcp, {9, 1, 0, 8, 0, 0, 0, 0}));
  // ACFC-compressed: no FF 03, protocol C0 21 straight after the SSTP header.
  ServerSend(*proto::EncodeDataPacket(Bytes{0xc0, 0x21, 9, 2, 0, 8, 0, 0, 0, 0}));
  for (int i = 0; i < 50 && control_.ppp.size() < 2; ++i) Pump();
  ASSERT_EQ(control_.ppp.size(), 2u);
  EXPECT_EQ(control_.address_control, (std::vector<bool>{true, false}));
  EXPECT_EQ(control_.ppp[1].second, (Bytes{9, 2, 0, 8, 0, 0, 0, 0}));
}

TEST_P(EngineTest, ControlPlaneSendsGoOutInOrder) {
  MakeEngine();
  ASSERT_TRUE(engine_->SendSstp(proto::EncodeCallConnectRequest()).ok());
  const Bytes lcp = {1, 1, 0, 4};
  ASSERT_TRUE(engine_->SendPpp(ppp::kProtocolLcp, lcp).ok());
  std::vector<Bytes> got;
  for (int i = 0; i < 50 && got.size() < 2; ++i) {
    Pump();
    got = ServerReceivedPackets();
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], proto::EncodeCallConnectRequest());
  EXPECT_EQ(got[1], SstpData(ppp::kProtocolLcp, lcp));
}

TEST_P(EngineTest, OversizedPppFrameIsRefused) {
  MakeEngine();
  EXPECT_EQ(engine_->SendPpp(ppp::kProtocolLcp, Bytes(4088, 0)).message(),
            "PPP frame of 4092 bytes exceeds SSTP's 4091");
}

TEST_P(EngineTest, FramingErrorClosesTheTransport) {
  MakeEngine();
  ServerSend({0x11, 0x00, 0x00, 0x08, 0, 0, 0, 0});
  for (int i = 0; i < 20 && !control_.closed; ++i) Pump();
  ASSERT_TRUE(control_.closed.has_value());
  EXPECT_THAT(std::string(control_.closed->message()), ::testing::HasSubstr("SSTP framing"));
}

TEST_P(EngineTest, PeerCloseIsReported) {
  MakeEngine();
  server_.reset();
  for (int i = 0; i < 20 && !control_.closed; ++i) Pump();
  ASSERT_TRUE(control_.closed.has_value());
  EXPECT_EQ(control_.closed->message(), "the server closed the TCP connection");
}

TEST_P(EngineTest, BackPressureLosesNothingWithFewBuffers) {
  EngineOptions options;
  options.tun_buffers = 8;
  options.tun_read_depth = 4;
  options.max_pending_bytes = 8 * 1024;
  MakeEngine(options);
  ASSERT_TRUE(engine_->AttachTun(tun_.get()).ok());
  std::vector<Bytes> sent;
  size_t written = 0;
  std::vector<Bytes> got;
  for (int turn = 0; turn < 5000 && got.size() < 2000; ++turn) {
    while (sent.size() < 2000) {
      Bytes p = IpPacket(4, 1000 + sent.size() % 300, static_cast<uint8_t>(sent.size()));
      if (write(tun_peer_.get(), p.data(), p.size()) < 0) break;  // Queue full: try later.
      sent.push_back(std::move(p));
    }
    written = sent.size();
    Pump();
    got = ServerReceivedPackets();
  }
  ASSERT_EQ(written, 2000u);
  ASSERT_EQ(got.size(), 2000u);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(Bytes(got[i].begin() + 8, got[i].end()), sent[i]) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(RecordLayers, EngineTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "UserSpace" : "KernelStyle";
                         });

TEST_P(EngineTest, RefusesANonBlockingTun) {
  MakeEngine();
  fcntl(tun_.get(), F_SETFL, O_NONBLOCK);
  EXPECT_EQ(engine_->AttachTun(tun_.get()).message(),
            "data plane: the TUN fd must be blocking (O_NONBLOCK is set)");
}

TEST(EngineCreateTest, RejectsBadOptions) {
  absl::StatusOr<std::unique_ptr<uring::Ring>> ring = uring::Ring::Create(8);
  ASSERT_TRUE(ring.ok());
  Recorder control;
  EngineOptions options;
  EXPECT_EQ(Engine::Create(**ring, options, control, Logger("t")).status().message(),
            "data plane: no socket");
  options.socket_fd = 0;
  options.mtu = 5000;
  EXPECT_EQ(Engine::Create(**ring, options, control, Logger("t")).status().message(),
            "data plane: MTU 5000 out of range");
}

}  // namespace
}  // namespace sstp::dataplane
