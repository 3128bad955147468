// Golden SSTP packets: the byte strings of MS-SSTP 4.7 and, for messages the
// spec shows no bytes of, packets laid out field by field from the formats
// of MS-SSTP 2.2.8-2.2.15. Each is parsed to the expected values, re-encoded
// to the same bytes, truncated at every length, and corrupted in its length
// fields.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "daemon/sstp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

using ::testing::ElementsAreArray;

template <size_t N>
std::array<uint8_t, N> Array(absl::string_view hex) {
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N) << hex;
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

struct Golden {
  const char* name;
  const char* source;
  std::string hex;
  ControlMessage expected;
};

// MS-SSTP 4.7 values.
constexpr absl::string_view kSha256Nonce =
    "412B489AEBD7ECC7D08966F26BE7CD72 B231A0E9210D7C91B308862B0344C435";
constexpr absl::string_view kSha256CertHash =
    "7993EF314C493DACE9F02D60E7E61C84 B6690AAFE9D7AEEA92CBBE8AD599422D";
constexpr absl::string_view kSha256Mac =
    "52A68EFD8CFFBF52770B8F0FE8EC7371 6583AF6D611EB6D179B3B20840985449";
constexpr absl::string_view kSha1Nonce =
    "0F1A2D58D4A3E3000FAD3CE4906E07B7 07AA9E441CCEAC5CBD7B2CC1C9D86CDF";
constexpr absl::string_view kSha1CertHash =
    "5826B629BDA59B8E6FD8DCD2622FD34C 534805A5 000000000000000000000000";
constexpr absl::string_view kSha1Mac =
    "69915DD583D8062FEF16F61DB2F03290 EC27CB6C 000000000000000000000000";

