#include "daemon/ppp/server.h"

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
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
using Actions = PppServer::Actions;
using TimerId = PppServer::TimerId;

// RFC 2759 9.2 (SSTP-NOTES "MS-CHAPv2 and MPPE keys").
constexpr char kAuthenticatorChallenge[] = "5B5D7C7D7B3F2F3E3C2C602132262628";
constexpr char kPeerChallenge[] = "21402324255E262A28295F2B3A337C7E";
constexpr char kNtResponse[] = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
constexpr char kAuthenticatorResponse[] =
    "S=407A5589115FD0D6209F510FE9C04566932CDA56";
constexpr char kClientHlak[] =
    "D5F0E9521E3EA9589645E86051C82226 8B7CDC149B993A1BA118CB153F56DCCB";
// The Magic-Number the tests' FixedRandom hands out first.
constexpr char kMagic[] = "11223344";
constexpr char kWindowsEndpoint[] = "5a1f3c770e424b9d8c6127d4b39015e800000000";

std::vector<uint8_t> Hex(absl::string_view hex) { return HexOrDie(hex); }

std::string HexOf(absl::Span<const uint8_t> bytes) { return ToHex(bytes); }

// The lower-case form ToHex() produces, of a vector printed in upper case.
std::string Lower(absl::string_view hex) { return ToHex(HexOrDie(hex)); }

std::vector<uint8_t> Control(uint8_t code, uint8_t id, absl::string_view hex) {
  const std::vector<uint8_t> data = HexOrDie(hex);
  return *EncodePacket(code, id, {data});
}

template <typename T>
std::vector<T> All(const Actions& actions) {
  std::vector<T> out;
  for (const PppServer::Action& action : actions) {
    if (const T* t = std::get_if<T>(&action)) out.push_back(*t);
  }
  return out;
}

// Hex of every frame sent with `protocol`, in order.
std::vector<std::string> Sent(const Actions& actions, uint16_t protocol) {
  std::vector<std::string> out;
  for (const PppServer::SendFrame& frame : All<PppServer::SendFrame>(actions)) {
    if (frame.protocol == protocol) out.push_back(HexOf(frame.information));
  }
  return out;
}

bool Starts(const Actions& actions, TimerId id, absl::Duration after) {
  for (const PppServer::StartTimer& t : All<PppServer::StartTimer>(actions)) {
    if (t.id == id && t.after == after) return true;
  }
  return false;
}

std::optional<std::string> LinkDownReason(const Actions& actions) {
  std::vector<PppServer::LinkDown> downs = All<PppServer::LinkDown>(actions);
  if (downs.empty()) return std::nullopt;
  return downs.back().reason;
}

std::vector<uint8_t> Rfc2759Response(uint8_t id, absl::string_view name) {
  MsChapV2ResponseValue value;
  const std::vector<uint8_t> peer = Hex(kPeerChallenge);
  const std::vector<uint8_t> nt = Hex(kNtResponse);
  std::copy(peer.begin(), peer.end(), value.peer_challenge.begin());
  std::copy(nt.begin(), nt.end(), value.nt_response.begin());
  return *EncodeMsChapV2Response(id, value, name);
}

PppServerConfig ConfigFor(ServerPersonality personality) {
  PppServerConfig config = PppServerConfig::ForPersonality(personality);
  config.auth.users.emplace("User", SecretString("clientPass"));
  return config;
}

// A server with the config and the random bytes a test wants.
class Harness {
 public:
  Harness(PppServerConfig config, std::vector<uint8_t> random_bytes)
      : random_(std::move(random_bytes)),
        server_(std::make_unique<PppServer>(std::move(config), random_)) {}

  PppServer& server() { return *server_; }
  Actions Up() { return server_->Up(); }
  Actions Feed(uint16_t protocol, const std::vector<uint8_t>& information,
               bool had_address_control_field = true) {
    return server_->OnFrame(protocol, information, had_address_control_field);
  }
  Actions Lcp(uint8_t code, uint8_t id, absl::string_view hex) {
    return Feed(kProtocolLcp, Control(code, id, hex));
  }
  Actions Timer(TimerId id) { return server_->OnTimer(id); }

  // Up, the client acknowledges the server's request as sent, and sends its
  // own (MRU 1400, plus Magic 0x0a0b0c0d unless `with_magic` is false),
  // which the server acknowledges: LCP opens. Returns the last actions.
  Actions OpenLcp(bool with_magic = true) {
    const Actions up = Up();
    const std::vector<std::string> requests = Sent(up, kProtocolLcp);
    EXPECT_EQ(requests.size(), 1u);
    const std::vector<uint8_t> request = Hex(requests.at(0));
    std::vector<uint8_t> ack = request;
    ack[0] = 2;  // Configure-Ack, same Identifier and options
    Feed(kProtocolLcp, ack);
    const Actions opened = Lcp(
        1, 0x41, with_magic ? "010405780506 0a0b0c0d" : "01040578");
    EXPECT_EQ(server_->lcp_state(), State::kOpened);
    return opened;
  }

 private:
  FixedRandom random_;
  std::unique_ptr<PppServer> server_;
};

std::vector<uint8_t> MagicThenChallenge() {
  return Hex(absl::StrCat(kMagic, kAuthenticatorChallenge));
}

// --- LCP offers, byte-exact -------------------------------------------------------

TEST(PppServerOfferTest, WindowsOffersMruAuthMagicCallbackMrruEndpoint) {
  Harness h(ConfigFor(ServerPersonality::kWindows), Hex(kMagic));
  const Actions up = h.Up();
  EXPECT_THAT(Sent(up, kProtocolLcp),
              ElementsAre(absl::StrCat("01000031",
                                       "01040ffb",        // MRU 4091
                                       "0305c22381",      // MS-CHAPv2
                                       "0506", kMagic,    // Magic-Number
                                       "0d0306",          // Callback CBCP
                                       "1104064e",        // MRRU 1614
                                       "131701", kWindowsEndpoint)));
  EXPECT_TRUE(Starts(up, TimerId::kLcpRestart, absl::Seconds(3)));
  EXPECT_EQ(h.server().phase(), PppServer::Phase::kEstablish);
  EXPECT_EQ(h.server().magic_number(), 0x11223344u);
}

