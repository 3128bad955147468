#include "daemon/ppp/server_auth.h"

#include <string>
#include <variant>
#include <vector>

#include "base/hex.h"
#include "base/log.h"
#include "base/random.h"
#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/chap_md5.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/mschapv2.h"
#include "daemon/ppp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::HasSubstr;

// RFC 2759 9.2.
constexpr char kAuthenticatorChallenge[] = "5B5D7C7D7B3F2F3E3C2C602132262628";
constexpr char kPeerChallenge[] = "21402324255E262A28295F2B3A337C7E";
constexpr char kNtResponse[] = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
constexpr char kAuthenticatorResponse[] =
    "S=407A5589115FD0D6209F510FE9C04566932CDA56";
// RFC 3079 3.5.3 start keys in the client's order (SSTP-NOTES).
constexpr char kClientHlak[] =
    "D5F0E9521E3EA9589645E86051C82226 8B7CDC149B993A1BA118CB153F56DCCB";

template <size_t N>
std::array<uint8_t, N> ArrayOf(const char* hex) {
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  std::array<uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

MsChapV2ResponseValue Rfc2759Response() {
  MsChapV2ResponseValue value;
  value.peer_challenge = ArrayOf<16>(kPeerChallenge);
  value.nt_response = ArrayOf<24>(kNtResponse);
  return value;
}

std::vector<uint8_t> HlakBytes(const SecretArray<32>& hlak) {
  return std::vector<uint8_t>(hlak.data(), hlak.data() + hlak.size());
}

class ServerAuthTest : public ::testing::Test {
 protected:
  ServerAuthTest() : random_(HexOrDie(kAuthenticatorChallenge)) {
    config_.users.emplace("User", SecretString("clientPass"));
  }

  ServerAuthConfig config_;
  FixedRandom random_;
  Logger logger_{"auth-test"};
};

TEST_F(ServerAuthTest, MsChapV2Rfc2759Vector) {
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kMsChapV2);
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(step.timer, TimerCommand::kStart);
  absl::StatusOr<MsChapV2ChallengePacket> challenge =
      ParseMsChapV2Challenge(step.packets[0].information);
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(ToHex(challenge->challenge),
            ToHex(HexOrDie(kAuthenticatorChallenge)));
  EXPECT_EQ(challenge->name, "sstp-test-server");

  absl::StatusOr<std::vector<uint8_t>> response =
      EncodeMsChapV2Response(challenge->identifier, Rfc2759Response(), "User");
  ASSERT_TRUE(response.ok());
  step = auth.OnPacket(kProtocolChap, *response);
  EXPECT_TRUE(step.violation.empty()) << step.violation;
  ASSERT_EQ(step.packets.size(), 1u);
  absl::StatusOr<ChapResult> result =
      ParseChapResult(step.packets[0].information);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->code, ChapCode::kSuccess);
  EXPECT_EQ(result->identifier, challenge->identifier);
  const std::string success_message(result->message);
  EXPECT_EQ(success_message, std::string(kAuthenticatorResponse) + " M=Welcome");
  EXPECT_EQ(step.timer, TimerCommand::kStop);
  const auto* success = std::get_if<AuthSucceeded>(&step.outcome);
  ASSERT_NE(success, nullptr);
  EXPECT_EQ(success->user, "User");
  EXPECT_EQ(ToHex(HlakBytes(success->hlak)), ToHex(HexOrDie(kClientHlak)));

  // RFC 1994 4.2: a repeated Response gets the same Success again.
  step = auth.OnPacket(kProtocolChap, *response);
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(step.outcome));
  EXPECT_EQ(ParseChapResult(step.packets[0].information)->message,
            success_message);
}

TEST_F(ServerAuthTest, MsChapV2DomainUserHashesNameWithoutDomain) {
  // RFC 2759 8.2: "DOMAIN\User" is looked up without the domain and hashed
  // as "User", so the 9.2 vector still verifies.
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kMsChapV2);
  const uint8_t id = step.packets[0].information[1];
  step = auth.OnPacket(
      kProtocolChap,
      *EncodeMsChapV2Response(id, Rfc2759Response(), "CORP\\User"));
  const auto* success = std::get_if<AuthSucceeded>(&step.outcome);
  ASSERT_NE(success, nullptr);
  EXPECT_EQ(success->user, "CORP\\User");
}

