#include "daemon/ppp/auth_client.h"

#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "base/random.h"
#include "daemon/ppp/chap_md5.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Kind = AuthResult::Kind;

// RFC 2759 9.2.
constexpr absl::string_view kAuthenticatorChallenge =
    "5B5D7C7D7B3F2F3E3C2C602132262628";
constexpr absl::string_view kPeerChallenge = "21402324255E262A28295F2B3A337C7E";
constexpr absl::string_view kNtResponse =
    "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
constexpr absl::string_view kS = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
constexpr absl::string_view kHlak =
    "D5F0E9521E3EA9589645E86051C822268B7CDC149B993A1BA118CB153F56DCCB";

// Counts draws, so that a test can tell a recomputation from a resend.
class CountingRandom final : public Random {
 public:
  explicit CountingRandom(std::vector<uint8_t> bytes) : inner_(std::move(bytes)) {}
  void Fill(absl::Span<uint8_t> out) override {
    ++draws_;
    inner_.Fill(out);
  }
  int draws() const { return draws_; }

 private:
  FixedRandom inner_;
  int draws_ = 0;
};

class AuthClientTest : public ::testing::Test {
 protected:
  AuthClientTest() : random_(HexOrDie(kPeerChallenge)) {
    settings_.user_name = "User";
    settings_.password = SecretString("clientPass");
  }

  void Make(AuthMethod method) {
    client_ = std::make_unique<AuthClient>(method, settings_, random_, sink_,
                                           logger_);
    EXPECT_EQ(client_->Start().kind, Kind::kPending);
  }

  // The frames the client sent since the last call.
  std::vector<SendFrame> Sent() {
    std::vector<SendFrame> frames;
    for (ClientAction& action : sink_.Take()) {
      if (auto* frame = std::get_if<SendFrame>(&action)) {
        frames.push_back(std::move(*frame));
      }
    }
    return frames;
  }

  AuthResult MsChapV2Challenge(uint8_t id) {
    return client_->Receive(
        EncodeChapChallenge(id, HexOrDie(kAuthenticatorChallenge), "SRV")
            .value());
  }
  AuthResult ChapResultPacket(ChapCode code, uint8_t id,
                              absl::string_view message) {
    return client_->Receive(
        EncodeChapResult(ChapResult{code, id, message}).value());
  }
  AuthResult EapRequest(uint8_t id, EapType type,
                        std::vector<uint8_t> data = {}) {
    return client_->Receive(
        EncodeEapPacket(EapPacket{EapCode::kRequest, id, type, data}).value());
  }
  AuthResult EapMs(uint8_t id, EapMsChapV2OpCode op,
                   absl::string_view message = "") {
    EapMsChapV2Packet ms;
    ms.op_code = op;
    ms.ms_chapv2_id = 5;
    const std::vector<uint8_t> value = HexOrDie(kAuthenticatorChallenge);
    if (op == EapMsChapV2OpCode::kChallenge) {
      ms.value = value;
      ms.name = "SRV";
    }
    ms.message = message;
    return client_->Receive(
        EncodeEapMsChapV2(EapCode::kRequest, id, ms).value());
  }

  AuthSettings settings_;
  CountingRandom random_;
  ActionSink sink_;
  Logger logger_{"test"};
  std::unique_ptr<AuthClient> client_;
};

TEST_F(AuthClientTest, ProtocolsAndWaitingFor) {
  Make(AuthMethod::kMsChapV2);
  EXPECT_EQ(client_->protocol(), kProtocolChap);
  EXPECT_EQ(client_->WaitingFor(), "the server's CHAP Challenge");
  MsChapV2Challenge(1);
  EXPECT_EQ(client_->WaitingFor(), "the server's CHAP Success or Failure");
  Make(AuthMethod::kEapMsChapV2);
  EXPECT_EQ(client_->protocol(), kProtocolEap);
  EXPECT_EQ(client_->WaitingFor(), "the server's EAP-MSCHAPv2 Challenge");
  Make(AuthMethod::kPap);
  EXPECT_EQ(client_->protocol(), kProtocolPap);
  EXPECT_EQ(client_->WaitingFor(), "the server's Authenticate-Ack or -Nak");
  Make(AuthMethod::kChapMd5);
  EXPECT_EQ(client_->protocol(), kProtocolChap);
}