std::vector<Golden> GoldenMessages() {
  std::vector<Golden> out;
  {
    ControlMessage m{.type = MessageType::kCallConnectRequest};
    m.encapsulated_protocol = EncapsulatedProtocolId{.protocol = 1};
    out.push_back({"CALL_CONNECT_REQUEST", "MS-SSTP 4.7",
                   "10 01 00 0E 00 01 00 01 00 01 00 06 00 01", m});
  }
  {
    ControlMessage m{.type = MessageType::kCallConnectAck};
    m.crypto_binding_req = CryptoBindingReq{.hash_bitmask = kHashBitmaskSha256,
                                            .nonce = Array<32>(kSha256Nonce)};
    out.push_back({"CALL_CONNECT_ACK SHA256", "MS-SSTP 4.7",
                   "10 01 00 30 00 02 00 01 00 04 00 28 00 00 00 02"
                   "41 2B 48 9A EB D7 EC C7 D0 89 66 F2 6B E7 CD 72"
                   "B2 31 A0 E9 21 0D 7C 91 B3 08 86 2B 03 44 C4 35",
                   m});
  }
  {
    ControlMessage m{.type = MessageType::kCallConnected};
    m.crypto_binding = CryptoBinding{.hash = HashProtocol::kSha256,
                                     .nonce = Array<32>(kSha256Nonce),
                                     .cert_hash = Array<32>(kSha256CertHash),
                                     .compound_mac = Array<32>(kSha256Mac)};
    out.push_back({"CALL_CONNECTED SHA256", "MS-SSTP 4.7",
                   "10 01 00 70 00 04 00 01 00 03 00 68 00 00 00 02"
                   "41 2B 48 9A EB D7 EC C7 D0 89 66 F2 6B E7 CD 72"
                   "B2 31 A0 E9 21 0D 7C 91 B3 08 86 2B 03 44 C4 35"
                   "79 93 EF 31 4C 49 3D AC E9 F0 2D 60 E7 E6 1C 84"
                   "B6 69 0A AF E9 D7 AE EA 92 CB BE 8A D5 99 42 2D"
                   "52 A6 8E FD 8C FF BF 52 77 0B 8F 0F E8 EC 73 71"
                   "65 83 AF 6D 61 1E B6 D1 79 B3 B2 08 40 98 54 49",
                   m});
  }
  {
    ControlMessage m{.type = MessageType::kCallConnectAck};
    m.crypto_binding_req = CryptoBindingReq{.hash_bitmask = kHashBitmaskSha1,
                                            .nonce = Array<32>(kSha1Nonce)};
    out.push_back({"CALL_CONNECT_ACK SHA1", "MS-SSTP 4.7",
                   "10 01 00 30 00 02 00 01 00 04 00 28 00 00 00 01"
                   "0F 1A 2D 58 D4 A3 E3 00 0F AD 3C E4 90 6E 07 B7"
                   "07 AA 9E 44 1C CE AC 5C BD 7B 2C C1 C9 D8 6C DF",
                   m});
  }
  {
    ControlMessage m{.type = MessageType::kCallConnected};
    m.crypto_binding = CryptoBinding{.hash = HashProtocol::kSha1,
                                     .nonce = Array<32>(kSha1Nonce),
                                     .cert_hash = Array<32>(kSha1CertHash),
                                     .compound_mac = Array<32>(kSha1Mac)};
    out.push_back({"CALL_CONNECTED SHA1", "MS-SSTP 4.7",
                   "10 01 00 70 00 04 00 01 00 03 00 68 00 00 00 01"
                   "0F 1A 2D 58 D4 A3 E3 00 0F AD 3C E4 90 6E 07 B7"
                   "07 AA 9E 44 1C CE AC 5C BD 7B 2C C1 C9 D8 6C DF"
                   "58 26 B6 29 BD A5 9B 8E 6F D8 DC D2 62 2F D3 4C"
                   "53 48 05 A5 00 00 00 00 00 00 00 00 00 00 00 00"
                   "69 91 5D D5 83 D8 06 2F EF 16 F6 1D B2 F0 32 90"
                   "EC 27 CB 6C 00 00 00 00 00 00 00 00 00 00 00 00",
                   m});
  }
  {
    // The example of 2.2.12: the Encapsulated Protocol ID proposed (here 2)
    // is not supported; the value comes back.
    ControlMessage m{.type = MessageType::kCallConnectNak};
    m.status_info.push_back(
        {.attrib_id = 1, .status = StatusCode::kValueNotSupported, .value = {0x00, 0x02}});
    out.push_back({"CALL_CONNECT_NAK", "MS-SSTP 2.2.12, 2.2.8",
                   "10 01 00 16 00 03 00 01"
                   "00 02 00 0E 00 00 00 01 00 00 00 04 00 02",
                   m});
  }
  {
    // 2.2.8: one STATUS_INFO per attribute; a missing mandatory attribute
    // comes back without a value (ATTRIB_STATUS_REQUIRED_ATTRIBUTE_MISSING).
    ControlMessage m{.type = MessageType::kCallConnectNak};
    m.status_info.push_back(
        {.attrib_id = 1, .status = StatusCode::kRequiredAttributeMissing});
    m.status_info.push_back(
        {.attrib_id = 2, .status = StatusCode::kStatusInfoNotSupportedInMsg,
         .value = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07}});
    out.push_back({"CALL_CONNECT_NAK two STATUS_INFO", "MS-SSTP 2.2.12, 2.2.8",
                   "10 01 00 28 00 03 00 02"
                   "00 02 00 0C 00 00 00 01 00 00 00 0A"
                   "00 02 00 14 00 00 00 02 00 00 00 0B 00 00 00 00 00 00 00 07",
                   m});
  }
  {
    ControlMessage m{.type = MessageType::kCallAbort};
    m.status_info.push_back(
        {.attrib_id = 3, .status = StatusCode::kAttribNotSupportedInMsg});
    out.push_back({"CALL_ABORT with STATUS_INFO", "MS-SSTP 2.2.13, 3.3.5.2.3",
                   "10 01 00 14 00 05 00 01 00 02 00 0C 00 00 00 03 00 00 00 09", m});
  }
  out.push_back({"CALL_ABORT bare", "MS-SSTP 2.2.13", "10 01 00 08 00 05 00 00",
                 ControlMessage{.type = MessageType::kCallAbort}});
  {
    ControlMessage m{.type = MessageType::kCallDisconnect};
    m.status_info.push_back({.attrib_id = 0, .status = StatusCode::kNoError});
    out.push_back({"CALL_DISCONNECT with STATUS_INFO", "MS-SSTP 2.2.14",
                   "10 01 00 14 00 06 00 01 00 02 00 0C 00 00 00 00 00 00 00 00", m});
  }
  out.push_back({"CALL_DISCONNECT bare", "MS-SSTP 2.2.14", "10 01 00 08 00 06 00 00",
                 ControlMessage{.type = MessageType::kCallDisconnect}});
  out.push_back({"CALL_DISCONNECT_ACK", "MS-SSTP 2.2.15", "10 01 00 08 00 07 00 00",
                 ControlMessage{.type = MessageType::kCallDisconnectAck}});
  out.push_back({"ECHO_REQUEST", "MS-SSTP 2.2.15", "10 01 00 08 00 08 00 00",
                 ControlMessage{.type = MessageType::kEchoRequest}});
  out.push_back({"ECHO_RESPONSE", "MS-SSTP 2.2.15", "10 01 00 08 00 09 00 00",
                 ControlMessage{.type = MessageType::kEchoResponse}});
  return out;
}

TEST(GoldenTest, ParsesToExpectedValuesAndEncodesBack) {
  for (const Golden& golden : GoldenMessages()) {
    SCOPED_TRACE(absl::StrCat(golden.name, " (", golden.source, ")"));
    const std::vector<uint8_t> bytes = HexOrDie(golden.hex);
    absl::StatusOr<Packet> packet = ParsePacket(bytes);
    ASSERT_TRUE(packet.ok()) << packet.status();
    ASSERT_TRUE(packet->is_control());
    EXPECT_FALSE(packet->reserved_bits_set);
    EXPECT_EQ(*packet->control(), golden.expected);
    absl::StatusOr<std::vector<uint8_t>> encoded = EncodeControl(golden.expected);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    EXPECT_THAT(*encoded, ElementsAreArray(bytes));
  }
}