TEST_F(ServerAuthTest, MsChapV2WrongPasswordSendsE691WithNewChallenge) {
  config_.users.clear();
  config_.users.emplace("User", SecretString("wrongPass"));
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kMsChapV2);
  const uint8_t id = step.packets[0].information[1];
  step = auth.OnPacket(kProtocolChap,
                       *EncodeMsChapV2Response(id, Rfc2759Response(), "User"));
  ASSERT_EQ(step.packets.size(), 1u);
  absl::StatusOr<ChapResult> result =
      ParseChapResult(step.packets[0].information);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->code, ChapCode::kFailure);
  // FixedRandom repeats its bytes: the new challenge is the same 16 octets.
  EXPECT_EQ(result->message,
            "E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 "
            "M=Authentication failure");
  const auto* rejected = std::get_if<AuthRejected>(&step.outcome);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->reason, "wrong password for user \"User\"");
  EXPECT_TRUE(auth.finished());
  EXPECT_FALSE(auth.succeeded());
}

TEST_F(ServerAuthTest, MsChapV2UnknownUser) {
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kMsChapV2);
  const uint8_t id = step.packets[0].information[1];
  step = auth.OnPacket(
      kProtocolChap, *EncodeMsChapV2Response(id, Rfc2759Response(), "Mallory"));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(ParseChapResult(step.packets[0].information)->code,
            ChapCode::kFailure);
  const auto* rejected = std::get_if<AuthRejected>(&step.outcome);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->reason, "unknown user \"Mallory\"");
}

TEST_F(ServerAuthTest, MsChapV2FailureVariants) {
  // accel-ppp: no C=; SoftEther: the same challenge and no M=.
  config_.users.clear();
  config_.mschapv2_failure_challenge = MsChapV2FailureChallenge::kOmit;
  {
    ServerAuthenticator auth(config_, random_, logger_);
    const uint8_t id =
        auth.Start(AuthProtocol::kMsChapV2).packets[0].information[1];
    AuthStep step = auth.OnPacket(
        kProtocolChap, *EncodeMsChapV2Response(id, Rfc2759Response(), "User"));
    EXPECT_EQ(ParseChapResult(step.packets[0].information)->message,
              "E=691 R=0 V=3 M=Authentication failure");
  }
  config_.mschapv2_failure_challenge = MsChapV2FailureChallenge::kRepeat;
  config_.mschapv2_failure_text.reset();
  {
    FixedRandom other(HexOrDie("00112233445566778899AABBCCDDEEFF"));
    ServerAuthenticator auth(config_, other, logger_);
    const uint8_t id =
        auth.Start(AuthProtocol::kMsChapV2).packets[0].information[1];
    AuthStep step = auth.OnPacket(
        kProtocolChap, *EncodeMsChapV2Response(id, Rfc2759Response(), "User"));
    EXPECT_EQ(ParseChapResult(step.packets[0].information)->message,
              "E=691 R=0 C=00112233445566778899AABBCCDDEEFF V=3");
  }
}

TEST_F(ServerAuthTest, ChapResponseWithWrongIdentifierIsIgnored) {
  ServerAuthenticator auth(config_, random_, logger_);
  const uint8_t id =
      auth.Start(AuthProtocol::kMsChapV2).packets[0].information[1];
  AuthStep step = auth.OnPacket(
      kProtocolChap,
      *EncodeMsChapV2Response(id + 1, Rfc2759Response(), "User"));
  EXPECT_TRUE(step.packets.empty());
  EXPECT_THAT(step.violation, HasSubstr("does not match the Challenge's id"));
  EXPECT_FALSE(auth.finished());
}

