#include "daemon/ppp/auth_packets.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "daemon/ppp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Test bytes that live until the program ends, so that the views a parser
// returns into them stay valid for the whole test.
const std::vector<uint8_t>& Hex(absl::string_view hex) {
  static auto* storage = new std::deque<std::vector<uint8_t>>();
  storage->push_back(HexOrDie(hex));
  return storage->back();
}

std::string HexOf(const absl::StatusOr<std::vector<uint8_t>>& bytes) {
  if (!bytes.ok()) return std::string(bytes.status().message());
  return ToHex(*bytes);
}

std::string HexText(absl::string_view text) { return ToHex(AsBytes(text)); }

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  return result.ok() ? "unexpectedly OK"
                     : std::string(result.status().message());
}

template <size_t N>
std::array<uint8_t, N> ArrayFromHex(absl::string_view hex) {
  const std::vector<uint8_t> bytes = Hex(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N);
  std::copy(bytes.begin(), bytes.begin() + std::min(N, bytes.size()),
            out.begin());
  return out;
}

// RFC 2759 9.2 "Hash Example" values.
constexpr absl::string_view kRfc2759AuthenticatorChallenge =
    "5B5D7C7D7B3F2F3E3C2C602132262628";
constexpr absl::string_view kRfc2759PeerChallenge =
    "21402324255E262A28295F2B3A337C7E";
constexpr absl::string_view kRfc2759NtResponse =
    "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF";
constexpr absl::string_view kRfc2759AuthenticatorResponse =
    "407A5589115FD0D6209F510FE9C04566932CDA56";

// --- PAP
// ----------------------------------------------------------------------

TEST(PapTest, EncodesAuthenticateRequest) {
  // RFC 1334 2.2.1: Peer-ID Length, Peer-ID, Passwd-Length, Password.
  EXPECT_EQ(HexOf(EncodePapAuthenticateRequest(7, "alice", "pw")),
            "0107000d05" + HexText("alice") + "02" + HexText("pw"));
  EXPECT_EQ(HexOf(EncodePapAuthenticateRequest(1, "", "")), "010100060000");
}

TEST(PapTest, RequestFieldLimits) {
  const std::string max(255, 'a');
  const std::string too_long(256, 'a');
  EXPECT_TRUE(EncodePapAuthenticateRequest(1, max, max).ok());
  EXPECT_EQ(HexOf(EncodePapAuthenticateRequest(1, too_long, "pw")),
            "PAP Peer-ID of 256 octets > 255");
  // The error gives the length only, never the password.
  EXPECT_EQ(HexOf(EncodePapAuthenticateRequest(1, "u", too_long)),
            "PAP Password of 256 octets > 255");
}

TEST(PapTest, ParsesAuthenticateRequest) {
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodePapAuthenticateRequest(9, "bob", "secret");
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<PapAuthenticateRequest> request =
      ParsePapAuthenticateRequest(*packet);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->identifier, 9);
  EXPECT_EQ(request->peer_id, "bob");
  EXPECT_EQ(request->password, "secret");

  EXPECT_EQ(ErrorOf(ParsePapAuthenticateRequest(Hex("0201 0005 00"))),
            "PAP code 2 is not Authenticate-Request (1)");
  EXPECT_EQ(ErrorOf(ParsePapAuthenticateRequest(Hex("0101 0006 0461"))),
            "PAP Authenticate-Request truncated in Peer-ID (2 octets of data)");
  EXPECT_EQ(
      ErrorOf(ParsePapAuthenticateRequest(Hex("0101 0007 0161 01"))),
      "PAP Authenticate-Request truncated in Password (3 octets of data)");
}

TEST(PapTest, ParsesAckAndNak) {
  absl::StatusOr<PapAckNak> ack =
      ParsePapAckNak(Hex("0207 0007 02" + HexText("OK")));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->code, PapCode::kAuthenticateAck);
  EXPECT_EQ(ack->identifier, 7);
  EXPECT_EQ(ack->message, "OK");

  absl::StatusOr<PapAckNak> nak =
      ParsePapAckNak(Hex("0308 0009 04" + HexText("bad!")));
  ASSERT_TRUE(nak.ok());
  EXPECT_EQ(nak->code, PapCode::kAuthenticateNak);
  EXPECT_EQ(nak->message, "bad!");

  // No Msg-Length octet at all: accepted as an empty message.
  absl::StatusOr<PapAckNak> bare = ParsePapAckNak(Hex("0201 0004"));
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->message.empty());
}

