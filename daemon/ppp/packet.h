// PPP control packets: the Code / Identifier / Length / Data format that LCP
// (RFC 1661 section 5), IPCP (RFC 1332), IPv6CP (RFC 5072), CCP and ECP
// share, plus typed encoders and parsers for the packets whose Data has a
// structure of its own.
//
// Parsers take the PPP Information field (Frame::information) or a packet's
// Data field and return views into it: the views must not outlive the buffer.
// Encoders return a freshly allocated packet (the PPP Information field, to be
// framed with EncodeFrame()). Pure functions, no I/O, thread-compatible.
#ifndef SSTP_KTLS_DAEMON_PPP_PACKET_H_
#define SSTP_KTLS_DAEMON_PPP_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sstp::ppp {

// Code field values (RFC 1661 section 5, RFC 1570 2.1 and 2.2 for 12, 13).
// A parsed packet may hold a Code that is not an enumerator (the enum
// carries the raw octet): RFC 1661 5.6 says to answer it with Code-Reject.
// IPCP and IPv6CP use only codes 1..7 (RFC 1332 2, RFC 5072 3).
enum class Code : uint8_t {
  kConfigureRequest = 1,
  kConfigureAck = 2,
  kConfigureNak = 3,
  kConfigureReject = 4,
  kTerminateRequest = 5,
  kTerminateAck = 6,
  kCodeReject = 7,
  kProtocolReject = 8,
  kEchoRequest = 9,
  kEchoReply = 10,
  kDiscardRequest = 11,
  kIdentification = 12,
  kTimeRemaining = 13,
};

// "Configure-Request", ..., or "code 42" for a value outside the enum.
std::string CodeName(Code code);

// Code + Identifier + Length.
inline constexpr size_t kControlHeaderSize = 4;

struct ControlPacket {
  Code code = Code::kConfigureRequest;
  uint8_t identifier = 0;
  // Length - 4 octets. Octets past Length are padding and not included
  // (RFC 1661 5).
  absl::Span<const uint8_t> data;
};

// Parses the header of a control packet (also the header of PAP, CHAP and
// EAP packets, which share the layout). Errors: fewer than 4 octets, Length
// < 4, Length > octets received.
absl::StatusOr<ControlPacket> ParseControlPacket(
    absl::Span<const uint8_t> packet);

// Code + Identifier + Length + data. Fails if the packet would be longer than
// the 16-bit Length field allows.
absl::StatusOr<std::vector<uint8_t>> EncodeControlPacket(
    Code code, uint8_t identifier, absl::Span<const uint8_t> data);

// The same for any protocol with this header (PAP, CHAP and EAP too): Code +
// Identifier + Length + the concatenation of `parts`.
absl::StatusOr<std::vector<uint8_t>> EncodePacket(
    uint8_t code, uint8_t identifier,
    std::initializer_list<absl::Span<const uint8_t>> parts);

// --- Echo-Request, Echo-Reply, Discard-Request (RFC 1661 5.8, 5.9) -------

// Data of Echo-Request, Echo-Reply and Discard-Request: Magic-Number, then
// anything.
struct EchoData {
  uint32_t magic_number = 0;
  absl::Span<const uint8_t> data;
};
// Parses the Data field of one of those packets (fewer than 4 octets: error).
absl::StatusOr<EchoData> ParseEchoData(absl::Span<const uint8_t> data);

absl::StatusOr<std::vector<uint8_t>> EncodeEchoRequest(
    uint8_t identifier, uint32_t magic_number, absl::Span<const uint8_t> data);
absl::StatusOr<std::vector<uint8_t>> EncodeEchoReply(
    uint8_t identifier, uint32_t magic_number, absl::Span<const uint8_t> data);
absl::StatusOr<std::vector<uint8_t>> EncodeDiscardRequest(
    uint8_t identifier, uint32_t magic_number, absl::Span<const uint8_t> data);

// --- Terminate-Request, Terminate-Ack (RFC 1661 5.5) ----------------------
// Their Data is uninterpreted: ControlPacket::data is all there is to parse.

absl::StatusOr<std::vector<uint8_t>> EncodeTerminateRequest(
    uint8_t identifier, absl::Span<const uint8_t> data);
absl::StatusOr<std::vector<uint8_t>> EncodeTerminateAck(
    uint8_t identifier, absl::Span<const uint8_t> data);

// --- Code-Reject (RFC 1661 5.6) --------------------------------------------

// The Data of a Code-Reject is the rejected packet (possibly truncated), so
// ControlPacket::data is the whole parse. The encoder truncates the
// Rejected-Packet so that the Code-Reject fits `peer_mru` (RFC 1661 5.6:
// "MUST be truncated to comply with the peer's established MRU"); fails if
// `peer_mru` < 4.
absl::StatusOr<std::vector<uint8_t>> EncodeCodeReject(
    uint8_t identifier, absl::Span<const uint8_t> rejected_packet,
    size_t peer_mru);

// --- Protocol-Reject (RFC 1661 5.7) ----------------------------------------

struct ProtocolRejectData {
  uint16_t rejected_protocol = 0;
  absl::Span<const uint8_t> rejected_information;
};
// Parses the Data field (fewer than 2 octets: error).
absl::StatusOr<ProtocolRejectData> ParseProtocolReject(
    absl::Span<const uint8_t> data);
// Truncates the Rejected-Information to fit `peer_mru` (RFC 1661 5.7); fails
// if `peer_mru` < 6.
absl::StatusOr<std::vector<uint8_t>> EncodeProtocolReject(
    uint8_t identifier, uint16_t rejected_protocol,
    absl::Span<const uint8_t> rejected_information, size_t peer_mru);

// --- Identification, Time-Remaining (RFC 1570 2.1, 2.2) --------------------

struct IdentificationData {
  uint32_t magic_number = 0;
  absl::string_view message;  // Not NUL-terminated, not necessarily UTF-8.
};
absl::StatusOr<IdentificationData> ParseIdentification(
    absl::Span<const uint8_t> data);
absl::StatusOr<std::vector<uint8_t>> EncodeIdentification(
    uint8_t identifier, uint32_t magic_number, absl::string_view message);

struct TimeRemainingData {
  uint32_t magic_number = 0;
  uint32_t seconds_remaining = 0;
  absl::string_view message;
};
absl::StatusOr<TimeRemainingData> ParseTimeRemaining(
    absl::Span<const uint8_t> data);
absl::StatusOr<std::vector<uint8_t>> EncodeTimeRemaining(
    uint8_t identifier, uint32_t magic_number, uint32_t seconds_remaining,
    absl::string_view message);

// A view of bytes as text (e.g. a Message field), for logs and comparisons,
// and back. Neither copies.
inline absl::string_view AsText(absl::Span<const uint8_t> bytes) {
  return absl::string_view(reinterpret_cast<const char*>(bytes.data()),
                           bytes.size());
}
inline absl::Span<const uint8_t> AsBytes(absl::string_view text) {
  return absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_PACKET_H_