TEST(PppServerOfferTest, WindowsEapOnlyOffersEap) {
  PppServerConfig config = ConfigFor(ServerPersonality::kWindows);
  config.auth_methods = {AuthProtocol::kEap};
  Harness h(config, Hex(kMagic));
  EXPECT_THAT(Sent(h.Up(), kProtocolLcp),
              ElementsAre(absl::StrCat("01000030", "01040ffb", "0304c227",
                                       "0506", kMagic, "0d0306", "1104064e",
                                       "131701", kWindowsEndpoint)));
}

TEST(PppServerOfferTest, SoftEtherOffersEapAlone) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  EXPECT_THAT(Sent(h.Up(), kProtocolLcp), ElementsAre("010000080304c227"));
}

TEST(PppServerOfferTest, AccelOffersAuthMruMagic) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  EXPECT_THAT(Sent(h.Up(), kProtocolLcp),
              ElementsAre(absl::StrCat("01010012", "0304c023", "010405ac",
                                       "0506", kMagic)));
}

TEST(PppServerOfferTest, StrictOffersLikeWindows) {
  Harness strict(ConfigFor(ServerPersonality::kStrict), Hex(kMagic));
  Harness windows(ConfigFor(ServerPersonality::kWindows), Hex(kMagic));
  EXPECT_EQ(Sent(strict.Up(), kProtocolLcp), Sent(windows.Up(), kProtocolLcp));
}

TEST(PppServerLcpTest, RejectedWindowsOptionsAreDroppedWithANewIdentifier) {
  Harness h(ConfigFor(ServerPersonality::kWindows), Hex(kMagic));
  h.Up();
  const Actions actions = h.Lcp(
      4, 0, absl::StrCat("0d0306", "1104064e", "131701", kWindowsEndpoint));
  EXPECT_THAT(Sent(actions, kProtocolLcp),
              ElementsAre(absl::StrCat("01010013", "01040ffb", "0305c22381",
                                       "0506", kMagic)));
}

TEST(PppServerLcpTest, RetransmitsWithSameIdentifierThenGivesUp) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  h.Up();
  int requests = 1;
  std::optional<std::string> down;
  for (int i = 0; i < 20 && !down; ++i) {
    const Actions actions = h.Timer(TimerId::kLcpRestart);
    for (const std::string& frame : Sent(actions, kProtocolLcp)) {
      EXPECT_EQ(frame, "010000080304c227");  // RFC 1661 5.1: same id
      ++requests;
    }
    down = LinkDownReason(actions);
  }
  EXPECT_EQ(requests, 10);  // RFC 1661 4.6 Max-Configure
  EXPECT_EQ(down, "LCP: no agreement after 10 Configure-Requests (RFC 1661 "
                  "4.6 Max-Configure)");
  EXPECT_TRUE(h.server().ended());
}

// SoftEther: rejects ACCM, Magic-Number, PFC, ACFC; MRU 100..1500 or Nak.
TEST(PppServerLcpTest, SoftEtherClientOptionPolicy) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  h.Up();
  EXPECT_THAT(
      Sent(h.Lcp(1, 1, "010405dc 020600000000 05060a0b0c0d 0702 0802"),
           kProtocolLcp),
      ElementsAre("04010014020600000000" "05060a0b0c0d" "07020802"));
  EXPECT_THAT(Sent(h.Lcp(1, 2, "01040ffb"), kProtocolLcp),
              ElementsAre("03020008010405dc"));
  EXPECT_THAT(Sent(h.Lcp(1, 3, "01040032"), kProtocolLcp),
              ElementsAre("0303000801040064"));
  EXPECT_THAT(Sent(h.Lcp(1, 4, "010405dc"), kProtocolLcp),
              ElementsAre("02040008010405dc"));
}

TEST(PppServerLcpTest, AccelNaksMruAboveMaxMtu) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  h.Up();
  // accel-ppp's SSTP log: "ConfReq <mru 4091> <magic>" -> "ConfNak <mru 1452>".
  EXPECT_THAT(Sent(h.Lcp(1, 1, "01040ffb 0506345f64ca"), kProtocolLcp),
              ElementsAre("03010008010405ac"));
}

TEST(PppServerLcpTest, WindowsAcceptsCompressionOptions) {
  Harness windows(ConfigFor(ServerPersonality::kWindows), Hex(kMagic));
  windows.Up();
  EXPECT_THAT(Sent(windows.Lcp(1, 1, "0702 0802"), kProtocolLcp),
              ElementsAre("0201000807020802"));
}

// --- Authentication protocol choice at LCP ------------------------------------

struct NakCase {
  const char* name;
  // Option bytes of the client's Configure-Nak; empty: Configure-Reject the
  // offered option instead.
  const char* nak_option;
};

class SoftEtherAuthOrderTest : public ::testing::TestWithParam<NakCase> {};

// SSTP-NOTES: "a Nak moves it EAP -> MS-CHAPv2 -> PAP whatever the Nak says"
// (Proto_PPP.c PPPProcessLCPResponsePacket treats Reject the same way), and
// a refused PAP fails the link.
TEST_P(SoftEtherAuthOrderTest, WalksEapMsChapV2PapWhateverTheNakSays) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  const std::vector<std::string> offers = {"0304c227", "0305c22381",
                                           "0304c023"};
  std::vector<std::string> seen = Sent(h.Up(), kProtocolLcp);
  Actions actions;
  for (size_t i = 0; i < offers.size(); ++i) {
    ASSERT_EQ(seen.size(), 1u) << i;
    EXPECT_EQ(seen[0].substr(8), offers[i]) << i;
    EXPECT_EQ(seen[0].substr(0, 4), absl::StrFormat("01%02x", i));
    const bool reject = std::string(GetParam().nak_option).empty();
    actions = h.Lcp(reject ? 4 : 3, static_cast<uint8_t>(i),
                    reject ? offers[i] : GetParam().nak_option);
    seen = Sent(actions, kProtocolLcp);
  }
  // After PAP: Terminate-Request carrying the reason.
  const std::string reason =
      "client refused every authentication method offered (EAP, MS-CHAPv2, "
      "PAP)";
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], HexOf(*EncodeTerminateRequest(3, AsBytes(reason))));
  EXPECT_EQ(h.server().phase(), PppServer::Phase::kTerminate);
  EXPECT_EQ(LinkDownReason(h.Lcp(6, 3, "")), reason);
}