// RFC 2759 9.2: the whole Response packet, byte for byte.
TEST_F(AuthClientTest, MsChapV2ResponseIsTheRfc2759Vector) {
  Make(AuthMethod::kMsChapV2);
  EXPECT_EQ(MsChapV2Challenge(0x1c).kind, Kind::kPending);
  std::vector<SendFrame> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].protocol, kProtocolChap);
  // Code 2, Id, Length 4+1+49+4, Value-Size 49, Peer-Challenge, 8 zero
  // octets, NT-Response, Flags 0, Name.
  EXPECT_EQ(ToHex(sent[0].information),
            ToHex(HexOrDie(absl::StrCat("02 1c 003a 31", kPeerChallenge,
                                        "0000000000000000", kNtResponse,
                                        "00 55736572"))));
  const AuthResult result =
      ChapResultPacket(ChapCode::kSuccess, 0x1c, absl::StrCat(kS, " M=hi"));
  ASSERT_EQ(result.kind, Kind::kSucceeded);
  EXPECT_EQ(ToHex(result.hlak.span()), ToHex(HexOrDie(kHlak)));
  // A duplicate Success after that is ignored.
  EXPECT_EQ(ChapResultPacket(ChapCode::kSuccess, 0x1c, kS).kind,
            Kind::kPending);
}

TEST_F(AuthClientTest, RetransmittedChallengeGetsTheSameResponse) {
  Make(AuthMethod::kMsChapV2);
  MsChapV2Challenge(0x1c);
  const std::vector<SendFrame> first = Sent();
  EXPECT_EQ(random_.draws(), 1);
  MsChapV2Challenge(0x1c);
  const std::vector<SendFrame> second = Sent();
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].information, first[0].information);
  EXPECT_EQ(random_.draws(), 1);  // not recomputed: S= still matches
  EXPECT_EQ(ChapResultPacket(ChapCode::kSuccess, 0x1c, kS).kind,
            Kind::kSucceeded);
}

TEST_F(AuthClientTest, ChapResultsThatAnswerNothingAreDropped) {
  Make(AuthMethod::kMsChapV2);
  // Before any Response.
  EXPECT_EQ(ChapResultPacket(ChapCode::kSuccess, 1, kS).kind, Kind::kPending);
  MsChapV2Challenge(1);
  // RFC 1994 4.2: the Identifier must be the Response's.
  EXPECT_EQ(ChapResultPacket(ChapCode::kSuccess, 2, kS).kind, Kind::kPending);
  EXPECT_EQ(ChapResultPacket(ChapCode::kFailure, 2, "E=691").kind,
            Kind::kPending);
  // A Response from the server, and garbage, are dropped too.
  EXPECT_EQ(client_->Receive(HexOrDie("02 01 0005 00")).kind, Kind::kPending);
  EXPECT_EQ(client_->Receive(HexOrDie("03")).kind, Kind::kPending);
  EXPECT_EQ(ChapResultPacket(ChapCode::kSuccess, 1, kS).kind,
            Kind::kSucceeded);
}