TEST(PapTest, AckNakErrors) {
  EXPECT_EQ(ErrorOf(ParsePapAckNak(Hex("0101 0004"))),
            "PAP code 1 is not Authenticate-Ack (2) or Authenticate-Nak (3)");
  EXPECT_EQ(ErrorOf(ParsePapAckNak(Hex("0201 0007 05 4f4b"))),
            "PAP Msg-Length 5 > 2 octets left");
  EXPECT_EQ(ErrorOf(ParsePapAckNak(Hex("0201 0009 05 4f4b"))),
            "PAP: PPP packet Length 9 > 7 octets received");
}

TEST(PapTest, EncodesAckNak) {
  EXPECT_EQ(HexOf(EncodePapAckNak({PapCode::kAuthenticateAck, 4, "hi"})),
            "0204000702" + HexText("hi"));
  EXPECT_EQ(HexOf(EncodePapAckNak({PapCode::kAuthenticateRequest, 4, ""})),
            "EncodePapAckNak: code must be Authenticate-Ack or "
            "Authenticate-Nak");
  const std::string long_message(256, 'm');
  EXPECT_EQ(
      HexOf(EncodePapAckNak({PapCode::kAuthenticateNak, 4, long_message})),
      "PAP Message of 256 octets > 255");
}

// --- CHAP
// ---------------------------------------------------------------------

TEST(ChapTest, ParsesChallenge) {
  // RFC 1994 4.1: Value-Size, Value, Name.
  absl::StatusOr<ChapChallenge> challenge =
      ParseChapChallenge(Hex("0122 000c 04 01020304" + HexText("srv")));
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->identifier, 0x22);
  EXPECT_THAT(challenge->value, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(challenge->name, "srv");

  // No name is fine.
  challenge = ParseChapChallenge(Hex("0101 0006 01 aa"));
  ASSERT_TRUE(challenge.ok());
  EXPECT_TRUE(challenge->name.empty());
}

TEST(ChapTest, ChallengeErrors) {
  EXPECT_EQ(ErrorOf(ParseChapChallenge(Hex("0201 0006 01aa"))),
            "CHAP code 2 is not Challenge (1)");
  EXPECT_EQ(ErrorOf(ParseChapChallenge(Hex("0101 0004"))),
            "CHAP Challenge has no Value-Size");
  EXPECT_EQ(ErrorOf(ParseChapChallenge(Hex("0101 0005 00"))),
            "CHAP Challenge Value-Size 0");
  EXPECT_EQ(ErrorOf(ParseChapChallenge(Hex("0101 0007 10 aabb"))),
            "CHAP Challenge truncated: Value-Size 16 > 2 octets left");
  EXPECT_EQ(ErrorOf(ParseChapChallenge(Hex("0101 00"))),
            "CHAP: PPP packet truncated: 3 octets < 4-octet header");
}

TEST(ChapTest, EncodesAndParsesResponse) {
  const std::vector<uint8_t> value = Hex("00112233445566778899aabbccddeeff");
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeChapResponse(0x22, value, "alice");
  EXPECT_EQ(HexOf(packet), "0222001a10" + ToHex(value) + HexText("alice"));
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<ChapResponse> response = ParseChapResponse(*packet);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->identifier, 0x22);
  EXPECT_EQ(response->value, absl::MakeConstSpan(value));
  EXPECT_EQ(response->name, "alice");

  EXPECT_EQ(HexOf(EncodeChapResponse(1, {}, "a")),
            "CHAP Response Value of 0 octets, must be 1..255");
  const std::vector<uint8_t> big(256);
  EXPECT_EQ(HexOf(EncodeChapResponse(1, big, "a")),
            "CHAP Response Value of 256 octets, must be 1..255");
  EXPECT_EQ(ErrorOf(ParseChapResponse(Hex("0101 0006 01aa"))),
            "CHAP code 1 is not Response (2)");
}

TEST(ChapTest, EncodesChallenge) {
  EXPECT_EQ(HexOf(EncodeChapChallenge(3, Hex("aabb"), "s")),
            "01030008"
            "02aabb73");
}