TEST_F(ServerAuthTest, ChapChallengeFromPeerIsAViolation) {
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kMsChapV2);
  AuthStep step = auth.OnPacket(
      kProtocolChap, *EncodeChapChallenge(9, HexOrDie("00112233"), "x"));
  EXPECT_EQ(step.violation,
            "CHAP code 1 from the peer; only Response (2) is valid towards the "
            "authenticator");
}

TEST_F(ServerAuthTest, PacketOfAnotherProtocolIsAViolation) {
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kMsChapV2);
  AuthStep step = auth.OnPacket(
      kProtocolPap, *EncodePapAuthenticateRequest(1, "User", "clientPass"));
  EXPECT_EQ(step.violation, "PAP packet, but MS-CHAPv2 was negotiated");
}

TEST_F(ServerAuthTest, ChallengeRetransmittedThenGivesUp) {
  config_.max_transmissions = 3;
  ServerAuthenticator auth(config_, random_, logger_);
  const std::vector<uint8_t> first =
      auth.Start(AuthProtocol::kMsChapV2).packets[0].information;
  for (int i = 0; i < 2; ++i) {
    AuthStep step = auth.OnTimeout();
    ASSERT_EQ(step.packets.size(), 1u);
    EXPECT_EQ(step.packets[0].information, first);  // RFC 1994 4.1
    EXPECT_EQ(step.timer, TimerCommand::kStart);
  }
  AuthStep step = auth.OnTimeout();
  EXPECT_TRUE(step.packets.empty());
  const auto* rejected = std::get_if<AuthRejected>(&step.outcome);
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->reason, "no answer to 3 MS-CHAPv2 requests");
}

TEST_F(ServerAuthTest, ChapMd5SuccessAndFailure) {
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kChapMd5);
  absl::StatusOr<ChapChallenge> challenge =
      ParseChapChallenge(step.packets[0].information);
  ASSERT_TRUE(challenge.ok());
  absl::StatusOr<ChapMd5Response> md5 = ComputeChapMd5Response(
      challenge->identifier, "clientPass", challenge->value);
  ASSERT_TRUE(md5.ok());
  step = auth.OnPacket(kProtocolChap,
                       *EncodeChapResponse(challenge->identifier, *md5, "User"));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(ToHex(step.packets[0].information),
            ToHex(*EncodeChapResult(
                {ChapCode::kSuccess, challenge->identifier, "Welcome"})));
  const auto* success = std::get_if<AuthSucceeded>(&step.outcome);
  ASSERT_NE(success, nullptr);
  EXPECT_EQ(success->method, AuthProtocol::kChapMd5);
  EXPECT_EQ(HlakBytes(success->hlak), std::vector<uint8_t>(32, 0));

  ServerAuthenticator bad(config_, random_, logger_);
  step = bad.Start(AuthProtocol::kChapMd5);
  challenge = ParseChapChallenge(step.packets[0].information);
  md5 = ComputeChapMd5Response(challenge->identifier, "nope", challenge->value);
  step = bad.OnPacket(kProtocolChap,
                      *EncodeChapResponse(challenge->identifier, *md5, "User"));
  EXPECT_EQ(ToHex(step.packets[0].information),
            ToHex(*EncodeChapResult({ChapCode::kFailure, challenge->identifier,
                                     "Authentication failure"})));
  ASSERT_TRUE(std::holds_alternative<AuthRejected>(step.outcome));
  EXPECT_EQ(std::get<AuthRejected>(step.outcome).reason,
            "wrong password for user \"User\"");
}