INSTANTIATE_TEST_SUITE_P(
    AllNaks, SoftEtherAuthOrderTest,
    ::testing::Values(NakCase{"SuggestsEap", "0304c227"},
                      NakCase{"SuggestsMsChapV2", "0305c22381"},
                      NakCase{"SuggestsChapMd5", "0305c22305"},
                      NakCase{"SuggestsPap", "0304c023"},
                      NakCase{"SuggestsUnknown", "0304c281"},
                      NakCase{"Reject", ""}),
    [](const ::testing::TestParamInfo<NakCase>& info) {
      return std::string(info.param.name);
    });

TEST(PppServerAuthChoiceTest, WindowsFollowsASuggestionItAllows) {
  PppServerConfig config = ConfigFor(ServerPersonality::kWindows);
  config.auth_methods = {AuthProtocol::kEap, AuthProtocol::kMsChapV2};
  config.offer_callback_operation.reset();
  config.offer_mrru.reset();
  config.offer_endpoint_discriminator.reset();
  Harness h(config, Hex(kMagic));
  h.Up();
  EXPECT_THAT(Sent(h.Lcp(3, 0, "0305c22381"), kProtocolLcp),
              ElementsAre(absl::StrCat("01010013", "01040ffb", "0305c22381",
                                       "0506", kMagic)));
  EXPECT_EQ(h.server().offered_auth(), AuthProtocol::kMsChapV2);
}

TEST(PppServerAuthChoiceTest, WindowsEapOnlyKeepsAskingForEap) {
  PppServerConfig config = ConfigFor(ServerPersonality::kWindows);
  config.auth_methods = {AuthProtocol::kEap};
  config.offer_callback_operation.reset();
  config.offer_mrru.reset();
  config.offer_endpoint_discriminator.reset();
  Harness h(config, Hex(kMagic));
  h.Up();
  const std::string eap = absl::StrCat("01040ffb", "0304c227", "0506", kMagic);
  EXPECT_THAT(Sent(h.Lcp(3, 0, "0305c22381"), kProtocolLcp),
              ElementsAre(absl::StrCat("01010012", eap)));
  EXPECT_THAT(Sent(h.Lcp(3, 1, "0304c023"), kProtocolLcp),
              ElementsAre(absl::StrCat("01020012", eap)));
  // A Reject means the client will not authenticate at all.
  const Actions rejected = h.Lcp(4, 2, "0304c227");
  EXPECT_EQ(h.server().end_reason(),
            "client Configure-Rejected authentication (EAP)");
  EXPECT_EQ(Sent(rejected, kProtocolLcp).at(0).substr(0, 2), "05");
}

// accel-ppp ppp_auth.c: a Nak marks the current method refused and the next
// un-refused one of the list is offered, whatever the Nak suggests.
TEST(PppServerAuthChoiceTest, AccelWalksItsListOnNaks) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  h.Up();
  const std::string tail = absl::StrCat("010405ac", "0506", kMagic);
  EXPECT_THAT(Sent(h.Lcp(3, 1, "0305c22381"), kProtocolLcp),
              ElementsAre(absl::StrCat("01020013", "0305c22305", tail)));
  EXPECT_THAT(Sent(h.Lcp(3, 2, "0305c22381"), kProtocolLcp),
              ElementsAre(absl::StrCat("01030013", "0305c22381", tail)));
  h.Lcp(3, 3, "0304c023");
  EXPECT_EQ(h.server().end_reason(),
            "client refused every authentication method offered (PAP, "
            "CHAP-MD5, MS-CHAPv2)");
}

// --- SoftEther 5.01's EAP-TLS stall ---------------------------------------------

TEST(PppServerSoftEtherTest, NakToEapTlsStartEndsInTheStall) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther),
            Hex(kAuthenticatorChallenge));
  h.Up();
  h.Lcp(2, 0, "0304c227");  // the client Acks EAP
  // Magic-Number is rejected, then the MRU-only request is acknowledged.
  EXPECT_THAT(Sent(h.Lcp(1, 1, "01040578 05060a0b0c0d"), kProtocolLcp),
              ElementsAre("0401000a05060a0b0c0d"));
  const Actions opened = h.Lcp(1, 2, "01040578");
  EXPECT_THAT(Sent(opened, kProtocolLcp), ElementsAre("0202000801040578"));
  // EAP Request/Identity with SoftEther's greeting and its NUL.
  EXPECT_THAT(Sent(opened, kProtocolEap),
              ElementsAre(absl::StrCat(
                  "0101002a01",
                  HexOf(AsBytes("Welcome to the SoftEther VPN server!")),
                  "00")));
  EXPECT_TRUE(Starts(opened, TimerId::kEcho, absl::Milliseconds(4792)));

  // Identity -> EAP-TLS Start (Type 13, S flag).
  EXPECT_THAT(Sent(h.Feed(kProtocolEap, *EncodeEapIdentityResponse(1, "User")),
                   kProtocolEap),
              ElementsAre("010200060d20"));

  // The legacy Nak for EAP-MSCHAPv2 (26): Protocol-Reject of that packet,
  // then a Configure-Request for MS-CHAPv2 alone.
  const uint8_t mschapv2[] = {26};
  const std::vector<uint8_t> nak = *EncodeEapNak(2, mschapv2);
  const Actions stalled = h.Feed(kProtocolEap, nak);
  EXPECT_THAT(Sent(stalled, kProtocolLcp),
              ElementsAre(absl::StrCat("0801000cc227", HexOf(nak)),
                          "010200090305c22381"));
  EXPECT_TRUE(h.server().stalled());
  EXPECT_EQ(h.server().offered_auth(), AuthProtocol::kMsChapV2);

  // RFC 1661 Opened + RCR: the client sends its request and Acks ours. The
  // server answers LCP, and then nothing: no CHAP Challenge, ever.
  Actions after = h.Lcp(1, 3, "01040578");
  EXPECT_THAT(Sent(after, kProtocolLcp), ElementsAre("0203000801040578"));
  after = h.Lcp(2, 2, "0305c22381");
  EXPECT_TRUE(Sent(after, kProtocolChap).empty());
  EXPECT_THAT(All<PppServer::StopTimer>(after), ::testing::SizeIs(1));
  for (TimerId id : {TimerId::kLcpRestart, TimerId::kAuth, TimerId::kEcho}) {
    const Actions later = h.Timer(id);
    EXPECT_TRUE(Sent(later, kProtocolChap).empty());
    EXPECT_TRUE(All<PppServer::Authenticated>(later).empty());
  }
  EXPECT_FALSE(h.server().ended());
  // LCP echo still works while stalled.
  EXPECT_THAT(Sent(h.Lcp(9, 7, "00000000 abcd"), kProtocolLcp),
              ElementsAre("0a07000a00000000abcd"));
}

