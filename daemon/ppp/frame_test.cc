#include "daemon/ppp/frame.h"

#include <cstdint>
#include <deque>
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

TEST(FrameTest, DecodesFullHeader) {
  const std::vector<uint8_t> bytes = Hex("ff03 c021 0901 0008 00000000");
  absl::StatusOr<Frame> frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->protocol, kProtocolLcp);
  EXPECT_EQ(frame->information, absl::MakeConstSpan(bytes).subspan(4));
}

TEST(FrameTest, DecodesWithoutAddressAndControl) {
  // RFC 1661 6.6 (ACFC): the frame starts directly with the Protocol field.
  const std::vector<uint8_t> bytes = Hex("8021 0101 0004");
  absl::StatusOr<Frame> frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->protocol, kProtocolIpcp);
  EXPECT_THAT(frame->information, ElementsAre(0x01, 0x01, 0x00, 0x04));
}

TEST(FrameTest, DecodesCompressedProtocolWithAndWithoutAddress) {
  // RFC 1661 6.5 (PFC): an odd first octet is a 1-octet Protocol field.
  for (const char* hex : {"ff03 21 4500", "21 4500"}) {
    const std::vector<uint8_t> bytes = Hex(hex);
    absl::StatusOr<Frame> frame = DecodeFrame(bytes);
    ASSERT_TRUE(frame.ok()) << hex << ": " << frame.status();
    EXPECT_EQ(frame->protocol, kProtocolIpv4) << hex;
    EXPECT_THAT(frame->information, ElementsAre(0x45, 0x00)) << hex;
  }
  const std::vector<uint8_t> ipv6 = Hex("57 60");
  absl::StatusOr<Frame> frame = DecodeFrame(ipv6);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolIpv6);
}

TEST(FrameTest, UncompressedIpv4ProtocolIsTwoOctets) {
  const std::vector<uint8_t> bytes = Hex("0021 45");
  absl::StatusOr<Frame> frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolIpv4);
  EXPECT_THAT(frame->information, ElementsAre(0x45));
}

TEST(FrameTest, EmptyInformationIsAFrame) {
  const std::vector<uint8_t> bytes = Hex("ff03 c021");
  absl::StatusOr<Frame> frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->protocol, kProtocolLcp);
  EXPECT_TRUE(frame->information.empty());
}

TEST(FrameTest, PaddingStaysInInformation) {
  const std::vector<uint8_t> bytes = Hex("c021 0901 0008 00000000 0000");
  absl::StatusOr<Frame> frame = DecodeFrame(bytes);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->information.size(), 10u);
}

struct BadFrame {
  const char* hex;
  const char* error;
};

