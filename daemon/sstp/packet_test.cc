#include "daemon/sstp/packet.h"

#include <cstdint>
#include <string>
#include <vector>

#include "base/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

using ::testing::ElementsAreArray;

std::array<uint8_t, 32> Filled(uint8_t first) {
  std::array<uint8_t, 32> out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

// An attribute with a raw 16-bit length field and the given value bytes.
std::vector<uint8_t> Attr(uint8_t id, uint16_t length_field,
                          const std::vector<uint8_t>& value) {
  std::vector<uint8_t> out = {0x00, id, static_cast<uint8_t>(length_field >> 8),
                              static_cast<uint8_t>(length_field)};
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

// An attribute whose length field matches its value.
std::vector<uint8_t> Attr(uint8_t id, const std::vector<uint8_t>& value) {
  return Attr(id, static_cast<uint16_t>(4 + value.size()), value);
}

std::vector<uint8_t> StatusInfoValue(uint8_t attrib_id, uint32_t status,
                                     const std::vector<uint8_t>& value = {}) {
  // Reserved1 (3), AttribID, Status (4), AttribValue.
  std::vector<uint8_t> out(8 + value.size(), 0);
  out[3] = attrib_id;
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(status >> (24 - 8 * i));
  std::copy(value.begin(), value.end(), out.begin() + 8);
  return out;
}

// A control packet with a correct length field.
std::vector<uint8_t> Control(uint16_t type, uint16_t num_attr,
                             const std::vector<std::vector<uint8_t>>& attrs) {
  std::vector<uint8_t> out = {0x10, 0x01, 0, 0,
                              static_cast<uint8_t>(type >> 8),
                              static_cast<uint8_t>(type),
                              static_cast<uint8_t>(num_attr >> 8),
                              static_cast<uint8_t>(num_attr)};
  for (const auto& attr : attrs) out.insert(out.end(), attr.begin(), attr.end());
  out[2] = static_cast<uint8_t>(out.size() >> 8);
  out[3] = static_cast<uint8_t>(out.size());
  return out;
}

std::vector<uint8_t> CryptoBindingReqValue(uint8_t bitmask) {
  std::vector<uint8_t> value = {0, 0, 0, bitmask};
  const auto nonce = Filled(0x40);
  value.insert(value.end(), nonce.begin(), nonce.end());
  return value;
}

std::vector<uint8_t> CryptoBindingValue(uint8_t hash) {
  std::vector<uint8_t> value = {0, 0, 0, hash};
  for (uint8_t first : {0x40, 0x80, 0xC0}) {
    const auto field = Filled(first);
    value.insert(value.end(), field.begin(), field.end());
  }
  return value;
}

void ExpectParseError(const std::vector<uint8_t>& bytes,
                      absl::string_view message, StatusCode status,
                      uint8_t attrib_id) {
  absl::StatusOr<Packet> packet = ParsePacket(bytes);
  ASSERT_FALSE(packet.ok()) << ToHex(bytes);
  EXPECT_EQ(packet.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(packet.status().message()), std::string(message));
  EXPECT_EQ(GetParseErrorDetail(packet.status()),
            (ParseErrorDetail{status, attrib_id}))
      << packet.status();
}

ControlMessage RoundTrip(const ControlMessage& message) {
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeControl(message);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return {};
  absl::StatusOr<Packet> packet = ParsePacket(*bytes);
  EXPECT_TRUE(packet.ok()) << packet.status();
  if (!packet.ok() || !packet->is_control()) return {};
  EXPECT_FALSE(packet->reserved_bits_set);
  return *packet->control();
}

// --- Encoders: exact bytes ---------------------------------------------

TEST(EncodeTest, CallConnectRequestMatchesSpec) {
  // MS-SSTP 4.7 (and 2.2.9).
  EXPECT_THAT(EncodeCallConnectRequest(),
              ElementsAreArray(HexOrDie("10 01 00 0E 00 01 00 01 00 01 00 06 00 01")));
}

TEST(EncodeTest, MessagesWithoutAttributes) {
  // MS-SSTP 2.2.15: length 8, no attributes.
  EXPECT_THAT(EncodeEchoRequest(), ElementsAreArray(HexOrDie("10 01 00 08 00 08 00 00")));
  EXPECT_THAT(EncodeEchoResponse(), ElementsAreArray(HexOrDie("10 01 00 08 00 09 00 00")));
  EXPECT_THAT(EncodeCallDisconnectAck(),
              ElementsAreArray(HexOrDie("10 01 00 08 00 07 00 00")));
  EXPECT_THAT(EncodeCallAbort(std::nullopt),
              ElementsAreArray(HexOrDie("10 01 00 08 00 05 00 00")));
  EXPECT_THAT(EncodeCallDisconnect(std::nullopt),
              ElementsAreArray(HexOrDie("10 01 00 08 00 06 00 00")));
}

TEST(EncodeTest, CallAbortWithStatusInfo) {
  // MS-SSTP 2.2.13 + 2.2.8: STATUS_INFO length 12, AttribID, Status.
  StatusInfo status{.attrib_id = 3, .status = StatusCode::kAttribNotSupportedInMsg};
  EXPECT_THAT(EncodeCallAbort(status),
              ElementsAreArray(HexOrDie("10 01 00 14 00 05 00 01"
                                        "00 02 00 0C 00 00 00 03 00 00 00 09")));
}

TEST(EncodeTest, CallDisconnectWithStatusInfo) {
  // MS-SSTP 2.2.14: AttribID NO_ERROR, Status NO_ERROR.
  EXPECT_THAT(EncodeCallDisconnect(StatusInfo{}),
              ElementsAreArray(HexOrDie("10 01 00 14 00 06 00 01"
                                        "00 02 00 0C 00 00 00 00 00 00 00 00")));
}

TEST(EncodeTest, CallConnectAckMatchesSpec) {
  // MS-SSTP 4.7, SHA256 only.
  CryptoBindingReq request;
  request.hash_bitmask = kHashBitmaskSha256;
  const std::vector<uint8_t> nonce = HexOrDie(
      "412B489AEBD7ECC7D08966F26BE7CD72B231A0E9210D7C91B308862B0344C435");
  std::copy(nonce.begin(), nonce.end(), request.nonce.begin());
  EXPECT_THAT(EncodeCallConnectAck(request),
              ElementsAreArray(HexOrDie(
                  "10 01 00 30 00 02 00 01 00 04 00 28 00 00 00 02"
                  "41 2B 48 9A EB D7 EC C7 D0 89 66 F2 6B E7 CD 72"
                  "B2 31 A0 E9 21 0D 7C 91 B3 08 86 2B 03 44 C4 35")));
}

TEST(EncodeTest, CallConnectedLayoutAndMacOffset) {
  CryptoBinding binding;
  binding.hash = HashProtocol::kSha256;
  binding.nonce = Filled(0x10);
  binding.cert_hash = Filled(0x50);
  binding.compound_mac = Filled(0x90);
  const std::vector<uint8_t> bytes = EncodeCallConnected(binding);
  ASSERT_EQ(bytes.size(), kCallConnectedSize);
  EXPECT_THAT(absl::MakeConstSpan(bytes).first(16),
              ElementsAreArray(HexOrDie("10 01 00 70 00 04 00 01 00 03 00 68 00 00 00 02")));
  EXPECT_THAT(absl::MakeConstSpan(bytes).subspan(kCallConnectedNonceOffset, 32),
              ElementsAreArray(binding.nonce));
  EXPECT_THAT(absl::MakeConstSpan(bytes).subspan(kCallConnectedCertHashOffset, 32),
              ElementsAreArray(binding.cert_hash));
  EXPECT_THAT(absl::MakeConstSpan(bytes).subspan(kCompoundMacOffset, kCompoundMacSize),
              ElementsAreArray(binding.compound_mac));
  EXPECT_EQ(kCompoundMacOffset + kCompoundMacSize, kCallConnectedSize);
}

TEST(EncodeTest, CallConnectNak) {
  // MS-SSTP 2.2.12 example: ENCAPSULATED_PROTOCOL_ID not supported, value
  // sent back.
  StatusInfo status{.attrib_id = 1,
                    .status = StatusCode::kValueNotSupported,
                    .value = {0x00, 0x02}};
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeCallConnectNak({status});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAreArray(HexOrDie(
                          "10 01 00 16 00 03 00 01"
                          "00 02 00 0E 00 00 00 01 00 00 00 04 00 02")));
}

TEST(EncodeTest, CallConnectNakNeedsAStatusInfo) {
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeCallConnectNak({});
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().message(), "SSTP CALL_CONNECT_NAK: missing STATUS_INFO");
}

