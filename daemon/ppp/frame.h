// PPP frames as SSTP carries them: one SSTP data packet holds exactly one
// PPP frame, with no HDLC flag, no byte stuffing and no FCS (MS-SSTP 2.2.3;
// SSTP-NOTES "PPP framing inside SSTP"). What remains of RFC 1662's framing is
// the optional Address/Control pair FF 03 (RFC 1662 3.1) and the Protocol
// field of RFC 1661 section 2.
//
// Receive accepts every form a peer may send: with or without FF 03 (ACFC,
// RFC 1661 6.6) and with a 1- or 2-octet Protocol field (PFC, RFC 1661 6.5).
// Send always writes FF 03 and a 2-octet Protocol field, because several
// servers (SoftEther, the Android client) drop frames without FF 03 and we
// never negotiate ACFC or PFC.
//
// Pure functions, no I/O, thread-compatible.
#ifndef SSTP_KTLS_DAEMON_PPP_FRAME_H_
#define SSTP_KTLS_DAEMON_PPP_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace sstp::ppp {

// PPP DLL Protocol Numbers used by the client (RFC 1661 section 2 and the
// RFCs that define each protocol).
inline constexpr uint16_t kProtocolIpv4 = 0x0021;    // RFC 1332
inline constexpr uint16_t kProtocolIpv6 = 0x0057;    // RFC 5072
inline constexpr uint16_t kProtocolIpcp = 0x8021;    // RFC 1332
inline constexpr uint16_t kProtocolEcp = 0x8053;     // RFC 1968
inline constexpr uint16_t kProtocolIpv6cp = 0x8057;  // RFC 5072
inline constexpr uint16_t kProtocolCcp = 0x80FD;     // RFC 1962
inline constexpr uint16_t kProtocolLcp = 0xC021;     // RFC 1661
inline constexpr uint16_t kProtocolPap = 0xC023;     // RFC 1334
inline constexpr uint16_t kProtocolLqr = 0xC025;     // RFC 1989
inline constexpr uint16_t kProtocolChap = 0xC223;    // RFC 1994
inline constexpr uint16_t kProtocolEap = 0xC227;     // RFC 3748

// RFC 1662 3.1: All-Stations address and Unnumbered Information control.
inline constexpr uint8_t kAllStationsAddress = 0xFF;
inline constexpr uint8_t kUnnumberedInformation = 0x03;

// What this module writes in front of every outgoing PPP Information field:
// FF 03 + 2-octet Protocol.
inline constexpr size_t kFrameHeaderSize = 4;

// A decoded PPP frame. `information` views the buffer given to DecodeFrame()
// and must not outlive it. Any padding the sender added stays in
// `information`; the protocol's own Length field tells where data ends.
struct Frame {
  uint16_t protocol = 0;
  absl::Span<const uint8_t> information;
};

// Short name for logs: "LCP", "IPCP", "IPv4", ..., or "0x80fd"-style hex for
// numbers this client does not know.
std::string ProtocolName(uint16_t protocol);

// True if `protocol` is a value the Protocol field can carry (RFC 1661 section
// 2: least significant bit of the most significant octet 0, of the least
// significant octet 1). 0x00FF is excluded too: RFC 1661 6.6 reserves it so
// that a compressed frame can never start with FF 03.
bool IsValidProtocol(uint16_t protocol);

// Splits a received frame into Protocol and Information. Errors: empty frame,
// FF not followed by 03, missing or truncated Protocol field, a Protocol
// value that breaks RFC 1661 section 2's rules.
absl::StatusOr<Frame> DecodeFrame(absl::Span<const uint8_t> frame);

// Writes FF 03 + `protocol` into the first kFrameHeaderSize bytes of
// `header`, in place (the data plane reserves headroom and prepends the
// header without copying the packet). Fails if `header` is shorter than
// kFrameHeaderSize or `protocol` is not IsValidProtocol().
absl::Status WriteFrameHeader(absl::Span<uint8_t> header, uint16_t protocol);

// FF 03 + protocol + information, for control frames.
absl::StatusOr<std::vector<uint8_t>> EncodeFrame(
    uint16_t protocol, absl::Span<const uint8_t> information);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_FRAME_H_
