// Packets of the PPP authentication protocols: PAP (RFC 1334), CHAP
// (RFC 1994) with the MS-CHAPv2 value and message formats (RFC 2759), and EAP
// (RFC 3748) with EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02).
//
// Parsers take the PPP Information field (or, for EAP methods, an EapPacket)
// and return views into it: views must not outlive the buffer. Encoders
// return a new packet. The client side (what a client sends, what a server
// sends it) is complete; the server-side halves exist for tests, fuzzing and
// the fake servers of the integration tests.
//
// Nothing here hashes or compares secrets: see mschapv2.h / chap_md5.h. A
// PAP Authenticate-Request holds the password in clear: whoever gets the
// encoded packet wipes it (WipeBytes) once it has been sent.
//
// Pure functions, no I/O, thread-compatible.
#ifndef SSTP_KTLS_DAEMON_PPP_AUTH_PACKETS_H_
#define SSTP_KTLS_DAEMON_PPP_AUTH_PACKETS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sstp::ppp {

// --- PAP (RFC 1334 2.2) -----------------------------------------------------

enum class PapCode : uint8_t {
  kAuthenticateRequest = 1,
  kAuthenticateAck = 2,
  kAuthenticateNak = 3,
};

// Peer-ID and Password are each limited by a one-octet length.
inline constexpr size_t kMaxPapFieldSize = 255;

// Authenticate-Request. Fails if peer_id or password is longer than 255
// octets. The result holds the password in clear: wipe it after sending.
absl::StatusOr<std::vector<uint8_t>> EncodePapAuthenticateRequest(
    uint8_t identifier, absl::string_view peer_id, absl::string_view password);

struct PapAuthenticateRequest {
  uint8_t identifier = 0;
  absl::string_view peer_id;
  absl::string_view password;
};
absl::StatusOr<PapAuthenticateRequest> ParsePapAuthenticateRequest(
    absl::Span<const uint8_t> packet);

// Authenticate-Ack or Authenticate-Nak.
struct PapAckNak {
  PapCode code = PapCode::kAuthenticateAck;
  uint8_t identifier = 0;
  absl::string_view message;
};
// Accepts an Ack/Nak with no Msg-Length octet at all as an empty message
// (the message is only for display); a Msg-Length past the data is an error,
// as is any other Code.
absl::StatusOr<PapAckNak> ParsePapAckNak(absl::Span<const uint8_t> packet);
absl::StatusOr<std::vector<uint8_t>> EncodePapAckNak(const PapAckNak& ack_nak);

// --- CHAP (RFC 1994 4) ------------------------------------------------------

enum class ChapCode : uint8_t {
  kChallenge = 1,
  kResponse = 2,
  kSuccess = 3,
  kFailure = 4,
};

// Challenge and Response share the format: Value-Size, Value, Name (the rest
// of the packet).
struct ChapChallenge {
  uint8_t identifier = 0;
  absl::Span<const uint8_t> value;  // Value-Size >= 1 octets
  absl::string_view name;
};
struct ChapResponse {
  uint8_t identifier = 0;
  absl::Span<const uint8_t> value;
  absl::string_view name;
};
absl::StatusOr<ChapChallenge> ParseChapChallenge(
    absl::Span<const uint8_t> packet);
absl::StatusOr<ChapResponse> ParseChapResponse(
    absl::Span<const uint8_t> packet);
// Value must be 1..255 octets.
absl::StatusOr<std::vector<uint8_t>> EncodeChapChallenge(
    uint8_t identifier, absl::Span<const uint8_t> value,
    absl::string_view name);
absl::StatusOr<std::vector<uint8_t>> EncodeChapResponse(
    uint8_t identifier, absl::Span<const uint8_t> value,
    absl::string_view name);

// Success or Failure; the Message is the rest of the packet.
struct ChapResult {
  ChapCode code = ChapCode::kSuccess;
  uint8_t identifier = 0;
  absl::string_view message;
};
absl::StatusOr<ChapResult> ParseChapResult(absl::Span<const uint8_t> packet);
// `result.code` must be kSuccess or kFailure.
absl::StatusOr<std::vector<uint8_t>> EncodeChapResult(const ChapResult& result);

// --- MS-CHAPv2 over CHAP (RFC 2759 4-6) --------------------------------------

