// PppClient against a scripted fake server built from the codecs: each test
// plays the server's side of one exchange (Windows RRAS, SoftEther, a
// generic server) and checks the client's frames byte by byte where the
// bytes matter, and its actions.
#include "daemon/ppp/client.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "base/random.h"
#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/chap_md5.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/options.h"
#include "daemon/ppp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// RFC 2759 9.2.
constexpr absl::string_view kAuthenticatorChallenge =
    "5B5D7C7D7B3F2F3E3C2C602132262628";
constexpr absl::string_view kPeerChallenge = "21402324255E262A28295F2B3A337C7E";
constexpr absl::string_view kNtResponse =
    "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
constexpr absl::string_view kSuccessMessage =
    "S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Welcome";
// SSTP-NOTES (RFC 3079 3.5.3): client send key || client receive key.
constexpr absl::string_view kHlak =
    "D5F0E9521E3EA9589645E86051C822268B7CDC149B993A1BA118CB153F56DCCB";

// The client's random stream: Magic-Number 0x11223344 (drawn first, by the
// LCP negotiator), then the MS-CHAPv2 Peer-Challenge of RFC 2759 9.2.
std::vector<uint8_t> RandomBytes() {
  return HexOrDie(absl::StrCat("11223344", kPeerChallenge));
}

// Our LCP Configure-Request: MRU 1400, Magic-Number 0x11223344.
constexpr absl::string_view kOurLcpOptions = "0104 0578 0506 11223344";
// A server asking for MS-CHAPv2, with MRU 1500 and its own magic.
constexpr absl::string_view kServerMsChapV2 = "0104 05dc 0305 c223 81 0506 aabbccdd";
// Our IPCP Configure-Request with DNS: all zeros.
constexpr absl::string_view kOurIpcpOptions =
    "0306 00000000 8106 00000000 8306 00000000";
constexpr absl::string_view kIpcpAssigned =
    "0306 c0a8640a 8106 08080808 8306 08080404";

std::vector<uint8_t> Bytes(absl::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::vector<uint8_t> Ctl(Code code, uint8_t id,
                         const std::vector<uint8_t>& data) {
  return EncodeControlPacket(code, id, data).value();
}

ClientConfig Config(std::vector<AuthMethod> methods = {
                        AuthMethod::kMsChapV2, AuthMethod::kEapMsChapV2}) {
  ClientConfig config;
  config.user_name = "User";
  config.password = SecretString("clientPass");
  config.auth_methods = std::move(methods);
  config.logger = Logger("test");
  return config;
}

// A packet the client sent, parsed.
struct Sent {
  uint16_t protocol = 0;
  uint8_t code = 0;
  uint8_t id = 0;
  std::vector<uint8_t> data;
  std::vector<uint8_t> information;
  bool holds_secret = false;
};

class PppClientTest : public ::testing::Test {
 protected:
  void Start(ClientConfig config,
             std::vector<uint8_t> random_bytes = RandomBytes()) {
    random_ = std::make_unique<FixedRandom>(std::move(random_bytes));
    client_ = std::make_unique<PppClient>(std::move(config), *random_);
    Run(client_->Up());
  }

  void Run(ClientActions actions) {
    for (ClientAction& action : actions) {
      if (auto* frame = std::get_if<SendFrame>(&action)) {
        frames_.push_back(std::move(*frame));
      } else if (auto* start = std::get_if<StartTimer>(&action)) {
        timers_[start->id] = start->after;
      } else if (auto* stop = std::get_if<StopTimer>(&action)) {
        EXPECT_TRUE(timers_.count(stop->id))
            << "StopTimer of a timer that does not run: "
            << TimerIdName(stop->id);
        timers_.erase(stop->id);
      } else {
        events_.push_back(std::move(action));
      }
    }
  }

  void Feed(uint16_t protocol, const std::vector<uint8_t>& information) {
    Run(client_->OnFrame(protocol, information));
  }
  void FeedCtl(uint16_t protocol, Code code, uint8_t id,
               absl::string_view hex_data) {
    Feed(protocol, Ctl(code, id, HexOrDie(hex_data)));
  }

  void Fire(TimerId id) {
    ASSERT_TRUE(timers_.count(id)) << TimerIdName(id) << " is not running";
    timers_.erase(id);
    Run(client_->OnTimer(id));
  }
  bool Running(TimerId id) const { return timers_.count(id) > 0; }

  // Pops the first frame the client sent (of `protocol`, if given: frames
  // of different protocols are independent streams).
  Sent Pop(std::optional<uint16_t> protocol = std::nullopt) {
    Sent sent;
    auto it = frames_.begin();
    while (protocol && it != frames_.end() && it->protocol != *protocol) ++it;
    EXPECT_TRUE(it != frames_.end())
        << "the client sent no "
        << (protocol ? ProtocolName(*protocol) : std::string("frame"));
    if (it == frames_.end()) return sent;
    SendFrame frame = std::move(*it);
    frames_.erase(it);
    sent.protocol = frame.protocol;
    sent.information = frame.information;
    sent.holds_secret = frame.holds_secret;
    absl::StatusOr<ControlPacket> packet = ParseControlPacket(frame.information);
    EXPECT_TRUE(packet.ok()) << packet.status();
    if (packet.ok()) {
      sent.code = static_cast<uint8_t>(packet->code);
      sent.id = packet->identifier;
      sent.data.assign(packet->data.begin(), packet->data.end());
    }
    return sent;
  }
  // Pops a control packet of `protocol` with `code`.
  Sent Expect(uint16_t protocol, Code code) {
    Sent sent = Pop(protocol);
    EXPECT_EQ(ProtocolName(sent.protocol), ProtocolName(protocol));
    EXPECT_EQ(CodeName(static_cast<Code>(sent.code)), CodeName(code));
    return sent;
  }

  template <typename T>
  std::vector<T> Events() const {
    std::vector<T> out;
    for (const ClientAction& action : events_) {
      if (const T* t = std::get_if<T>(&action)) out.push_back(*t);
    }
    return out;
  }
  LinkFailed Failure() const {
    std::vector<LinkFailed> failed = Events<LinkFailed>();
    EXPECT_THAT(failed, SizeIs(1));
    return failed.empty() ? LinkFailed{} : failed.front();
  }

  // --- The fake server's usual steps ---------------------------------------

  // Acks the client's LCP Configure-Request (checked against
  // `expected_options`), sends `server_options`, expects the client's Ack.
  void OpenLcp(absl::string_view server_options,
               absl::string_view expected_options = kOurLcpOptions) {
    const Sent request = Expect(kProtocolLcp, Code::kConfigureRequest);
    EXPECT_EQ(ToHex(request.data), ToHex(HexOrDie(expected_options)));
    Feed(kProtocolLcp, Ctl(Code::kConfigureAck, request.id, request.data));
    FeedCtl(kProtocolLcp, Code::kConfigureRequest, 0x41, server_options);
    const Sent ack = Expect(kProtocolLcp, Code::kConfigureAck);
    EXPECT_EQ(ack.id, 0x41);
    EXPECT_EQ(ToHex(ack.data), ToHex(HexOrDie(server_options)));
  }

  // RFC 2759 9.2 over CHAP: Challenge, the exact Response, Success.
  void MsChapV2Exchange() {
    Feed(kProtocolChap, EncodeChapChallenge(
                            0x1c, HexOrDie(kAuthenticatorChallenge), "SRV")
                            .value());
    const Sent response = Pop();
    ASSERT_EQ(response.protocol, kProtocolChap);
    absl::StatusOr<ChapResponse> parsed =
        ParseChapResponse(response.information);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->identifier, 0x1c);
    EXPECT_EQ(parsed->name, "User");
    absl::StatusOr<MsChapV2ResponseValue> value =
        ParseMsChapV2ResponseValue(parsed->value);
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(ToHex(value->peer_challenge), ToHex(HexOrDie(kPeerChallenge)));
    EXPECT_EQ(ToHex(value->nt_response), ToHex(HexOrDie(kNtResponse)));
    Feed(kProtocolChap,
         EncodeChapResult(ChapResult{ChapCode::kSuccess, 0x1c, kSuccessMessage})
             .value());
  }

  // IPCP: Nak with addresses, Ack of the new request, the server's own
  // request Acked. IPv4 is up afterwards.
  void OpenIpcp() {
    const Sent first = Expect(kProtocolIpcp, Code::kConfigureRequest);
    EXPECT_EQ(ToHex(first.data), ToHex(HexOrDie(kOurIpcpOptions)));
    FeedCtl(kProtocolIpcp, Code::kConfigureNak, first.id, kIpcpAssigned);
    const Sent second = Expect(kProtocolIpcp, Code::kConfigureRequest);
    EXPECT_NE(second.id, first.id);
    EXPECT_EQ(ToHex(second.data), ToHex(HexOrDie(kIpcpAssigned)));
    Feed(kProtocolIpcp, Ctl(Code::kConfigureAck, second.id, second.data));
    FeedCtl(kProtocolIpcp, Code::kConfigureRequest, 0x51, "0306 c0a86401");
    const Sent ack = Expect(kProtocolIpcp, Code::kConfigureAck);
    EXPECT_EQ(ToHex(ack.data), ToHex(HexOrDie("0306 c0a86401")));
  }

  // IPv6CP: Ack of the client's identifier, the server's own Acked.
  void OpenIpv6cp() {
    const Sent request = Expect(kProtocolIpv6cp, Code::kConfigureRequest);
    Feed(kProtocolIpv6cp, Ctl(Code::kConfigureAck, request.id, request.data));
    FeedCtl(kProtocolIpv6cp, Code::kConfigureRequest, 0x61,
            "010a 0200000000000001");
    Expect(kProtocolIpv6cp, Code::kConfigureAck);
  }

  // Up to NetworkReady with MS-CHAPv2, IPCP and IPv6CP.
  void ReachNetwork(ClientConfig config = Config()) {
    Start(std::move(config));
    OpenLcp(kServerMsChapV2);
    MsChapV2Exchange();
    OpenIpcp();
    OpenIpv6cp();
    ASSERT_THAT(Events<NetworkReady>(), SizeIs(1));
  }

  std::unique_ptr<FixedRandom> random_;
  std::unique_ptr<PppClient> client_;
  std::deque<SendFrame> frames_;
  std::map<TimerId, absl::Duration> timers_;
  std::vector<ClientAction> events_;
};