TEST(PppServerSoftEtherTest, EapTlsResponseFailsTheLink) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  h.OpenLcp(/*with_magic=*/false);
  h.Feed(kProtocolEap, *EncodeEapIdentityResponse(1, "User"));
  const Actions actions = h.Feed(kProtocolEap, Hex("0202000b0d800000000016"));
  EXPECT_THAT(Sent(actions, kProtocolEap), ElementsAre("04020004"));
  ASSERT_THAT(All<PppServer::AuthFailed>(actions), ::testing::SizeIs(1));
  EXPECT_EQ(All<PppServer::AuthFailed>(actions)[0].reason,
            "EAP-TLS is not implemented by the test server");
}

TEST(PppServerSoftEtherTest, DropsFramesWithoutAddressControlField) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  h.Up();
  EXPECT_TRUE(h.Feed(kProtocolLcp, Control(1, 1, "010405dc"),
                     /*had_address_control_field=*/false)
                  .empty());
  EXPECT_THAT(Sent(h.Feed(kProtocolLcp, Control(1, 1, "010405dc")),
                   kProtocolLcp),
              ElementsAre("02010008010405dc"));
}

TEST(PppServerSoftEtherTest, AuthenticatesWithMsChapV2AfterNakAndAssignsIpv4) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther),
            Hex(kAuthenticatorChallenge));
  h.Up();
  EXPECT_THAT(Sent(h.Lcp(3, 0, "0305c22381"), kProtocolLcp),
              ElementsAre("010100090305c22381"));
  h.Lcp(2, 1, "0305c22381");
  const Actions opened = h.Lcp(1, 1, "01040578");
  std::vector<std::string> chap = Sent(opened, kProtocolChap);
  ASSERT_EQ(chap.size(), 1u);
  const uint8_t id = Hex(chap[0])[1];
  const Actions auth = h.Feed(kProtocolChap, Rfc2759Response(id, "User"));
  // SoftEther: "S=<hex>" without M=.
  EXPECT_THAT(Sent(auth, kProtocolChap),
              ElementsAre(HexOf(*EncodeChapResult(
                  {ChapCode::kSuccess, id, kAuthenticatorResponse}))));
  ASSERT_THAT(All<PppServer::Authenticated>(auth), ::testing::SizeIs(1));
  // Passive IPCP and IPv6CP: nothing sent on entering the network phase.
  EXPECT_TRUE(Sent(auth, kProtocolIpcp).empty());
  EXPECT_TRUE(Sent(auth, kProtocolIpv6cp).empty());

  // The first IPCP request only starts SoftEther's ~1.3 s DHCP delay.
  Actions ipcp = h.Feed(kProtocolIpcp,
                        Control(1, 1, "0306 00000000 8106 00000000 8306 "
                                      "00000000"));
  EXPECT_TRUE(Sent(ipcp, kProtocolIpcp).empty());
  EXPECT_TRUE(Starts(ipcp, TimerId::kIpcpDelay, absl::Milliseconds(1300)));
  // Then: its own request, and the secondary DNS rejected.
  ipcp = h.Timer(TimerId::kIpcpDelay);
  EXPECT_THAT(Sent(ipcp, kProtocolIpcp),
              ElementsAre("0101000a0306c0a85a01", "0401000a830600000000"));
  EXPECT_THAT(Sent(h.Feed(kProtocolIpcp,
                          Control(1, 2, "0306 00000000 8106 00000000")),
                   kProtocolIpcp),
              ElementsAre("030200100306c0a85a028106c0a85a35"));
  h.Feed(kProtocolIpcp, Control(1, 3, "0306 c0a85a02 8106 c0a85a35"));
  const Actions up = h.Feed(kProtocolIpcp, Control(2, 1, "0306c0a85a01"));
  ASSERT_THAT(All<PppServer::Ipv4Up>(up), ::testing::SizeIs(1));
  const PppServer::Ipv4Up ipv4 = All<PppServer::Ipv4Up>(up)[0];
  EXPECT_EQ(ipv4.server_address, (Ipv4Address{192, 168, 90, 1}));
  EXPECT_EQ(ipv4.client_address, (Ipv4Address{192, 168, 90, 2}));
  EXPECT_EQ(ipv4.primary_dns, (Ipv4Address{192, 168, 90, 53}));
  EXPECT_EQ(ipv4.secondary_dns, std::nullopt);
  EXPECT_TRUE(h.server().data_allowed(kProtocolIpv4));
}

TEST(PppServerSoftEtherTest, SendsItsEchoRequests) {
  Harness h(ConfigFor(ServerPersonality::kSoftEther), {});
  h.OpenLcp(/*with_magic=*/false);
  const Actions echo = h.Timer(TimerId::kEcho);
  // Magic 0 (not negotiated) and "Aho Baka Manuke" with its NUL.
  EXPECT_THAT(Sent(echo, kProtocolLcp),
              ElementsAre(absl::StrCat("0901001800000000",
                                       HexOf(AsBytes("Aho Baka Manuke")),
                                       "00")));
  EXPECT_TRUE(Starts(echo, TimerId::kEcho, absl::Milliseconds(4792)));
  // SoftEther never gives up on unanswered echoes.
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(LinkDownReason(h.Timer(TimerId::kEcho)).has_value());
  }
}

// --- MS-CHAPv2 through the whole server (Windows) --------------------------------