inline constexpr size_t kMsChapV2ChallengeSize = 16;
inline constexpr size_t kMsChapV2NtResponseSize = 24;
inline constexpr size_t kMsChapV2ResponseValueSize = 49;
inline constexpr size_t kMsChapV2AuthenticatorResponseSize = 20;

// Authenticator-Challenge and Peer-Challenge.
using MsChapV2Challenge = std::array<uint8_t, kMsChapV2ChallengeSize>;
using MsChapV2NtResponse = std::array<uint8_t, kMsChapV2NtResponseSize>;
using MsChapV2AuthenticatorResponse =
    std::array<uint8_t, kMsChapV2AuthenticatorResponseSize>;

// A CHAP Challenge whose Value is the 16-octet Authenticator-Challenge
// (RFC 2759 3).
struct MsChapV2ChallengePacket {
  uint8_t identifier = 0;
  MsChapV2Challenge challenge{};
  absl::string_view name;
};
absl::StatusOr<MsChapV2ChallengePacket> ParseMsChapV2Challenge(
    absl::Span<const uint8_t> packet);

// The 49-octet Response Value (RFC 2759 4): Peer-Challenge (16), Reserved (8,
// zero), NT-Response (24), Flags (1, zero).
struct MsChapV2ResponseValue {
  MsChapV2Challenge peer_challenge{};
  MsChapV2NtResponse nt_response{};
};
std::array<uint8_t, kMsChapV2ResponseValueSize> EncodeMsChapV2ResponseValue(
    const MsChapV2ResponseValue& value);
// Strict: exactly 49 octets, Reserved and Flags zero.
absl::StatusOr<MsChapV2ResponseValue> ParseMsChapV2ResponseValue(
    absl::Span<const uint8_t> value);
// A CHAP Response carrying that value; `name` is the user name.
absl::StatusOr<std::vector<uint8_t>> EncodeMsChapV2Response(
    uint8_t identifier, const MsChapV2ResponseValue& value,
    absl::string_view name);

// The Success message (RFC 2759 5): "S=<40 hex digits>", optionally followed
// by " M=<text>".
struct MsChapV2SuccessMessage {
  MsChapV2AuthenticatorResponse authenticator_response{};
  absl::string_view message;
};
absl::StatusOr<MsChapV2SuccessMessage> ParseMsChapV2SuccessMessage(
    absl::string_view text);
// Upper-case hex as RFC 2759 5 shows it; " M=" only if `message` is set.
std::string FormatMsChapV2SuccessMessage(const MsChapV2SuccessMessage& success);

// Error codes of the Failure message (RFC 2759 6).
inline constexpr uint32_t kErrorRestrictedLogonHours = 646;
inline constexpr uint32_t kErrorAcctDisabled = 647;
inline constexpr uint32_t kErrorPasswdExpired = 648;
inline constexpr uint32_t kErrorNoDialinPermission = 649;
inline constexpr uint32_t kErrorAuthenticationFailure = 691;
inline constexpr uint32_t kErrorChangingPassword = 709;

// "ERROR_AUTHENTICATION_FAILURE (691)", or "error 123" if unknown.
std::string MsChapV2ErrorName(uint32_t error);

// The Failure message (RFC 2759 6):
//   "E=eeeeeeeeee R=r C=cccccccccccccccccccccccccccccccc V=vvvvvvvvvv M=<msg>"
// Real servers vary, so fields may come in any order and any may be absent;
// M= takes the rest of the text. Each field's syntax is strict: E= and V=
// decimal (fits 32 bits), R= 0 or 1, C= exactly 32 hex digits. A repeated or
// unknown field is an error.
struct MsChapV2FailureMessage {
  std::optional<uint32_t> error;
  std::optional<bool> retry;
  std::optional<MsChapV2Challenge> challenge;  // new Authenticator-Challenge
  std::optional<uint32_t> version;
  absl::string_view message;
};
absl::StatusOr<MsChapV2FailureMessage> ParseMsChapV2FailureMessage(
    absl::string_view text);
std::string FormatMsChapV2FailureMessage(const MsChapV2FailureMessage& failure);

// --- EAP (RFC 3748 4, 5) ----------------------------------------------------

enum class EapCode : uint8_t {
  kRequest = 1,
  kResponse = 2,
  kSuccess = 3,
  kFailure = 4,
};