// --- Happy paths ----------------------------------------------------------------

TEST_F(PppClientTest, MsChapV2HappyPathWithRfc2759Vector) {
  Start(Config());
  EXPECT_EQ(client_->phase(), Phase::kEstablish);
  EXPECT_EQ(timers_[TimerId::kLcpRestart], absl::Seconds(3));

  // Our first request: MRU 1400 and the Magic-Number, nothing else (never
  // ACFC or PFC), framed as the data plane will (FF 03 C0 21 ...).
  ASSERT_FALSE(frames_.empty());
  EXPECT_EQ(ToHex(EncodeFrame(frames_.front().protocol,
                              frames_.front().information)
                      .value()),
            ToHex(HexOrDie("ff03 c021 01 01 000e 0104 0578 0506 11223344")));

  OpenLcp(kServerMsChapV2);
  EXPECT_EQ(client_->phase(), Phase::kAuthenticate);
  EXPECT_EQ(client_->lcp_state(), State::kOpened);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kMsChapV2);
  EXPECT_EQ(client_->local_mru(), 1400);
  EXPECT_EQ(client_->peer_mru(), 1500);
  EXPECT_EQ(client_->local_magic(), 0x11223344u);
  EXPECT_EQ(client_->peer_magic(), 0xaabbccddu);
  EXPECT_TRUE(Running(TimerId::kAuthTimeout));
  EXPECT_TRUE(Running(TimerId::kEcho));
  EXPECT_FALSE(Running(TimerId::kLcpRestart));

  MsChapV2Exchange();
  const std::vector<Authenticated> auth = Events<Authenticated>();
  ASSERT_THAT(auth, SizeIs(1));
  EXPECT_EQ(auth[0].method, AuthMethod::kMsChapV2);
  EXPECT_EQ(ToHex(auth[0].hlak.span()), ToHex(HexOrDie(kHlak)));
  EXPECT_EQ(client_->phase(), Phase::kNetwork);
  EXPECT_FALSE(Running(TimerId::kAuthTimeout));

  OpenIpcp();
  const std::vector<Ipv4Up> v4 = Events<Ipv4Up>();
  ASSERT_THAT(v4, SizeIs(1));
  EXPECT_EQ(v4[0].local, (Ipv4Address{192, 168, 100, 10}));
  EXPECT_EQ(v4[0].peer, (Ipv4Address{192, 168, 100, 1}));
  EXPECT_EQ(v4[0].dns1, (Ipv4Address{8, 8, 8, 8}));
  EXPECT_EQ(v4[0].dns2, (Ipv4Address{8, 8, 4, 4}));
  EXPECT_THAT(Events<NetworkReady>(), IsEmpty());  // IPv6CP still going

  OpenIpv6cp();
  const std::vector<Ipv6Up> v6 = Events<Ipv6Up>();
  ASSERT_THAT(v6, SizeIs(1));
  EXPECT_NE(v6[0].local, InterfaceIdentifier{});
  EXPECT_EQ(v6[0].peer, (InterfaceIdentifier{2, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_THAT(Events<NetworkReady>(), SizeIs(1));
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  EXPECT_TRUE(frames_.empty());
  // Only the echo timer runs once the network is up.
  EXPECT_THAT(timers_, SizeIs(1));
  EXPECT_TRUE(Running(TimerId::kEcho));
}

TEST_F(PppClientTest, EapMsChapV2HappyPath) {
  // The profile allows only EAP: EAP is Acked at once.
  Start(Config({AuthMethod::kEapMsChapV2}));
  OpenLcp("0104 05dc 0304 c227 0506 aabbccdd");
  EXPECT_EQ(client_->auth_method(), AuthMethod::kEapMsChapV2);

  Feed(kProtocolEap, EncodeEapPacket(EapPacket{EapCode::kRequest, 7,
                                               EapType::kIdentity, {}})
                         .value());
  const Sent identity = Pop();
  EXPECT_EQ(ToHex(identity.information),
            ToHex(EncodeEapIdentityResponse(7, "User").value()));

  EapMsChapV2Packet challenge;
  challenge.op_code = EapMsChapV2OpCode::kChallenge;
  challenge.ms_chapv2_id = 0x42;
  const std::vector<uint8_t> value = HexOrDie(kAuthenticatorChallenge);
  challenge.value = value;
  challenge.name = "SRV";
  Feed(kProtocolEap,
       EncodeEapMsChapV2(EapCode::kRequest, 8, challenge).value());
  const Sent response = Pop();
  absl::StatusOr<EapPacket> eap = ParseEapPacket(response.information);
  ASSERT_TRUE(eap.ok()) << eap.status();
  EXPECT_EQ(eap->identifier, 8);
  absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(*eap);
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kResponse);
  EXPECT_EQ(ms->ms_chapv2_id, 0x42);
  EXPECT_EQ(ms->name, "User");
  absl::StatusOr<MsChapV2ResponseValue> rv =
      ParseMsChapV2ResponseValue(ms->value);
  ASSERT_TRUE(rv.ok());
  EXPECT_EQ(ToHex(rv->nt_response), ToHex(HexOrDie(kNtResponse)));

  EapMsChapV2Packet success;
  success.op_code = EapMsChapV2OpCode::kSuccess;
  success.ms_chapv2_id = 0x42;
  success.message = kSuccessMessage;
  Feed(kProtocolEap, EncodeEapMsChapV2(EapCode::kRequest, 9, success).value());
  const Sent ack = Pop();
  EXPECT_EQ(ToHex(ack.information),
            ToHex(EncodeEapMsChapV2SuccessResponse(9).value()));
  EXPECT_THAT(Events<Authenticated>(), IsEmpty());  // until EAP-Success

  Feed(kProtocolEap, EncodeEapPacket(EapPacket{EapCode::kSuccess, 9}).value());
  const std::vector<Authenticated> auth = Events<Authenticated>();
  ASSERT_THAT(auth, SizeIs(1));
  EXPECT_EQ(auth[0].method, AuthMethod::kEapMsChapV2);
  EXPECT_EQ(ToHex(auth[0].hlak.span()), ToHex(HexOrDie(kHlak)));
  EXPECT_EQ(client_->phase(), Phase::kNetwork);
}

TEST_F(PppClientTest, ChapMd5HappyPath) {
  Start(Config({AuthMethod::kChapMd5}));
  OpenLcp("0305 c223 05 0506 aabbccdd");
  const std::vector<uint8_t> value = HexOrDie("0102030405060708090a0b0c0d0e0f10");
  Feed(kProtocolChap, EncodeChapChallenge(3, value, "SRV").value());
  const Sent response = Pop();
  const ChapMd5Response expected =
      ComputeChapMd5Response(3, "clientPass", value).value();
  EXPECT_EQ(ToHex(response.information),
            ToHex(EncodeChapResponse(3, expected, "User").value()));
  Feed(kProtocolChap,
       EncodeChapResult(ChapResult{ChapCode::kSuccess, 3, "Welcome"}).value());
  const std::vector<Authenticated> auth = Events<Authenticated>();
  ASSERT_THAT(auth, SizeIs(1));
  EXPECT_EQ(auth[0].method, AuthMethod::kChapMd5);
  EXPECT_EQ(ToHex(auth[0].hlak.span()), std::string(64, '0'));
}

TEST_F(PppClientTest, PapHappyPath) {
  Start(Config({AuthMethod::kPap}));
  OpenLcp("0304 c023 0506 aabbccdd");
  // PAP: the client speaks first, and the frame is marked as holding the
  // password.
  const Sent request = Pop();
  EXPECT_EQ(request.protocol, kProtocolPap);
  EXPECT_TRUE(request.holds_secret);
  absl::StatusOr<PapAuthenticateRequest> parsed =
      ParsePapAuthenticateRequest(request.information);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->peer_id, "User");
  EXPECT_EQ(parsed->password, "clientPass");
  EXPECT_TRUE(Running(TimerId::kAuthRetransmit));

  Feed(kProtocolPap,
       EncodePapAckNak(PapAckNak{PapCode::kAuthenticateAck, request.id, "ok"})
           .value());
  const std::vector<Authenticated> auth = Events<Authenticated>();
  ASSERT_THAT(auth, SizeIs(1));
  EXPECT_EQ(auth[0].method, AuthMethod::kPap);
  EXPECT_EQ(ToHex(auth[0].hlak.span()), std::string(64, '0'));
  EXPECT_FALSE(Running(TimerId::kAuthRetransmit));
}