TEST(GoldenTest, SpecCallConnectedFieldsAtTheirOffsets) {
  // MS-SSTP 4.7: the MAC sits at kCompoundMacOffset of the 112-byte message.
  const std::vector<Golden> all = GoldenMessages();
  const std::vector<uint8_t> bytes = HexOrDie(all[2].hex);
  ASSERT_EQ(bytes.size(), kCallConnectedSize);
  EXPECT_THAT(absl::MakeConstSpan(bytes).subspan(kCompoundMacOffset, kCompoundMacSize),
              ElementsAreArray(HexOrDie(kSha256Mac)));
  EXPECT_THAT(absl::MakeConstSpan(bytes).subspan(kCallConnectedCertHashOffset, 32),
              ElementsAreArray(HexOrDie(kSha256CertHash)));
  EXPECT_THAT(absl::MakeConstSpan(bytes).subspan(kCallConnectedNonceOffset, 32),
              ElementsAreArray(HexOrDie(kSha256Nonce)));
}

TEST(GoldenTest, SpecCallConnectRequestIsWhatWeSend) {
  EXPECT_THAT(EncodeCallConnectRequest(), ElementsAreArray(HexOrDie(GoldenMessages()[0].hex)));
}

TEST(GoldenTest, DataPacket) {
  // MS-SSTP 2.2.3 carrying a PPP LCP Configure-Request (RFC 1661 5.1)
  // with FF 03 and no options.
  const std::vector<uint8_t> bytes = HexOrDie("10 00 00 0C FF 03 C0 21 01 01 00 04");
  absl::StatusOr<Packet> packet = ParsePacket(bytes);
  ASSERT_TRUE(packet.ok()) << packet.status();
  ASSERT_NE(packet->data(), nullptr);
  EXPECT_THAT(packet->data()->payload, ElementsAreArray(HexOrDie("FF 03 C0 21 01 01 00 04")));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(ParsePacket(absl::MakeConstSpan(bytes).first(n)).ok()) << n;
  }
}

// Every prefix of every golden message is refused: as given (the length field
// no longer matches) and with the length field patched to the prefix length
// (which drives the parser into the attributes).
TEST(GoldenTest, EveryTruncationIsACleanError) {
  for (const Golden& golden : GoldenMessages()) {
    SCOPED_TRACE(golden.name);
    const std::vector<uint8_t> bytes = HexOrDie(golden.hex);
    for (size_t n = 0; n < bytes.size(); ++n) {
      std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
      absl::StatusOr<Packet> as_is = ParsePacket(prefix);
      EXPECT_FALSE(as_is.ok()) << "prefix " << n;
      EXPECT_TRUE(GetParseErrorDetail(as_is.status()).has_value()) << n;
      if (n >= 4) {
        prefix[2] = static_cast<uint8_t>(n >> 8);
        prefix[3] = static_cast<uint8_t>(n);
        absl::StatusOr<Packet> patched = ParsePacket(prefix);
        EXPECT_FALSE(patched.ok()) << "patched prefix " << n;
        EXPECT_TRUE(GetParseErrorDetail(patched.status()).has_value()) << n;
      }
    }
  }
}

// Every value of every byte of the packet length, NumAttr and first
// attribute length either fails, or parses to a message that encodes back to
// the same bytes (reserved bits aside, which must then be flagged).
TEST(GoldenTest, LengthAndCountCorruptionsAreErrorsOrConsistent) {
  int accepted = 0;
  int refused = 0;
  for (const Golden& golden : GoldenMessages()) {
    SCOPED_TRACE(golden.name);
    const std::vector<uint8_t> bytes = HexOrDie(golden.hex);
    std::vector<size_t> positions = {2, 3, 6, 7};
    if (bytes.size() > 8) positions.insert(positions.end(), {10, 11});
    for (size_t pos : positions) {
      for (int value = 0; value < 256; ++value) {
        std::vector<uint8_t> corrupt = bytes;
        corrupt[pos] = static_cast<uint8_t>(value);
        absl::StatusOr<Packet> packet = ParsePacket(corrupt);
        if (!packet.ok()) {
          ++refused;
          EXPECT_TRUE(GetParseErrorDetail(packet.status()).has_value());
          continue;
        }
        ++accepted;
        ASSERT_TRUE(packet->is_control()) << pos << "=" << value;
        absl::StatusOr<std::vector<uint8_t>> encoded = EncodeControl(*packet->control());
        ASSERT_TRUE(encoded.ok()) << encoded.status();
        // Clear the reserved nibbles the corruption may have set.
        std::vector<uint8_t> expected = corrupt;
        expected[2] &= 0x0F;
        if (bytes.size() > 8) expected[10] &= 0x0F;
        EXPECT_EQ(packet->reserved_bits_set, expected != corrupt) << pos << "=" << value;
        EXPECT_THAT(*encoded, ElementsAreArray(expected)) << pos << "=" << value;
      }
    }
  }
  // The original value, and the reserved nibbles, are the only accepted
  // corruptions.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, accepted);
}

}  // namespace
}  // namespace sstp::proto