TEST(ChapTest, SuccessAndFailure) {
  absl::StatusOr<ChapResult> success =
      ParseChapResult(Hex("0305 0008" + HexText("Welc")));
  ASSERT_TRUE(success.ok());
  EXPECT_EQ(success->code, ChapCode::kSuccess);
  EXPECT_EQ(success->identifier, 5);
  EXPECT_EQ(success->message, "Welc");

  absl::StatusOr<ChapResult> failure = ParseChapResult(Hex("0405 0004"));
  ASSERT_TRUE(failure.ok());
  EXPECT_EQ(failure->code, ChapCode::kFailure);
  EXPECT_TRUE(failure->message.empty());

  EXPECT_EQ(ErrorOf(ParseChapResult(Hex("0105 0004"))),
            "CHAP code 1 is not Success (3) or Failure (4)");

  EXPECT_EQ(HexOf(EncodeChapResult({ChapCode::kFailure, 6, "no"})),
            "04060006" + HexText("no"));
  EXPECT_EQ(HexOf(EncodeChapResult({ChapCode::kChallenge, 6, "no"})),
            "EncodeChapResult: code must be Success or Failure");
}

// --- MS-CHAPv2
// ----------------------------------------------------------------

TEST(MsChapV2Test, ParsesChallenge) {
  const std::string value(kRfc2759AuthenticatorChallenge);
  absl::StatusOr<MsChapV2ChallengePacket> challenge =
      ParseMsChapV2Challenge(Hex("0101 0018 10" + value + HexText("RAS")));
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->identifier, 1);
  EXPECT_EQ(challenge->challenge, ArrayFromHex<16>(value));
  EXPECT_EQ(challenge->name, "RAS");

  // RFC 2759 3: the value is always 16 octets.
  EXPECT_EQ(
      ErrorOf(ParseMsChapV2Challenge(Hex("0101 000d 08 0011223344556677"))),
      "MS-CHAPv2 Challenge Value-Size 8 != 16");
}

TEST(MsChapV2Test, ResponseValueLayoutRfc2759) {
  // RFC 2759 4 layout, filled with the RFC 2759 9.2 example values.
  MsChapV2ResponseValue value;
  value.peer_challenge = ArrayFromHex<16>(kRfc2759PeerChallenge);
  value.nt_response = ArrayFromHex<24>(kRfc2759NtResponse);
  const std::array<uint8_t, 49> bytes = EncodeMsChapV2ResponseValue(value);
  EXPECT_EQ(absl::AsciiStrToUpper(ToHex(bytes)),
            std::string(kRfc2759PeerChallenge) + "0000000000000000" +
                std::string(kRfc2759NtResponse) + "00");

  absl::StatusOr<MsChapV2ResponseValue> parsed =
      ParseMsChapV2ResponseValue(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->peer_challenge, value.peer_challenge);
  EXPECT_EQ(parsed->nt_response, value.nt_response);

  // RFC 2759 9.2's user name is "User".
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeMsChapV2Response(0x1b, value, "User");
  EXPECT_EQ(HexOf(packet), "021b003a31" + ToHex(bytes) + HexText("User"));
}

TEST(MsChapV2Test, ResponseValueErrors) {
  std::array<uint8_t, 49> bytes{};
  EXPECT_EQ(ErrorOf(ParseMsChapV2ResponseValue(
                absl::MakeConstSpan(bytes).subspan(1))),
            "MS-CHAPv2 Response Value-Size 48 != 49");
  bytes[20] = 1;
  EXPECT_EQ(ErrorOf(ParseMsChapV2ResponseValue(bytes)),
            "MS-CHAPv2 Response Reserved octets are not zero");
  bytes[20] = 0;
  bytes[48] = 1;
  EXPECT_EQ(ErrorOf(ParseMsChapV2ResponseValue(bytes)),
            "MS-CHAPv2 Response Flags 0x01 != 0");
}