TEST(EncodeTest, StatusInfoValueCutTo64Bytes) {
  // MS-SSTP 2.2.8: "If the original attribute is greater than 64 bytes, only
  // the first 64 bytes are sent back."
  StatusInfo status{.attrib_id = 1, .status = StatusCode::kValueNotSupported};
  status.value.assign(100, 0xAB);
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeCallConnectNak({status});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->size(), 8u + 76u);
  absl::StatusOr<Packet> packet = ParsePacket(*bytes);
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->control()->status_info[0].value, std::vector<uint8_t>(64, 0xAB));
}

TEST(EncodeTest, EncodeControlRefusesWhatTheParserRefuses) {
  ControlMessage ack{.type = MessageType::kCallConnectAck};
  EXPECT_EQ(EncodeControl(ack).status().message(),
            "SSTP CALL_CONNECT_ACK: missing CRYPTO_BINDING_REQ");

  ControlMessage echo{.type = MessageType::kEchoRequest};
  echo.status_info.push_back({});
  EXPECT_EQ(EncodeControl(echo).status().message(),
            "SSTP ECHO_REQUEST: attribute STATUS_INFO not allowed in this message");

  ControlMessage abort{.type = MessageType::kCallAbort};
  abort.status_info.resize(2);
  EXPECT_EQ(EncodeControl(abort).status().message(),
            "SSTP CALL_ABORT: duplicate STATUS_INFO (at most 1 allowed)");

  ControlMessage connected{.type = MessageType::kCallConnected};
  connected.crypto_binding = CryptoBinding{};
  connected.crypto_binding->hash = static_cast<HashProtocol>(3);
  EXPECT_EQ(EncodeControl(connected).status().message(),
            "SSTP CRYPTO_BINDING hash protocol 3 is neither SHA1 (1) nor SHA256 (2)");

  ControlMessage ack_no_hash{.type = MessageType::kCallConnectAck};
  ack_no_hash.crypto_binding_req = CryptoBindingReq{.hash_bitmask = 0x04};
  EXPECT_EQ(EncodeControl(ack_no_hash).status().message(),
            "SSTP CRYPTO_BINDING_REQ hash bitmask 0x04 selects no known hash protocol");

  ControlMessage unknown{.type = static_cast<MessageType>(10)};
  EXPECT_EQ(EncodeControl(unknown).status().message(),
            "SSTP cannot encode unknown message type 0x000a");
}