TEST_F(PppClientTest, ServerAskingNoAuthenticationIsAccepted) {
  Start(Config());
  OpenLcp("0104 05dc 0506 aabbccdd");
  const std::vector<Authenticated> auth = Events<Authenticated>();
  ASSERT_THAT(auth, SizeIs(1));
  EXPECT_EQ(auth[0].method, std::nullopt);
  EXPECT_EQ(ToHex(auth[0].hlak.span()), std::string(64, '0'));
  EXPECT_EQ(client_->phase(), Phase::kNetwork);
  Expect(kProtocolIpcp, Code::kConfigureRequest);
}

// --- Real servers ---------------------------------------------------------------

TEST_F(PppClientTest, WindowsRrasRequestGetsOneRejectThenAck) {
  Start(Config());
  const Sent ours = Expect(kProtocolLcp, Code::kConfigureRequest);
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, ours.id, ours.data));
  // SSTP-NOTES: MRU 4091, MS-CHAPv2, magic, PFC, ACFC, Callback (CBCP),
  // MRRU, Endpoint-Discriminator.
  constexpr absl::string_view kRras =
      "0104 0ffb 0305 c22381 0506 2d6e1ab9 0702 0802 0d03 06 1104 064e"
      " 1317 01 0e10404c56ad46baba6f3c20165f880c00000000";
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 1, kRras);
  const Sent reject = Expect(kProtocolLcp, Code::kConfigureReject);
  EXPECT_EQ(reject.id, 1);
  // RFC 1661 5.4: all of them in one Configure-Reject, unmodified.
  EXPECT_EQ(ToHex(reject.data),
            ToHex(HexOrDie("0d03 06 1104 064e"
                           " 1317 01 0e10404c56ad46baba6f3c20165f880c00000000")));
  EXPECT_TRUE(frames_.empty());

  constexpr absl::string_view kRras2 = "0104 0ffb 0305 c22381 0506 2d6e1ab9 0702 0802";
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 2, kRras2);
  const Sent ack = Expect(kProtocolLcp, Code::kConfigureAck);
  EXPECT_EQ(ToHex(ack.data), ToHex(HexOrDie(kRras2)));
  EXPECT_EQ(client_->phase(), Phase::kAuthenticate);
  EXPECT_EQ(client_->peer_mru(), 4091);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kMsChapV2);
}