TEST(MsChapV2Test, SuccessMessageRfc2759) {
  // RFC 2759 9.2: AuthenticatorResponse "S=407A...DA56".
  const std::string text =
      absl::StrCat("S=", kRfc2759AuthenticatorResponse, " M=Access granted");
  absl::StatusOr<MsChapV2SuccessMessage> success =
      ParseMsChapV2SuccessMessage(text);
  ASSERT_TRUE(success.ok()) << success.status();
  EXPECT_EQ(success->authenticator_response,
            ArrayFromHex<20>(kRfc2759AuthenticatorResponse));
  EXPECT_EQ(success->message, "Access granted");
  EXPECT_EQ(FormatMsChapV2SuccessMessage(*success), text);

  // Without M= (accel-ppp style) and lower-case hex.
  const std::string lower =
      absl::StrCat("S=", absl::AsciiStrToLower(kRfc2759AuthenticatorResponse));
  success = ParseMsChapV2SuccessMessage(lower);
  ASSERT_TRUE(success.ok()) << success.status();
  EXPECT_TRUE(success->message.empty());
  EXPECT_EQ(FormatMsChapV2SuccessMessage(*success),
            absl::StrCat("S=", kRfc2759AuthenticatorResponse));
}

TEST(MsChapV2Test, SuccessMessageErrors) {
  const std::string hex(kRfc2759AuthenticatorResponse);
  EXPECT_EQ(ErrorOf(ParseMsChapV2SuccessMessage("")),
            "MS-CHAPv2 Success message does not start with \"S=\"");
  EXPECT_EQ(ErrorOf(ParseMsChapV2SuccessMessage("E=691")),
            "MS-CHAPv2 Success message does not start with \"S=\"");
  EXPECT_EQ(ErrorOf(ParseMsChapV2SuccessMessage("S=" + hex.substr(0, 39))),
            "MS-CHAPv2 Success message S= must be 40 hex digits, got \"" +
                hex.substr(0, 39) + "\"");
  EXPECT_EQ(ErrorOf(ParseMsChapV2SuccessMessage("S=" + hex + "0")),
            "MS-CHAPv2 Success message S= must be 40 hex digits, got \"" + hex +
                "0\"");
  EXPECT_EQ(
      ErrorOf(ParseMsChapV2SuccessMessage("S=" + hex.substr(0, 39) + "G")),
      "MS-CHAPv2 Success message S= must be 40 hex digits, got \"" +
          hex.substr(0, 39) + "\"");
  EXPECT_EQ(ErrorOf(ParseMsChapV2SuccessMessage("S=" + hex + "M=x")),
            "MS-CHAPv2 Success message: expected \" M=\" or the end at "
            "offset 42");
  EXPECT_EQ(ErrorOf(ParseMsChapV2SuccessMessage("S=" + hex + " ")),
            "MS-CHAPv2 Success message: expected \" M=\" or the end at "
            "offset 42");
}

TEST(MsChapV2Test, FailureMessageRfc2759Form) {
  const std::string text =
      "E=691 R=1 C=" + std::string(kRfc2759AuthenticatorChallenge) +
      " V=3 M=Authentication failure, try again";
  absl::StatusOr<MsChapV2FailureMessage> failure =
      ParseMsChapV2FailureMessage(text);
  ASSERT_TRUE(failure.ok()) << failure.status();
  EXPECT_EQ(failure->error, kErrorAuthenticationFailure);
  EXPECT_EQ(failure->retry, true);
  EXPECT_EQ(failure->challenge,
            ArrayFromHex<16>(kRfc2759AuthenticatorChallenge));
  EXPECT_EQ(failure->version, 3u);
  EXPECT_EQ(failure->message, "Authentication failure, try again");
  EXPECT_EQ(FormatMsChapV2FailureMessage(*failure), text);
}

TEST(MsChapV2Test, FailureMessageLenientOrderAndAbsence) {
  absl::StatusOr<MsChapV2FailureMessage> failure =
      ParseMsChapV2FailureMessage("E=648 R=0 V=3");
  ASSERT_TRUE(failure.ok()) << failure.status();
  EXPECT_EQ(failure->error, kErrorPasswdExpired);
  EXPECT_EQ(failure->retry, false);
  EXPECT_FALSE(failure->challenge.has_value());
  EXPECT_EQ(failure->version, 3u);
  EXPECT_TRUE(failure->message.empty());

  failure = ParseMsChapV2FailureMessage("V=3  R=0   E=0000000647 M=");
  ASSERT_TRUE(failure.ok()) << failure.status();
  EXPECT_EQ(failure->error, kErrorAcctDisabled);

  failure = ParseMsChapV2FailureMessage("M=E=1 keeps going");
  ASSERT_TRUE(failure.ok());
  EXPECT_FALSE(failure->error.has_value());
  EXPECT_EQ(failure->message, "E=1 keeps going");

  failure = ParseMsChapV2FailureMessage("");
  ASSERT_TRUE(failure.ok());
  EXPECT_FALSE(failure->error.has_value());
}