TEST(EncodeTest, EncodeControlRefusesOversizedMessages) {
  ControlMessage nak{.type = MessageType::kCallConnectNak};
  // 8 + 54 * 76 = 4112 > 4095.
  nak.status_info.assign(54, StatusInfo{.attrib_id = 1,
                                        .status = StatusCode::kValueNotSupported,
                                        .value = std::vector<uint8_t>(64, 1)});
  EXPECT_EQ(EncodeControl(nak).status().message(),
            "SSTP CALL_CONNECT_NAK of 4112 bytes exceeds 4095");
  nak.status_info.resize(53);  // 4036 bytes.
  EXPECT_TRUE(EncodeControl(nak).ok());
}

// --- Round trips: every message type ---------------------------------------

TEST(RoundTripTest, EveryMessageType) {
  std::vector<ControlMessage> messages;
  {
    ControlMessage m{.type = MessageType::kCallConnectRequest};
    m.encapsulated_protocol = EncapsulatedProtocolId{};
    messages.push_back(m);
  }
  {
    ControlMessage m{.type = MessageType::kCallConnectAck};
    m.crypto_binding_req = CryptoBindingReq{.hash_bitmask = 3, .nonce = Filled(7)};
    messages.push_back(m);
  }
  {
    ControlMessage m{.type = MessageType::kCallConnectNak};
    m.status_info.push_back({.attrib_id = 1,
                             .status = StatusCode::kValueNotSupported,
                             .value = {0, 1}});
    m.status_info.push_back({.attrib_id = 9,  // An ID we do not know: kept.
                             .status = StatusCode::kUnrecognizedAttribute});
    m.status_info.push_back({.attrib_id = 1,
                             .status = static_cast<StatusCode>(0x1234),
                             .value = std::vector<uint8_t>(64, 0x5A)});
    messages.push_back(m);
  }
  for (HashProtocol hash : {HashProtocol::kSha1, HashProtocol::kSha256}) {
    ControlMessage m{.type = MessageType::kCallConnected};
    CryptoBinding binding{.hash = hash, .nonce = Filled(1)};
    for (int i = 0; i < HashLength(hash); ++i) {
      binding.cert_hash[i] = static_cast<uint8_t>(i + 100);
      binding.compound_mac[i] = static_cast<uint8_t>(i + 200);
    }
    m.crypto_binding = binding;
    messages.push_back(m);
  }
  for (MessageType type : {MessageType::kCallAbort, MessageType::kCallDisconnect}) {
    messages.push_back(ControlMessage{.type = type});
    ControlMessage m{.type = type};
    m.status_info.push_back({.attrib_id = 0, .status = StatusCode::kNegotiationTimeout});
    messages.push_back(m);
  }
  for (MessageType type : {MessageType::kCallDisconnectAck, MessageType::kEchoRequest,
                           MessageType::kEchoResponse}) {
    messages.push_back(ControlMessage{.type = type});
  }
  for (const ControlMessage& message : messages) {
    SCOPED_TRACE(MessageTypeName(message.type));
    EXPECT_EQ(RoundTrip(message), message);
  }
}

