#include "daemon/sstp/packet.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/status.h"

namespace sstp::proto {
namespace {

constexpr absl::string_view kDetailPayloadUrl =
    "type.sstp-ktls/sstp.proto.ParseErrorDetail";

// Every parse error carries the STATUS_INFO to report for it, as a 5-byte
// payload: AttribID, then Status big-endian.
absl::Status ParseError(StatusCode status, uint8_t attrib_id,
                        const std::string& message) {
  absl::Status error = absl::InvalidArgumentError(message);
  const uint32_t code = static_cast<uint32_t>(status);
  const char payload[5] = {
      static_cast<char>(attrib_id),    static_cast<char>(code >> 24),
      static_cast<char>(code >> 16),   static_cast<char>(code >> 8),
      static_cast<char>(code),
  };
  error.SetPayload(kDetailPayloadUrl,
                   absl::Cord(absl::string_view(payload, sizeof(payload))));
  return error;
}

// A packet that cannot be understood as a whole (MS-SSTP 2.2.8:
// ATTRIB_STATUS_INVALID_FRAME_RECEIVED, "the message type or the frame format
// ... is not recognized").
absl::Status FrameError(const std::string& message) {
  return ParseError(StatusCode::kInvalidFrameReceived, kAttribIdNoError,
                    message);
}

absl::Status AttributeError(StatusCode status, AttributeId id,
                            const std::string& message) {
  return ParseError(status, static_cast<uint8_t>(id), message);
}

bool IsKnownMessageType(uint16_t value) { return value >= 1 && value <= 9; }
bool IsKnownAttributeId(uint8_t value) { return value >= 1 && value <= 4; }

constexpr AttributeId kAllAttributeIds[] = {
    AttributeId::kEncapsulatedProtocolId,
    AttributeId::kStatusInfo,
    AttributeId::kCryptoBinding,
    AttributeId::kCryptoBindingReq,
};

// How many of an attribute a message may and must carry.
struct Occurrence {
  int min;
  int max;
};
constexpr Occurrence kNone = {0, 0};
constexpr Occurrence kExactlyOne = {1, 1};
constexpr Occurrence kOptionalOne = {0, 1};
constexpr Occurrence kOneOrMore = {1, kMaxPacketSize};

// MS-SSTP 2.2.9-2.2.15.
Occurrence AttributeOccurrence(MessageType type, AttributeId id) {
  switch (type) {
    case MessageType::kCallConnectRequest:
      // 2.2.9: Num Attributes MUST be 1, the Encapsulated Protocol ID.
      return id == AttributeId::kEncapsulatedProtocolId ? kExactlyOne : kNone;
    case MessageType::kCallConnectAck:
      // 2.2.10: "they contain the Crypto Binding Request attribute only".
      return id == AttributeId::kCryptoBindingReq ? kExactlyOne : kNone;
    case MessageType::kCallConnectNak:
      // 2.2.12: "MUST have one or more Status Info attributes. This message
      // MUST NOT have any other attribute."
      return id == AttributeId::kStatusInfo ? kOneOrMore : kNone;
    case MessageType::kCallConnected:
      // 2.2.11: Num Attributes MUST be 1, the Crypto Binding attribute.
      return id == AttributeId::kCryptoBinding ? kExactlyOne : kNone;
    case MessageType::kCallAbort:
    case MessageType::kCallDisconnect:
      // 2.2.13, 2.2.14: Num Attributes is 1 with a Status Info, else 0; "MUST
      // NOT have any other attributes".
      return id == AttributeId::kStatusInfo ? kOptionalOne : kNone;
    case MessageType::kCallDisconnectAck:
    case MessageType::kEchoRequest:
    case MessageType::kEchoResponse:
      // 2.2.15: "they do not support any attribute".
      return kNone;
  }
  return kNone;
}

// Checks `count` attributes `id` in a message of `type`. The parser calls it
// with the running count after each attribute (final = false) and with the
// totals at the end (final = true); the encoder with the totals.
absl::Status CheckAttributeCount(MessageType type, AttributeId id, int count,
                                 bool final) {
  const Occurrence allowed = AttributeOccurrence(type, id);
  if (allowed.max == 0 && count > 0) {
    return AttributeError(
        StatusCode::kAttribNotSupportedInMsg, id,
        absl::StrFormat("SSTP %s: attribute %s not allowed in this message",
                        MessageTypeName(type), AttributeIdName(id)));
  }
  if (count > allowed.max) {
    return AttributeError(
        StatusCode::kDuplicateAttribute, id,
        absl::StrFormat("SSTP %s: duplicate %s (at most %d allowed)",
                        MessageTypeName(type), AttributeIdName(id),
                        allowed.max));
  }
  if (final && count < allowed.min) {
    return AttributeError(StatusCode::kRequiredAttributeMissing, id,
                          absl::StrFormat("SSTP %s: missing %s",
                                          MessageTypeName(type),
                                          AttributeIdName(id)));
  }
  return absl::OkStatus();
}

// Reads a Reserved1 field (MS-SSTP 2.2.6-2.2.8, 3 bytes) and notes whether
// any bit is set.
void ReadReserved3(ByteReader& reader, bool* reserved_bits_set) {
  uint8_t reserved[3] = {};
  reader.CopyBytes(absl::MakeSpan(reserved));
  if ((reserved[0] | reserved[1] | reserved[2]) != 0) *reserved_bits_set = true;
}

bool AnyNonZero(absl::Span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return true;
  }
  return false;
}

// The value of an attribute whose ID and exact length have been checked.
// `value` is the attribute without its 4-byte header.
absl::Status ParseAttributeValue(AttributeId id,
                                 absl::Span<const uint8_t> value,
                                 ControlMessage* message,
                                 bool* reserved_bits_set) {
  ByteReader reader(value);
  switch (id) {
    case AttributeId::kEncapsulatedProtocolId: {
      EncapsulatedProtocolId attribute;
      reader.ReadU16(&attribute.protocol);
      message->encapsulated_protocol = attribute;
      break;
    }
    case AttributeId::kStatusInfo: {
      StatusInfo attribute;
      uint32_t status = 0;
      ReadReserved3(reader, reserved_bits_set);
      reader.ReadU8(&attribute.attrib_id);
      reader.ReadU32(&status);
      attribute.status = static_cast<StatusCode>(status);
      absl::Span<const uint8_t> rest = reader.ReadRemaining();
      attribute.value.assign(rest.begin(), rest.end());
      message->status_info.push_back(std::move(attribute));
      break;
    }
    case AttributeId::kCryptoBindingReq: {
      CryptoBindingReq attribute;
      ReadReserved3(reader, reserved_bits_set);
      reader.ReadU8(&attribute.hash_bitmask);
      reader.CopyBytes(absl::MakeSpan(attribute.nonce));
      // MS-SSTP 2.2.6: "The server MUST select at least one hash protocol."
      if ((attribute.hash_bitmask & (kHashBitmaskSha1 | kHashBitmaskSha256)) ==
          0) {
        return AttributeError(
            StatusCode::kValueNotSupported, id,
            absl::StrFormat("SSTP CRYPTO_BINDING_REQ hash bitmask 0x%02x "
                            "selects no known hash protocol",
                            attribute.hash_bitmask));
      }
      // Bits 2-7 are drawn as 0 in 2.2.6: treat them as reserved (noted,
      // then dropped, so the field holds only defined bits).
      if ((attribute.hash_bitmask & ~(kHashBitmaskSha1 | kHashBitmaskSha256)) !=
          0) {
        *reserved_bits_set = true;
        attribute.hash_bitmask &= kHashBitmaskSha1 | kHashBitmaskSha256;
      }
      message->crypto_binding_req = attribute;
      break;
    }
    case AttributeId::kCryptoBinding: {
      CryptoBinding attribute;
      uint8_t hash = 0;
      ReadReserved3(reader, reserved_bits_set);
      reader.ReadU8(&hash);
      reader.CopyBytes(absl::MakeSpan(attribute.nonce));
      reader.CopyBytes(absl::MakeSpan(attribute.cert_hash));
      reader.CopyBytes(absl::MakeSpan(attribute.compound_mac));
      // MS-SSTP 2.2.7: Hash Protocol "MUST be one of" SHA1 (1), SHA256 (2).
      if (hash != static_cast<uint8_t>(HashProtocol::kSha1) &&
          hash != static_cast<uint8_t>(HashProtocol::kSha256)) {
        return AttributeError(
            StatusCode::kValueNotSupported, id,
            absl::StrFormat("SSTP CRYPTO_BINDING hash protocol %d is neither "
                            "SHA1 (1) nor SHA256 (2)",
                            hash));
      }
      attribute.hash = static_cast<HashProtocol>(hash);
      // MS-SSTP 2.2.7: with SHA1 the last 12 bytes of both fields are
      // Padding / Padding1, reserved and "ignored on receipt": note them,
      // then zero them so that the fields hold only the hash values.
      const size_t used = static_cast<size_t>(HashLength(attribute.hash));
      for (auto* field : {&attribute.cert_hash, &attribute.compound_mac}) {
        absl::Span<uint8_t> padding = absl::MakeSpan(*field).subspan(used);
        if (AnyNonZero(padding)) *reserved_bits_set = true;
        std::fill(padding.begin(), padding.end(), 0);
      }
      message->crypto_binding = attribute;
      break;
    }
  }
  return absl::OkStatus();
}

// MS-SSTP 2.2.5-2.2.8: each attribute has an exact length (STATUS_INFO: 12
// plus a value of at most 64 bytes).
absl::Status CheckAttributeLength(AttributeId id, size_t length) {
  size_t expected = 0;
  switch (id) {
    case AttributeId::kEncapsulatedProtocolId:
      expected = kEncapsulatedProtocolIdLength;
      break;
    case AttributeId::kCryptoBindingReq:
      expected = kCryptoBindingReqLength;
      break;
    case AttributeId::kCryptoBinding:
      expected = kCryptoBindingLength;
      break;
    case AttributeId::kStatusInfo:
      if (length < kStatusInfoMinLength || length > kStatusInfoMaxLength) {
        return AttributeError(
            StatusCode::kInvalidAttribValueLength, id,
            absl::StrFormat("SSTP STATUS_INFO length %d not in [%d, %d]",
                            length, kStatusInfoMinLength,
                            kStatusInfoMaxLength));
      }
      return absl::OkStatus();
  }
  if (length != expected) {
    return AttributeError(StatusCode::kInvalidAttribValueLength, id,
                          absl::StrFormat("SSTP %s length %d != %d",
                                          AttributeIdName(id), length,
                                          expected));
  }
  return absl::OkStatus();
}

// The control message after the 4-byte header. `reader` covers exactly the
// rest of the packet.
absl::StatusOr<ControlMessage> ParseControl(ByteReader& reader,
                                            bool* reserved_bits_set) {
  if (kHeaderSize + reader.remaining() < kControlHeaderSize) {
    return FrameError(absl::StrFormat("SSTP control packet length %d < %d",
                                      kHeaderSize + reader.remaining(),
                                      kControlHeaderSize));
  }
  uint16_t raw_type = 0;
  uint16_t num_attributes = 0;
  reader.ReadU16(&raw_type);
  reader.ReadU16(&num_attributes);
  if (!IsKnownMessageType(raw_type)) {
    return FrameError(
        absl::StrFormat("SSTP unknown message type 0x%04x", raw_type));
  }
  ControlMessage message;
  message.type = static_cast<MessageType>(raw_type);
  const absl::string_view type_name = MessageTypeName(message.type);

  int counts[5] = {};  // Indexed by attribute ID 1..4.
  int present = 0;
  while (!reader.empty()) {
    const size_t offset = kHeaderSize + reader.offset();
    if (reader.remaining() < kAttributeHeaderSize) {
      return FrameError(absl::StrFormat(
          "SSTP %s: %d bytes left over at offset %d, too short for an "
          "attribute",
          type_name, reader.remaining(), offset));
    }
    uint8_t reserved = 0;
    uint8_t raw_id = 0;
    uint16_t length_field = 0;
    reader.ReadU8(&reserved);
    reader.ReadU8(&raw_id);
    reader.ReadU16(&length_field);
    // MS-SSTP 2.2.4: Reserved and R "MUST be ignored on receipt".
    if (reserved != 0 || (length_field & 0xF000) != 0) {
      *reserved_bits_set = true;
    }
    const size_t length = length_field & 0x0FFF;
    if (length < kAttributeHeaderSize) {
      return ParseError(StatusCode::kInvalidAttribValueLength, raw_id,
                        absl::StrFormat("SSTP attribute %d length %d < %d",
                                        raw_id, length, kAttributeHeaderSize));
    }
    if (length - kAttributeHeaderSize > reader.remaining()) {
      return ParseError(
          StatusCode::kInvalidAttribValueLength, raw_id,
          absl::StrFormat("SSTP attribute %d length %d exceeds the %d bytes "
                          "left in the message at offset %d",
                          raw_id, length,
                          kAttributeHeaderSize + reader.remaining(), offset));
    }
    absl::Span<const uint8_t> value;
    reader.ReadBytes(length - kAttributeHeaderSize, &value);
    if (!IsKnownAttributeId(raw_id)) {
      return ParseError(
          StatusCode::kUnrecognizedAttribute, raw_id,
          absl::StrFormat("SSTP %s: unrecognized attribute %d at offset %d",
                          type_name, raw_id, offset));
    }
    const AttributeId id = static_cast<AttributeId>(raw_id);
    RETURN_IF_ERROR(CheckAttributeLength(id, length));
    RETURN_IF_ERROR(CheckAttributeCount(message.type, id, ++counts[raw_id],
                                        /*final=*/false));
    RETURN_IF_ERROR(
        ParseAttributeValue(id, value, &message, reserved_bits_set));
    ++present;
  }
  if (present != num_attributes) {
    return FrameError(
        absl::StrFormat("SSTP %s: NumAttr %d but %d attributes present",
                        type_name, num_attributes, present));
  }
  for (AttributeId id : kAllAttributeIds) {
    RETURN_IF_ERROR(CheckAttributeCount(
        message.type, id, counts[static_cast<uint8_t>(id)], /*final=*/true));
  }
  return message;
}

size_t StatusInfoValueSize(const StatusInfo& status) {
  return std::min(status.value.size(), kStatusInfoMaxValue);
}

size_t EncodedSize(const ControlMessage& message) {
  size_t size = kControlHeaderSize;
  if (message.encapsulated_protocol) size += kEncapsulatedProtocolIdLength;
  if (message.crypto_binding_req) size += kCryptoBindingReqLength;
  if (message.crypto_binding) size += kCryptoBindingLength;
  for (const StatusInfo& status : message.status_info) {
    size += kStatusInfoMinLength + StatusInfoValueSize(status);
  }
  return size;
}

int AttributeCount(const ControlMessage& message) {
  return (message.encapsulated_protocol ? 1 : 0) +
         (message.crypto_binding_req ? 1 : 0) +
         (message.crypto_binding ? 1 : 0) +
         static_cast<int>(message.status_info.size());
}

void WriteAttributeHeader(ByteWriter& writer, AttributeId id, size_t length) {
  writer.WriteU8(0);  // Reserved.
  writer.WriteU8(static_cast<uint8_t>(id));
  writer.WriteU16(static_cast<uint16_t>(length));  // R bits zero.
}

// Encodes without checking the per-message rules; the caller guarantees
// EncodedSize(message) <= kMaxPacketSize. Attributes go in ID order; each
// message type allows only one kind, so the order is the spec's.
std::vector<uint8_t> EncodeUnchecked(const ControlMessage& message) {
  const size_t size = EncodedSize(message);
  std::vector<uint8_t> out(size);
  ByteWriter writer(absl::MakeSpan(out));
  writer.WriteU8(kVersion);
  writer.WriteU8(0x01);  // Reserved 0, C = 1 (MS-SSTP 2.2.2).
  writer.WriteU16(static_cast<uint16_t>(size));
  writer.WriteU16(static_cast<uint16_t>(message.type));
  writer.WriteU16(static_cast<uint16_t>(AttributeCount(message)));
  if (message.encapsulated_protocol) {
    WriteAttributeHeader(writer, AttributeId::kEncapsulatedProtocolId,
                         kEncapsulatedProtocolIdLength);
    writer.WriteU16(message.encapsulated_protocol->protocol);
  }
  for (const StatusInfo& status : message.status_info) {
    const size_t value_size = StatusInfoValueSize(status);
    WriteAttributeHeader(writer, AttributeId::kStatusInfo,
                         kStatusInfoMinLength + value_size);
    writer.WriteZeros(3);
    writer.WriteU8(status.attrib_id);
    writer.WriteU32(static_cast<uint32_t>(status.status));
    writer.WriteBytes(absl::MakeConstSpan(status.value).first(value_size));
  }
  if (message.crypto_binding) {
    const CryptoBinding& binding = *message.crypto_binding;
    WriteAttributeHeader(writer, AttributeId::kCryptoBinding,
                         kCryptoBindingLength);
    writer.WriteZeros(3);
    writer.WriteU8(static_cast<uint8_t>(binding.hash));
    writer.WriteBytes(binding.nonce);
    writer.WriteBytes(binding.cert_hash);
    writer.WriteBytes(binding.compound_mac);
  }
  if (message.crypto_binding_req) {
    WriteAttributeHeader(writer, AttributeId::kCryptoBindingReq,
                         kCryptoBindingReqLength);
    writer.WriteZeros(3);
    writer.WriteU8(message.crypto_binding_req->hash_bitmask);
    writer.WriteBytes(message.crypto_binding_req->nonce);
  }
  return out;
}

ControlMessage WithStatus(MessageType type,
                          const std::optional<StatusInfo>& status) {
  ControlMessage message;
  message.type = type;
  if (status) message.status_info.push_back(*status);
  return message;
}

ControlMessage Bare(MessageType type) {
  ControlMessage message;
  message.type = type;
  return message;
}

}  // namespace