// Method Types the client knows by name. Like Code, a parsed packet may carry
// a Type outside the enum.
enum class EapType : uint8_t {
  kIdentity = 1,      // RFC 3748 5.1
  kNotification = 2,  // RFC 3748 5.2
  kNak = 3,           // RFC 3748 5.3.1, legacy Nak (Response only)
  kMd5Challenge = 4,  // RFC 3748 5.4
  kTls = 13,          // RFC 5216
  kMsChapV2 = 26,     // draft-kamath-pppext-eap-mschapv2-02
};
std::string EapTypeName(EapType type);

struct EapPacket {
  EapCode code = EapCode::kRequest;
  uint8_t identifier = 0;
  // Request and Response only (RFC 3748 4.1); ignored for Success/Failure.
  EapType type = EapType::kIdentity;
  absl::Span<const uint8_t> type_data;
};

// Errors: header/Length as for PPP packets; an unknown Code; a Request or
// Response without a Type; a Success or Failure whose Length is not 4
// (RFC 3748 4.2).
absl::StatusOr<EapPacket> ParseEapPacket(absl::Span<const uint8_t> packet);
absl::StatusOr<std::vector<uint8_t>> EncodeEapPacket(const EapPacket& packet);

// Response/Identity (RFC 3748 5.1).
absl::StatusOr<std::vector<uint8_t>> EncodeEapIdentityResponse(
    uint8_t identifier, absl::string_view identity);
// Response/Nak listing the desired authentication Types (RFC 3748 5.3.1);
// `desired` must not be empty (send {0} for "none acceptable"). At most
// 65530 Types fit.
absl::StatusOr<std::vector<uint8_t>> EncodeEapNak(
    uint8_t identifier, absl::Span<const uint8_t> desired);
// The Type-Data of a Nak: the list of desired Types (at least one).
absl::StatusOr<std::vector<uint8_t>> ParseEapNak(
    absl::Span<const uint8_t> type_data);

// MD5-Challenge Type-Data (RFC 3748 5.4): CHAP's Value-Size, Value, Name.
struct EapMd5Challenge {
  absl::Span<const uint8_t> value;
  absl::string_view name;
};
absl::StatusOr<EapMd5Challenge> ParseEapMd5Challenge(
    absl::Span<const uint8_t> type_data);
absl::StatusOr<std::vector<uint8_t>> EncodeEapMd5Response(
    uint8_t identifier, absl::Span<const uint8_t> value,
    absl::string_view name);

// --- EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02 2) --------------------

enum class EapMsChapV2OpCode : uint8_t {
  kChallenge = 1,
  kResponse = 2,
  kSuccess = 3,
  kFailure = 4,
  kChangePassword = 7,
};

// Type-Data of EAP Type 26: OpCode, MS-CHAPv2-ID, MS-Length, then by OpCode:
//   Challenge (Request):  Value-Size 16, Challenge, Name
//   Response (Response):  Value-Size 49, Response value, Name
//   Success (Request):    Message "S=... M=..."
//   Failure (Request):    Message "E=... R=... C=... V=... M=..."
//   Success / Failure (Response): the OpCode alone (header_only)
//   Change-Password (Response): kept raw in `data`
struct EapMsChapV2Packet {
  EapMsChapV2OpCode op_code = EapMsChapV2OpCode::kChallenge;
  bool header_only = false;
  uint8_t ms_chapv2_id = 0;
  // As received. Not checked against the Type-Data length: some servers send
  // a wrong MS-Length (hostapd ignores it too, for interoperability). The
  // EAP Length is what bounds the data. The encoder computes it.
  uint16_t ms_length = 0;
  absl::Span<const uint8_t> value;  // Challenge (16) or Response (49)
  absl::string_view name;           // Challenge, Response
  absl::string_view message;        // Success / Failure Request
  absl::Span<const uint8_t> data;   // Change-Password
};

// Parses the Type-Data of `packet` (whose type must be kMsChapV2). Checks
// the OpCode against the EAP Code (a Challenge only in a Request, ...).
absl::StatusOr<EapMsChapV2Packet> ParseEapMsChapV2(const EapPacket& packet);
// A full EAP packet of Type 26 with Code `code`.
absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2(
    EapCode code, uint8_t eap_identifier, const EapMsChapV2Packet& ms);

// What the client sends.
absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2Response(
    uint8_t eap_identifier, uint8_t ms_chapv2_id,
    const MsChapV2ResponseValue& value, absl::string_view name);
absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2SuccessResponse(
    uint8_t eap_identifier);
absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2FailureResponse(
    uint8_t eap_identifier);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_AUTH_PACKETS_H_