TEST_F(AuthClientTest, MalformedSuccessMessageIsAFailedServerProof) {
  Make(AuthMethod::kMsChapV2);
  MsChapV2Challenge(1);
  const AuthResult result =
      ChapResultPacket(ChapCode::kSuccess, 1, "Welcome!");
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_FALSE(result.auth_failure);
  EXPECT_EQ(result.failure.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(result.failure.message(),
              HasSubstr("MS-CHAPv2: malformed Success message, so the server "
                        "did not prove it knows the password"));
}

TEST_F(AuthClientTest, MsChapV2FailureMessages) {
  Make(AuthMethod::kMsChapV2);
  MsChapV2Challenge(1);
  AuthResult result =
      ChapResultPacket(ChapCode::kFailure, 1, "E=648 R=0 V=3 M=change it");
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_TRUE(result.auth_failure);
  EXPECT_EQ(result.failure.message(),
            "MS-CHAPv2: authentication failed: E=648 (password expired) "
            "M=change it");

  Make(AuthMethod::kMsChapV2);
  MsChapV2Challenge(2);
  Sent();
  result = ChapResultPacket(ChapCode::kFailure, 2, "E=691 X=what");
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_TRUE(result.auth_failure);
  EXPECT_THAT(result.failure.message(),
              HasSubstr("MS-CHAPv2: authentication failed (unparsable "
                        "Failure message: "));
  // After a failure nothing more is answered.
  EXPECT_EQ(MsChapV2Challenge(3).kind, Kind::kPending);
  EXPECT_THAT(Sent(), IsEmpty());
}

TEST_F(AuthClientTest, ChapMd5FailureAndReauthentication) {
  Make(AuthMethod::kChapMd5);
  const std::vector<uint8_t> value = HexOrDie("00112233");
  client_->Receive(EncodeChapChallenge(7, value, "SRV").value());
  std::vector<SendFrame> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(ToHex(sent[0].information),
            ToHex(EncodeChapResponse(
                      7, ComputeChapMd5Response(7, "clientPass", value).value(),
                      "User")
                      .value()));
  EXPECT_EQ(ChapResultPacket(ChapCode::kSuccess, 7, "").kind,
            Kind::kSucceeded);
  // RFC 1994: the authenticator may challenge again at any time.
  client_->Receive(EncodeChapChallenge(8, value, "SRV").value());
  ASSERT_THAT(Sent(), SizeIs(1));
  const AuthResult failed =
      ChapResultPacket(ChapCode::kFailure, 8, "Go away");
  ASSERT_EQ(failed.kind, Kind::kFailed);
  EXPECT_TRUE(failed.auth_failure);
  EXPECT_EQ(failed.failure.message(),
            "CHAP-MD5: authentication failed: CHAP Failure: Go away");
}

TEST_F(AuthClientTest, EapIdentityNotificationDuplicatesAndNak) {
  Make(AuthMethod::kEapMsChapV2);
  EapRequest(1, EapType::kIdentity);
  std::vector<SendFrame> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].information, EncodeEapIdentityResponse(1, "User").value());
  // RFC 3748 4.1: a duplicate Request gets the original Response.
  EapRequest(1, EapType::kIdentity);
  sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].information, EncodeEapIdentityResponse(1, "User").value());
  // RFC 3748 5.2: a Notification is acknowledged with an empty Response.
  EapRequest(2, EapType::kNotification,
             std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
  sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(ToHex(sent[0].information), "0202000502");
  // RFC 3748 5.3.1: MD5-Challenge, TLS, anything else: legacy Nak for 26.
  EapRequest(3, EapType::kMd5Challenge, HexOrDie("0100"));
  sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(ToHex(sent[0].information), "02030006031a");
  EapRequest(4, static_cast<EapType>(99));
  sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(ToHex(sent[0].information), "02040006031a");
  EXPECT_EQ(client_->WaitingFor(), "the server's EAP-MSCHAPv2 Challenge");
}

TEST_F(AuthClientTest, EapMsChapV2SuccessNeedsTheServerProof) {
  Make(AuthMethod::kEapMsChapV2);
  // An EAP-Success before EAP-MSCHAPv2 proved the server: failure.
  const AuthResult early = client_->Receive(
      EncodeEapPacket(EapPacket{EapCode::kSuccess, 1}).value());
  ASSERT_EQ(early.kind, Kind::kFailed);
  EXPECT_FALSE(early.auth_failure);
  EXPECT_THAT(early.failure.message(),
              HasSubstr("EAP-Success before EAP-MSCHAPv2 completed"));
}

TEST_F(AuthClientTest, EapMsChapV2BadAuthenticatorResponse) {
  Make(AuthMethod::kEapMsChapV2);
  EapMs(1, EapMsChapV2OpCode::kChallenge);
  ASSERT_THAT(Sent(), SizeIs(1));
  EXPECT_EQ(client_->WaitingFor(),
            "the server's EAP-MSCHAPv2 Success or Failure");
  const AuthResult result =
      EapMs(2, EapMsChapV2OpCode::kSuccess,
            "S=1111111111111111111111111111111111111111");
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_FALSE(result.auth_failure);
  EXPECT_THAT(result.failure.message(),
              HasSubstr("EAP-MSCHAPv2: server failed to prove it knows the "
                        "password (S= mismatch): possible man in the middle"));
  // No Success Response went out.
  EXPECT_THAT(Sent(), IsEmpty());
}