absl::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kCallConnectRequest:
      return "CALL_CONNECT_REQUEST";
    case MessageType::kCallConnectAck:
      return "CALL_CONNECT_ACK";
    case MessageType::kCallConnectNak:
      return "CALL_CONNECT_NAK";
    case MessageType::kCallConnected:
      return "CALL_CONNECTED";
    case MessageType::kCallAbort:
      return "CALL_ABORT";
    case MessageType::kCallDisconnect:
      return "CALL_DISCONNECT";
    case MessageType::kCallDisconnectAck:
      return "CALL_DISCONNECT_ACK";
    case MessageType::kEchoRequest:
      return "ECHO_REQUEST";
    case MessageType::kEchoResponse:
      return "ECHO_RESPONSE";
  }
  return "UNKNOWN";
}

absl::string_view AttributeIdName(AttributeId id) {
  switch (id) {
    case AttributeId::kEncapsulatedProtocolId:
      return "ENCAPSULATED_PROTOCOL_ID";
    case AttributeId::kStatusInfo:
      return "STATUS_INFO";
    case AttributeId::kCryptoBinding:
      return "CRYPTO_BINDING";
    case AttributeId::kCryptoBindingReq:
      return "CRYPTO_BINDING_REQ";
  }
  return "UNKNOWN";
}

