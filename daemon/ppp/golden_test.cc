// Golden frames shaped like what real SSTP servers send (SSTP-NOTES "Real
// servers": Windows RRAS, SoftEther, accel-ppp), each parsed through every
// layer a received frame goes through, and each truncated at every length:
// a truncated frame must give a clean error, never a crash and never a
// success with wrong values.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "base/status.h"
#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/options.h"
#include "daemon/ppp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::ElementsAre;

// Hex header followed by ASCII text (for frames carrying messages).
std::vector<uint8_t> HexThenText(absl::string_view hex,
                                 absl::string_view text) {
  std::vector<uint8_t> bytes = HexOrDie(hex);
  bytes.insert(bytes.end(), text.begin(), text.end());
  return bytes;
}

// Windows RRAS: MRU 4091, MS-CHAPv2, Magic-Number, PFC, ACFC, Callback
// (CBCP), MRRU 1614, Endpoint-Discriminator class 1 (20 octets).
const std::vector<uint8_t> kRrasLcpRequest = HexOrDie(
    "ff03 c021 01 01 0035"
    " 0104 0ffb"
    " 0305 c223 81"
    " 0506 2d6e1ab9"
    " 0702"
    " 0802"
    " 0d03 06"
    " 1104 064e"
    " 1317 01 0e10404c56ad46baba6f3c20165f880c00000000");

// SoftEther: asks for EAP first; the same request without FF 03 (ACFC form).
const std::vector<uint8_t> kSoftEtherLcpRequest =
    HexOrDie("ff03 c021 01 01 000c 0104 05dc 0304 c227");
const std::vector<uint8_t> kSoftEtherLcpRequestNoAddress =
    HexOrDie("c021 01 02 000c 0104 05dc 0304 c227");

// LCP Echo-Request and a Protocol-Reject of CCP.
const std::vector<uint8_t> kLcpEchoRequest =
    HexOrDie("ff03 c021 09 05 0008 2d6e1ab9");
const std::vector<uint8_t> kLcpProtocolRejectCcp =
    HexOrDie("ff03 c021 08 06 000a 80fd 01010004");

// IPCP Configure-Nak giving address and both DNS servers; SoftEther's
// Configure-Reject of Secondary-DNS, without FF 03.
const std::vector<uint8_t> kIpcpNak =
    HexOrDie("ff03 8021 03 02 0016 0306 c0a8640a 8106 08080808 8306 08080404");
const std::vector<uint8_t> kIpcpRejectNoAddress =
    HexOrDie("8021 04 03 000a 8306 00000000");

// IPv6CP Configure-Request with an Interface-Identifier.
const std::vector<uint8_t> kIpv6cpRequest =
    HexOrDie("ff03 8057 01 01 000e 010a 0211223344556677");

// MS-CHAPv2 Challenge (RFC 2759 9.2's Authenticator-Challenge), Success
// (RFC 2759 9.2's AuthenticatorResponse) and Failure.
const std::vector<uint8_t> kMsChapV2Challenge = HexThenText(
    "ff03 c223 01 1c 0020 10 5b5d7c7d7b3f2f3e3c2c602132262628", "WIN-SSTP-GW");
const std::vector<uint8_t> kMsChapV2Success =
    HexThenText("ff03 c223 03 1c 003f",
                "S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted");
const std::vector<uint8_t> kMsChapV2Failure = HexThenText(
    "ff03 c223 04 1c 004d",
    "E=691 R=1 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Authentication "
    "failure");

// accel-ppp: CHAP-MD5 Challenge; PAP Authenticate-Ack with an empty message.
const std::vector<uint8_t> kChapMd5Challenge = HexThenText(
    "ff03 c223 01 01 001e 10 c9b8a7f6e5d4c3b2a1908f7e6d5c4b3a", "accel-ppp");
const std::vector<uint8_t> kPapAck = HexOrDie("ff03 c023 02 01 0005 00");

// EAP-Request/Identity, EAP-MSCHAPv2 Challenge and Success request.
const std::vector<uint8_t> kEapIdentityRequest =
    HexOrDie("ff03 c227 01 01 0005 01");
const std::vector<uint8_t> kEapMsChapV2Challenge = HexThenText(
    "ff03 c227 01 02 0025 1a 01 1d 0020 10 5b5d7c7d7b3f2f3e3c2c602132262628",
    "WIN-SSTP-GW");