TEST(FrameTest, RejectsMalformedFrames) {
  const BadFrame cases[] = {
      {"", "PPP frame is empty"},
      {"ff", "PPP frame truncated: Address 0xff without Control field"},
      {"ff13 c021", "PPP Address 0xff followed by Control 0x13, expected 0x03"},
      {"ff03", "PPP frame has no Protocol field"},
      {"ff03 c0", "PPP Protocol field truncated: 1 of 2 octets (0xc0)"},
      {"c0", "PPP Protocol field truncated: 1 of 2 octets (0xc0)"},
      {"c020 01",
       "PPP Protocol 0xc020 invalid: least significant octet must "
       "be odd (RFC 1661 section 2)"},
      {"ff03 0000", "PPP Protocol 0x0000 invalid"},
      {"ff03 ff", "PPP Protocol 0x00ff is reserved (RFC 1661 6.6)"},
      {"00ff 01", "PPP Protocol 0x00ff is reserved (RFC 1661 6.6)"},
  };
  for (const BadFrame& c : cases) {
    const std::vector<uint8_t> bytes = Hex(c.hex);
    absl::StatusOr<Frame> frame = DecodeFrame(bytes);
    ASSERT_FALSE(frame.ok()) << c.hex;
    EXPECT_EQ(frame.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(frame.status().message(), HasSubstr(c.error)) << c.hex;
  }
}

TEST(FrameTest, ValidProtocolRules) {
  EXPECT_TRUE(IsValidProtocol(kProtocolLcp));
  EXPECT_TRUE(IsValidProtocol(kProtocolIpv4));
  EXPECT_TRUE(IsValidProtocol(kProtocolEap));
  EXPECT_FALSE(IsValidProtocol(0xC020));  // Low octet even.
  EXPECT_FALSE(IsValidProtocol(0x0121));  // High octet odd.
  EXPECT_FALSE(IsValidProtocol(0x00FF));  // Reserved (RFC 1661 6.6).
}

TEST(FrameTest, WriteFrameHeaderInPlace) {
  std::vector<uint8_t> buffer = Hex("aaaaaaaa 4500");
  ASSERT_TRUE(WriteFrameHeader(absl::MakeSpan(buffer), kProtocolIpv4).ok());
  EXPECT_EQ(ToHex(buffer), "ff0300214500");
}

TEST(FrameTest, WriteFrameHeaderErrors) {
  std::vector<uint8_t> small(3);
  absl::Status status = WriteFrameHeader(absl::MakeSpan(small), kProtocolLcp);
  EXPECT_EQ(status.message(), "PPP frame header needs 4 bytes, buffer has 3");
  std::vector<uint8_t> buffer(4);
  status = WriteFrameHeader(absl::MakeSpan(buffer), 0x0121);
  EXPECT_THAT(
      status.message(),
      HasSubstr("cannot send PPP Protocol 0x0121: not a valid Protocol"));
}

TEST(FrameTest, EncodeAlwaysWritesAddressControlAndTwoOctetProtocol) {
  const std::vector<uint8_t> info = Hex("4500");
  absl::StatusOr<std::vector<uint8_t>> frame = EncodeFrame(kProtocolIpv4, info);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(ToHex(*frame), "ff0300214500");
  frame = EncodeFrame(kProtocolLcp, {});
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(ToHex(*frame), "ff03c021");
  EXPECT_FALSE(EncodeFrame(0xC020, info).ok());
}

TEST(FrameTest, EncodeDecodeRoundTrip) {
  const std::vector<uint8_t> info = Hex("0102030405");
  for (uint16_t protocol :
       {kProtocolLcp, kProtocolPap, kProtocolChap, kProtocolEap, kProtocolIpcp,
        kProtocolIpv6cp, kProtocolIpv4, kProtocolIpv6, kProtocolCcp,
        kProtocolEcp}) {
    absl::StatusOr<std::vector<uint8_t>> encoded = EncodeFrame(protocol, info);
    ASSERT_TRUE(encoded.ok());
    absl::StatusOr<Frame> frame = DecodeFrame(*encoded);
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->protocol, protocol);
    EXPECT_EQ(frame->information, absl::MakeConstSpan(info));
  }
}

TEST(FrameTest, ProtocolNames) {
  EXPECT_EQ(ProtocolName(kProtocolLcp), "LCP");
  EXPECT_EQ(ProtocolName(kProtocolPap), "PAP");
  EXPECT_EQ(ProtocolName(kProtocolChap), "CHAP");
  EXPECT_EQ(ProtocolName(kProtocolEap), "EAP");
  EXPECT_EQ(ProtocolName(kProtocolIpcp), "IPCP");
  EXPECT_EQ(ProtocolName(kProtocolIpv6cp), "IPv6CP");
  EXPECT_EQ(ProtocolName(kProtocolIpv4), "IPv4");
  EXPECT_EQ(ProtocolName(kProtocolIpv6), "IPv6");
  EXPECT_EQ(ProtocolName(kProtocolCcp), "CCP");
  EXPECT_EQ(ProtocolName(kProtocolEcp), "ECP");
  EXPECT_EQ(ProtocolName(0x80FB), "0x80fb");
}

}  // namespace
}  // namespace sstp::ppp
