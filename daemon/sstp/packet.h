// SSTP packets and control messages (MS-SSTP 2.2): parsing and encoding.
//
// The codec is I/O-free and stateless. ParsePacket() validates one whole
// packet strictly against the message syntax of MS-SSTP 2.2.1-2.2.15 (what
// 3.2.5.3.1 calls "General Packet Validation"); whether a valid message is
// acceptable in the current state is the state machine's business.
//
// Errors are absl::InvalidArgumentError with a message that names the field
// and the values ("SSTP attribute 2 length 3 < 4"). Each parse error also
// carries the STATUS_INFO (MS-SSTP 2.2.8) a peer reports for it in its
// CALL_ABORT or CALL_CONNECT_NAK; read it back with GetParseErrorDetail().
//
// Thread-safety: all functions are pure; no shared state.
#ifndef SSTP_KTLS_DAEMON_SSTP_PACKET_H_
#define SSTP_KTLS_DAEMON_SSTP_PACKET_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "daemon/sstp/hash_protocol.h"

namespace sstp::proto {

// MS-SSTP 2.2.1: Version 0x10 (1.0), 4-byte header, 12-bit length of the
// whole packet.
inline constexpr uint8_t kVersion = 0x10;
inline constexpr size_t kHeaderSize = 4;
inline constexpr size_t kMaxPacketSize = 4095;
inline constexpr size_t kMaxDataPayload = kMaxPacketSize - kHeaderSize;  // 4091

// MS-SSTP 2.2.2: header + Message Type (2) + Num Attributes (2).
inline constexpr size_t kControlHeaderSize = 8;
// MS-SSTP 2.2.4: Reserved (1) + Attribute ID (1) + R/Length (2).
inline constexpr size_t kAttributeHeaderSize = 4;

// Exact attribute lengths, attribute header included (MS-SSTP 2.2.5-2.2.8).
inline constexpr size_t kEncapsulatedProtocolIdLength = 6;
inline constexpr size_t kCryptoBindingReqLength = 40;
inline constexpr size_t kCryptoBindingLength = 104;
inline constexpr size_t kStatusInfoMinLength = 12;
inline constexpr size_t kStatusInfoMaxValue = 64;
inline constexpr size_t kStatusInfoMaxLength =
    kStatusInfoMinLength + kStatusInfoMaxValue;  // 76

inline constexpr size_t kNonceSize = 32;
inline constexpr size_t kHashFieldSize = 32;  // Cert Hash, Compound MAC.

// MS-SSTP 2.2.5: SSTP_ENCAPSULATED_PROTOCOL_PPP.
inline constexpr uint16_t kEncapsulatedProtocolPpp = 0x0001;

// MS-SSTP 2.2.11: CALL_CONNECTED is always 112 bytes. MS-SSTP 3.2.5.2: the
// Compound MAC is computed over the whole message with the Compound MAC
// field (MAC + Padding1, 32 bytes) zeroed, then written into that field.
inline constexpr size_t kCallConnectedSize = 112;
inline constexpr size_t kCompoundMacOffset = 80;
inline constexpr size_t kCompoundMacSize = 32;
// Where the Cert Hash field (hash + Padding, 32 bytes) and Nonce sit.
inline constexpr size_t kCallConnectedNonceOffset = 16;
inline constexpr size_t kCallConnectedCertHashOffset = 48;

// MS-SSTP 2.2.2. Names as in the spec, without the SSTP_MSG_ prefix.
enum class MessageType : uint16_t {
  kCallConnectRequest = 0x0001,
  kCallConnectAck = 0x0002,
  kCallConnectNak = 0x0003,
  kCallConnected = 0x0004,
  kCallAbort = 0x0005,
  kCallDisconnect = 0x0006,
  kCallDisconnectAck = 0x0007,
  kEchoRequest = 0x0008,
  kEchoResponse = 0x0009,
};

// MS-SSTP 2.2.4.
enum class AttributeId : uint8_t {
  kEncapsulatedProtocolId = 0x01,
  kStatusInfo = 0x02,
  kCryptoBinding = 0x03,
  kCryptoBindingReq = 0x04,
};

// MS-SSTP 2.2.8: the AttribID of a STATUS_INFO that refers to no attribute.
inline constexpr uint8_t kAttribIdNoError = 0x00;

// MS-SSTP 2.2.8, the ATTRIB_STATUS_ values. A received STATUS_INFO may hold a
// value outside this list: the field keeps it as is (the enum has a fixed
// underlying type), and StatusCodeName() reports "UNKNOWN".
enum class StatusCode : uint32_t {
  kNoError = 0x00,
  kDuplicateAttribute = 0x01,
  kUnrecognizedAttribute = 0x02,
  kInvalidAttribValueLength = 0x03,
  kValueNotSupported = 0x04,
  kUnacceptedFrameReceived = 0x05,
  kRetryCountExceeded = 0x06,
  kInvalidFrameReceived = 0x07,
  kNegotiationTimeout = 0x08,
  kAttribNotSupportedInMsg = 0x09,
  kRequiredAttributeMissing = 0x0a,
  kStatusInfoNotSupportedInMsg = 0x0b,
};

// Spec names for logs ("CALL_CONNECT_ACK", "CRYPTO_BINDING_REQ",
// "NEGOTIATION_TIMEOUT"); "UNKNOWN" for values outside the enum.
absl::string_view MessageTypeName(MessageType type);
absl::string_view AttributeIdName(AttributeId id);
// Also names kAttribIdNoError ("NO_ERROR"), for STATUS_INFO's AttribID.
absl::string_view AttribIdName(uint8_t attrib_id);
absl::string_view StatusCodeName(StatusCode status);

// MS-SSTP 2.2.5. Any protocol value is parsed; only PPP is defined, and a
// server that gets another one NAKs it with VALUE_NOT_SUPPORTED and the value
// (2.2.8), which needs the value parsed.
struct EncapsulatedProtocolId {
  uint16_t protocol = kEncapsulatedProtocolPpp;
  bool operator==(const EncapsulatedProtocolId&) const = default;
};

// MS-SSTP 2.2.8. `attrib_id` is kept as a raw byte: a peer reporting
// UNRECOGNIZED_ATTRIBUTE names an ID that has no AttributeId value.
// `value` is at most kStatusInfoMaxValue bytes; encoders send only its first
// 64 bytes, as 2.2.8 prescribes for longer attributes.
struct StatusInfo {
  uint8_t attrib_id = kAttribIdNoError;
  StatusCode status = StatusCode::kNoError;
  std::vector<uint8_t> value;
  bool operator==(const StatusInfo&) const = default;
};

// MS-SSTP 2.2.6. `hash_bitmask` holds kHashBitmaskSha1 / kHashBitmaskSha256
// bits; the parser requires at least one of them and drops the undefined
// bits 2-7 (noting them in Packet::reserved_bits_set).
struct CryptoBindingReq {
  uint8_t hash_bitmask = 0;
  std::array<uint8_t, kNonceSize> nonce{};
  bool operator==(const CryptoBindingReq&) const = default;
};

// MS-SSTP 2.2.7. `cert_hash` and `compound_mac` are the whole 32-byte wire
// fields: for SHA1 the 20-byte value followed by the 12-byte Padding /
// Padding1, which the parser zeroes (they are reserved and "ignored on
// receipt"; Packet::reserved_bits_set notes a non-zero one) and the encoder
// sends as they are in the struct (zero, if built with HashLength() bytes).
struct CryptoBinding {
  HashProtocol hash = HashProtocol::kSha256;
  std::array<uint8_t, kNonceSize> nonce{};
  std::array<uint8_t, kHashFieldSize> cert_hash{};
  std::array<uint8_t, kHashFieldSize> compound_mac{};
  bool operator==(const CryptoBinding&) const = default;
};

// A control message (MS-SSTP 2.2.2) with its typed attributes. Which fields
// are set depends on `type` (MS-SSTP 2.2.9-2.2.15):
//   CALL_CONNECT_REQUEST    encapsulated_protocol
//   CALL_CONNECT_ACK        crypto_binding_req
//   CALL_CONNECT_NAK        status_info (one or more)
//   CALL_CONNECTED          crypto_binding
//   CALL_ABORT, CALL_DISCONNECT   status_info (zero or one)
//   CALL_DISCONNECT_ACK, ECHO_REQUEST, ECHO_RESPONSE   nothing
// ParsePacket() only returns messages that follow this table; EncodeControl()
// refuses messages that do not.
struct ControlMessage {
  MessageType type = MessageType::kEchoRequest;
  std::optional<EncapsulatedProtocolId> encapsulated_protocol;
  std::optional<CryptoBindingReq> crypto_binding_req;
  std::optional<CryptoBinding> crypto_binding;
  std::vector<StatusInfo> status_info;
  bool operator==(const ControlMessage&) const = default;
};

// MS-SSTP 2.2.3: the PPP frame, a view into the bytes given to ParsePacket().
struct DataPacket {
  absl::Span<const uint8_t> payload;
};

// The fixed 4-byte header (MS-SSTP 2.2.1).
struct PacketHeader {
  bool control = false;    // C bit.
  uint16_t length = 0;     // Whole packet, header included: 4..4095.
  // The 7 reserved bits or the 4 R bits are not zero. MS-SSTP 2.2.1 says
  // receivers ignore them, so this is not an error.
  bool reserved_bits_set = false;
};

struct Packet {
  std::variant<DataPacket, ControlMessage> body;
  // Some reserved field (header, attribute header, Reserved1 of an attribute,
  // CRYPTO_BINDING padding, undefined bits of the hash bitmask) is not zero.
  // MS-SSTP says receivers ignore them, so the packet parses; a strict peer
  // (the test server) may still refuse it.
  bool reserved_bits_set = false;