TEST(PppServerWindowsTest, MsChapV2Rfc2759VectorAndNetworkPhase) {
  Harness h(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  const Actions opened = h.OpenLcp();
  EXPECT_EQ(h.server().peer_mru(), 1400);
  EXPECT_EQ(h.server().phase(), PppServer::Phase::kAuthenticate);
  EXPECT_THAT(
      Sent(opened, kProtocolChap),
      ElementsAre(absl::StrCat("01010025", "10",
                               Lower(kAuthenticatorChallenge),
                               HexOf(AsBytes("sstp-test-server")))));
  EXPECT_TRUE(Starts(opened, TimerId::kAuth, absl::Seconds(3)));

  const Actions auth = h.Feed(kProtocolChap, Rfc2759Response(1, "User"));
  EXPECT_THAT(Sent(auth, kProtocolChap),
              ElementsAre(HexOf(*EncodeChapResult(
                  {ChapCode::kSuccess, 1,
                   absl::StrCat(kAuthenticatorResponse, " M=Welcome")}))));
  const std::vector<PppServer::Authenticated> done =
      All<PppServer::Authenticated>(auth);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].method, AuthProtocol::kMsChapV2);
  EXPECT_EQ(done[0].user, "User");
  EXPECT_EQ(HexOf(done[0].hlak.span()), HexOf(Hex(kClientHlak)));
  // Network phase: the server's IPCP and IPv6CP requests.
  EXPECT_EQ(h.server().phase(), PppServer::Phase::kNetwork);
  EXPECT_THAT(Sent(auth, kProtocolIpcp), ElementsAre("0101000a0306c0a85a01"));
  EXPECT_THAT(Sent(auth, kProtocolIpv6cp),
              ElementsAre("0101000e010a02005efffe000001"));

  // IPCP (RFC 1332 3.3, RFC 1877): zeros are Nak'd with the pool's values,
  // WINS rejected first.
  EXPECT_THAT(
      Sent(h.Feed(kProtocolIpcp,
                  Control(1, 1, "0306 00000000 8106 00000000 8206 00000000 "
                                "8306 00000000")),
           kProtocolIpcp),
      ElementsAre("0401000a820600000000"));
  EXPECT_THAT(
      Sent(h.Feed(kProtocolIpcp,
                  Control(1, 2, "0306 00000000 8106 00000000 8306 00000000")),
           kProtocolIpcp),
      ElementsAre("030200160306c0a85a028106c0a85a358306c0a85a36"));
  h.Feed(kProtocolIpcp,
         Control(1, 3, "0306 c0a85a02 8106 c0a85a35 8306 c0a85a36"));
  const Actions ipv4 = h.Feed(kProtocolIpcp, Control(2, 1, "0306c0a85a01"));
  ASSERT_THAT(All<PppServer::Ipv4Up>(ipv4), ::testing::SizeIs(1));
  EXPECT_EQ(All<PppServer::Ipv4Up>(ipv4)[0].secondary_dns,
            (Ipv4Address{192, 168, 90, 54}));

  // IPv6CP (RFC 5072 4.1): a zero identifier or the server's own is Nak'd.
  EXPECT_THAT(Sent(h.Feed(kProtocolIpv6cp,
                          Control(1, 1, "010a0000000000000000")),
                   kProtocolIpv6cp),
              ElementsAre("0301000e010a02005efffe000002"));
  EXPECT_THAT(Sent(h.Feed(kProtocolIpv6cp,
                          Control(1, 2, "010a02005efffe000001")),
                   kProtocolIpv6cp),
              ElementsAre("0302000e010a02005efffe000002"));
  h.Feed(kProtocolIpv6cp, Control(1, 3, "010a1122334455667788"));
  const Actions ipv6 =
      h.Feed(kProtocolIpv6cp, Control(2, 1, "010a02005efffe000001"));
  ASSERT_THAT(All<PppServer::Ipv6Up>(ipv6), ::testing::SizeIs(1));
  EXPECT_EQ(HexOf(All<PppServer::Ipv6Up>(ipv6)[0].client_interface_id),
            "1122334455667788");

  // Data flows once the NCP is open.
  const std::vector<uint8_t> datagram = Hex("4500001c");
  const std::vector<PppServer::DataReceived> data =
      All<PppServer::DataReceived>(h.Feed(kProtocolIpv4, datagram));
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].payload, datagram);
}

TEST(PppServerWindowsTest, WrongPasswordSendsE691AndEndsTheLink) {
  PppServerConfig config = ConfigFor(ServerPersonality::kWindows);
  config.auth.users.clear();
  config.auth.users.emplace("User", SecretString("wrong"));
  Harness h(config, MagicThenChallenge());
  h.OpenLcp();
  const Actions failed = h.Feed(kProtocolChap, Rfc2759Response(1, "User"));
  // FixedRandom wraps: after magic and challenge, the "new challenge" of C=
  // is the magic followed by the first 12 octets of the challenge.
  EXPECT_THAT(Sent(failed, kProtocolChap),
              ElementsAre(HexOf(*EncodeChapResult(
                  {ChapCode::kFailure, 1,
                   "E=691 R=0 C=112233445B5D7C7D7B3F2F3E3C2C6021 V=3 "
                   "M=Authentication failure"}))));
  const std::vector<PppServer::AuthFailed> rejected =
      All<PppServer::AuthFailed>(failed);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].reason, "wrong password for user \"User\"");
  EXPECT_TRUE(All<PppServer::Authenticated>(failed).empty());
  const std::string reason =
      "authentication failed: wrong password for user \"User\"";
  const std::vector<std::string> lcp = Sent(failed, kProtocolLcp);
  ASSERT_EQ(lcp.size(), 1u);
  EXPECT_EQ(lcp[0], HexOf(*EncodeTerminateRequest(1, AsBytes(reason))));
  EXPECT_EQ(LinkDownReason(h.Lcp(6, 1, "")), reason);
  EXPECT_TRUE(h.server().ended());
  EXPECT_TRUE(h.Feed(kProtocolLcp, Control(1, 9, "")).empty());
}