TEST(MsChapV2Test, FailureMessageStrictFieldSyntax) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"E=69a R=1",
       "MS-CHAPv2 Failure message at offset 0: E= must be a "
       "32-bit decimal number, got \"69a\""},
      {"E= R=1",
       "MS-CHAPv2 Failure message at offset 0: E= must be a 32-bit "
       "decimal number, got \"\""},
      {"E=4294967296",
       "MS-CHAPv2 Failure message at offset 0: E= must be a "
       "32-bit decimal number, got \"4294967296\""},
      {"E=691 R=2",
       "MS-CHAPv2 Failure message at offset 6: R= must be 0 or 1, "
       "got \"2\""},
      {"E=691 C=0011",
       "MS-CHAPv2 Failure message at offset 6: C= must be 32 "
       "hex digits, got \"0011\""},
      {"C=5B5D7C7D7B3F2F3E3C2C60213226262X",
       "MS-CHAPv2 Failure message at offset 0: C= must be 32 hex digits, got "
       "\"5B5D7C7D7B3F2F3E3C2C60213226262X\""},
      {"E=691 V=x",
       "MS-CHAPv2 Failure message at offset 6: V= must be a "
       "32-bit decimal number, got \"x\""},
      {"E=691 E=691",
       "MS-CHAPv2 Failure message at offset 6: field E= "
       "repeated"},
      {"E=691 X=1",
       "MS-CHAPv2 Failure message at offset 6: unknown field "
       "\"X=\""},
      {"Access denied",
       "MS-CHAPv2 Failure message at offset 0: expected a "
       "field like \"E=\", got \"Access\""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(ParseMsChapV2FailureMessage(c.text)), c.error) << c.text;
  }
}

TEST(MsChapV2Test, ErrorNames) {
  EXPECT_EQ(MsChapV2ErrorName(646), "ERROR_RESTRICTED_LOGON_HOURS (646)");
  EXPECT_EQ(MsChapV2ErrorName(647), "ERROR_ACCT_DISABLED (647)");
  EXPECT_EQ(MsChapV2ErrorName(648), "ERROR_PASSWD_EXPIRED (648)");
  EXPECT_EQ(MsChapV2ErrorName(649), "ERROR_NO_DIALIN_PERMISSION (649)");
  EXPECT_EQ(MsChapV2ErrorName(691), "ERROR_AUTHENTICATION_FAILURE (691)");
  EXPECT_EQ(MsChapV2ErrorName(709), "ERROR_CHANGING_PASSWORD (709)");
  EXPECT_EQ(MsChapV2ErrorName(1), "error 1");
}

// --- EAP
// ----------------------------------------------------------------------

TEST(EapTest, ParsesRequestIdentity) {
  absl::StatusOr<EapPacket> eap = ParseEapPacket(Hex("0101 0005 01"));
  ASSERT_TRUE(eap.ok()) << eap.status();
  EXPECT_EQ(eap->code, EapCode::kRequest);
  EXPECT_EQ(eap->identifier, 1);
  EXPECT_EQ(eap->type, EapType::kIdentity);
  EXPECT_TRUE(eap->type_data.empty());

  // An Identity Request may carry a displayable prompt (RFC 3748 5.1).
  eap = ParseEapPacket(Hex("0102 0008 01" + HexText("Hi?")));
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(AsText(eap->type_data), "Hi?");
}

TEST(EapTest, ParsesSuccessFailureAndUnknownType) {
  absl::StatusOr<EapPacket> eap = ParseEapPacket(Hex("0309 0004"));
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->code, EapCode::kSuccess);
  EXPECT_EQ(eap->identifier, 9);
  eap = ParseEapPacket(Hex("0409 0004"));
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->code, EapCode::kFailure);
  eap = ParseEapPacket(Hex("0109 0006 fe00"));
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(static_cast<int>(eap->type), 254);
  EXPECT_EQ(EapTypeName(eap->type), "type 254");
}