TEST_F(PppClientTest, SoftEtherFlow) {
  Start(Config({AuthMethod::kMsChapV2, AuthMethod::kEapMsChapV2,
                AuthMethod::kPap}));
  // SoftEther rejects our Magic-Number.
  const Sent first = Expect(kProtocolLcp, Code::kConfigureRequest);
  FeedCtl(kProtocolLcp, Code::kConfigureReject, first.id, "0506 11223344");
  const Sent second = Expect(kProtocolLcp, Code::kConfigureRequest);
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(ToHex(second.data), ToHex(HexOrDie("0104 0578")));
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, second.id, second.data));

  // It asks for EAP first: our Nak suggests MS-CHAPv2 (SSTP-NOTES policy).
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 1, "0104 05dc 0304 c227");
  const Sent nak = Expect(kProtocolLcp, Code::kConfigureNak);
  EXPECT_EQ(ToHex(nak.data), ToHex(HexOrDie("0305 c22381")));
  // Its fixed order after a Nak: MS-CHAPv2, which we Ack.
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 2, "0104 05dc 0305 c22381");
  Expect(kProtocolLcp, Code::kConfigureAck);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kMsChapV2);
  EXPECT_EQ(client_->local_magic(), std::nullopt);

  MsChapV2Exchange();
  ASSERT_THAT(Events<Authenticated>(), SizeIs(1));

  // IPCP: Secondary-DNS rejected, then IP + DNS1 given by Nak.
  const Sent ipcp1 = Expect(kProtocolIpcp, Code::kConfigureRequest);
  FeedCtl(kProtocolIpcp, Code::kConfigureReject, ipcp1.id, "8306 00000000");
  const Sent ipcp2 = Expect(kProtocolIpcp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(ipcp2.data), ToHex(HexOrDie("0306 00000000 8106 00000000")));
  FeedCtl(kProtocolIpcp, Code::kConfigureNak, ipcp2.id,
          "0306 0a000002 8106 0a000001");
  const Sent ipcp3 = Expect(kProtocolIpcp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(ipcp3.data), ToHex(HexOrDie("0306 0a000002 8106 0a000001")));
  Feed(kProtocolIpcp, Ctl(Code::kConfigureAck, ipcp3.id, ipcp3.data));
  FeedCtl(kProtocolIpcp, Code::kConfigureRequest, 9, "0306 0a000001");
  Expect(kProtocolIpcp, Code::kConfigureAck);
  const std::vector<Ipv4Up> v4 = Events<Ipv4Up>();
  ASSERT_THAT(v4, SizeIs(1));
  EXPECT_EQ(v4[0].local, (Ipv4Address{10, 0, 0, 2}));
  EXPECT_EQ(v4[0].dns1, (Ipv4Address{10, 0, 0, 1}));
  EXPECT_EQ(v4[0].dns2, std::nullopt);

  // SoftEther without IPv6: Protocol-Reject of IPv6CP turns IPv6 off.
  const Sent v6 = Expect(kProtocolIpv6cp, Code::kConfigureRequest);
  Feed(kProtocolLcp,
       EncodeProtocolReject(3, kProtocolIpv6cp, v6.information, 1500).value());
  EXPECT_THAT(Events<NetworkReady>(), SizeIs(1));
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  EXPECT_EQ(client_->ipv6cp_state(), State::kStopped);

  // Echo: the magic was rejected, so Echo packets carry zero (RFC 1661
  // 5.8).
  Fire(TimerId::kEcho);
  const Sent echo = Expect(kProtocolLcp, Code::kEchoRequest);
  EXPECT_EQ(ToHex(echo.data), "00000000");
}

TEST_F(PppClientTest, SoftEtherEapProtocolRejectThenLcpRenegotiation) {
  Start(Config());
  const Sent ours = Expect(kProtocolLcp, Code::kConfigureRequest);
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, ours.id, ours.data));
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 1, "0304 c227");
  EXPECT_EQ(ToHex(Expect(kProtocolLcp, Code::kConfigureNak).data),
            ToHex(HexOrDie("0305 c22381")));
  // The server insists on EAP: Acked now.
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 2, "0304 c227");
  Expect(kProtocolLcp, Code::kConfigureAck);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kEapMsChapV2);
  EXPECT_EQ(client_->phase(), Phase::kAuthenticate);

  Feed(kProtocolEap, EncodeEapPacket(EapPacket{EapCode::kRequest, 1,
                                               EapType::kIdentity, {}})
                         .value());
  Pop();
  // EAP-TLS Start: we answer with a legacy Nak asking for EAP-MSCHAPv2.
  const std::vector<uint8_t> tls_start = {0x20};
  Feed(kProtocolEap, EncodeEapPacket(EapPacket{EapCode::kRequest, 2,
                                               EapType::kTls, tls_start})
                         .value());
  const Sent eap_nak = Pop();
  EXPECT_EQ(ToHex(eap_nak.information),
            ToHex(EncodeEapNak(2, std::vector<uint8_t>{26}).value()));

  // SoftEther Protocol-Rejects the Nak, then renegotiates LCP for
  // MS-CHAPv2.
  Feed(kProtocolLcp,
       EncodeProtocolReject(7, kProtocolEap, eap_nak.information, 1500)
           .value());
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 3, "0305 c22381");
  // RFC 1661 4.1 Opened -RCR+-> Ack-Sent [tld,scr,sca].
  const Sent renegotiate = Expect(kProtocolLcp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(renegotiate.data), ToHex(HexOrDie(kOurLcpOptions)));
  Expect(kProtocolLcp, Code::kConfigureAck);
  EXPECT_EQ(client_->phase(), Phase::kEstablish);
  EXPECT_FALSE(Running(TimerId::kAuthTimeout));
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, renegotiate.id, renegotiate.data));
  EXPECT_EQ(client_->phase(), Phase::kAuthenticate);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kMsChapV2);
  EXPECT_TRUE(Running(TimerId::kAuthTimeout));

  // Nothing drew from the random stream since the magic, so the RFC 2759
  // vector still applies.
  MsChapV2Exchange();
  const std::vector<Authenticated> auth = Events<Authenticated>();
  ASSERT_THAT(auth, SizeIs(1));
  EXPECT_EQ(auth[0].method, AuthMethod::kMsChapV2);
  EXPECT_EQ(ToHex(auth[0].hlak.span()), ToHex(HexOrDie(kHlak)));
}

TEST_F(PppClientTest, ForbiddenMethodNakThenFailWhenServerWontMove) {
  ClientConfig config = Config({AuthMethod::kMsChapV2});
  Start(std::move(config));
  const Sent ours = Expect(kProtocolLcp, Code::kConfigureRequest);
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, ours.id, ours.data));
  // RFC 1661 4.6 Max-Failure (5): five Naks suggesting MS-CHAPv2.
  for (int i = 0; i < 5; ++i) {
    FeedCtl(kProtocolLcp, Code::kConfigureRequest, 10 + i, "0304 c023");
    const Sent nak = Expect(kProtocolLcp, Code::kConfigureNak);
    EXPECT_EQ(ToHex(nak.data), ToHex(HexOrDie("0305 c22381")));
  }
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 15, "0304 c023");
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(failed.auth_failure);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("Establish phase: LCP: the server's Configure-Request "
                        "is still unacceptable after 5 Configure-Naks"));
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("the server asks for PAP, which the profile does not "
                        "allow (allowed: MS-CHAPv2)"));
  // The server is told why.
  const Sent terminate = Expect(kProtocolLcp, Code::kTerminateRequest);
  EXPECT_THAT(std::string(terminate.data.begin(), terminate.data.end()),
              HasSubstr("PAP"));
  EXPECT_TRUE(frames_.empty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_TRUE(client_->finished());
}

