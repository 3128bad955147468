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
#include "daemon/dataplane/offload.h"
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
  absl::StatusOr<Opened> Open(absl::Span<const uint8_t> in, absl::Span<uint8_t> plain,
                              std::vector<uint8_t>*) override {
    // The engine's promise: room for the input and a held-back record.
    EXPECT_GE(plain.size(), in.size() + kMaxHeldCiphertext);
    EXPECT_LT(buffer_.size(), kMaxHeldCiphertext);
    buffer_.insert(buffer_.end(), in.begin(), in.end());
    Opened opened;
    while (buffer_.size() >= 2) {
      const size_t n = size_t{buffer_[0]} << 8 | buffer_[1];
      if (n == 0) {  // Our stand-in for close_notify.
        opened.closed = true;
        break;
      }
      if (buffer_.size() < 2 + n) break;
      if (opened.plaintext + n > plain.size()) return absl::InternalError("no room");
      for (size_t i = 0; i < n; ++i) plain[opened.plaintext++] = buffer_[2 + i] ^ 0x5a;
      buffer_.erase(buffer_.begin(), buffer_.begin() + 2 + n);
    }
    return opened;
  }
  static Bytes Wrap(const Bytes& plaintext) {
    XorCodec c;
    Bytes out;
    EXPECT_TRUE(c.Seal(plaintext, &out).ok());
    return out;
  }
  static Bytes Unwrap(const Bytes& ciphertext) {
    XorCodec c;
    Bytes out(ciphertext.size() + kMaxHeldCiphertext);
    absl::StatusOr<Opened> opened = c.Open(ciphertext, absl::MakeSpan(out), nullptr);
    EXPECT_TRUE(opened.ok());
    out.resize(opened.ok() ? opened->plaintext : 0);
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
    absl::StatusOr<std::unique_ptr<uring::Ring>> ring =
        uring::Ring::Create(256, Engine::kCompletionQueueEntries);
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

  // Few buffers and a low back-pressure mark: reads pause early and often.
  static EngineOptions FewBuffers() {
    EngineOptions options;
    options.tun_buffers = 8;
    options.tun_read_depth = 4;
    options.max_pending_bytes = 8 * 1024;
    return options;
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
    std::vector<uint8_t> buf(70000);
    ssize_t n;
    while ((n = read(tun_peer_.get(), buf.data(), buf.size())) > 0) out.emplace_back(buf.begin(), buf.begin() + n);
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

TEST_P(EngineTest, PacketsAfterAQuietSpellAreRead) {
  // Each round: the reads find the queue empty (EAGAIN) and a poll is armed;
  // packets written then must wake the reads, round after round. Few
  // buffers: a read that fails with EAGAIN must not keep one.
  EngineOptions options;
  options.tun_buffers = 8;
  options.tun_read_depth = 8;
  MakeEngine(options);
  ASSERT_TRUE(engine_->AttachTun(tun_.get()).ok());
  size_t expected = 0;
  for (int round = 0; round < 40; ++round) {
    Pump(3);
    ASSERT_EQ(ServerReceivedPackets().size(), expected) << "round " << round;
    for (int i = 0; i < 1 + round % 7; ++i) {
      const Bytes p = IpPacket(4, 60 + i, static_cast<uint8_t>(round));
      ASSERT_EQ(write(tun_peer_.get(), p.data(), p.size()), static_cast<ssize_t>(p.size()));
      ++expected;
    }
    for (int turn = 0; turn < 200 && ServerReceivedPackets().size() < expected; ++turn) Pump();
    ASSERT_EQ(ServerReceivedPackets().size(), expected) << "round " << round;
  }
  EXPECT_EQ(engine_->counters().tx_packets, expected);
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

TEST_P(EngineTest, FramesTooShortForAnIpHeaderAreDropped) {
  MakeEngine();
  ASSERT_TRUE(engine_->AttachTun(tun_.get()).ok());
  Bytes stream;
  // Hostile or broken: IPv4 and IPv6 frames shorter than their headers, and
  // an IPv4 frame holding an IPv6 version nibble.
  const std::pair<uint16_t, Bytes> bad[] = {{ppp::kProtocolIpv4, IpPacket(4, 19, 1)},
                                            {ppp::kProtocolIpv6, IpPacket(6, 39, 2)},
                                            {ppp::kProtocolIpv4, IpPacket(6, 100, 3)}};
  for (const auto& [protocol, packet] : bad) {
    const Bytes p = SstpData(protocol, packet);
    stream.insert(stream.end(), p.begin(), p.end());
  }
  const Bytes good = IpPacket(4, 20, 4);
  const Bytes last = SstpData(ppp::kProtocolIpv4, good);
  stream.insert(stream.end(), last.begin(), last.end());
  ServerSend(stream);
  std::vector<Bytes> got;
  for (int i = 0; i < 50 && got.empty(); ++i) {
    Pump();
    got = TunPeerReceived();
  }
  EXPECT_EQ(got, std::vector<Bytes>{good});
  EXPECT_EQ(engine_->counters().rx_dropped, 3u);
  EXPECT_EQ(engine_->counters().rx_packets, 1u);
}

TEST_P(EngineTest, EmptySstpPacketIsRefused) {
  MakeEngine();
  EXPECT_EQ(engine_->SendSstp({}).code(), absl::StatusCode::kInvalidArgument);
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
  MakeEngine(FewBuffers());
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

// ------------------------------------------------------------ TUN offloads

uint16_t Get16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t Get32(const Bytes& b, size_t at) { return uint32_t{Get16(b, at)} << 16 | Get16(b, at + 2); }
void Put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

// IPv4 (no DF, ID `id`) + TCP (ACK, 32-byte header with a timestamp option)
// 10.0.0.1:40000 -> 10.0.0.2:5001, valid checksums.
Bytes TcpSegment(uint32_t seq, const Bytes& payload, uint16_t id, uint8_t flags = 0x10) {
  Bytes p(20 + 32, 0);
  p[0] = 0x45;
  Put16(p, 2, static_cast<uint16_t>(p.size() + payload.size()));
  Put16(p, 4, id);
  p[8] = 64;
  p[9] = 6;
  p[12] = 10, p[15] = 1, p[16] = 10, p[19] = 2;
  Put16(p, 10, static_cast<uint16_t>(~OnesComplementSum(absl::MakeConstSpan(p).first(20))));
  Put16(p, 20, 40000);
  Put16(p, 22, 5001);
  for (int i = 0; i < 4; ++i) p[24 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  p[28 + 3] = 7;  // ACK number.
  p[32] = 8 << 4;
  p[33] = flags;
  Put16(p, 34, 512);
  const uint8_t timestamps[] = {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 5};
  std::copy(std::begin(timestamps), std::end(timestamps), p.begin() + 40);
  p.insert(p.end(), payload.begin(), payload.end());
  uint16_t sum = PseudoHeaderSum(p, 6, p.size() - 20);
  Put16(p, 36, static_cast<uint16_t>(~OnesComplementSum(absl::MakeConstSpan(p).subspan(20), sum)));
  return p;
}

bool ChecksumsValid(const Bytes& ip) {
  if (OnesComplementSum(absl::MakeConstSpan(ip).first(20)) != 0xffff) return false;
  return OnesComplementSum(absl::MakeConstSpan(ip).subspan(20), PseudoHeaderSum(ip, ip[9], ip.size() - 20)) ==
         0xffff;
}

Bytes Pattern(size_t size, int seed) {
  Bytes b(size);
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(i * 7 + seed);
  return b;
}

Bytes WithVnet(const VnetHeader& vnet, const Bytes& packet) {
  Bytes out(kVnetHeaderSize);
  WriteVnetHeader(vnet, absl::MakeSpan(out));
  out.insert(out.end(), packet.begin(), packet.end());
  return out;
}

TEST_P(EngineTest, TsoSuperPacketGoesOutAsMtuSizedSegments) {
  MakeEngine();
  ASSERT_TRUE(engine_->AttachTun(tun_.get(), /*vnet_hdr=*/true).ok());
  const Bytes data = Pattern(5000, 3);
  Bytes super = TcpSegment(0xfffff000, data, 0x100, 0x18);  // ACK|PSH.
  VnetHeader vnet;
  vnet.flags = kVnetNeedsCsum;
  vnet.gso_type = kGsoTcpV4;
  vnet.gso_size = 1348;  // 20 + 32 + 1348 = the engine's MTU of 1400.
  vnet.csum_start = 20;
  vnet.csum_offset = 16;
  const Bytes wire = WithVnet(vnet, super);
  ASSERT_EQ(write(tun_peer_.get(), wire.data(), wire.size()), static_cast<ssize_t>(wire.size()));
  std::vector<Bytes> got;
  for (int i = 0; i < 100 && got.size() < 4; ++i) {
    Pump();
    got = ServerReceivedPackets();
  }
  ASSERT_EQ(got.size(), 4u);
  Bytes joined;
  for (size_t i = 0; i < got.size(); ++i) {
    const Bytes ip(got[i].begin() + 8, got[i].end());  // After SSTP + FF 03 00 21.
    EXPECT_EQ(Bytes(got[i].begin() + 4, got[i].begin() + 8), (Bytes{0xff, 0x03, 0x00, 0x21}));
    EXPECT_LE(ip.size(), 1400u);
    EXPECT_EQ(Get16(ip, 2), ip.size());
    EXPECT_EQ(Get16(ip, 4), 0x100 + i) << "IPv4 IDs run on";
    EXPECT_EQ(Get32(ip, 24), 0xfffff000u + 1348 * i) << "sequence numbers";
    EXPECT_EQ(ip[33], i == 3 ? 0x18 : 0x10) << "PSH on the last segment only";
    EXPECT_TRUE(ChecksumsValid(ip)) << i;
    joined.insert(joined.end(), ip.begin() + 52, ip.end());
  }
  EXPECT_EQ(joined, data);
  EXPECT_EQ(engine_->counters().tx_super_packets, 1u);
  EXPECT_EQ(engine_->counters().tx_packets, 4u);
}

TEST_P(EngineTest, ReadsGoOnWhenEverythingReadWasDropped) {
  // Reads pause while what was read exceeds max_pending_bytes; if all of it
  // is then dropped (here: TSO segments too big for the MTU), no send
  // follows, and the reads must resume anyway.
  MakeEngine(FewBuffers());
  ASSERT_TRUE(engine_->AttachTun(tun_.get(), /*vnet_hdr=*/true).ok());
  VnetHeader vnet;
  vnet.flags = kVnetNeedsCsum;
  vnet.gso_type = kGsoTcpV4;
  vnet.gso_size = 1400;  // 52 + 1400 > the engine's MTU of 1400: dropped.
  vnet.csum_start = 20;
  vnet.csum_offset = 16;
  for (int i = 0; i < 6; ++i) {  // Each one alone exceeds max_pending_bytes.
    const Bytes wire = WithVnet(vnet, TcpSegment(10000 * i, Pattern(10000, i), 0x100));
    ASSERT_EQ(write(tun_peer_.get(), wire.data(), wire.size()), static_cast<ssize_t>(wire.size()));
  }
  for (int i = 0; i < 20; ++i) Pump();
  EXPECT_EQ(engine_->counters().tx_dropped, 6u);
  const Bytes packet = IpPacket(4, 300, 9);
  const Bytes wire = WithVnet({}, packet);
  ASSERT_EQ(write(tun_peer_.get(), wire.data(), wire.size()), static_cast<ssize_t>(wire.size()));
  std::vector<Bytes> got;
  for (int i = 0; i < 100 && got.empty(); ++i) {
    Pump();
    got = ServerReceivedPackets();
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Bytes(got[0].begin() + 8, got[0].end()), packet);
}

TEST_P(EngineTest, PartialChecksumFromTheTunIsCompleted) {
  MakeEngine();
  ASSERT_TRUE(engine_->AttachTun(tun_.get(), /*vnet_hdr=*/true).ok());
  const Bytes original = TcpSegment(1, Pattern(300, 1), 9);
  Bytes partial = original;
  // As the kernel leaves it: the pseudo-header sum, not complemented.
  Put16(partial, 36, PseudoHeaderSum(partial, 6, partial.size() - 20));
  VnetHeader vnet;
  vnet.flags = kVnetNeedsCsum;
  vnet.csum_start = 20;
  vnet.csum_offset = 16;
  const Bytes first = WithVnet(vnet, partial);
  const Bytes second = WithVnet({}, IpPacket(6, 80, 0x66));  // No flags: as it is.
  ASSERT_EQ(write(tun_peer_.get(), first.data(), first.size()), static_cast<ssize_t>(first.size()));
  ASSERT_EQ(write(tun_peer_.get(), second.data(), second.size()), static_cast<ssize_t>(second.size()));
  std::vector<Bytes> got;
  for (int i = 0; i < 100 && got.size() < 2; ++i) {
    Pump();
    got = ServerReceivedPackets();
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Bytes(got[0].begin() + 8, got[0].end()), original);
  EXPECT_EQ(Bytes(got[1].begin() + 8, got[1].end()), IpPacket(6, 80, 0x66));
  EXPECT_EQ(Bytes(got[1].begin() + 4, got[1].begin() + 8), (Bytes{0xff, 0x03, 0x00, 0x57}));
}

TEST_P(EngineTest, SegmentsFromTheServerReachTheTunJoined) {
  MakeEngine();
  ASSERT_TRUE(engine_->AttachTun(tun_.get(), /*vnet_hdr=*/true).ok());
  Bytes stream, data;
  for (int i = 0; i < 8; ++i) {
    const Bytes payload = Pattern(1000, i);
    data.insert(data.end(), payload.begin(), payload.end());
    const Bytes p = SstpData(ppp::kProtocolIpv4, TcpSegment(5000 + 1000 * i, payload, static_cast<uint16_t>(20 + i)));
    stream.insert(stream.end(), p.begin(), p.end());
  }
  const Bytes other = IpPacket(4, 90, 0x11);  // UDP: written as it is, not held back.
  const Bytes p = SstpData(ppp::kProtocolIpv4, other);
  stream.insert(stream.end(), p.begin(), p.end());
  ServerSend(stream);
  std::vector<Bytes> got;
  for (int i = 0; i < 100 && got.size() < 2; ++i) {
    Pump();
    for (Bytes& b : TunPeerReceived()) got.push_back(std::move(b));
  }
  ASSERT_EQ(got.size(), 2u);
  // The joined flow goes out when the slot is done; other packets at once.
  EXPECT_EQ(got[0], WithVnet({}, other));
  const VnetHeader vnet = ParseVnetHeader(got[1]);
  EXPECT_EQ(vnet.flags, kVnetNeedsCsum);
  EXPECT_EQ(vnet.gso_type, kGsoTcpV4);
  EXPECT_EQ(vnet.gso_size, 1000);
  EXPECT_EQ(vnet.hdr_len, 52);
  EXPECT_EQ(vnet.csum_start, 20);
  EXPECT_EQ(vnet.csum_offset, 16);
  const Bytes ip(got[1].begin() + kVnetHeaderSize, got[1].end());
  EXPECT_EQ(Get16(ip, 2), ip.size());
  EXPECT_EQ(Get32(ip, 24), 5000u);
  EXPECT_EQ(Bytes(ip.begin() + 52, ip.end()), data);
  EXPECT_EQ(engine_->counters().rx_packets, 9u);
  EXPECT_EQ(engine_->counters().rx_super_packets, 1u);
  EXPECT_EQ(engine_->counters().rx_joined, 7u);
}

INSTANTIATE_TEST_SUITE_P(RecordLayers, EngineTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "UserSpace" : "KernelStyle";
                         });

TEST_P(EngineTest, AttachTunMakesTheTunNonBlocking) {
  // io_uring then reads and writes it inline; an empty queue is waited for
  // with a poll, not in io-wq or io_uring's async poll.
  MakeEngine();
  ASSERT_EQ(fcntl(tun_.get(), F_GETFL) & O_NONBLOCK, 0);
  ASSERT_TRUE(engine_->AttachTun(tun_.get()).ok());
  EXPECT_NE(fcntl(tun_.get(), F_GETFL) & O_NONBLOCK, 0);
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