const std::vector<uint8_t> kEapMsChapV2Success =
    HexThenText("ff03 c227 01 03 0044 1a 03 1d 003f",
                "S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted");
const std::vector<uint8_t> kEapSuccess = HexOrDie("ff03 c227 03 04 0004");

// What a received frame goes through, up to the typed values. OK only if
// every layer accepts it.
absl::Status ParseAll(absl::Span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(Frame frame, DecodeFrame(bytes));
  switch (frame.protocol) {
    case kProtocolLcp: {
      ASSIGN_OR_RETURN(ControlPacket packet,
                       ParseControlPacket(frame.information));
      switch (packet.code) {
        case Code::kConfigureRequest:
        case Code::kConfigureAck:
        case Code::kConfigureNak:
        case Code::kConfigureReject:
          return ParseLcpOptions(packet.data).status();
        case Code::kEchoRequest:
        case Code::kEchoReply:
        case Code::kDiscardRequest:
          return ParseEchoData(packet.data).status();
        case Code::kProtocolReject:
          return ParseProtocolReject(packet.data).status();
        case Code::kIdentification:
          return ParseIdentification(packet.data).status();
        case Code::kTimeRemaining:
          return ParseTimeRemaining(packet.data).status();
        case Code::kTerminateRequest:
        case Code::kTerminateAck:
        case Code::kCodeReject:
          return absl::OkStatus();
      }
      return absl::InvalidArgumentError("unknown LCP code");
    }
    case kProtocolIpcp: {
      ASSIGN_OR_RETURN(ControlPacket packet,
                       ParseControlPacket(frame.information));
      return ParseIpcpOptions(packet.data).status();
    }
    case kProtocolIpv6cp: {
      ASSIGN_OR_RETURN(ControlPacket packet,
                       ParseControlPacket(frame.information));
      return ParseIpv6cpOptions(packet.data).status();
    }
    case kProtocolPap:
      return ParsePapAckNak(frame.information).status();
    case kProtocolChap: {
      ASSIGN_OR_RETURN(ControlPacket packet,
                       ParseControlPacket(frame.information));
      if (packet.code == static_cast<Code>(ChapCode::kChallenge)) {
        return ParseChapChallenge(frame.information).status();
      }
      ASSIGN_OR_RETURN(ChapResult result, ParseChapResult(frame.information));
      if (result.code == ChapCode::kSuccess) {
        return ParseMsChapV2SuccessMessage(result.message).status();
      }
      return ParseMsChapV2FailureMessage(result.message).status();
    }
    case kProtocolEap: {
      ASSIGN_OR_RETURN(EapPacket eap, ParseEapPacket(frame.information));
      if (eap.code == EapCode::kRequest && eap.type == EapType::kMsChapV2) {
        ASSIGN_OR_RETURN(EapMsChapV2Packet ms, ParseEapMsChapV2(eap));
        if (ms.op_code == EapMsChapV2OpCode::kSuccess) {
          return ParseMsChapV2SuccessMessage(ms.message).status();
        }
      }
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("not a control protocol");
  }
}

struct Golden {
  const char* name;
  const std::vector<uint8_t>* bytes;
};

const Golden kGoldens[] = {
    {"RrasLcpRequest", &kRrasLcpRequest},
    {"SoftEtherLcpRequest", &kSoftEtherLcpRequest},
    {"SoftEtherLcpRequestNoAddress", &kSoftEtherLcpRequestNoAddress},
    {"LcpEchoRequest", &kLcpEchoRequest},
    {"LcpProtocolRejectCcp", &kLcpProtocolRejectCcp},
    {"IpcpNak", &kIpcpNak},
    {"IpcpRejectNoAddress", &kIpcpRejectNoAddress},
    {"Ipv6cpRequest", &kIpv6cpRequest},
    {"MsChapV2Challenge", &kMsChapV2Challenge},
    {"MsChapV2Success", &kMsChapV2Success},
    {"MsChapV2Failure", &kMsChapV2Failure},
    {"ChapMd5Challenge", &kChapMd5Challenge},
    {"PapAck", &kPapAck},
    {"EapIdentityRequest", &kEapIdentityRequest},
    {"EapMsChapV2Challenge", &kEapMsChapV2Challenge},
    {"EapMsChapV2Success", &kEapMsChapV2Success},
    {"EapSuccess", &kEapSuccess},
};

TEST(GoldenTest, EveryGoldenParsesWhole) {
  for (const Golden& golden : kGoldens) {
    EXPECT_TRUE(ParseAll(*golden.bytes).ok())
        << golden.name << ": " << ParseAll(*golden.bytes);
  }
}

TEST(GoldenTest, EveryTruncationIsACleanError) {
  for (const Golden& golden : kGoldens) {
    const absl::Span<const uint8_t> whole = *golden.bytes;
    for (size_t length = 0; length < whole.size(); ++length) {
      // A copy of exactly `length` octets, so that ASan sees any overread.
      const std::vector<uint8_t> prefix(whole.begin(), whole.begin() + length);
      const absl::Status status = ParseAll(prefix);
      EXPECT_FALSE(status.ok()) << golden.name << " truncated to " << length;
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
          << golden.name << " truncated to " << length << ": " << status;
    }
  }
}

TEST(GoldenTest, RrasLcpRequest) {
  absl::StatusOr<Frame> frame = DecodeFrame(kRrasLcpRequest);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolLcp);
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(frame->information);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->code, Code::kConfigureRequest);
  EXPECT_EQ(packet->identifier, 1);
  absl::StatusOr<std::vector<LcpOption>> options =
      ParseLcpOptions(packet->data);
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->size(), 8u);
  EXPECT_EQ(std::get<MruOption>((*options)[0]).mru, 4091);
  const auto& auth = std::get<AuthProtocolOption>((*options)[1]);
  EXPECT_EQ(auth.protocol, kProtocolChap);
  EXPECT_EQ(auth.known, AuthProtocol::kMsChapV2);
  EXPECT_EQ(std::get<MagicNumberOption>((*options)[2]).magic_number,
            0x2d6e1ab9u);
  EXPECT_TRUE(
      std::holds_alternative<ProtocolFieldCompressionOption>((*options)[3]));
  EXPECT_TRUE(std::holds_alternative<AddressAndControlFieldCompressionOption>(
      (*options)[4]));
  EXPECT_EQ(std::get<CallbackOption>((*options)[5]).operation, 6);
  EXPECT_EQ(std::get<MrruOption>((*options)[6]).mrru, 1614);
  const auto& epd = std::get<EndpointDiscriminatorOption>((*options)[7]);
  EXPECT_EQ(epd.discriminator_class, 1);
  EXPECT_EQ(ToHex(epd.address), "0e10404c56ad46baba6f3c20165f880c00000000");

  // Re-encoding the typed options gives back the same Data field.
  OptionListBuilder builder;
  for (const LcpOption& option : *options) builder.AddLcp(option);
  absl::StatusOr<std::vector<uint8_t>> data = builder.Build();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(absl::MakeConstSpan(*data), packet->data);
}