TEST(PppServerWindowsTest, UnknownUserFails) {
  Harness h(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  h.OpenLcp();
  const Actions failed = h.Feed(kProtocolChap, Rfc2759Response(1, "Nobody"));
  ASSERT_THAT(All<PppServer::AuthFailed>(failed), ::testing::SizeIs(1));
  EXPECT_EQ(All<PppServer::AuthFailed>(failed)[0].reason,
            "unknown user \"Nobody\"");
  EXPECT_EQ(Sent(failed, kProtocolChap).at(0).substr(0, 2), "04");
}

TEST(PppServerWindowsTest, EapMsChapV2Flow) {
  PppServerConfig config = ConfigFor(ServerPersonality::kWindows);
  config.auth_methods = {AuthProtocol::kEap};
  Harness h(config, MagicThenChallenge());
  EXPECT_THAT(Sent(h.OpenLcp(), kProtocolEap), ElementsAre("0101000501"));
  const Actions challenge =
      h.Feed(kProtocolEap, *EncodeEapIdentityResponse(1, "User"));
  EXPECT_THAT(Sent(challenge, kProtocolEap),
              ElementsAre(absl::StrCat(
                  "0102002a", "1a", "01", "02", "0025", "10",
                  Lower(kAuthenticatorChallenge),
                  HexOf(AsBytes("sstp-test-server")))));
  MsChapV2ResponseValue value;
  const std::vector<uint8_t> peer = Hex(kPeerChallenge);
  const std::vector<uint8_t> nt = Hex(kNtResponse);
  std::copy(peer.begin(), peer.end(), value.peer_challenge.begin());
  std::copy(nt.begin(), nt.end(), value.nt_response.begin());
  const Actions success_request = h.Feed(
      kProtocolEap, *EncodeEapMsChapV2Response(2, 2, value, "User"));
  EapMsChapV2Packet ms;
  ms.op_code = EapMsChapV2OpCode::kSuccess;
  ms.ms_chapv2_id = 2;
  const std::string message = absl::StrCat(kAuthenticatorResponse, " M=Welcome");
  ms.message = message;
  EXPECT_THAT(Sent(success_request, kProtocolEap),
              ElementsAre(HexOf(
                  *EncodeEapMsChapV2(EapCode::kRequest, 3, ms))));
  EXPECT_TRUE(All<PppServer::Authenticated>(success_request).empty());
  const Actions done =
      h.Feed(kProtocolEap, *EncodeEapMsChapV2SuccessResponse(3));
  EXPECT_THAT(Sent(done, kProtocolEap), ElementsAre("03030004"));
  ASSERT_THAT(All<PppServer::Authenticated>(done), ::testing::SizeIs(1));
  const PppServer::Authenticated authenticated =
      All<PppServer::Authenticated>(done)[0];
  EXPECT_EQ(authenticated.method, AuthProtocol::kEap);
  EXPECT_EQ(HexOf(authenticated.hlak.span()), HexOf(Hex(kClientHlak)));
  EXPECT_THAT(Sent(done, kProtocolIpcp), ElementsAre("0101000a0306c0a85a01"));
}

// --- accel-ppp: PAP, passive IPCP, no IPv6CP ------------------------------------

TEST(PppServerAccelTest, PapSuccessPassiveIpcpAndIpv6cpProtocolReject) {
  PppServerConfig config = ConfigFor(ServerPersonality::kAccel);
  config.primary_dns.reset();
  config.secondary_dns.reset();
  Harness h(config, Hex(kMagic));
  const Actions opened = h.OpenLcp();
  EXPECT_TRUE(Sent(opened, kProtocolPap).empty());  // the client speaks first
  const Actions auth = h.Feed(
      kProtocolPap, *EncodePapAuthenticateRequest(3, "User", "clientPass"));
  EXPECT_THAT(Sent(auth, kProtocolPap),
              ElementsAre(HexOf(*EncodePapAckNak({PapCode::kAuthenticateAck,
                                                  3,
                                                  "Authentication succeeded"}))));
  ASSERT_THAT(All<PppServer::Authenticated>(auth), ::testing::SizeIs(1));
  EXPECT_EQ(HexOf(All<PppServer::Authenticated>(auth)[0].hlak.span()),
            std::string(64, '0'));
  EXPECT_TRUE(Sent(auth, kProtocolIpcp).empty());

  // IPv6CP is off: "send [LCP ProtoRej id=.. <8057>]".
  const std::vector<uint8_t> ipv6cp = Control(1, 1, "010a1122334455667788");
  EXPECT_THAT(Sent(h.Feed(kProtocolIpv6cp, ipv6cp), kProtocolLcp),
              ElementsAre(absl::StrCat("08020014", "8057", HexOf(ipv6cp))));

  // accel-ppp's log: the client's request makes it send its own, and DNS is
  // rejected when none is configured.
  const Actions ipcp = h.Feed(
      kProtocolIpcp, Control(7, 7, "01") /* Code-Reject before any request */);
  EXPECT_TRUE(Sent(ipcp, kProtocolIpcp).empty());
  EXPECT_THAT(
      Sent(h.Feed(kProtocolIpcp, Control(1, 7, "0306 00000000 8106 00000000")),
           kProtocolIpcp),
      ElementsAre("0101000a0306c0a85a01", "0407000a810600000000"));
  EXPECT_THAT(Sent(h.Feed(kProtocolIpcp, Control(1, 8, "0306 00000000")),
                   kProtocolIpcp),
              ElementsAre("0308000a0306c0a85a02"));
}

TEST(PppServerAccelTest, PapFailure) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  h.OpenLcp();
  const Actions failed = h.Feed(
      kProtocolPap, *EncodePapAuthenticateRequest(3, "User", "guess"));
  EXPECT_THAT(Sent(failed, kProtocolPap),
              ElementsAre(HexOf(*EncodePapAckNak(
                  {PapCode::kAuthenticateNak, 3, "Authentication failed"}))));
  ASSERT_THAT(All<PppServer::AuthFailed>(failed), ::testing::SizeIs(1));
  EXPECT_EQ(All<PppServer::AuthFailed>(failed)[0].method, AuthProtocol::kPap);
  EXPECT_EQ(Sent(failed, kProtocolLcp).at(0).substr(0, 2), "05");
}

