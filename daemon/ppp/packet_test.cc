#include "daemon/ppp/packet.h"

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "base/hex.h"
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

TEST(PacketTest, ParsesHeaderAndData) {
  const std::vector<uint8_t> bytes = Hex("01 2a 0008 01040578");
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(bytes);
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->code, Code::kConfigureRequest);
  EXPECT_EQ(packet->identifier, 0x2a);
  EXPECT_THAT(packet->data, ElementsAre(0x01, 0x04, 0x05, 0x78));
}

TEST(PacketTest, IgnoresPaddingBeyondLength) {
  // RFC 1661 5: octets outside Length are padding.
  const std::vector<uint8_t> bytes = Hex("06 07 0006 abcd 0000 0000");
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(bytes);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->code, Code::kTerminateAck);
  EXPECT_THAT(packet->data, ElementsAre(0xab, 0xcd));
}

TEST(PacketTest, KeepsUnknownCode) {
  const std::vector<uint8_t> bytes = Hex("2a 01 0004");
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(bytes);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(static_cast<int>(packet->code), 42);
  EXPECT_EQ(CodeName(packet->code), "code 42");
}

TEST(PacketTest, RejectsBadLength) {
  struct Case {
    const char* hex;
    const char* error;
  } cases[] = {
      {"", "PPP packet truncated: 0 octets < 4-octet header"},
      {"01 01 00", "PPP packet truncated: 3 octets < 4-octet header"},
      {"01 01 0003", "PPP packet Length 3 < 4"},
      {"01 01 0000 00", "PPP packet Length 0 < 4"},
      {"01 01 0008 010405", "PPP packet Length 8 > 7 octets received"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ControlPacket> packet = ParseControlPacket(Hex(c.hex));
    ASSERT_FALSE(packet.ok()) << c.hex;
    EXPECT_EQ(packet.status().message(), c.error) << c.hex;
  }
}

TEST(PacketTest, EncodesControlPacket) {
  EXPECT_EQ(HexOf(EncodeControlPacket(Code::kConfigureAck, 7, Hex("0506"))),
            "020700060506");
  EXPECT_EQ(HexOf(EncodeControlPacket(Code::kConfigureRequest, 1, {})),
            "01010004");
}

TEST(PacketTest, EncodeRejectsOversizedPacket) {
  const std::vector<uint8_t> big(0xFFFF - 3);
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeControlPacket(Code::kEchoRequest, 1, big);
  ASSERT_FALSE(packet.ok());
  EXPECT_EQ(packet.status().message(),
            "PPP packet (code 9) of 65536 octets exceeds the 16-bit Length "
            "field");
  const std::vector<uint8_t> max(0xFFFF - 4);
  EXPECT_TRUE(EncodeControlPacket(Code::kEchoRequest, 1, max).ok());
}

TEST(PacketTest, EncodePacketConcatenatesParts) {
  const std::vector<uint8_t> a = Hex("0102");
  const std::vector<uint8_t> b = Hex("03");
  EXPECT_EQ(HexOf(EncodePacket(0xC0, 0x11, {a, {}, b})), "c0110007010203");
}

TEST(PacketTest, CodeNames) {
  EXPECT_EQ(CodeName(Code::kConfigureRequest), "Configure-Request");
  EXPECT_EQ(CodeName(Code::kConfigureNak), "Configure-Nak");
  EXPECT_EQ(CodeName(Code::kProtocolReject), "Protocol-Reject");
  EXPECT_EQ(CodeName(Code::kDiscardRequest), "Discard-Request");
  EXPECT_EQ(CodeName(Code::kIdentification), "Identification");
  EXPECT_EQ(CodeName(Code::kTimeRemaining), "Time-Remaining");
}

TEST(PacketTest, EchoRequestReplyDiscard) {
  const std::vector<uint8_t> data = Hex("beef");
  EXPECT_EQ(HexOf(EncodeEchoRequest(3, 0x11223344, data)),
            "0903000a11223344beef");
  EXPECT_EQ(HexOf(EncodeEchoReply(3, 0x55667788, {})), "0a03000855667788");
  EXPECT_EQ(HexOf(EncodeDiscardRequest(4, 0, data)), "0b04000a00000000beef");

  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeEchoRequest(3, 0x11223344, data);
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<ControlPacket> parsed = ParseControlPacket(*packet);
  ASSERT_TRUE(parsed.ok());
  absl::StatusOr<EchoData> echo = ParseEchoData(parsed->data);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->magic_number, 0x11223344u);
  EXPECT_THAT(echo->data, ElementsAre(0xbe, 0xef));
}