TEST(RoundTripTest, ConvenienceEncodersParseBack) {
  absl::StatusOr<Packet> request = ParsePacket(EncodeCallConnectRequest());
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->control()->type, MessageType::kCallConnectRequest);
  EXPECT_EQ(request->control()->encapsulated_protocol->protocol, kEncapsulatedProtocolPpp);

  for (auto bytes : {EncodeEchoRequest(), EncodeEchoResponse(), EncodeCallDisconnectAck(),
                     EncodeCallAbort(StatusInfo{}), EncodeCallDisconnect(std::nullopt)}) {
    EXPECT_TRUE(ParsePacket(bytes).ok()) << ToHex(bytes);
  }
}

TEST(DataPacketTest, ParseGivesAViewOfThePayload) {
  const std::vector<uint8_t> bytes = HexOrDie("10 00 00 08 FF 03 C0 21");
  absl::StatusOr<Packet> packet = ParsePacket(bytes);
  ASSERT_TRUE(packet.ok()) << packet.status();
  ASSERT_FALSE(packet->is_control());
  EXPECT_EQ(packet->control(), nullptr);
  ASSERT_NE(packet->data(), nullptr);
  EXPECT_EQ(packet->data()->payload.data(), bytes.data() + 4);
  EXPECT_THAT(packet->data()->payload, ElementsAreArray(HexOrDie("FF 03 C0 21")));
  EXPECT_FALSE(packet->reserved_bits_set);
}

TEST(DataPacketTest, WriteDataHeaderInPlace) {
  std::vector<uint8_t> buffer(4 + 3, 0xEE);
  ASSERT_TRUE(WriteDataHeader(absl::MakeSpan(buffer), 3).ok());
  EXPECT_THAT(buffer, ElementsAreArray(HexOrDie("10 00 00 07 EE EE EE")));

  std::array<uint8_t, 4> header;
  ASSERT_TRUE(WriteDataHeader(absl::MakeSpan(header), kMaxDataPayload).ok());
  EXPECT_THAT(header, ElementsAreArray(HexOrDie("10 00 0F FF")));
}

TEST(DataPacketTest, WriteDataHeaderErrors) {
  std::array<uint8_t, 4> header;
  EXPECT_EQ(WriteDataHeader(absl::MakeSpan(header), 0).message(),
            "SSTP data packet with empty payload");
  EXPECT_EQ(WriteDataHeader(absl::MakeSpan(header), 4092).message(),
            "SSTP data payload 4092 > 4091 bytes");
  EXPECT_EQ(WriteDataHeader(absl::MakeSpan(header).first(3), 10).message(),
            "SSTP data header needs 4 bytes, buffer has 3");
}

TEST(DataPacketTest, EncodeDataPacketRoundTrip) {
  std::vector<uint8_t> payload(kMaxDataPayload);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeDataPacket(payload);
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), kMaxPacketSize);
  absl::StatusOr<Packet> packet = ParsePacket(*bytes);
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_THAT(packet->data()->payload, ElementsAreArray(payload));

  payload.push_back(0);
  EXPECT_EQ(EncodeDataPacket(payload).status().message(),
            "SSTP data payload 4092 > 4091 bytes");
}

// --- Header and framing errors ---------------------------------------------