TEST(EapTest, Errors) {
  EXPECT_EQ(ErrorOf(ParseEapPacket(Hex("0101 0004"))),
            "EAP Request Length 4 < 5: no Type");
  EXPECT_EQ(ErrorOf(ParseEapPacket(Hex("0201 0004"))),
            "EAP Response Length 4 < 5: no Type");
  EXPECT_EQ(ErrorOf(ParseEapPacket(Hex("0301 0005 00"))),
            "EAP Success Length 5 != 4");
  EXPECT_EQ(ErrorOf(ParseEapPacket(Hex("0401 0006 0000"))),
            "EAP Failure Length 6 != 4");
  EXPECT_EQ(ErrorOf(ParseEapPacket(Hex("0501 0004"))), "EAP Code 5 unknown");
  EXPECT_EQ(ErrorOf(ParseEapPacket(Hex("0101 0009 01"))),
            "EAP: PPP packet Length 9 > 5 octets received");
}

TEST(EapTest, EncodesPackets) {
  EXPECT_EQ(HexOf(EncodeEapIdentityResponse(1, "user@example")),
            "0201001101" + HexText("user@example"));
  EXPECT_EQ(
      HexOf(EncodeEapPacket({EapCode::kSuccess, 3, EapType::kIdentity, {}})),
      "03030004");
  EXPECT_EQ(
      HexOf(EncodeEapPacket({EapCode::kFailure, 3, EapType::kIdentity, {}})),
      "04030004");
  const std::vector<uint8_t> data = Hex("0102");
  EXPECT_EQ(HexOf(EncodeEapPacket(
                {EapCode::kRequest, 3, EapType::kNotification, data})),
            "01030007020102");
}

TEST(EapTest, LegacyNak) {
  // RFC 3748 5.3.1: the peer lists the Types it wants.
  const uint8_t desired[] = {static_cast<uint8_t>(EapType::kMsChapV2)};
  absl::StatusOr<std::vector<uint8_t>> nak = EncodeEapNak(4, desired);
  EXPECT_EQ(HexOf(nak), "02040006031a");
  ASSERT_TRUE(nak.ok());
  absl::StatusOr<EapPacket> eap = ParseEapPacket(*nak);
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->type, EapType::kNak);
  absl::StatusOr<std::vector<uint8_t>> types = ParseEapNak(eap->type_data);
  ASSERT_TRUE(types.ok());
  EXPECT_THAT(*types, ElementsAre(26));

  EXPECT_EQ(HexOf(EncodeEapNak(4, {})),
            "EAP Nak needs at least one desired Type (0: none acceptable)");
  EXPECT_EQ(ErrorOf(ParseEapNak({})), "EAP Nak lists no desired Type");
}