TEST(GoldenTest, SoftEtherLcpRequestWithAndWithoutAddressControl) {
  for (const auto* bytes :
       {&kSoftEtherLcpRequest, &kSoftEtherLcpRequestNoAddress}) {
    absl::StatusOr<Frame> frame = DecodeFrame(*bytes);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->protocol, kProtocolLcp);
    absl::StatusOr<ControlPacket> packet =
        ParseControlPacket(frame->information);
    ASSERT_TRUE(packet.ok());
    absl::StatusOr<std::vector<LcpOption>> options =
        ParseLcpOptions(packet->data);
    ASSERT_TRUE(options.ok());
    ASSERT_EQ(options->size(), 2u);
    EXPECT_EQ(std::get<MruOption>((*options)[0]).mru, 1500);
    EXPECT_EQ(std::get<AuthProtocolOption>((*options)[1]).known,
              AuthProtocol::kEap);
  }
}

TEST(GoldenTest, LcpEchoAndProtocolReject) {
  absl::StatusOr<Frame> frame = DecodeFrame(kLcpEchoRequest);
  ASSERT_TRUE(frame.ok());
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(frame->information);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->code, Code::kEchoRequest);
  EXPECT_EQ(packet->identifier, 5);
  absl::StatusOr<EchoData> echo = ParseEchoData(packet->data);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->magic_number, 0x2d6e1ab9u);
  EXPECT_TRUE(echo->data.empty());

  frame = DecodeFrame(kLcpProtocolRejectCcp);
  ASSERT_TRUE(frame.ok());
  packet = ParseControlPacket(frame->information);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->code, Code::kProtocolReject);
  absl::StatusOr<ProtocolRejectData> reject = ParseProtocolReject(packet->data);
  ASSERT_TRUE(reject.ok());
  EXPECT_EQ(reject->rejected_protocol, kProtocolCcp);
  EXPECT_THAT(reject->rejected_information, ElementsAre(1, 1, 0, 4));
}