absl::string_view AttribIdName(uint8_t attrib_id) {
  if (attrib_id == kAttribIdNoError) return "NO_ERROR";
  return AttributeIdName(static_cast<AttributeId>(attrib_id));
}

absl::string_view StatusCodeName(StatusCode status) {
  switch (status) {
    case StatusCode::kNoError:
      return "NO_ERROR";
    case StatusCode::kDuplicateAttribute:
      return "DUPLICATE_ATTRIBUTE";
    case StatusCode::kUnrecognizedAttribute:
      return "UNRECOGNIZED_ATTRIBUTE";
    case StatusCode::kInvalidAttribValueLength:
      return "INVALID_ATTRIB_VALUE_LENGTH";
    case StatusCode::kValueNotSupported:
      return "VALUE_NOT_SUPPORTED";
    case StatusCode::kUnacceptedFrameReceived:
      return "UNACCEPTED_FRAME_RECEIVED";
    case StatusCode::kRetryCountExceeded:
      return "RETRY_COUNT_EXCEEDED";
    case StatusCode::kInvalidFrameReceived:
      return "INVALID_FRAME_RECEIVED";
    case StatusCode::kNegotiationTimeout:
      return "NEGOTIATION_TIMEOUT";
    case StatusCode::kAttribNotSupportedInMsg:
      return "ATTRIB_NOT_SUPPORTED_IN_MSG";
    case StatusCode::kRequiredAttributeMissing:
      return "REQUIRED_ATTRIBUTE_MISSING";
    case StatusCode::kStatusInfoNotSupportedInMsg:
      return "STATUS_INFO_NOT_SUPPORTED_IN_MSG";
  }
  return "UNKNOWN";
}