TEST_F(PppClientTest, UnimplementedMethodIsNakdWithPreference) {
  // EAP-MSCHAPv2 is suggested only when plain MS-CHAPv2 is not allowed.
  Start(Config({AuthMethod::kEapMsChapV2, AuthMethod::kPap}));
  const Sent ours = Expect(kProtocolLcp, Code::kConfigureRequest);
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, ours.id, ours.data));
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 1, "0305 c22380");  // MS-CHAPv1
  EXPECT_EQ(ToHex(Expect(kProtocolLcp, Code::kConfigureNak).data),
            ToHex(HexOrDie("0304 c227")));
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 2, "0305 c22381");  // MS-CHAPv2
  EXPECT_EQ(ToHex(Expect(kProtocolLcp, Code::kConfigureNak).data),
            ToHex(HexOrDie("0304 c227")));
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 3, "0304 c023");  // PAP
  Expect(kProtocolLcp, Code::kConfigureAck);
  EXPECT_EQ(client_->auth_method(), AuthMethod::kPap);
}

// --- Authentication failures ------------------------------------------------------

TEST_F(PppClientTest, WrongPasswordIsAnAuthFailureWithoutRetry) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  Feed(kProtocolChap,
       EncodeChapChallenge(0x1c, HexOrDie(kAuthenticatorChallenge), "SRV")
           .value());
  Pop();
  // R=1 offers a retry: not taken.
  Feed(kProtocolChap,
       EncodeChapResult(
           ChapResult{ChapCode::kFailure, 0x1c,
                      "E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 "
                      "M=Authentication failure"})
           .value());
  const LinkFailed failed = Failure();
  EXPECT_TRUE(failed.auth_failure);
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("authentication failed: E=691 (authentication "
                        "failure) M=Authentication failure"));
  EXPECT_THAT(Events<Authenticated>(), IsEmpty());
  // No new Response: only the LCP Terminate-Request.
  Expect(kProtocolLcp, Code::kTerminateRequest);
  EXPECT_TRUE(frames_.empty());
  // A second Challenge after the failure is ignored.
  Feed(kProtocolChap,
       EncodeChapChallenge(0x1d, HexOrDie(kAuthenticatorChallenge), "SRV")
           .value());
  EXPECT_TRUE(frames_.empty());
}

TEST_F(PppClientTest, NoDialinPermissionIsPermissionDenied) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  Feed(kProtocolChap,
       EncodeChapChallenge(1, HexOrDie(kAuthenticatorChallenge), "SRV").value());
  Pop();
  Feed(kProtocolChap,
       EncodeChapResult(ChapResult{ChapCode::kFailure, 1, "E=649 R=0 V=3"})
           .value());
  const LinkFailed failed = Failure();
  EXPECT_TRUE(failed.auth_failure);
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("E=649 (no dial-in permission)"));
}

TEST_F(PppClientTest, AuthenticatorResponseMismatchIsNotAnAuthFailure) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  Feed(kProtocolChap,
       EncodeChapChallenge(0x1c, HexOrDie(kAuthenticatorChallenge), "SRV")
           .value());
  Pop();
  Feed(kProtocolChap,
       EncodeChapResult(ChapResult{ChapCode::kSuccess, 0x1c,
                                   "S=0000000000000000000000000000000000000000"})
           .value());
  const LinkFailed failed = Failure();
  EXPECT_FALSE(failed.auth_failure);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("server failed to prove it knows the password (S= "
                        "mismatch): possible man in the middle"));
  EXPECT_THAT(Events<Authenticated>(), IsEmpty());
}

TEST_F(PppClientTest, PapNakAndRetransmissionLimit) {
  {
    Start(Config({AuthMethod::kPap}));
    OpenLcp("0304 c023");
    const Sent request = Pop();
    Feed(kProtocolPap, EncodePapAckNak(PapAckNak{PapCode::kAuthenticateNak,
                                                 request.id, "bad password"})
                           .value());
    const LinkFailed failed = Failure();
    EXPECT_TRUE(failed.auth_failure);
    EXPECT_THAT(failed.reason.message(),
                HasSubstr("PAP: authentication failed: Authenticate-Nak: bad "
                          "password"));
  }
  events_.clear();
  frames_.clear();
  timers_.clear();
  Start(Config({AuthMethod::kPap}));
  OpenLcp("0304 c023");
  std::vector<uint8_t> ids = {Pop().id};
  for (int i = 1; i < 10; ++i) {
    Fire(TimerId::kAuthRetransmit);
    const Sent again = Pop();
    EXPECT_EQ(again.protocol, kProtocolPap);
    ids.push_back(again.id);
  }
  // RFC 1334 2.2.1: a new Identifier each time.
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_NE(ids[0], ids[1]);
  Fire(TimerId::kAuthRetransmit);
  const LinkFailed failed = Failure();
  EXPECT_FALSE(failed.auth_failure);
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("Authenticate phase: PAP: no reply to 10 "
                        "Authenticate-Requests"));
}

TEST_F(PppClientTest, AuthTimeout) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  EXPECT_EQ(timers_[TimerId::kAuthTimeout], absl::Seconds(30));
  Fire(TimerId::kAuthTimeout);
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("Authenticate phase: MS-CHAPv2: no result within 30s "
                        "(waiting for the server's CHAP Challenge)"));
}

// --- Network phase ---------------------------------------------------------------

TEST_F(PppClientTest, IpcpRejectOfAddressTurnsIpv4OffIpv6Continues) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  const Sent ipcp = Expect(kProtocolIpcp, Code::kConfigureRequest);
  FeedCtl(kProtocolIpcp, Code::kConfigureReject, ipcp.id, "0306 00000000");
  // The layer gives up: IPCP Terminate-Request.
  Expect(kProtocolIpcp, Code::kTerminateRequest);
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  OpenIpv6cp();
  EXPECT_THAT(Events<Ipv4Up>(), IsEmpty());
  EXPECT_THAT(Events<Ipv6Up>(), SizeIs(1));
  EXPECT_THAT(Events<NetworkReady>(), SizeIs(1));
}