TEST_F(AuthClientTest, EapMsChapV2FailureIsAcknowledged) {
  Make(AuthMethod::kEapMsChapV2);
  EapMs(1, EapMsChapV2OpCode::kChallenge);
  Sent();
  const AuthResult result =
      EapMs(2, EapMsChapV2OpCode::kFailure, "E=691 R=1 V=3 M=bad");
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_TRUE(result.auth_failure);
  EXPECT_EQ(result.failure.message(),
            "EAP-MSCHAPv2: authentication failed: E=691 (authentication "
            "failure) M=bad");
  const std::vector<SendFrame> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].information, EncodeEapMsChapV2FailureResponse(2).value());
}

TEST_F(AuthClientTest, EapFailure) {
  Make(AuthMethod::kEapMsChapV2);
  EapRequest(1, EapType::kIdentity);
  const AuthResult result = client_->Receive(
      EncodeEapPacket(EapPacket{EapCode::kFailure, 1}).value());
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_TRUE(result.auth_failure);
  EXPECT_EQ(result.failure.message(),
            "EAP-MSCHAPv2: authentication failed: EAP-Failure");
}

TEST_F(AuthClientTest, EapMsChapV2SuccessBeforeResponseIsDropped) {
  Make(AuthMethod::kEapMsChapV2);
  EXPECT_EQ(EapMs(1, EapMsChapV2OpCode::kSuccess, kS).kind, Kind::kPending);
  EXPECT_THAT(Sent(), IsEmpty());
}

TEST_F(AuthClientTest, PapRepliesMatchAnyOfOurRequests) {
  Make(AuthMethod::kPap);
  std::vector<SendFrame> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_TRUE(sent[0].holds_secret);
  const uint8_t first_id = sent[0].information[1];
  EXPECT_EQ(client_->RetransmitTimeout().kind, Kind::kPending);
  sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_NE(sent[0].information[1], first_id);
  // An Ack of no request of ours is dropped; one of the first is taken.
  EXPECT_EQ(client_
                ->Receive(EncodePapAckNak(
                              PapAckNak{PapCode::kAuthenticateAck, 0x99, ""})
                              .value())
                .kind,
            Kind::kPending);
  const AuthResult result = client_->Receive(
      EncodePapAckNak(PapAckNak{PapCode::kAuthenticateAck, first_id, ""})
          .value());
  ASSERT_EQ(result.kind, Kind::kSucceeded);
  EXPECT_EQ(ToHex(result.hlak.span()), std::string(64, '0'));
  EXPECT_FALSE(sink_.TimerRunning(TimerId::kAuthRetransmit));
}

TEST_F(AuthClientTest, PapFieldTooLong) {
  settings_.password = SecretString(std::string(300, 'x'));
  client_ = std::make_unique<AuthClient>(AuthMethod::kPap, settings_, random_,
                                         sink_, logger_);
  const AuthResult result = client_->Start();
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_FALSE(result.auth_failure);
  EXPECT_EQ(result.failure.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.failure.message(), HasSubstr("PAP: "));
  EXPECT_THAT(Sent(), IsEmpty());
}

TEST_F(AuthClientTest, InvalidUtf8PasswordFailsMsChapV2Cleanly) {
  settings_.password = SecretString(std::string("\xff\xfe", 2));
  Make(AuthMethod::kMsChapV2);
  const AuthResult result = MsChapV2Challenge(1);
  ASSERT_EQ(result.kind, Kind::kFailed);
  EXPECT_FALSE(result.auth_failure);
  EXPECT_THAT(result.failure.message(),
              HasSubstr("MS-CHAPv2: cannot compute the Response: "));
  EXPECT_THAT(Sent(), IsEmpty());
}

}  // namespace
}  // namespace sstp::ppp