absl::StatusOr<PacketHeader> ParseHeader(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) {
    return FrameError(absl::StrFormat("SSTP header truncated: %d < %d bytes",
                                      bytes.size(), kHeaderSize));
  }
  ByteReader reader(bytes);
  uint8_t version = 0;
  uint8_t flags = 0;
  uint16_t length_field = 0;
  reader.ReadU8(&version);
  reader.ReadU8(&flags);
  reader.ReadU16(&length_field);
  // MS-SSTP 2.2.1: Version MUST be 0x10; anything else cannot be delineated.
  if (version != kVersion) {
    return FrameError(
        absl::StrFormat("SSTP version 0x%02x != 0x%02x", version, kVersion));
  }
  PacketHeader header;
  header.control = (flags & 0x01) != 0;
  header.length = length_field & 0x0FFF;
  header.reserved_bits_set =
      (flags & 0xFE) != 0 || (length_field & 0xF000) != 0;
  if (header.length < kHeaderSize) {
    return FrameError(absl::StrFormat("SSTP packet length %d < %d",
                                      header.length, kHeaderSize));
  }
  return header;
}

absl::StatusOr<Packet> ParsePacket(absl::Span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(const PacketHeader header, ParseHeader(bytes));
  if (bytes.size() != header.length) {
    return FrameError(absl::StrFormat("SSTP length field %d != %d bytes given",
                                      header.length, bytes.size()));
  }
  Packet packet;
  packet.reserved_bits_set = header.reserved_bits_set;
  ByteReader reader(bytes.subspan(kHeaderSize));
  if (!header.control) {
    // MS-SSTP 2.2.3: a data packet carries a PPP frame; an empty one carries
    // nothing and no PPP frame is empty.
    if (reader.empty()) return FrameError("SSTP data packet with empty payload");
    packet.body = DataPacket{reader.ReadRemaining()};
    return packet;
  }
  ASSIGN_OR_RETURN(ControlMessage message,
                   ParseControl(reader, &packet.reserved_bits_set));
  packet.body = std::move(message);
  return packet;
}