TEST_F(PppClientTest, ServerIpcpRequestOptions) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  Expect(kProtocolIpcp, Code::kConfigureRequest);
  Expect(kProtocolIpv6cp, Code::kConfigureRequest);
  // VJ compression, the server asking us for DNS, and an unknown option
  // are rejected together; IP-Address alone is then Acked.
  FeedCtl(kProtocolIpcp, Code::kConfigureRequest, 5,
          "0206 002d 0f01 0306 0a000001 8106 00000000 4c02");
  const Sent reject = Expect(kProtocolIpcp, Code::kConfigureReject);
  EXPECT_EQ(ToHex(reject.data), ToHex(HexOrDie("0206 002d 0f01 8106 00000000 4c02")));
  // 0.0.0.0 would ask us for the server's address: rejected too.
  FeedCtl(kProtocolIpcp, Code::kConfigureRequest, 6, "0306 00000000");
  EXPECT_EQ(ToHex(Expect(kProtocolIpcp, Code::kConfigureReject).data),
            ToHex(HexOrDie("0306 00000000")));
  FeedCtl(kProtocolIpcp, Code::kConfigureRequest, 7, "0306 0a000001");
  Expect(kProtocolIpcp, Code::kConfigureAck);
}

TEST_F(PppClientTest, Ipv6cpIdentifierCollisionAndNak) {
  Start(Config({AuthMethod::kMsChapV2}));
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  Expect(kProtocolIpcp, Code::kConfigureRequest);
  const Sent ours = Expect(kProtocolIpv6cp, Code::kConfigureRequest);
  ASSERT_EQ(ours.data.size(), 10u);
  const std::vector<uint8_t> our_id(ours.data.begin() + 2, ours.data.end());
  EXPECT_NE(ToHex(our_id), "0000000000000000");

  // RFC 5072 4.1: the server's identifier equals ours: Nak with another,
  // non-zero one.
  Feed(kProtocolIpv6cp, Ctl(Code::kConfigureRequest, 1, ours.data));
  const Sent nak = Expect(kProtocolIpv6cp, Code::kConfigureNak);
  ASSERT_EQ(nak.data.size(), 10u);
  const std::vector<uint8_t> suggested(nak.data.begin() + 2, nak.data.end());
  EXPECT_NE(ToHex(suggested), ToHex(our_id));
  EXPECT_NE(ToHex(suggested), "0000000000000000");
  // Zero asks us to choose: Nak too.
  FeedCtl(kProtocolIpv6cp, Code::kConfigureRequest, 2, "010a 0000000000000000");
  EXPECT_EQ(Expect(kProtocolIpv6cp, Code::kConfigureNak).data.size(), 10u);

  // The server Naks ours with a suggestion: taken.
  FeedCtl(kProtocolIpv6cp, Code::kConfigureNak, ours.id, "010a 0a0b0c0d0e0f1011");
  const Sent second = Expect(kProtocolIpv6cp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(second.data), ToHex(HexOrDie("010a 0a0b0c0d0e0f1011")));
  Feed(kProtocolIpv6cp, Ctl(Code::kConfigureAck, second.id, second.data));
  FeedCtl(kProtocolIpv6cp, Code::kConfigureRequest, 3, "010a 0200000000000009");
  Expect(kProtocolIpv6cp, Code::kConfigureAck);
  const std::vector<Ipv6Up> v6 = Events<Ipv6Up>();
  ASSERT_THAT(v6, SizeIs(1));
  EXPECT_EQ(v6[0].local,
            (InterfaceIdentifier{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11}));
  EXPECT_EQ(v6[0].peer, (InterfaceIdentifier{2, 0, 0, 0, 0, 0, 0, 9}));
}

TEST_F(PppClientTest, EveryNcpRejectedFailsTheLink) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  const Sent ipcp = Expect(kProtocolIpcp, Code::kConfigureRequest);
  const Sent ipv6cp = Expect(kProtocolIpv6cp, Code::kConfigureRequest);
  Feed(kProtocolLcp,
       EncodeProtocolReject(20, kProtocolIpv6cp, ipv6cp.information, 1500)
           .value());
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  Feed(kProtocolLcp,
       EncodeProtocolReject(21, kProtocolIpcp, ipcp.information, 1500).value());
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("Network phase: no network protocol could be "
                        "negotiated (IPCP: rejected by the server "
                        "(Protocol-Reject); IPv6CP: rejected by the server "
                        "(Protocol-Reject))"));
  EXPECT_THAT(Events<NetworkReady>(), IsEmpty());
}

TEST_F(PppClientTest, IpcpGivesUpAfterMaxConfigureIpv6Alone) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  Expect(kProtocolIpcp, Code::kConfigureRequest);
  OpenIpv6cp();
  EXPECT_THAT(Events<NetworkReady>(), IsEmpty());
  // Nine retransmissions (RFC 1661 4.6 Max-Configure 10) ...
  for (int i = 0; i < 9; ++i) {
    Fire(TimerId::kIpcpRestart);
    Expect(kProtocolIpcp, Code::kConfigureRequest);
  }
  // ... then TO-: IPv4 off, the network is ready with IPv6 alone.
  Fire(TimerId::kIpcpRestart);
  EXPECT_TRUE(frames_.empty());
  EXPECT_THAT(Events<NetworkReady>(), SizeIs(1));
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  EXPECT_FALSE(Running(TimerId::kIpcpRestart));
}

TEST_F(PppClientTest, EveryNcpTimingOutFailsTheLinkNamingBoth) {
  Start(Config());
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  for (int i = 0; i < 9; ++i) {
    Fire(TimerId::kIpcpRestart);
    Fire(TimerId::kIpv6cpRestart);
  }
  Fire(TimerId::kIpcpRestart);
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  Fire(TimerId::kIpv6cpRestart);
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.message(),
            "Network phase: no network protocol could be negotiated (IPCP: no "
            "reply to 10 Configure-Requests; IPv6CP: no reply to 10 "
            "Configure-Requests)");
  EXPECT_TRUE(timers_.empty());
}

TEST_F(PppClientTest, NotWantedIpv6IsProtocolRejected) {
  ClientConfig config = Config();
  config.want_ipv6 = false;
  config.want_dns = false;
  Start(std::move(config));
  OpenLcp(kServerMsChapV2);
  MsChapV2Exchange();
  const Sent ipcp = Expect(kProtocolIpcp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(ipcp.data), "030600000000");
  EXPECT_TRUE(frames_.empty());  // no IPv6CP request
  const std::vector<uint8_t> v6cp = Ctl(Code::kConfigureRequest, 1,
                                        HexOrDie("010a 0200000000000001"));
  Feed(kProtocolIpv6cp, v6cp);
  const Sent reject = Expect(kProtocolLcp, Code::kProtocolReject);
  EXPECT_EQ(ToHex(reject.data), ToHex(HexOrDie(absl::StrCat("8057", ToHex(v6cp)))));
}

// --- Frames of protocols the client does not run ---------------------------------