TEST(PppServerAccelTest, ChapMd5AfterNakSuccess) {
  Harness h(ConfigFor(ServerPersonality::kAccel), MagicThenChallenge());
  h.Up();
  const std::vector<std::string> second =
      Sent(h.Lcp(3, 1, "0305c22305"), kProtocolLcp);
  ASSERT_EQ(second.size(), 1u);
  std::vector<uint8_t> ack = Hex(second[0]);
  ack[0] = 2;
  h.Feed(kProtocolLcp, ack);
  const Actions opened = h.Lcp(1, 1, "01040578");
  const std::vector<std::string> chap = Sent(opened, kProtocolChap);
  ASSERT_EQ(chap.size(), 1u);
  const std::vector<uint8_t> challenge_packet = Hex(chap[0]);
  absl::StatusOr<ChapChallenge> challenge =
      ParseChapChallenge(challenge_packet);
  ASSERT_TRUE(challenge.ok());
  const std::vector<uint8_t> value(challenge->value.begin(),
                                   challenge->value.end());
  absl::StatusOr<ChapMd5Response> md5 =
      ComputeChapMd5Response(challenge->identifier, "clientPass", value);
  ASSERT_TRUE(md5.ok());
  const Actions auth = h.Feed(
      kProtocolChap, *EncodeChapResponse(challenge->identifier, *md5, "User"));
  EXPECT_THAT(Sent(auth, kProtocolChap),
              ElementsAre(HexOf(*EncodeChapResult({ChapCode::kSuccess,
                                                   challenge->identifier,
                                                   "Authentication "
                                                   "succeeded"}))));
  ASSERT_THAT(All<PppServer::Authenticated>(auth), ::testing::SizeIs(1));
  EXPECT_EQ(All<PppServer::Authenticated>(auth)[0].method,
            AuthProtocol::kChapMd5);
}

TEST(PppServerAccelTest, IpcpMaxFailureTurnsNaksIntoReject) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  h.OpenLcp();
  h.Feed(kProtocolPap, *EncodePapAuthenticateRequest(3, "User", "clientPass"));
  // The client insists on 10.0.0.9: RFC 1661 4.6 Max-Failure (5) Naks, then
  // the option is rejected.
  for (uint8_t id = 10; id < 15; ++id) {
    const std::vector<std::string> ipcp =
        Sent(h.Feed(kProtocolIpcp, Control(1, id, "03060a000009")),
             kProtocolIpcp);
    ASSERT_FALSE(ipcp.empty());
    EXPECT_EQ(ipcp.back(), absl::StrFormat("03%02x000a0306c0a85a02", id));
  }
  EXPECT_THAT(Sent(h.Feed(kProtocolIpcp, Control(1, 15, "03060a000009")),
                   kProtocolIpcp),
              ElementsAre("040f000a03060a000009"));
}

TEST(PppServerAccelTest, LcpRenegotiationAfterAuthenticationEndsTheLink) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  h.OpenLcp();
  h.Feed(kProtocolPap, *EncodePapAuthenticateRequest(3, "User", "clientPass"));
  // RFC 1661 Opened + RCR+: tld, scr, sca; then the test server closes.
  const std::vector<std::string> lcp =
      Sent(h.Lcp(1, 0x50, "01040578"), kProtocolLcp);
  ASSERT_EQ(lcp.size(), 3u);
  EXPECT_EQ(lcp[0].substr(0, 2), "01");
  EXPECT_EQ(lcp[1], "0250000801040578");
  EXPECT_EQ(lcp[2].substr(0, 2), "05");
  EXPECT_EQ(h.server().end_reason(),
            "LCP renegotiation after authentication is not supported by the "
            "test server");
}

TEST(PppServerAccelTest, ClientProtocolRejectOfIpcpEndsTheLink) {
  Harness h(ConfigFor(ServerPersonality::kAccel), Hex(kMagic));
  h.OpenLcp();
  h.Feed(kProtocolPap, *EncodePapAuthenticateRequest(3, "User", "clientPass"));
  h.Feed(kProtocolIpcp, Control(1, 1, "0306c0a85a02"));  // starts IPCP
  // RFC 1661 5.7: IPCP's automaton gets RXJ-; with IPv6CP off nothing is
  // left.
  const Actions actions =
      h.Lcp(8, 9, absl::StrCat("8021", "0101000a0306c0a85a01"));
  EXPECT_EQ(h.server().end_reason(),
            "no network protocol reached Opened (IPCP and IPv6CP finished)");
  EXPECT_EQ(Sent(actions, kProtocolLcp).back().substr(0, 2), "05");
}

// --- Strict mode: every violation ends the link, named ---------------------------

struct ViolationCase {
  const char* name;
  bool open_lcp;  // reach the Authenticate phase first
  uint16_t protocol;
  const char* information;
  bool had_address_control_field;
  const char* reason;
};

class StrictViolationTest : public ::testing::TestWithParam<ViolationCase> {};

TEST_P(StrictViolationTest, EndsTheLinkNamingTheViolation) {
  const ViolationCase& c = GetParam();
  Harness h(ConfigFor(ServerPersonality::kStrict), MagicThenChallenge());
  if (c.open_lcp) {
    h.OpenLcp();
  } else {
    h.Up();
  }
  const Actions actions =
      h.Feed(c.protocol, Hex(c.information), c.had_address_control_field);
  const std::string reason = absl::StrCat("protocol violation: ", c.reason);
  EXPECT_EQ(h.server().end_reason(), reason);
  EXPECT_EQ(h.server().phase(), PppServer::Phase::kTerminate);
  // RFC 1661 5.5: Terminate-Request, with the reason as its data.
  const std::vector<std::string> lcp = Sent(actions, kProtocolLcp);
  ASSERT_EQ(lcp.size(), 1u);
  const std::vector<uint8_t> request = Hex(lcp[0]);
  EXPECT_EQ(request[0], 5);
  EXPECT_EQ(HexOf(absl::MakeConstSpan(request).subspan(4)),
            HexOf(AsBytes(reason)));
  EXPECT_EQ(LinkDownReason(
                h.Feed(kProtocolLcp, Control(6, request[1], ""))),
            reason);
}