std::optional<ParseErrorDetail> GetParseErrorDetail(const absl::Status& status) {
  const auto payload = status.GetPayload(kDetailPayloadUrl);
  if (!payload || payload->size() != 5) return std::nullopt;
  const std::string bytes(*payload);
  uint32_t code = 0;
  for (int i = 1; i < 5; ++i) {
    code = code << 8 | static_cast<uint8_t>(bytes[i]);
  }
  return ParseErrorDetail{static_cast<StatusCode>(code),
                          static_cast<uint8_t>(bytes[0])};
}

absl::StatusOr<std::vector<uint8_t>> EncodeControl(
    const ControlMessage& message) {
  const uint16_t raw_type = static_cast<uint16_t>(message.type);
  if (!IsKnownMessageType(raw_type)) {
    return FrameError(absl::StrFormat(
        "SSTP cannot encode unknown message type 0x%04x", raw_type));
  }
  const int counts[5] = {
      0,
      message.encapsulated_protocol ? 1 : 0,
      static_cast<int>(message.status_info.size()),
      message.crypto_binding ? 1 : 0,
      message.crypto_binding_req ? 1 : 0,
  };
  for (AttributeId id : kAllAttributeIds) {
    RETURN_IF_ERROR(CheckAttributeCount(
        message.type, id, counts[static_cast<uint8_t>(id)], /*final=*/true));
  }
  if (message.crypto_binding) {
    const uint8_t hash = static_cast<uint8_t>(message.crypto_binding->hash);
    if (hash != static_cast<uint8_t>(HashProtocol::kSha1) &&
        hash != static_cast<uint8_t>(HashProtocol::kSha256)) {
      return AttributeError(
          StatusCode::kValueNotSupported, AttributeId::kCryptoBinding,
          absl::StrFormat("SSTP CRYPTO_BINDING hash protocol %d is neither "
                          "SHA1 (1) nor SHA256 (2)",
                          hash));
    }
  }
  if (message.crypto_binding_req &&
      (message.crypto_binding_req->hash_bitmask &
       (kHashBitmaskSha1 | kHashBitmaskSha256)) == 0) {
    return AttributeError(
        StatusCode::kValueNotSupported, AttributeId::kCryptoBindingReq,
        absl::StrFormat("SSTP CRYPTO_BINDING_REQ hash bitmask 0x%02x selects "
                        "no known hash protocol",
                        message.crypto_binding_req->hash_bitmask));
  }
  const size_t size = EncodedSize(message);
  if (size > kMaxPacketSize) {
    return FrameError(absl::StrFormat("SSTP %s of %d bytes exceeds %d",
                                      MessageTypeName(message.type), size,
                                      kMaxPacketSize));
  }
  return EncodeUnchecked(message);
}