TEST_F(PppClientTest, ProtocolRejectOnlyWhereRfc1661AllowsIt) {
  Start(Config());
  const std::vector<uint8_t> ccp = Ctl(Code::kConfigureRequest, 1, HexOrDie("1206 00000001"));
  // Establish phase: discarded (RFC 1661 3.4).
  Feed(kProtocolCcp, ccp);
  EXPECT_THAT(frames_, SizeIs(1));  // only our Configure-Request
  // The server's MRU is small, to check truncation.
  OpenLcp("0104 0080 0305 c22381");
  // Authenticate phase: network-layer packets discarded (3.5), link-layer
  // ones we do not run (LQR) rejected.
  Feed(kProtocolCcp, ccp);
  EXPECT_TRUE(frames_.empty());
  Feed(kProtocolLqr, HexOrDie("00000001"));
  EXPECT_EQ(ToHex(Expect(kProtocolLcp, Code::kProtocolReject).data),
            "c02500000001");
  MsChapV2Exchange();
  Expect(kProtocolIpcp, Code::kConfigureRequest);
  Expect(kProtocolIpv6cp, Code::kConfigureRequest);
  // Network phase: CCP rejected, truncated to the server's MRU (128).
  std::vector<uint8_t> big = ccp;
  big.resize(500, 0xee);
  Feed(kProtocolCcp, big);
  const Sent reject = Expect(kProtocolLcp, Code::kProtocolReject);
  EXPECT_EQ(reject.information.size(), 128u);
  EXPECT_EQ(reject.data[0], 0x80);
  EXPECT_EQ(reject.data[1], 0xfd);
  // IPv4 data while IPCP negotiates: discarded, not rejected.
  Feed(kProtocolIpv4, HexOrDie("4500001c"));
  EXPECT_TRUE(frames_.empty());
}

TEST_F(PppClientTest, UnknownLcpCodeIsCodeRejected) {
  Start(Config());
  Pop();
  const std::vector<uint8_t> odd = Ctl(static_cast<Code>(42), 9, HexOrDie("abcd"));
  Feed(kProtocolLcp, odd);
  const Sent reject = Expect(kProtocolLcp, Code::kCodeReject);
  EXPECT_EQ(ToHex(reject.data), ToHex(odd));
}

// --- Keepalive ---------------------------------------------------------------------

TEST_F(PppClientTest, EchoRequestsAndDeadLink) {
  ReachNetwork();
  EXPECT_EQ(timers_[TimerId::kEcho], absl::Seconds(30));
  Fire(TimerId::kEcho);
  const Sent first = Expect(kProtocolLcp, Code::kEchoRequest);
  EXPECT_EQ(ToHex(first.data), "11223344");  // our Magic-Number
  // A reply resets the count.
  FeedCtl(kProtocolLcp, Code::kEchoReply, first.id, "aabbccdd");
  for (int i = 0; i < 4; ++i) {
    Fire(TimerId::kEcho);
    Expect(kProtocolLcp, Code::kEchoRequest);
  }
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  Fire(TimerId::kEcho);
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("Network phase: LCP echo: no reply for 4 intervals"));
  EXPECT_TRUE(timers_.empty());
}

TEST_F(PppClientTest, EchoDisabled) {
  ClientConfig config = Config();
  config.echo_interval = absl::ZeroDuration();
  Start(std::move(config));
  OpenLcp(kServerMsChapV2);
  EXPECT_FALSE(Running(TimerId::kEcho));
}

TEST_F(PppClientTest, AnswersServerEchoRequest) {
  ReachNetwork();
  FeedCtl(kProtocolLcp, Code::kEchoRequest, 0x33, "aabbccdd 0102");
  const Sent reply = Expect(kProtocolLcp, Code::kEchoReply);
  EXPECT_EQ(reply.id, 0x33);
  EXPECT_EQ(ToHex(reply.data), "112233440102");
  // Discard-Request and Echo-Reply are not answered.
  FeedCtl(kProtocolLcp, Code::kDiscardRequest, 0x34, "aabbccdd");
  FeedCtl(kProtocolLcp, Code::kEchoReply, 0x35, "aabbccdd");
  EXPECT_TRUE(frames_.empty());
}

// --- Termination -------------------------------------------------------------------

TEST_F(PppClientTest, ServerTerminateRequest) {
  ReachNetwork();
  Feed(kProtocolLcp,
       Ctl(Code::kTerminateRequest, 0x77, Bytes("Administrator disconnect")));
  const Sent ack = Expect(kProtocolLcp, Code::kTerminateAck);
  EXPECT_EQ(ack.id, 0x77);
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kAborted);
  EXPECT_FALSE(failed.auth_failure);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("the server terminated the link (LCP "
                        "Terminate-Request): Administrator disconnect"));
  EXPECT_TRUE(frames_.empty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_EQ(client_->phase(), Phase::kDead);
}

TEST_F(PppClientTest, OrderlyClose) {
  ReachNetwork();
  Run(client_->Close("User request"));
  EXPECT_EQ(client_->phase(), Phase::kTerminate);
  const Sent terminate = Expect(kProtocolLcp, Code::kTerminateRequest);
  EXPECT_EQ(std::string(terminate.data.begin(), terminate.data.end()),
            "User request");
  EXPECT_FALSE(Running(TimerId::kEcho));
  EXPECT_TRUE(Running(TimerId::kLcpRestart));
  EXPECT_THAT(Events<Finished>(), IsEmpty());
  Feed(kProtocolLcp, Ctl(Code::kTerminateAck, terminate.id, {}));
  EXPECT_THAT(Events<Finished>(), SizeIs(1));
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_TRUE(client_->finished());
}

TEST_F(PppClientTest, CloseWithoutTerminateAckTimesOut) {
  ReachNetwork();
  Run(client_->Close("User request"));
  Expect(kProtocolLcp, Code::kTerminateRequest);
  Fire(TimerId::kLcpRestart);  // RFC 1661 4.6 Max-Terminate 2
  Expect(kProtocolLcp, Code::kTerminateRequest);
  EXPECT_THAT(Events<Finished>(), IsEmpty());
  Fire(TimerId::kLcpRestart);
  EXPECT_THAT(Events<Finished>(), SizeIs(1));
  EXPECT_TRUE(frames_.empty());
}

TEST_F(PppClientTest, CloseBeforeUpAndDown) {
  {
    random_ = std::make_unique<FixedRandom>(RandomBytes());
    PppClient client(Config(), *random_);
    ClientActions actions = client.Close("User request");
    ASSERT_THAT(actions, SizeIs(1));
    EXPECT_TRUE(std::holds_alternative<Finished>(actions[0]));
    EXPECT_THAT(client.Up(), IsEmpty());
  }
  // Down() during a Close(): Finished; otherwise only timers stop.
  ReachNetwork();
  Run(client_->Close("bye"));
  Run(client_->Down());
  EXPECT_THAT(Events<Finished>(), SizeIs(1));
  EXPECT_TRUE(timers_.empty());

  events_.clear();
  frames_.clear();
  timers_.clear();
  ReachNetwork();
  events_.clear();
  Run(client_->Down());
  EXPECT_THAT(events_, IsEmpty());
  EXPECT_TRUE(timers_.empty());
  EXPECT_EQ(client_->phase(), Phase::kDead);
  FeedCtl(kProtocolLcp, Code::kEchoRequest, 1, "00000000");
  EXPECT_TRUE(frames_.empty());
}