TEST(EapTest, Md5Challenge) {
  absl::StatusOr<EapPacket> eap =
      ParseEapPacket(Hex("0105 000d 04 04 01020304" + HexText("srv")));
  ASSERT_TRUE(eap.ok()) << eap.status();
  EXPECT_EQ(eap->type, EapType::kMd5Challenge);
  absl::StatusOr<EapMd5Challenge> md5 = ParseEapMd5Challenge(eap->type_data);
  ASSERT_TRUE(md5.ok());
  EXPECT_THAT(md5->value, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(md5->name, "srv");

  EXPECT_EQ(ErrorOf(ParseEapMd5Challenge(Hex("05 0102"))),
            "EAP MD5-Challenge truncated: Value-Size 5 > 2 octets left");
  EXPECT_EQ(ErrorOf(ParseEapMd5Challenge({})),
            "EAP MD5-Challenge has no Value-Size");

  const std::vector<uint8_t> value = Hex("aabb");
  EXPECT_EQ(HexOf(EncodeEapMd5Response(5, value, "u")),
            "0205000904"
            "02aabb75");
  EXPECT_EQ(HexOf(EncodeEapMd5Response(5, {}, "u")),
            "EAP MD5-Challenge Value of 0 octets, must be 1..255");
}

TEST(EapTest, TypeNames) {
  EXPECT_EQ(EapTypeName(EapType::kIdentity), "Identity");
  EXPECT_EQ(EapTypeName(EapType::kNotification), "Notification");
  EXPECT_EQ(EapTypeName(EapType::kNak), "Nak");
  EXPECT_EQ(EapTypeName(EapType::kMd5Challenge), "MD5-Challenge");
  EXPECT_EQ(EapTypeName(EapType::kTls), "EAP-TLS");
  EXPECT_EQ(EapTypeName(EapType::kMsChapV2), "EAP-MSCHAPv2");
}

// --- EAP-MSCHAPv2
// -------------------------------------------------------------

absl::StatusOr<EapMsChapV2Packet> ParseMs(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<EapPacket> eap = ParseEapPacket(bytes);
  if (!eap.ok()) return eap.status();
  return ParseEapMsChapV2(*eap);
}

TEST(EapMsChapV2Test, ParsesChallenge) {
  // draft-kamath-pppext-eap-mschapv2-02 2.1: OpCode 1, MS-CHAPv2-ID,
  // MS-Length (= EAP Length - 5), Value-Size 16, Challenge, Name.
  const std::vector<uint8_t> bytes =
      Hex("0102 001d 1a 01 02 0018 10" +
          std::string(kRfc2759AuthenticatorChallenge) + HexText("RAS"));
  absl::StatusOr<EapMsChapV2Packet> ms = ParseMs(bytes);
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kChallenge);
  EXPECT_FALSE(ms->header_only);
  EXPECT_EQ(ms->ms_chapv2_id, 2);
  EXPECT_EQ(ms->ms_length, 0x18);
  EXPECT_EQ(absl::AsciiStrToUpper(ToHex(ms->value)),
            kRfc2759AuthenticatorChallenge);
  EXPECT_EQ(ms->name, "RAS");
  // Re-encoding gives the same bytes.
  EXPECT_EQ(HexOf(EncodeEapMsChapV2(EapCode::kRequest, 2, *ms)), ToHex(bytes));
}

TEST(EapMsChapV2Test, ToleratesWrongMsLength) {
  absl::StatusOr<EapMsChapV2Packet> ms =
      ParseMs(Hex("0102 001a 1a 01 02 ffff 10" +
                  std::string(kRfc2759AuthenticatorChallenge)));
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->ms_length, 0xffff);
  EXPECT_TRUE(ms->name.empty());
}

TEST(EapMsChapV2Test, ParsesSuccessAndFailureRequests) {
  const std::string success_text =
      absl::StrCat("S=", kRfc2759AuthenticatorResponse, " M=Welcome");
  absl::StatusOr<std::vector<uint8_t>> packet = EncodeEapMsChapV2(
      EapCode::kRequest, 3,
      {EapMsChapV2OpCode::kSuccess, false, 2, 0, {}, {}, success_text, {}});
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<EapMsChapV2Packet> ms = ParseMs(*packet);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kSuccess);
  EXPECT_EQ(ms->ms_length, 4 + success_text.size());
  EXPECT_EQ(ms->message, success_text);
  absl::StatusOr<MsChapV2SuccessMessage> success =
      ParseMsChapV2SuccessMessage(ms->message);
  ASSERT_TRUE(success.ok());
  EXPECT_EQ(success->message, "Welcome");

  const std::vector<uint8_t> failure_bytes =
      Hex("0104 0016 1a 04 03 0011" + HexText("E=691 R=0 V=3"));
  ms = ParseMs(failure_bytes);
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kFailure);
  EXPECT_EQ(ms->message, "E=691 R=0 V=3");
}

TEST(EapMsChapV2Test, EncodesClientPackets) {
  MsChapV2ResponseValue value;
  value.peer_challenge = ArrayFromHex<16>(kRfc2759PeerChallenge);
  value.nt_response = ArrayFromHex<24>(kRfc2759NtResponse);
  const std::array<uint8_t, 49> value_bytes =
      EncodeMsChapV2ResponseValue(value);
  absl::StatusOr<std::vector<uint8_t>> response =
      EncodeEapMsChapV2Response(7, 2, value, "User");
  // EAP Length 4+1+4+1+49+4 = 63; MS-Length 58.
  EXPECT_EQ(HexOf(response),
            "0207003f1a"
            "0202003a"
            "31" +
                ToHex(value_bytes) + HexText("User"));
  ASSERT_TRUE(response.ok());
  absl::StatusOr<EapMsChapV2Packet> ms = ParseMs(*response);
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kResponse);
  EXPECT_EQ(ms->ms_chapv2_id, 2);
  EXPECT_EQ(ms->name, "User");
  absl::StatusOr<MsChapV2ResponseValue> parsed =
      ParseMsChapV2ResponseValue(ms->value);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->nt_response, value.nt_response);

  // The peer's Success / Failure acknowledgement is the OpCode alone.
  EXPECT_EQ(HexOf(EncodeEapMsChapV2SuccessResponse(8)), "020800061a03");
  EXPECT_EQ(HexOf(EncodeEapMsChapV2FailureResponse(8)), "020800061a04");
  ms = ParseMs(Hex("020800061a03"));
  ASSERT_TRUE(ms.ok());
  EXPECT_TRUE(ms->header_only);
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kSuccess);
}