std::vector<uint8_t> EncodeCallConnectRequest() {
  ControlMessage message = Bare(MessageType::kCallConnectRequest);
  message.encapsulated_protocol = EncapsulatedProtocolId{};
  return EncodeUnchecked(message);
}

std::vector<uint8_t> EncodeCallConnectAck(const CryptoBindingReq& request) {
  ControlMessage message = Bare(MessageType::kCallConnectAck);
  message.crypto_binding_req = request;
  return EncodeUnchecked(message);
}

std::vector<uint8_t> EncodeCallConnected(const CryptoBinding& binding) {
  ControlMessage message = Bare(MessageType::kCallConnected);
  message.crypto_binding = binding;
  return EncodeUnchecked(message);
}

std::vector<uint8_t> EncodeCallAbort(const std::optional<StatusInfo>& status) {
  return EncodeUnchecked(WithStatus(MessageType::kCallAbort, status));
}

std::vector<uint8_t> EncodeCallDisconnect(
    const std::optional<StatusInfo>& status) {
  return EncodeUnchecked(WithStatus(MessageType::kCallDisconnect, status));
}

std::vector<uint8_t> EncodeCallDisconnectAck() {
  return EncodeUnchecked(Bare(MessageType::kCallDisconnectAck));
}

std::vector<uint8_t> EncodeEchoRequest() {
  return EncodeUnchecked(Bare(MessageType::kEchoRequest));
}