INSTANTIATE_TEST_SUITE_P(
    Violations, StrictViolationTest,
    ::testing::Values(
        ViolationCase{"NoAddressControlField", false, kProtocolLcp,
                      "0101000801040578", false,
                      "frame without Address/Control field FF 03 (ACFC was "
                      "not negotiated)"},
        ViolationCase{"PfcRequested", false, kProtocolLcp, "0101000a010405780702",
                      true,
                      "LCP Configure-Request: client asked for "
                      "Protocol-Field-Compression (PFC)"},
        ViolationCase{"AcfcRequested", false, kProtocolLcp, "0101000608 02",
                      true,
                      "LCP Configure-Request: client asked for "
                      "Address-and-Control-Field-Compression (ACFC)"},
        ViolationCase{"AckNotMatchingRequest", false, kProtocolLcp,
                      "0207000801040578", true,
                      "LCP Configure-Ack id 7 does not match the outstanding "
                      "Configure-Request id 0"},
        ViolationCase{"UnknownLcpCode", false, kProtocolLcp, "2a010004", true,
                      "unknown LCP code 42"},
        ViolationCase{"ChapBeforeAuthenticatePhase", false, kProtocolChap,
                      "0201000401", true,
                      "CHAP packet before the Authenticate phase"},
        ViolationCase{"DataBeforeIpcp", false, kProtocolIpv4, "4500001c", true,
                      "IPv4 data frame before IPCP reached Opened"},
        ViolationCase{"IpcpBeforeAuthentication", true, kProtocolIpcp,
                      "0101000a030600000000", true,
                      "IPCP packet before authentication completed"},
        ViolationCase{"ChapChallengeFromClient", true, kProtocolChap,
                      "01010009041122334478", true,
                      "CHAP code 1 from the peer; only Response (2) is valid "
                      "towards the authenticator"},
        ViolationCase{"ChapResponseWrongIdentifier", true, kProtocolChap,
                      "0209000905112233447875", true,
                      "CHAP Response id 9 does not match the Challenge's id "
                      "1"},
        ViolationCase{"UnexpectedProtocol", true, kProtocolCcp,
                      "0101000412", true, "unexpected protocol CCP"},
        ViolationCase{"MalformedLcp", true, kProtocolLcp, "0901", true,
                      "LCP: PPP packet truncated: 2 octets < 4-octet header"}),
    [](const ::testing::TestParamInfo<ViolationCase>& info) {
      return std::string(info.param.name);
    });

TEST(PppServerStrictTest, NonStrictServerIgnoresTheSameViolations) {
  Harness h(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  h.OpenLcp();
  EXPECT_TRUE(h.Feed(kProtocolIpcp, Hex("0101000a030600000000")).empty());
  EXPECT_TRUE(h.Feed(kProtocolIpv4, Hex("4500001c")).empty());
  // Unknown protocol: RFC 1661 5.7 Protocol-Reject.
  EXPECT_THAT(Sent(h.Feed(kProtocolCcp, Hex("0101000412")), kProtocolLcp),
              ElementsAre("0801000b80fd0101000412"));
  // Unknown code: RFC 1661 5.6 Code-Reject.
  EXPECT_THAT(Sent(h.Feed(kProtocolLcp, Hex("2a010004")), kProtocolLcp),
              ElementsAre("070200082a010004"));
  EXPECT_FALSE(h.server().ended());
  // Without FF 03: accepted.
  EXPECT_THAT(Sent(h.Feed(kProtocolLcp, Hex("09050008 0a0b0c0d"), false),
                   kProtocolLcp),
              ElementsAre("0a05000811223344"));
}

// --- Echo, termination ------------------------------------------------------------

TEST(PppServerEchoTest, AnswersWithOwnMagicNumber) {
  Harness h(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  // RFC 1661 5.8: not answered before Opened.
  h.Up();
  EXPECT_TRUE(Sent(h.Lcp(9, 1, "0a0b0c0d"), kProtocolLcp).empty());
  Harness opened(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  opened.OpenLcp();
  EXPECT_THAT(Sent(opened.Lcp(9, 4, "0a0b0c0d 68656c6c6f"), kProtocolLcp),
              ElementsAre(absl::StrCat("0a04000d", kMagic, "68656c6c6f")));
}

TEST(PppServerEchoTest, OwnEchoesAndDeadPeerDetection) {
  PppServerConfig config = ConfigFor(ServerPersonality::kWindows);
  config.echo_interval = absl::Seconds(10);
  config.echo_max_unanswered = 2;
  Harness h(config, MagicThenChallenge());
  EXPECT_TRUE(Starts(h.OpenLcp(), TimerId::kEcho, absl::Seconds(10)));
  EXPECT_THAT(Sent(h.Timer(TimerId::kEcho), kProtocolLcp),
              ElementsAre(absl::StrCat("09010008", kMagic)));
  // A reply resets the count.
  h.Lcp(10, 1, "0a0b0c0d");
  h.Timer(TimerId::kEcho);
  h.Timer(TimerId::kEcho);
  const Actions dead = h.Timer(TimerId::kEcho);
  EXPECT_EQ(h.server().end_reason(),
            "client did not answer 2 LCP Echo-Requests");
  EXPECT_EQ(Sent(dead, kProtocolLcp).at(0).substr(0, 2), "05");
}

TEST(PppServerTerminateTest, ClientTerminateRequest) {
  Harness h(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  h.OpenLcp();
  const Actions ack = h.Lcp(5, 9, HexOf(AsBytes("bye")));
  EXPECT_THAT(Sent(ack, kProtocolLcp), ElementsAre("06090004"));
  EXPECT_TRUE(Starts(ack, TimerId::kLcpRestart, absl::Seconds(3)));
  EXPECT_FALSE(LinkDownReason(ack).has_value());
  // RFC 1661 Stopping: one restart period, then This-Layer-Finished.
  EXPECT_EQ(LinkDownReason(h.Timer(TimerId::kLcpRestart)),
            "client sent LCP Terminate-Request \"bye\"");
}

TEST(PppServerTerminateTest, CloseAndDown) {
  Harness h(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  h.OpenLcp();
  const Actions close = h.server().Close("administrative close");
  EXPECT_THAT(Sent(close, kProtocolLcp),
              ElementsAre(HexOf(*EncodeTerminateRequest(
                  1, AsBytes("administrative close")))));
  EXPECT_TRUE(h.server().Close("again").empty());
  // The client never answers: Max-Terminate (2) requests, then finished.
  EXPECT_THAT(Sent(h.Timer(TimerId::kLcpRestart), kProtocolLcp),
              ::testing::SizeIs(1));
  EXPECT_EQ(LinkDownReason(h.Timer(TimerId::kLcpRestart)),
            "administrative close");

  Harness down(ConfigFor(ServerPersonality::kWindows), MagicThenChallenge());
  down.OpenLcp();
  const Actions gone = down.server().Down();
  EXPECT_EQ(LinkDownReason(gone), "lower layer down");
  EXPECT_TRUE(down.server().ended());
  EXPECT_TRUE(down.server().Down().empty());
}

}  // namespace
}  // namespace sstp::ppp