TEST_F(ServerAuthTest, PapSuccessFailureAndRetransmission) {
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kPap);
  EXPECT_TRUE(step.packets.empty());  // RFC 1334: the peer speaks first
  EXPECT_EQ(step.timer, TimerCommand::kStart);
  const std::vector<uint8_t> request =
      *EncodePapAuthenticateRequest(7, "User", "clientPass");
  step = auth.OnPacket(kProtocolPap, request);
  ASSERT_EQ(step.packets.size(), 1u);
  // Ack, id 7, Msg-Length 7, "Welcome".
  EXPECT_EQ(ToHex(step.packets[0].information),
            "0207000c0757656c636f6d65");
  ASSERT_TRUE(std::holds_alternative<AuthSucceeded>(step.outcome));
  // RFC 1334 2.2.1: the retransmitted request is acknowledged again.
  step = auth.OnPacket(kProtocolPap, request);
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(ToHex(step.packets[0].information), "0207000c0757656c636f6d65");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(step.outcome));

  ServerAuthenticator bad(config_, random_, logger_);
  bad.Start(AuthProtocol::kPap);
  step = bad.OnPacket(kProtocolPap,
                      *EncodePapAuthenticateRequest(1, "User", "clientPas"));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(step.packets[0].information[0], 3);  // Authenticate-Nak
  EXPECT_EQ(std::get<AuthRejected>(step.outcome).reason,
            "wrong password for user \"User\"");
}

TEST_F(ServerAuthTest, PapWithoutMessageFieldLikeSoftEther) {
  config_.pap_message_field = false;
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kPap);
  AuthStep step = auth.OnPacket(
      kProtocolPap, *EncodePapAuthenticateRequest(4, "User", "clientPass"));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(ToHex(step.packets[0].information), "02040004");
}

TEST_F(ServerAuthTest, PapTimesOutWithoutRequest) {
  config_.max_transmissions = 2;
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kPap);
  EXPECT_EQ(auth.OnTimeout().timer, TimerCommand::kStart);
  AuthStep step = auth.OnTimeout();
  ASSERT_TRUE(std::holds_alternative<AuthRejected>(step.outcome));
  EXPECT_EQ(std::get<AuthRejected>(step.outcome).reason,
            "no PAP Authenticate-Request within 6s");
}

// draft-kamath-pppext-eap-mschapv2-02 2: Identity, Challenge, Response,
// Success Request with S=, the peer's Success Response, EAP-Success; the
// HLAK is the RFC 2759 / RFC 3079 vector's.
TEST_F(ServerAuthTest, EapMsChapV2FullExchange) {
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kEap);
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(step.packets[0].protocol, kProtocolEap);
  EXPECT_EQ(ToHex(step.packets[0].information), "0101000501");  // Identity

  step = auth.OnPacket(kProtocolEap, *EncodeEapIdentityResponse(1, "User"));
  ASSERT_EQ(step.packets.size(), 1u);
  absl::StatusOr<EapPacket> eap = ParseEapPacket(step.packets[0].information);
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->identifier, 2);
  absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(*eap);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kChallenge);
  EXPECT_EQ(ms->ms_chapv2_id, 2);
  EXPECT_EQ(ToHex(ms->value), ToHex(HexOrDie(kAuthenticatorChallenge)));
  EXPECT_EQ(ms->name, "sstp-test-server");

  step = auth.OnPacket(kProtocolEap, *EncodeEapMsChapV2Response(
                                         2, 2, Rfc2759Response(), "User"));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(step.outcome));
  eap = ParseEapPacket(step.packets[0].information);
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->code, EapCode::kRequest);
  EXPECT_EQ(eap->identifier, 3);
  ms = ParseEapMsChapV2(*eap);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kSuccess);
  EXPECT_EQ(ms->message, std::string(kAuthenticatorResponse) + " M=Welcome");

  step = auth.OnPacket(kProtocolEap, *EncodeEapMsChapV2SuccessResponse(3));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(ToHex(step.packets[0].information), "03030004");  // EAP-Success
  const auto* success = std::get_if<AuthSucceeded>(&step.outcome);
  ASSERT_NE(success, nullptr);
  EXPECT_EQ(success->method, AuthProtocol::kEap);
  EXPECT_EQ(success->user, "User");
  EXPECT_EQ(ToHex(HlakBytes(success->hlak)), ToHex(HexOrDie(kClientHlak)));
}