TEST_F(PppClientTest, RenegotiationAfterAuthenticationEndsTheLink) {
  ReachNetwork();
  FeedCtl(kProtocolLcp, Code::kConfigureRequest, 0x50, kServerMsChapV2);
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("renegotiated LCP after authentication"));
  EXPECT_THAT(Events<Authenticated>(), SizeIs(1));
  // Terminate-Request, no Ack or new Configure-Request.
  Expect(kProtocolLcp, Code::kTerminateRequest);
  EXPECT_TRUE(frames_.empty());
  EXPECT_TRUE(timers_.empty());
}

// --- Timer expiries and other LCP paths ----------------------------------------------

TEST_F(PppClientTest, LcpMaxConfigureNamesThePhase) {
  Start(Config());
  Expect(kProtocolLcp, Code::kConfigureRequest);
  for (int i = 0; i < 9; ++i) {
    Fire(TimerId::kLcpRestart);
    const Sent again = Expect(kProtocolLcp, Code::kConfigureRequest);
    EXPECT_EQ(again.id, 1);  // a retransmission keeps its Identifier
  }
  Fire(TimerId::kLcpRestart);
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(failed.reason.message(),
            "Establish phase: LCP: no reply to 10 Configure-Requests");
  EXPECT_TRUE(timers_.empty());
}

TEST_F(PppClientTest, LcpServerAcksButNeverRequests) {
  Start(Config());
  for (int i = 0; i < 9; ++i) {
    const Sent request = Expect(kProtocolLcp, Code::kConfigureRequest);
    Feed(kProtocolLcp, Ctl(Code::kConfigureAck, request.id, request.data));
    Fire(TimerId::kLcpRestart);
  }
  const Sent request = Expect(kProtocolLcp, Code::kConfigureRequest);
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, request.id, request.data));
  Fire(TimerId::kLcpRestart);
  const LinkFailed failed = Failure();
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("LCP: the server acknowledged our Configure-Request "
                        "but sent none of its own"));
}

TEST_F(PppClientTest, LcpMruNakAndMismatchedAck) {
  Start(Config());
  const Sent first = Expect(kProtocolLcp, Code::kConfigureRequest);
  // An Ack with another Identifier, or other options, is discarded.
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, first.id + 1, first.data));
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, first.id, HexOrDie("0104 0578")));
  EXPECT_EQ(client_->lcp_state(), State::kReqSent);
  // MRU outside [576, 4091]: ours stays.
  FeedCtl(kProtocolLcp, Code::kConfigureNak, first.id, "0104 0064");
  const Sent second = Expect(kProtocolLcp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(second.data), ToHex(HexOrDie(kOurLcpOptions)));
  // Inside: taken.
  FeedCtl(kProtocolLcp, Code::kConfigureNak, second.id, "0104 0514");
  const Sent third = Expect(kProtocolLcp, Code::kConfigureRequest);
  EXPECT_EQ(ToHex(third.data), ToHex(HexOrDie("0104 0514 0506 11223344")));
  // A Magic-Number Nak: a new one.
  FeedCtl(kProtocolLcp, Code::kConfigureNak, third.id, "0506 11223344");
  const Sent fourth = Expect(kProtocolLcp, Code::kConfigureRequest);
  ASSERT_EQ(fourth.data.size(), 10u);
  EXPECT_NE(ToHex(fourth.data), ToHex(third.data));
  Feed(kProtocolLcp, Ctl(Code::kConfigureAck, fourth.id, fourth.data));
  EXPECT_EQ(client_->lcp_state(), State::kAckRcvd);
}

TEST_F(PppClientTest, LoopedBackMagicIsNakd) {
  Start(Config());
  const Sent ours = Expect(kProtocolLcp, Code::kConfigureRequest);
  // Our own request comes back: same Magic-Number (RFC 1661 6.4).
  Feed(kProtocolLcp, Ctl(Code::kConfigureRequest, ours.id, ours.data));
  const Sent nak = Expect(kProtocolLcp, Code::kConfigureNak);
  ASSERT_EQ(nak.data.size(), 6u);
  EXPECT_EQ(nak.data[0], 5);
  EXPECT_NE(ToHex(nak.data), "050611223344");
  // Our next request carries a new magic too.
  Fire(TimerId::kLcpRestart);
  const Sent again = Expect(kProtocolLcp, Code::kConfigureRequest);
  EXPECT_NE(ToHex(again.data), ToHex(ours.data));
  EXPECT_NE(again.id, ours.id);
}

TEST_F(PppClientTest, CatastrophicCodeRejectEndsTheLink) {
  Start(Config());
  const Sent ours = Expect(kProtocolLcp, Code::kConfigureRequest);
  Feed(kProtocolLcp, Ctl(Code::kCodeReject, 3, ours.information));
  const LinkFailed failed = Failure();
  EXPECT_THAT(failed.reason.message(),
              HasSubstr("LCP: the server Code-Rejected Configure-Request"));
}

TEST_F(PppClientTest, StaleTimersAndInvalidConfig) {
  ReachNetwork();
  // The LCP restart timer no longer runs: its expiry is stale.
  Run(client_->OnTimer(TimerId::kLcpRestart));
  EXPECT_TRUE(frames_.empty());
  EXPECT_THAT(Events<LinkFailed>(), IsEmpty());

  events_.clear();
  ClientConfig config = Config();
  config.mru = 100;
  Start(std::move(config));
  const LinkFailed failed = Failure();
  EXPECT_EQ(failed.reason.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(failed.reason.message(), HasSubstr("PPP MRU 100 outside [576, 4091]"));
}

TEST(ValidateClientConfigTest, NamesTheField) {
  ClientConfig config = Config();
  EXPECT_TRUE(ValidateClientConfig(config).ok());
  config.auth_methods.clear();
  EXPECT_EQ(ValidateClientConfig(config).message(),
            "no authentication method allowed");
  config = Config();
  config.want_ipv4 = false;
  config.want_ipv6 = false;
  EXPECT_EQ(ValidateClientConfig(config).message(),
            "neither IPv4 nor IPv6 wanted");
  config = Config();
  config.user_name.clear();
  EXPECT_EQ(ValidateClientConfig(config).message(), "PPP user name is empty");
}

TEST(DescribeActionsTest, ShowsKindsNotContents) {
  ClientActions actions;
  actions.push_back(SendFrame{kProtocolLcp,
                              EncodeControlPacket(Code::kConfigureRequest, 1, {})
                                  .value()});
  actions.push_back(SendFrame{kProtocolPap,
                              EncodePapAuthenticateRequest(2, "u", "secret")
                                  .value(),
                              true});
  actions.push_back(StartTimer{TimerId::kLcpRestart, absl::Seconds(3)});
  actions.push_back(LinkFailed{absl::UnauthenticatedError("x"), true});
  const std::string text = DescribeActions(actions);
  EXPECT_EQ(text,
            "send LCP Configure-Request(1), send PAP Authenticate-Request(2), "
            "start LcpRestart 3s, link-failed(UNAUTHENTICATED, auth)");
  EXPECT_THAT(text, ::testing::Not(HasSubstr("secret")));
}

}  // namespace
}  // namespace sstp::ppp