TEST(GoldenTest, IpcpNakAndReject) {
  absl::StatusOr<Frame> frame = DecodeFrame(kIpcpNak);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolIpcp);
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(frame->information);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->code, Code::kConfigureNak);
  absl::StatusOr<std::vector<IpcpOption>> options =
      ParseIpcpOptions(packet->data);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 3u);
  EXPECT_EQ(
      std::get<IpcpAddressOption>((*options)[0]),
      (IpcpAddressOption{IpcpOptionType::kIpAddress, {192, 168, 100, 10}}));
  EXPECT_EQ(std::get<IpcpAddressOption>((*options)[1]),
            (IpcpAddressOption{IpcpOptionType::kPrimaryDns, {8, 8, 8, 8}}));
  EXPECT_EQ(std::get<IpcpAddressOption>((*options)[2]),
            (IpcpAddressOption{IpcpOptionType::kSecondaryDns, {8, 8, 4, 4}}));

  frame = DecodeFrame(kIpcpRejectNoAddress);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolIpcp);
  packet = ParseControlPacket(frame->information);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->code, Code::kConfigureReject);
  options = ParseIpcpOptions(packet->data);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 1u);
  EXPECT_EQ(std::get<IpcpAddressOption>((*options)[0]).type,
            IpcpOptionType::kSecondaryDns);
}

TEST(GoldenTest, Ipv6cpRequest) {
  absl::StatusOr<Frame> frame = DecodeFrame(kIpv6cpRequest);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolIpv6cp);
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(frame->information);
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<std::vector<Ipv6cpOption>> options =
      ParseIpv6cpOptions(packet->data);
  ASSERT_TRUE(options.ok());
  ASSERT_EQ(options->size(), 1u);
  EXPECT_EQ(
      ToHex(std::get<InterfaceIdentifierOption>((*options)[0]).identifier),
      "0211223344556677");
}

TEST(GoldenTest, MsChapV2ChallengeSuccessFailure) {
  absl::StatusOr<Frame> frame = DecodeFrame(kMsChapV2Challenge);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolChap);
  absl::StatusOr<MsChapV2ChallengePacket> challenge =
      ParseMsChapV2Challenge(frame->information);
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->identifier, 0x1c);
  EXPECT_EQ(ToHex(challenge->challenge), "5b5d7c7d7b3f2f3e3c2c602132262628");
  EXPECT_EQ(challenge->name, "WIN-SSTP-GW");

  frame = DecodeFrame(kMsChapV2Success);
  ASSERT_TRUE(frame.ok());
  absl::StatusOr<ChapResult> result = ParseChapResult(frame->information);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->code, ChapCode::kSuccess);
  EXPECT_EQ(result->identifier, 0x1c);
  absl::StatusOr<MsChapV2SuccessMessage> success =
      ParseMsChapV2SuccessMessage(result->message);
  ASSERT_TRUE(success.ok()) << success.status();
  // RFC 2759 9.2 AuthenticatorResponse.
  EXPECT_EQ(ToHex(success->authenticator_response),
            "407a5589115fd0d6209f510fe9c04566932cda56");
  EXPECT_EQ(success->message, "Access granted");

  frame = DecodeFrame(kMsChapV2Failure);
  ASSERT_TRUE(frame.ok());
  result = ParseChapResult(frame->information);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->code, ChapCode::kFailure);
  absl::StatusOr<MsChapV2FailureMessage> failure =
      ParseMsChapV2FailureMessage(result->message);
  ASSERT_TRUE(failure.ok()) << failure.status();
  EXPECT_EQ(failure->error, kErrorAuthenticationFailure);
  EXPECT_EQ(failure->retry, true);
  ASSERT_TRUE(failure->challenge.has_value());
  EXPECT_EQ(ToHex(*failure->challenge), "5b5d7c7d7b3f2f3e3c2c602132262628");
  EXPECT_EQ(failure->version, 3u);
  EXPECT_EQ(failure->message, "Authentication failure");
}