TEST_F(ServerAuthTest, EapMsChapV2WrongPassword) {
  config_.users.clear();
  config_.users.emplace("User", SecretString("other"));
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kEap);
  auth.OnPacket(kProtocolEap, *EncodeEapIdentityResponse(1, "User"));
  AuthStep step = auth.OnPacket(
      kProtocolEap, *EncodeEapMsChapV2Response(2, 2, Rfc2759Response(), "User"));
  absl::StatusOr<EapPacket> eap = ParseEapPacket(step.packets[0].information);
  ASSERT_TRUE(eap.ok());
  absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(*eap);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kFailure);
  EXPECT_THAT(ms->message, HasSubstr("E=691 R=0 C="));
  step = auth.OnPacket(kProtocolEap, *EncodeEapMsChapV2FailureResponse(3));
  EXPECT_EQ(ToHex(step.packets[0].information), "04030004");  // EAP-Failure
  ASSERT_TRUE(std::holds_alternative<AuthRejected>(step.outcome));
  EXPECT_EQ(std::get<AuthRejected>(step.outcome).reason,
            "wrong password for user \"User\"");
}

TEST_F(ServerAuthTest, EapNakToMsChapV2Fails) {
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kEap);
  auth.OnPacket(kProtocolEap, *EncodeEapIdentityResponse(1, "User"));
  const uint8_t tls[] = {13};
  AuthStep step = auth.OnPacket(kProtocolEap, *EncodeEapNak(2, tls));
  EXPECT_EQ(ToHex(step.packets[0].information), "04020004");
  EXPECT_EQ(std::get<AuthRejected>(step.outcome).reason,
            "peer refused EAP-MSCHAPv2 (legacy Nak desiring types 13)");
}

TEST_F(ServerAuthTest, EapResponseWithStaleIdentifierIsIgnored) {
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kEap);
  AuthStep step =
      auth.OnPacket(kProtocolEap, *EncodeEapIdentityResponse(9, "User"));
  EXPECT_TRUE(step.packets.empty());
  EXPECT_EQ(step.violation,
            "EAP Response id 9 does not match the Request's id 1");
}

// SSTP-NOTES: SoftEther 5.01's EAP offers EAP-TLS only; a legacy Nak makes
// it give up EAP.
TEST_F(ServerAuthTest, SoftEtherEapTlsStartThenNakAbandons) {
  config_.eap_method = ServerEapMethod::kTlsStartOnly;
  config_.eap_identity_prompt = std::string("Hi!\0", 4);
  ServerAuthenticator auth(config_, random_, logger_);
  AuthStep step = auth.Start(AuthProtocol::kEap);
  EXPECT_EQ(ToHex(step.packets[0].information), "010100090148692100");
  step = auth.OnPacket(kProtocolEap, *EncodeEapIdentityResponse(1, "User"));
  ASSERT_EQ(step.packets.size(), 1u);
  EXPECT_EQ(ToHex(step.packets[0].information), "010200060d20");  // TLS Start
  const uint8_t mschapv2[] = {26};
  const std::vector<uint8_t> nak = *EncodeEapNak(2, mschapv2);
  step = auth.OnPacket(kProtocolEap, nak);
  EXPECT_TRUE(step.packets.empty());
  EXPECT_EQ(step.timer, TimerCommand::kStop);
  const auto* abandoned = std::get_if<AuthEapAbandoned>(&step.outcome);
  ASSERT_NE(abandoned, nullptr);
  EXPECT_EQ(abandoned->rejected_information, nak);
}

TEST_F(ServerAuthTest, SoftEtherUnknownIdentityFailsAtOnce) {
  config_.eap_method = ServerEapMethod::kTlsStartOnly;
  ServerAuthenticator auth(config_, random_, logger_);
  auth.Start(AuthProtocol::kEap);
  AuthStep step =
      auth.OnPacket(kProtocolEap, *EncodeEapIdentityResponse(1, "bob"));
  EXPECT_EQ(ToHex(step.packets[0].information), "04010004");
  EXPECT_EQ(std::get<AuthRejected>(step.outcome).reason,
            "unknown user \"bob\"");
}

}  // namespace
}  // namespace sstp::ppp