std::vector<uint8_t> EncodeEchoResponse() {
  return EncodeUnchecked(Bare(MessageType::kEchoResponse));
}

absl::StatusOr<std::vector<uint8_t>> EncodeCallConnectNak(
    absl::Span<const StatusInfo> status) {
  ControlMessage message = Bare(MessageType::kCallConnectNak);
  message.status_info.assign(status.begin(), status.end());
  return EncodeControl(message);
}

absl::Status WriteDataHeader(absl::Span<uint8_t> header, size_t payload_len) {
  if (header.size() < kHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("SSTP data header needs %d bytes, buffer has %d",
                        kHeaderSize, header.size()));
  }
  if (payload_len == 0) {
    return absl::InvalidArgumentError("SSTP data packet with empty payload");
  }
  if (payload_len > kMaxDataPayload) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SSTP data payload %d > %d bytes", payload_len, kMaxDataPayload));
  }
  ByteWriter writer(header.first(kHeaderSize));
  writer.WriteU8(kVersion);
  writer.WriteU8(0x00);  // Reserved 0, C = 0 (MS-SSTP 2.2.3).
  writer.WriteU16(static_cast<uint16_t>(kHeaderSize + payload_len));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> EncodeDataPacket(
    absl::Span<const uint8_t> payload) {
  std::vector<uint8_t> out(kHeaderSize + payload.size());
  RETURN_IF_ERROR(WriteDataHeader(absl::MakeSpan(out), payload.size()));
  std::copy(payload.begin(), payload.end(), out.begin() + kHeaderSize);
  return out;
}

}  // namespace sstp::proto