TEST(EapMsChapV2Test, ChangePasswordKeptRaw) {
  absl::StatusOr<EapMsChapV2Packet> ms =
      ParseMs(Hex("0201 000b 1a 07 01 0006 aabb"));
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kChangePassword);
  EXPECT_THAT(ms->data, ElementsAre(0xaa, 0xbb));
}

TEST(EapMsChapV2Test, Errors) {
  const std::string challenge(kRfc2759AuthenticatorChallenge);
  struct Case {
    std::string hex;
    const char* error;
  } cases[] = {
      {"0101 0005 1a", "EAP-MSCHAPv2 Type-Data is empty (no OpCode)"},
      {"0101 0006 1a 05", "EAP-MSCHAPv2 OpCode 5 unknown"},
      {"0101 0008 1a 01 0100",
       "EAP-MSCHAPv2 Challenge: Type-Data 3 octets < "
       "4-octet header"},
      {"0101 0006 1a 03",
       "EAP-MSCHAPv2 Success: Type-Data 1 octets < 4-octet "
       "header"},
      {"0201 0007 1a 04 00",
       "EAP-MSCHAPv2 Failure: Type-Data 2 octets < "
       "4-octet header"},
      {"0201 001a 1a 01 01 0015 10" + challenge,
       "EAP-MSCHAPv2 Challenge in an EAP Response"},
      {"0101 0009 1a 02 01 0004", "EAP-MSCHAPv2 Response in an EAP Request"},
      {"0101 0009 1a 07 01 0004",
       "EAP-MSCHAPv2 Change-Password in an EAP Request"},
      {"0101 0009 1a 01 01 0004", "EAP-MSCHAPv2 Challenge has no Value-Size"},
      {"0101 000b 1a 01 01 0006 08 00",
       "EAP-MSCHAPv2 Challenge truncated: Value-Size 8 > 1 octets left"},
      {"0101 0012 1a 01 01 000d 08 0001020304050607",
       "EAP-MSCHAPv2 Challenge Value-Size 8 != 16"},
      {"0201 001a 1a 02 01 0015 10" + challenge,
       "EAP-MSCHAPv2 Response Value-Size 16 != 49"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(ParseMs(Hex(c.hex))), c.error) << c.hex;
  }
  EXPECT_EQ(
      ErrorOf(ParseEapMsChapV2({EapCode::kRequest, 1, EapType::kIdentity, {}})),
      "EAP Type Identity is not EAP-MSCHAPv2 (26)");
  EXPECT_EQ(
      ErrorOf(ParseEapMsChapV2({EapCode::kSuccess, 1, EapType::kMsChapV2, {}})),
      "EAP-MSCHAPv2 data only travels in an EAP Request or Response");
}

TEST(EapMsChapV2Test, EncodeChecksValueSize) {
  const std::vector<uint8_t> short_value(8);
  EapMsChapV2Packet ms;
  ms.op_code = EapMsChapV2OpCode::kChallenge;
  ms.value = short_value;
  EXPECT_EQ(HexOf(EncodeEapMsChapV2(EapCode::kRequest, 1, ms)),
            "EAP-MSCHAPv2 Challenge Value of 8 octets, must be 16");
  ms.op_code = EapMsChapV2OpCode::kResponse;
  EXPECT_EQ(HexOf(EncodeEapMsChapV2(EapCode::kResponse, 1, ms)),
            "EAP-MSCHAPv2 Response Value of 8 octets, must be 49");
}

}  // namespace
}  // namespace sstp::ppp