TEST(PacketTest, EchoDataTooShort) {
  absl::StatusOr<EchoData> echo = ParseEchoData(Hex("112233"));
  ASSERT_FALSE(echo.ok());
  EXPECT_EQ(echo.status().message(),
            "Echo/Discard data 3 octets < 4-octet Magic-Number");
}

TEST(PacketTest, TerminateRequestAndAck) {
  EXPECT_EQ(HexOf(EncodeTerminateRequest(9, Hex("6279"))), "050900066279");
  EXPECT_EQ(HexOf(EncodeTerminateAck(9, {})), "06090004");
}

TEST(PacketTest, CodeRejectTruncatesToPeerMru) {
  const std::vector<uint8_t> rejected = Hex("2a 01 0008 01020304");
  EXPECT_EQ(HexOf(EncodeCodeReject(5, rejected, 1500)),
            "0705000c2a01000801020304");
  // RFC 1661 5.6: truncated to the peer's MRU.
  EXPECT_EQ(HexOf(EncodeCodeReject(5, rejected, 8)), "070500082a010008");
  EXPECT_EQ(HexOf(EncodeCodeReject(5, rejected, 3)),
            "peer MRU 3 too small for a 4-octet Code-Reject header");
}

TEST(PacketTest, ProtocolReject) {
  const std::vector<uint8_t> info = Hex("01020304");
  EXPECT_EQ(HexOf(EncodeProtocolReject(6, 0x80FD, info, 1500)),
            "0806000a80fd01020304");
  // RFC 1661 5.7: Rejected-Information truncated to fit the MRU.
  EXPECT_EQ(HexOf(EncodeProtocolReject(6, 0x80FD, info, 7)), "0806000780fd01");
  EXPECT_EQ(HexOf(EncodeProtocolReject(6, 0x80FD, info, 5)),
            "peer MRU 5 too small for a 6-octet Protocol-Reject header");

  absl::StatusOr<ProtocolRejectData> reject =
      ParseProtocolReject(Hex("8057 0102"));
  ASSERT_TRUE(reject.ok());
  EXPECT_EQ(reject->rejected_protocol, 0x8057);
  EXPECT_THAT(reject->rejected_information, ElementsAre(0x01, 0x02));

  reject = ParseProtocolReject(Hex("80"));
  ASSERT_FALSE(reject.ok());
  EXPECT_EQ(reject.status().message(),
            "Protocol-Reject data 1 octets < 2-octet Rejected-Protocol");
}

TEST(PacketTest, Identification) {
  // RFC 1570 2.1: Magic-Number, then Message.
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeIdentification(1, 0xCAFEBABE, "sstp-ktls");
  EXPECT_EQ(HexOf(packet), "0c010011cafebabe" + ToHex(AsBytes("sstp-ktls")));
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<ControlPacket> parsed = ParseControlPacket(*packet);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->code, Code::kIdentification);
  absl::StatusOr<IdentificationData> id = ParseIdentification(parsed->data);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->magic_number, 0xCAFEBABEu);
  EXPECT_EQ(id->message, "sstp-ktls");

  id = ParseIdentification(Hex("01"));
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().message(),
            "Identification data 1 octets < 4-octet Magic-Number");
}

TEST(PacketTest, TimeRemaining) {
  // RFC 1570 2.2: Magic-Number, Seconds-Remaining, Message.
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeTimeRemaining(2, 0x01020304, 3600, "bye");
  EXPECT_EQ(HexOf(packet),
            "0d02000f"
            "01020304"
            "00000e10"
            "627965");
  ASSERT_TRUE(packet.ok());
  absl::StatusOr<ControlPacket> parsed = ParseControlPacket(*packet);
  ASSERT_TRUE(parsed.ok());
  absl::StatusOr<TimeRemainingData> time = ParseTimeRemaining(parsed->data);
  ASSERT_TRUE(time.ok());
  EXPECT_EQ(time->magic_number, 0x01020304u);
  EXPECT_EQ(time->seconds_remaining, 3600u);
  EXPECT_EQ(time->message, "bye");

  time = ParseTimeRemaining(Hex("01020304 0000"));
  ASSERT_FALSE(time.ok());
  EXPECT_EQ(time.status().message(),
            "Time-Remaining data 6 octets < 8 (Magic-Number, "
            "Seconds-Remaining)");
}

TEST(PacketTest, TextConversions) {
  const std::vector<uint8_t> bytes = {'a', 'b'};
  EXPECT_EQ(AsText(bytes), "ab");
  EXPECT_THAT(AsBytes("xy"), ElementsAre('x', 'y'));
}

}  // namespace
}  // namespace sstp::ppp