TEST(GoldenTest, ChapMd5ChallengeAndPapAck) {
  absl::StatusOr<Frame> frame = DecodeFrame(kChapMd5Challenge);
  ASSERT_TRUE(frame.ok());
  absl::StatusOr<ChapChallenge> challenge =
      ParseChapChallenge(frame->information);
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(ToHex(challenge->value), "c9b8a7f6e5d4c3b2a1908f7e6d5c4b3a");
  EXPECT_EQ(challenge->name, "accel-ppp");

  frame = DecodeFrame(kPapAck);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolPap);
  absl::StatusOr<PapAckNak> ack = ParsePapAckNak(frame->information);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->code, PapCode::kAuthenticateAck);
  EXPECT_TRUE(ack->message.empty());
}

TEST(GoldenTest, EapIdentityMsChapV2AndSuccess) {
  absl::StatusOr<Frame> frame = DecodeFrame(kEapIdentityRequest);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolEap);
  absl::StatusOr<EapPacket> eap = ParseEapPacket(frame->information);
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->code, EapCode::kRequest);
  EXPECT_EQ(eap->type, EapType::kIdentity);
  EXPECT_TRUE(eap->type_data.empty());

  frame = DecodeFrame(kEapMsChapV2Challenge);
  ASSERT_TRUE(frame.ok());
  eap = ParseEapPacket(frame->information);
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->identifier, 2);
  absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(*eap);
  ASSERT_TRUE(ms.ok()) << ms.status();
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kChallenge);
  EXPECT_EQ(ms->ms_chapv2_id, 0x1d);
  EXPECT_EQ(ms->ms_length, eap->type_data.size());
  EXPECT_EQ(ToHex(ms->value), "5b5d7c7d7b3f2f3e3c2c602132262628");
  EXPECT_EQ(ms->name, "WIN-SSTP-GW");

  frame = DecodeFrame(kEapMsChapV2Success);
  ASSERT_TRUE(frame.ok());
  eap = ParseEapPacket(frame->information);
  ASSERT_TRUE(eap.ok());
  ms = ParseEapMsChapV2(*eap);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->op_code, EapMsChapV2OpCode::kSuccess);
  absl::StatusOr<MsChapV2SuccessMessage> success =
      ParseMsChapV2SuccessMessage(ms->message);
  ASSERT_TRUE(success.ok());
  EXPECT_EQ(ToHex(success->authenticator_response),
            "407a5589115fd0d6209f510fe9c04566932cda56");

  frame = DecodeFrame(kEapSuccess);
  ASSERT_TRUE(frame.ok());
  eap = ParseEapPacket(frame->information);
  ASSERT_TRUE(eap.ok());
  EXPECT_EQ(eap->code, EapCode::kSuccess);
  EXPECT_EQ(eap->identifier, 4);
}

TEST(GoldenTest, CompressedDataFrames) {
  // IPv4 with a 1-octet Protocol field, with and without FF 03 (RFC 1661
  // 6.5, 6.6); IPv6 likewise.
  const struct {
    const char* hex;
    uint16_t protocol;
  } cases[] = {
      {"ff03 21 45000014", kProtocolIpv4},   {"21 45000014", kProtocolIpv4},
      {"ff03 0021 45000014", kProtocolIpv4}, {"57 60000000", kProtocolIpv6},
      {"ff03 57 60000000", kProtocolIpv6},
  };
  for (const auto& c : cases) {
    const std::vector<uint8_t> bytes = HexOrDie(c.hex);
    absl::StatusOr<Frame> frame = DecodeFrame(bytes);
    ASSERT_TRUE(frame.ok()) << c.hex;
    EXPECT_EQ(frame->protocol, c.protocol) << c.hex;
    EXPECT_EQ(frame->information.size(), 4u) << c.hex;
  }
}

TEST(GoldenTest, ClientFramesAreAlwaysFullHeader) {
  // What the client sends to these servers: FF 03 + 2-octet protocol.
  absl::StatusOr<std::vector<uint8_t>> identity =
      EncodeEapIdentityResponse(1, "user");
  ASSERT_TRUE(identity.ok());
  absl::StatusOr<std::vector<uint8_t>> frame =
      EncodeFrame(kProtocolEap, *identity);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(ToHex(*frame),
            "ff03c227"
            "0201000901"
            "75736572");
}

}  // namespace
}  // namespace sstp::ppp