  bool is_control() const { return std::holds_alternative<ControlMessage>(body); }
  // Null when the packet is of the other kind.
  const ControlMessage* control() const { return std::get_if<ControlMessage>(&body); }
  const DataPacket* data() const { return std::get_if<DataPacket>(&body); }
};

// Reads and checks the 4-byte header at the start of `bytes` (which may hold
// more). Checks only what delimits packets in the stream: the version and
// length >= 4 (MS-SSTP 3.1.5.1: a failure here means the stream can no
// longer be delineated). Fails if fewer than 4 bytes are given.
absl::StatusOr<PacketHeader> ParseHeader(absl::Span<const uint8_t> bytes);

// Parses exactly one whole packet: bytes.size() must equal its Length field.
// A DataPacket in the result points into `bytes`, which must outlive it.
absl::StatusOr<Packet> ParsePacket(absl::Span<const uint8_t> bytes);

// The STATUS_INFO a peer sends back for a parse error (MS-SSTP 2.2.8,
// 3.1.5.1): e.g. {ATTRIB_NOT_SUPPORTED_IN_MSG, CRYPTO_BINDING}.
struct ParseErrorDetail {
  StatusCode status = StatusCode::kInvalidFrameReceived;
  uint8_t attrib_id = kAttribIdNoError;
  bool operator==(const ParseErrorDetail&) const = default;
};
// The detail attached by ParsePacket()/ParseHeader(); nullopt for other
// statuses (including OK).
std::optional<ParseErrorDetail> GetParseErrorDetail(const absl::Status& status);

// Encodes any control message; fails if it breaks the table above (the
// same checks and messages as the parser), if a CRYPTO_BINDING hash protocol
// is not 1 or 2, or if the message would exceed kMaxPacketSize.
absl::StatusOr<std::vector<uint8_t>> EncodeControl(const ControlMessage& message);

// Encoders for each message; these cannot fail.
// MS-SSTP 2.2.9 / 4.7: 10 01 00 0E 00 01 00 01 00 01 00 06 00 01.
std::vector<uint8_t> EncodeCallConnectRequest();
std::vector<uint8_t> EncodeCallConnectAck(const CryptoBindingReq& request);
// 112 bytes (kCallConnectedSize). To fill in the MAC: encode with
// compound_mac zeroed, compute the MAC over the result, then copy it to
// [kCompoundMacOffset, kCompoundMacOffset + kCompoundMacSize).
std::vector<uint8_t> EncodeCallConnected(const CryptoBinding& binding);
std::vector<uint8_t> EncodeCallAbort(const std::optional<StatusInfo>& status);
std::vector<uint8_t> EncodeCallDisconnect(const std::optional<StatusInfo>& status);
std::vector<uint8_t> EncodeCallDisconnectAck();
std::vector<uint8_t> EncodeEchoRequest();   // 10 01 00 08 00 08 00 00
std::vector<uint8_t> EncodeEchoResponse();
// Fails on an empty list (MS-SSTP 2.2.12 requires at least one).
absl::StatusOr<std::vector<uint8_t>> EncodeCallConnectNak(
    absl::Span<const StatusInfo> status);

// Writes a data packet header for a payload of `payload_len` bytes into
// `header` (at least kHeaderSize bytes; only the first 4 are written), so
// that the data plane can prepend it in place. Fails if payload_len is 0 or
// > kMaxDataPayload, or the span is too short.
absl::Status WriteDataHeader(absl::Span<uint8_t> header, size_t payload_len);

// Header + payload in a new buffer; same limits as WriteDataHeader().
absl::StatusOr<std::vector<uint8_t>> EncodeDataPacket(
    absl::Span<const uint8_t> payload);

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_PACKET_H_