TEST(ParseErrorTest, Header) {
  ExpectParseError(HexOrDie("10 01 00"), "SSTP header truncated: 3 < 4 bytes",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError({}, "SSTP header truncated: 0 < 4 bytes",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(HexOrDie("11 01 00 08 00 08 00 00"), "SSTP version 0x11 != 0x10",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(HexOrDie("10 01 00 03"), "SSTP packet length 3 < 4",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(HexOrDie("10 01 00 09 00 08 00 00"),
                   "SSTP length field 9 != 8 bytes given",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(HexOrDie("10 01 00 08 00 08 00 00 00"),
                   "SSTP length field 8 != 9 bytes given",
                   StatusCode::kInvalidFrameReceived, 0);
}

TEST(ParseErrorTest, EmptyDataPacket) {
  ExpectParseError(HexOrDie("10 00 00 04"), "SSTP data packet with empty payload",
                   StatusCode::kInvalidFrameReceived, 0);
}

TEST(ParseErrorTest, ControlHeader) {
  ExpectParseError(HexOrDie("10 01 00 04"), "SSTP control packet length 4 < 8",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(HexOrDie("10 01 00 07 00 08 00"), "SSTP control packet length 7 < 8",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(Control(0x000A, 0, {}), "SSTP unknown message type 0x000a",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(Control(0x0000, 0, {}), "SSTP unknown message type 0x0000",
                   StatusCode::kInvalidFrameReceived, 0);
}

TEST(ParseErrorTest, NumAttributesMustMatch) {
  ExpectParseError(Control(8, 1, {}), "SSTP ECHO_REQUEST: NumAttr 1 but 0 attributes present",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(Control(1, 2, {Attr(1, {0, 1})}),
                   "SSTP CALL_CONNECT_REQUEST: NumAttr 2 but 1 attributes present",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(Control(5, 0, {Attr(2, StatusInfoValue(0, 0))}),
                   "SSTP CALL_ABORT: NumAttr 0 but 1 attributes present",
                   StatusCode::kInvalidFrameReceived, 0);
}

TEST(ParseErrorTest, BytesLeftOverAfterLastAttribute) {
  std::vector<uint8_t> bytes = Control(1, 1, {Attr(1, {0, 1}), {0xAA, 0xBB, 0xCC}});
  ExpectParseError(bytes, "SSTP CALL_CONNECT_REQUEST: 3 bytes left over at offset 14, too "
                          "short for an attribute",
                   StatusCode::kInvalidFrameReceived, 0);
  ExpectParseError(Control(8, 0, {{0}}),
                   "SSTP ECHO_REQUEST: 1 bytes left over at offset 8, too short for an "
                   "attribute",
                   StatusCode::kInvalidFrameReceived, 0);
}

TEST(ParseErrorTest, AttributeLengthBelowHeader) {
  ExpectParseError(Control(5, 1, {Attr(2, 3, {})}), "SSTP attribute 2 length 3 < 4",
                   StatusCode::kInvalidAttribValueLength, 2);
  ExpectParseError(Control(5, 1, {Attr(2, 0, {})}), "SSTP attribute 2 length 0 < 4",
                   StatusCode::kInvalidAttribValueLength, 2);
}

TEST(ParseErrorTest, AttributeLengthBeyondMessage) {
  ExpectParseError(Control(1, 1, {Attr(1, 7, {0, 1})}),
                   "SSTP attribute 1 length 7 exceeds the 6 bytes left in the message at "
                   "offset 8",
                   StatusCode::kInvalidAttribValueLength, 1);
  // The R bits are not part of the length: 0xF006 is length 6.
  absl::StatusOr<Packet> packet = ParsePacket(Control(1, 1, {Attr(1, 0xF006, {0, 1})}));
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_TRUE(packet->reserved_bits_set);
}

TEST(ParseErrorTest, UnrecognizedAttribute) {
  ExpectParseError(Control(5, 1, {Attr(7, {1, 2, 3, 4})}),
                   "SSTP CALL_ABORT: unrecognized attribute 7 at offset 8",
                   StatusCode::kUnrecognizedAttribute, 7);
  ExpectParseError(Control(8, 1, {Attr(0, {})}),
                   "SSTP ECHO_REQUEST: unrecognized attribute 0 at offset 8",
                   StatusCode::kUnrecognizedAttribute, 0);
}

TEST(ParseErrorTest, ExactAttributeLengths) {
  ExpectParseError(Control(1, 1, {Attr(1, {0, 1, 0, 0})}),
                   "SSTP ENCAPSULATED_PROTOCOL_ID length 8 != 6",
                   StatusCode::kInvalidAttribValueLength, 1);
  ExpectParseError(Control(1, 1, {Attr(1, {0})}), "SSTP ENCAPSULATED_PROTOCOL_ID length 5 != 6",
                   StatusCode::kInvalidAttribValueLength, 1);
  std::vector<uint8_t> req = CryptoBindingReqValue(2);
  req.pop_back();
  ExpectParseError(Control(2, 1, {Attr(4, req)}), "SSTP CRYPTO_BINDING_REQ length 39 != 40",
                   StatusCode::kInvalidAttribValueLength, 4);
  std::vector<uint8_t> binding = CryptoBindingValue(2);
  binding.push_back(0);
  ExpectParseError(Control(4, 1, {Attr(3, binding)}), "SSTP CRYPTO_BINDING length 105 != 104",
                   StatusCode::kInvalidAttribValueLength, 3);
  ExpectParseError(Control(5, 1, {Attr(2, {0, 0, 0, 0, 0, 0, 0})}),
                   "SSTP STATUS_INFO length 11 not in [12, 76]",
                   StatusCode::kInvalidAttribValueLength, 2);
  ExpectParseError(Control(3, 1, {Attr(2, StatusInfoValue(1, 4, std::vector<uint8_t>(65)))}),
                   "SSTP STATUS_INFO length 77 not in [12, 76]",
                   StatusCode::kInvalidAttribValueLength, 2);
}

TEST(ParseErrorTest, AttributeNotAllowedInMessage) {
  ExpectParseError(Control(8, 1, {Attr(2, StatusInfoValue(0, 0))}),
                   "SSTP ECHO_REQUEST: attribute STATUS_INFO not allowed in this message",
                   StatusCode::kAttribNotSupportedInMsg, 2);
  ExpectParseError(Control(1, 2, {Attr(1, {0, 1}), Attr(2, StatusInfoValue(0, 0))}),
                   "SSTP CALL_CONNECT_REQUEST: attribute STATUS_INFO not allowed in this "
                   "message",
                   StatusCode::kAttribNotSupportedInMsg, 2);
  // MS-SSTP 3.3.5.2.3: extra STATUS_INFO in CALL_CONNECTED is refused.
  ExpectParseError(Control(4, 2, {Attr(3, CryptoBindingValue(2)), Attr(2, StatusInfoValue(0, 0))}),
                   "SSTP CALL_CONNECTED: attribute STATUS_INFO not allowed in this message",
                   StatusCode::kAttribNotSupportedInMsg, 2);
  ExpectParseError(Control(2, 1, {Attr(3, CryptoBindingValue(2))}),
                   "SSTP CALL_CONNECT_ACK: attribute CRYPTO_BINDING not allowed in this "
                   "message",
                   StatusCode::kAttribNotSupportedInMsg, 3);
  // MS-SSTP 2.2.12: a NAK "MUST NOT have any other attribute".
  ExpectParseError(Control(3, 2, {Attr(2, StatusInfoValue(1, 4)), Attr(1, {0, 1})}),
                   "SSTP CALL_CONNECT_NAK: attribute ENCAPSULATED_PROTOCOL_ID not allowed in "
                   "this message",
                   StatusCode::kAttribNotSupportedInMsg, 1);
  ExpectParseError(Control(7, 1, {Attr(4, CryptoBindingReqValue(2))}),
                   "SSTP CALL_DISCONNECT_ACK: attribute CRYPTO_BINDING_REQ not allowed in "
                   "this message",
                   StatusCode::kAttribNotSupportedInMsg, 4);
}

TEST(ParseErrorTest, DuplicateAttribute) {
  ExpectParseError(Control(1, 2, {Attr(1, {0, 1}), Attr(1, {0, 1})}),
                   "SSTP CALL_CONNECT_REQUEST: duplicate ENCAPSULATED_PROTOCOL_ID (at most 1 "
                   "allowed)",
                   StatusCode::kDuplicateAttribute, 1);
  ExpectParseError(Control(2, 2, {Attr(4, CryptoBindingReqValue(2)),
                                  Attr(4, CryptoBindingReqValue(2))}),
                   "SSTP CALL_CONNECT_ACK: duplicate CRYPTO_BINDING_REQ (at most 1 allowed)",
                   StatusCode::kDuplicateAttribute, 4);
  ExpectParseError(Control(6, 2, {Attr(2, StatusInfoValue(0, 0)), Attr(2, StatusInfoValue(0, 0))}),
                   "SSTP CALL_DISCONNECT: duplicate STATUS_INFO (at most 1 allowed)",
                   StatusCode::kDuplicateAttribute, 2);
  ExpectParseError(Control(5, 2, {Attr(2, StatusInfoValue(0, 5)), Attr(2, StatusInfoValue(0, 5))}),
                   "SSTP CALL_ABORT: duplicate STATUS_INFO (at most 1 allowed)",
                   StatusCode::kDuplicateAttribute, 2);
}

TEST(ParseErrorTest, RequiredAttributeMissing) {
  ExpectParseError(Control(1, 0, {}), "SSTP CALL_CONNECT_REQUEST: missing ENCAPSULATED_PROTOCOL_ID",
                   StatusCode::kRequiredAttributeMissing, 1);
  ExpectParseError(Control(2, 0, {}), "SSTP CALL_CONNECT_ACK: missing CRYPTO_BINDING_REQ",
                   StatusCode::kRequiredAttributeMissing, 4);
  ExpectParseError(Control(3, 0, {}), "SSTP CALL_CONNECT_NAK: missing STATUS_INFO",
                   StatusCode::kRequiredAttributeMissing, 2);
  ExpectParseError(Control(4, 0, {}), "SSTP CALL_CONNECTED: missing CRYPTO_BINDING",
                   StatusCode::kRequiredAttributeMissing, 3);
}

TEST(ParseErrorTest, AttributeValues) {
  ExpectParseError(Control(4, 1, {Attr(3, CryptoBindingValue(3))}),
                   "SSTP CRYPTO_BINDING hash protocol 3 is neither SHA1 (1) nor SHA256 (2)",
                   StatusCode::kValueNotSupported, 3);
  ExpectParseError(Control(4, 1, {Attr(3, CryptoBindingValue(0))}),
                   "SSTP CRYPTO_BINDING hash protocol 0 is neither SHA1 (1) nor SHA256 (2)",
                   StatusCode::kValueNotSupported, 3);
  ExpectParseError(Control(2, 1, {Attr(4, CryptoBindingReqValue(0))}),
                   "SSTP CRYPTO_BINDING_REQ hash bitmask 0x00 selects no known hash protocol",
                   StatusCode::kValueNotSupported, 4);
  ExpectParseError(Control(2, 1, {Attr(4, CryptoBindingReqValue(0x80))}),
                   "SSTP CRYPTO_BINDING_REQ hash bitmask 0x80 selects no known hash protocol",
                   StatusCode::kValueNotSupported, 4);
}

TEST(ParseTest, EncapsulatedProtocolValueIsKeptForTheNak) {
  // MS-SSTP 2.2.8: the server NAKs an unsupported protocol with the value.
  absl::StatusOr<Packet> packet = ParsePacket(Control(1, 1, {Attr(1, {0x12, 0x34})}));
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->control()->encapsulated_protocol->protocol, 0x1234);
}

// --- Reserved fields ---------------------------------------------------------

TEST(ReservedBitsTest, AcceptedButRecorded) {
  // MS-SSTP 2.2.1-2.2.8: reserved fields "MUST be ignored on receipt".
  struct Case {
    const char* name;
    std::vector<uint8_t> bytes;
  };
  std::vector<uint8_t> header_bits = EncodeEchoRequest();
  header_bits[1] = 0x81;
  std::vector<uint8_t> length_bits = EncodeEchoRequest();
  length_bits[2] = 0x50;
  std::vector<uint8_t> data_bits = HexOrDie("10 FE 00 05 21");
  std::vector<uint8_t> attr_reserved = Control(1, 1, {Attr(1, {0, 1})});
  attr_reserved[8] = 0x01;
  std::vector<uint8_t> status_reserved1 = Control(5, 1, {Attr(2, StatusInfoValue(0, 7))});
  status_reserved1[13] = 0x01;
  std::vector<uint8_t> req_reserved1 = Control(2, 1, {Attr(4, CryptoBindingReqValue(2))});
  req_reserved1[12] = 0x80;
  std::vector<uint8_t> req_bitmask = Control(2, 1, {Attr(4, CryptoBindingReqValue(0x06))});
  std::vector<uint8_t> sha1_padding = Control(4, 1, {Attr(3, CryptoBindingValue(1))});
  std::vector<uint8_t> binding_reserved1 = Control(4, 1, {Attr(3, CryptoBindingValue(2))});
  binding_reserved1[14] = 0x01;
  const Case cases[] = {
      {"header reserved", header_bits},  {"length R", length_bits},
      {"data header", data_bits},        {"attribute reserved", attr_reserved},
      {"STATUS_INFO Reserved1", status_reserved1},
      {"CRYPTO_BINDING_REQ Reserved1", req_reserved1},
      {"hash bitmask high bits", req_bitmask},
      {"SHA1 padding", sha1_padding},
      {"CRYPTO_BINDING Reserved1", binding_reserved1},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Packet> packet = ParsePacket(c.bytes);
    ASSERT_TRUE(packet.ok()) << c.name << ": " << packet.status();
    EXPECT_TRUE(packet->reserved_bits_set) << c.name;
  }
  // SHA256 uses the whole 32-byte fields: no padding, nothing reserved.
  absl::StatusOr<Packet> sha256 = ParsePacket(Control(4, 1, {Attr(3, CryptoBindingValue(2))}));
  ASSERT_TRUE(sha256.ok());
  EXPECT_FALSE(sha256->reserved_bits_set);
}

TEST(ReservedBitsTest, Sha1PaddingIsZeroedInTheParsedFields) {
  // MS-SSTP 2.2.7: Padding and Padding1 "MUST be ignored on receipt".
  absl::StatusOr<Packet> packet = ParsePacket(Control(4, 1, {Attr(3, CryptoBindingValue(1))}));
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_TRUE(packet->reserved_bits_set);
  const CryptoBinding& binding = *packet->control()->crypto_binding;
  std::array<uint8_t, 32> cert_hash = Filled(0x80);
  std::array<uint8_t, 32> mac = Filled(0xC0);
  std::fill(cert_hash.begin() + 20, cert_hash.end(), 0);
  std::fill(mac.begin() + 20, mac.end(), 0);
  EXPECT_EQ(binding.cert_hash, cert_hash);
  EXPECT_EQ(binding.compound_mac, mac);
  EXPECT_EQ(binding.nonce, Filled(0x40));
}

TEST(ReservedBitsTest, UndefinedHashBitmaskBitsAreDropped) {
  absl::StatusOr<Packet> packet = ParsePacket(Control(2, 1, {Attr(4, CryptoBindingReqValue(0xF3))}));
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_TRUE(packet->reserved_bits_set);
  EXPECT_EQ(packet->control()->crypto_binding_req->hash_bitmask,
            kHashBitmaskSha1 | kHashBitmaskSha256);
}

TEST(ParseHeaderTest, ReadsFieldsWithoutCheckingTheBufferLength) {
  absl::StatusOr<PacketHeader> header = ParseHeader(HexOrDie("10 01 1F FF 00"));
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(header->control);
  EXPECT_EQ(header->length, 0xFFF);
  EXPECT_TRUE(header->reserved_bits_set);
}

// --- Names and details -------------------------------------------------------

TEST(NamesTest, SpecNames) {
  EXPECT_EQ(MessageTypeName(MessageType::kCallConnectRequest), "CALL_CONNECT_REQUEST");
  EXPECT_EQ(MessageTypeName(MessageType::kEchoResponse), "ECHO_RESPONSE");
  EXPECT_EQ(MessageTypeName(static_cast<MessageType>(42)), "UNKNOWN");
  EXPECT_EQ(AttributeIdName(AttributeId::kCryptoBindingReq), "CRYPTO_BINDING_REQ");
  EXPECT_EQ(AttribIdName(0), "NO_ERROR");
  EXPECT_EQ(AttribIdName(1), "ENCAPSULATED_PROTOCOL_ID");
  EXPECT_EQ(AttribIdName(200), "UNKNOWN");
  EXPECT_EQ(StatusCodeName(StatusCode::kNegotiationTimeout), "NEGOTIATION_TIMEOUT");
  EXPECT_EQ(StatusCodeName(StatusCode::kStatusInfoNotSupportedInMsg),
            "STATUS_INFO_NOT_SUPPORTED_IN_MSG");
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(12)), "UNKNOWN");
}

TEST(ParseErrorDetailTest, OnlyForParseErrors) {
  EXPECT_EQ(GetParseErrorDetail(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(GetParseErrorDetail(absl::InvalidArgumentError("x")), std::nullopt);
}

}  // namespace
}  // namespace sstp::proto
