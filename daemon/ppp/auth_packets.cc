#include "daemon/ppp/auth_packets.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/hex.h"
#include "base/status.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

// The Code/Identifier/Length header shared with LCP (RFC 1334 2.2, RFC 1994
// 4, RFC 3748 4), errors prefixed with the protocol name.
absl::StatusOr<ControlPacket> ParseHeader(absl::string_view protocol,
                                          absl::Span<const uint8_t> packet) {
  absl::StatusOr<ControlPacket> parsed = ParseControlPacket(packet);
  if (!parsed.ok()) return Annotate(parsed.status(), protocol);
  return parsed;
}

uint8_t RawCode(const ControlPacket& packet) {
  return static_cast<uint8_t>(packet.code);
}

// A one-octet length followed by that many octets (PAP Peer-ID / Password /
// Message, CHAP and MD5-Challenge Value).
bool ReadLengthPrefixed(ByteReader& reader, uint8_t* length,
                        absl::Span<const uint8_t>* out) {
  return reader.ReadU8(length) && reader.ReadBytes(*length, out);
}

// Value-Size, Value, Name (RFC 1994 4.1; RFC 3748 5.4; EAP-MSCHAPv2).
struct ValueAndName {
  absl::Span<const uint8_t> value;
  absl::string_view name;
};
absl::StatusOr<ValueAndName> ParseValueAndName(absl::string_view what,
                                               absl::Span<const uint8_t> data) {
  ByteReader reader(data);
  uint8_t value_size = 0;
  if (!reader.ReadU8(&value_size)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s has no Value-Size", what));
  }
  if (value_size == 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s Value-Size 0", what));
  }
  ValueAndName parsed;
  if (!reader.ReadBytes(value_size, &parsed.value)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s truncated: Value-Size %d > %d octets left", what,
                        value_size, data.size() - 1));
  }
  parsed.name = AsText(reader.ReadRemaining());
  return parsed;
}

absl::Status CheckValueSize(absl::string_view what,
                            absl::Span<const uint8_t> value) {
  if (value.empty() || value.size() > 255) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s Value of %d octets, must be 1..255", what, value.size()));
  }
  return absl::OkStatus();
}

bool IsHexDigit(char c) {
  return absl::ascii_isxdigit(static_cast<unsigned char>(c));
}

// Decodes exactly `out.size() * 2` hex digits.
absl::Status DecodeHexField(absl::string_view what, absl::string_view digits,
                            absl::Span<uint8_t> out) {
  const bool all_hex = std::all_of(digits.begin(), digits.end(), IsHexDigit);
  if (!all_hex || digits.size() != out.size() * 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s must be %d hex digits, got \"%s\"", what, out.size() * 2,
        absl::CHexEscape(digits.substr(0, 64))));
  }
  absl::StatusOr<std::vector<uint8_t>> bytes = FromHex(digits);
  if (!bytes.ok()) return bytes.status();
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return absl::OkStatus();
}

// RFC 2759 6: "ASCII representation of a decimal ... code (need not be 10
// digits)".
absl::StatusOr<uint32_t> ParseDecimal(absl::string_view what,
                                      absl::string_view digits) {
  uint64_t value = 0;
  bool ok = !digits.empty() && digits.size() <= 10;
  for (char c : digits) {
    if (!ok) break;
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || value > 0xFFFFFFFFu) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s must be a 32-bit decimal number, got \"%s\"", what,
                        absl::CHexEscape(digits.substr(0, 64))));
  }
  return static_cast<uint32_t>(value);
}

std::string UpperHex(absl::Span<const uint8_t> bytes) {
  return absl::AsciiStrToUpper(ToHex(bytes));
}

}  // namespace

// --- PAP --------------------------------------------------------------------

absl::StatusOr<std::vector<uint8_t>> EncodePapAuthenticateRequest(
    uint8_t identifier, absl::string_view peer_id, absl::string_view password) {
  if (peer_id.size() > kMaxPapFieldSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PAP Peer-ID of %d octets > %d", peer_id.size(), kMaxPapFieldSize));
  }
  if (password.size() > kMaxPapFieldSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PAP Password of %d octets > %d", password.size(), kMaxPapFieldSize));
  }
  const uint8_t peer_id_length[1] = {static_cast<uint8_t>(peer_id.size())};
  const uint8_t password_length[1] = {static_cast<uint8_t>(password.size())};
  return EncodePacket(
      static_cast<uint8_t>(PapCode::kAuthenticateRequest), identifier,
      {peer_id_length, AsBytes(peer_id), password_length, AsBytes(password)});
}

absl::StatusOr<PapAuthenticateRequest> ParsePapAuthenticateRequest(
    absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(ControlPacket header, ParseHeader("PAP", packet));
  if (RawCode(header) != static_cast<uint8_t>(PapCode::kAuthenticateRequest)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PAP code %d is not Authenticate-Request (1)", RawCode(header)));
  }
  ByteReader reader(header.data);
  uint8_t length = 0;
  absl::Span<const uint8_t> peer_id;
  absl::Span<const uint8_t> password;
  if (!ReadLengthPrefixed(reader, &length, &peer_id)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PAP Authenticate-Request truncated in Peer-ID (%d octets of data)",
        header.data.size()));
  }
  if (!ReadLengthPrefixed(reader, &length, &password)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PAP Authenticate-Request truncated in Password (%d octets of data)",
        header.data.size()));
  }
  return PapAuthenticateRequest{header.identifier, AsText(peer_id),
                                AsText(password)};
}

absl::StatusOr<PapAckNak> ParsePapAckNak(absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(ControlPacket header, ParseHeader("PAP", packet));
  const uint8_t code = RawCode(header);
  if (code != static_cast<uint8_t>(PapCode::kAuthenticateAck) &&
      code != static_cast<uint8_t>(PapCode::kAuthenticateNak)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PAP code %d is not Authenticate-Ack (2) or Authenticate-Nak (3)",
        code));
  }
  PapAckNak ack_nak;
  ack_nak.code = static_cast<PapCode>(code);
  ack_nak.identifier = header.identifier;
  if (header.data.empty()) return ack_nak;  // No Msg-Length: no message.
  ByteReader reader(header.data);
  uint8_t msg_length = 0;
  absl::Span<const uint8_t> message;
  if (!ReadLengthPrefixed(reader, &msg_length, &message)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PAP Msg-Length %d > %d octets left", msg_length,
                        header.data.size() - 1));
  }
  ack_nak.message = AsText(message);
  return ack_nak;
}

absl::StatusOr<std::vector<uint8_t>> EncodePapAckNak(const PapAckNak& ack_nak) {
  if (ack_nak.code == PapCode::kAuthenticateRequest) {
    return absl::InvalidArgumentError(
        "EncodePapAckNak: code must be Authenticate-Ack or Authenticate-Nak");
  }
  if (ack_nak.message.size() > kMaxPapFieldSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PAP Message of %d octets > %d", ack_nak.message.size(),
                        kMaxPapFieldSize));
  }
  const uint8_t msg_length[1] = {static_cast<uint8_t>(ack_nak.message.size())};
  return EncodePacket(static_cast<uint8_t>(ack_nak.code), ack_nak.identifier,
                      {msg_length, AsBytes(ack_nak.message)});
}

// --- CHAP -------------------------------------------------------------------

namespace {

absl::StatusOr<std::pair<uint8_t, ValueAndName>> ParseChapValuePacket(
    ChapCode expected, absl::string_view what,
    absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(ControlPacket header, ParseHeader("CHAP", packet));
  if (RawCode(header) != static_cast<uint8_t>(expected)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CHAP code %d is not %s (%d)", RawCode(header), what,
                        static_cast<int>(expected)));
  }
  ASSIGN_OR_RETURN(ValueAndName parsed,
                   ParseValueAndName(absl::StrCat("CHAP ", what), header.data));
  return std::make_pair(header.identifier, parsed);
}

absl::StatusOr<std::vector<uint8_t>> EncodeChapValuePacket(
    ChapCode code, absl::string_view what, uint8_t identifier,
    absl::Span<const uint8_t> value, absl::string_view name) {
  RETURN_IF_ERROR(CheckValueSize(absl::StrCat("CHAP ", what), value));
  const uint8_t value_size[1] = {static_cast<uint8_t>(value.size())};
  return EncodePacket(static_cast<uint8_t>(code), identifier,
                      {value_size, value, AsBytes(name)});
}

}  // namespace

absl::StatusOr<ChapChallenge> ParseChapChallenge(
    absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(auto parsed, ParseChapValuePacket(ChapCode::kChallenge,
                                                     "Challenge", packet));
  return ChapChallenge{parsed.first, parsed.second.value, parsed.second.name};
}

absl::StatusOr<ChapResponse> ParseChapResponse(
    absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(auto parsed, ParseChapValuePacket(ChapCode::kResponse,
                                                     "Response", packet));
  return ChapResponse{parsed.first, parsed.second.value, parsed.second.name};
}

absl::StatusOr<std::vector<uint8_t>> EncodeChapChallenge(
    uint8_t identifier, absl::Span<const uint8_t> value,
    absl::string_view name) {
  return EncodeChapValuePacket(ChapCode::kChallenge, "Challenge", identifier,
                               value, name);
}

absl::StatusOr<std::vector<uint8_t>> EncodeChapResponse(
    uint8_t identifier, absl::Span<const uint8_t> value,
    absl::string_view name) {
  return EncodeChapValuePacket(ChapCode::kResponse, "Response", identifier,
                               value, name);
}

absl::StatusOr<ChapResult> ParseChapResult(absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(ControlPacket header, ParseHeader("CHAP", packet));
  const uint8_t code = RawCode(header);
  if (code != static_cast<uint8_t>(ChapCode::kSuccess) &&
      code != static_cast<uint8_t>(ChapCode::kFailure)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "CHAP code %d is not Success (3) or Failure (4)", code));
  }
  return ChapResult{static_cast<ChapCode>(code), header.identifier,
                    AsText(header.data)};
}

absl::StatusOr<std::vector<uint8_t>> EncodeChapResult(
    const ChapResult& result) {
  if (result.code != ChapCode::kSuccess && result.code != ChapCode::kFailure) {
    return absl::InvalidArgumentError(
        "EncodeChapResult: code must be Success or Failure");
  }
  return EncodePacket(static_cast<uint8_t>(result.code), result.identifier,
                      {AsBytes(result.message)});
}

// --- MS-CHAPv2 --------------------------------------------------------------

absl::StatusOr<MsChapV2ChallengePacket> ParseMsChapV2Challenge(
    absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(ChapChallenge challenge, ParseChapChallenge(packet));
  // RFC 2759 3: the Challenge Value is always 16 octets.
  if (challenge.value.size() != kMsChapV2ChallengeSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("MS-CHAPv2 Challenge Value-Size %d != %d",
                        challenge.value.size(), kMsChapV2ChallengeSize));
  }
  MsChapV2ChallengePacket parsed;
  parsed.identifier = challenge.identifier;
  std::copy(challenge.value.begin(), challenge.value.end(),
            parsed.challenge.begin());
  parsed.name = challenge.name;
  return parsed;
}

std::array<uint8_t, kMsChapV2ResponseValueSize> EncodeMsChapV2ResponseValue(
    const MsChapV2ResponseValue& value) {
  // RFC 2759 4: Peer-Challenge, 8 reserved zero octets, NT-Response, Flags 0.
  std::array<uint8_t, kMsChapV2ResponseValueSize> out{};
  std::copy(value.peer_challenge.begin(), value.peer_challenge.end(),
            out.begin());
  std::copy(value.nt_response.begin(), value.nt_response.end(),
            out.begin() + kMsChapV2ChallengeSize + 8);
  return out;
}

absl::StatusOr<MsChapV2ResponseValue> ParseMsChapV2ResponseValue(
    absl::Span<const uint8_t> value) {
  if (value.size() != kMsChapV2ResponseValueSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("MS-CHAPv2 Response Value-Size %d != %d", value.size(),
                        kMsChapV2ResponseValueSize));
  }
  ByteReader reader(value);
  MsChapV2ResponseValue parsed;
  absl::Span<const uint8_t> reserved;
  uint8_t flags = 0;
  reader.CopyBytes(absl::MakeSpan(parsed.peer_challenge));
  reader.ReadBytes(8, &reserved);
  reader.CopyBytes(absl::MakeSpan(parsed.nt_response));
  reader.ReadU8(&flags);
  if (std::any_of(reserved.begin(), reserved.end(),
                  [](uint8_t b) { return b != 0; })) {
    return absl::InvalidArgumentError(
        "MS-CHAPv2 Response Reserved octets are not zero");
  }
  if (flags != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("MS-CHAPv2 Response Flags 0x%02x != 0", flags));
  }
  return parsed;
}

absl::StatusOr<std::vector<uint8_t>> EncodeMsChapV2Response(
    uint8_t identifier, const MsChapV2ResponseValue& value,
    absl::string_view name) {
  const std::array<uint8_t, kMsChapV2ResponseValueSize> bytes =
      EncodeMsChapV2ResponseValue(value);
  return EncodeChapResponse(identifier, bytes, name);
}

absl::StatusOr<MsChapV2SuccessMessage> ParseMsChapV2SuccessMessage(
    absl::string_view text) {
  // RFC 2759 5: "S=<auth_string> M=<message>", auth_string being 40 hex
  // digits.
  if (!absl::StartsWith(text, "S=")) {
    return absl::InvalidArgumentError(
        "MS-CHAPv2 Success message does not start with \"S=\"");
  }
  absl::string_view rest = text.substr(2);
  const size_t digits = static_cast<size_t>(
      std::find_if_not(rest.begin(), rest.end(), IsHexDigit) - rest.begin());
  MsChapV2SuccessMessage success;
  RETURN_IF_ERROR(
      DecodeHexField("MS-CHAPv2 Success message S=", rest.substr(0, digits),
                     absl::MakeSpan(success.authenticator_response)));
  rest.remove_prefix(digits);
  if (rest.empty()) return success;
  if (!absl::StartsWith(rest, " M=")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "MS-CHAPv2 Success message: expected \" M=\" or the end at offset %d",
        text.size() - rest.size()));
  }
  success.message = rest.substr(3);
  return success;
}

std::string FormatMsChapV2SuccessMessage(
    const MsChapV2SuccessMessage& success) {
  std::string text =
      absl::StrCat("S=", UpperHex(success.authenticator_response));
  if (!success.message.empty()) absl::StrAppend(&text, " M=", success.message);
  return text;
}

std::string MsChapV2ErrorName(uint32_t error) {
  switch (error) {
    case kErrorRestrictedLogonHours:
      return "ERROR_RESTRICTED_LOGON_HOURS (646)";
    case kErrorAcctDisabled:
      return "ERROR_ACCT_DISABLED (647)";
    case kErrorPasswdExpired:
      return "ERROR_PASSWD_EXPIRED (648)";
    case kErrorNoDialinPermission:
      return "ERROR_NO_DIALIN_PERMISSION (649)";
    case kErrorAuthenticationFailure:
      return "ERROR_AUTHENTICATION_FAILURE (691)";
    case kErrorChangingPassword:
      return "ERROR_CHANGING_PASSWORD (709)";
    default:
      return absl::StrFormat("error %d", error);
  }
}

absl::StatusOr<MsChapV2FailureMessage> ParseMsChapV2FailureMessage(
    absl::string_view text) {
  MsChapV2FailureMessage failure;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    absl::string_view field = text.substr(pos);
    // M= is last and takes everything after it, spaces included.
    if (absl::StartsWith(field, "M=")) {
      failure.message = field.substr(2);
      break;
    }
    field = field.substr(0, field.find(' '));
    const std::string prefix =
        absl::StrFormat("MS-CHAPv2 Failure message at offset %d: ", pos);
    if (field.size() < 2 || field[1] != '=') {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "expected a field like \"E=\", got \"",
                       absl::CHexEscape(field.substr(0, 16)), "\""));
    }
    const absl::string_view value = field.substr(2);
    auto duplicate = [&]() {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "field ", field.substr(0, 2), " repeated"));
    };
    switch (field[0]) {
      case 'E': {
        if (failure.error.has_value()) return duplicate();
        ASSIGN_OR_RETURN(failure.error, ParseDecimal(prefix + "E=", value));
        break;
      }
      case 'R':
        if (failure.retry.has_value()) return duplicate();
        if (value != "0" && value != "1") {
          return absl::InvalidArgumentError(
              absl::StrCat(prefix, "R= must be 0 or 1, got \"",
                           absl::CHexEscape(value.substr(0, 16)), "\""));
        }
        failure.retry = value == "1";
        break;
      case 'C': {
        if (failure.challenge.has_value()) return duplicate();
        MsChapV2Challenge challenge;
        RETURN_IF_ERROR(
            DecodeHexField(prefix + "C=", value, absl::MakeSpan(challenge)));
        failure.challenge = challenge;
        break;
      }
      case 'V': {
        if (failure.version.has_value()) return duplicate();
        ASSIGN_OR_RETURN(failure.version, ParseDecimal(prefix + "V=", value));
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, "unknown field \"",
                         absl::CHexEscape(field.substr(0, 2)), "\""));
    }
    pos += field.size();
  }
  return failure;
}

std::string FormatMsChapV2FailureMessage(
    const MsChapV2FailureMessage& failure) {
  std::vector<std::string> fields;
  if (failure.error) fields.push_back(absl::StrCat("E=", *failure.error));
  if (failure.retry) fields.push_back(*failure.retry ? "R=1" : "R=0");
  if (failure.challenge) {
    fields.push_back(absl::StrCat("C=", UpperHex(*failure.challenge)));
  }
  if (failure.version) fields.push_back(absl::StrCat("V=", *failure.version));
  if (!failure.message.empty()) {
    fields.push_back(absl::StrCat("M=", failure.message));
  }
  std::string text;
  for (const std::string& field : fields) {
    if (!text.empty()) text.push_back(' ');
    text += field;
  }
  return text;
}

// --- EAP --------------------------------------------------------------------

std::string EapTypeName(EapType type) {
  switch (type) {
    case EapType::kIdentity:
      return "Identity";
    case EapType::kNotification:
      return "Notification";
    case EapType::kNak:
      return "Nak";
    case EapType::kMd5Challenge:
      return "MD5-Challenge";
    case EapType::kTls:
      return "EAP-TLS";
    case EapType::kMsChapV2:
      return "EAP-MSCHAPv2";
  }
  return absl::StrFormat("type %d", static_cast<int>(type));
}

absl::StatusOr<EapPacket> ParseEapPacket(absl::Span<const uint8_t> packet) {
  ASSIGN_OR_RETURN(ControlPacket header, ParseHeader("EAP", packet));
  EapPacket eap;
  eap.identifier = header.identifier;
  const uint8_t code = RawCode(header);
  switch (code) {
    case static_cast<uint8_t>(EapCode::kRequest):
    case static_cast<uint8_t>(EapCode::kResponse): {
      // RFC 3748 4.1: a Type octet follows the header.
      if (header.data.empty()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("EAP %s Length 4 < 5: no Type",
                            code == 1 ? "Request" : "Response"));
      }
      eap.type = static_cast<EapType>(header.data[0]);
      eap.type_data = header.data.subspan(1);
      break;
    }
    case static_cast<uint8_t>(EapCode::kSuccess):
    case static_cast<uint8_t>(EapCode::kFailure):
      // RFC 3748 4.2: Length is exactly 4.
      if (!header.data.empty()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "EAP %s Length %d != 4", code == 3 ? "Success" : "Failure",
            header.data.size() + kControlHeaderSize));
      }
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("EAP Code %d unknown", code));
  }
  eap.code = static_cast<EapCode>(code);
  return eap;
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapPacket(const EapPacket& packet) {
  switch (packet.code) {
    case EapCode::kRequest:
    case EapCode::kResponse: {
      const uint8_t type[1] = {static_cast<uint8_t>(packet.type)};
      return EncodePacket(static_cast<uint8_t>(packet.code), packet.identifier,
                          {type, packet.type_data});
    }
    case EapCode::kSuccess:
    case EapCode::kFailure:
      return EncodePacket(static_cast<uint8_t>(packet.code), packet.identifier,
                          {});
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("EAP Code %d unknown", static_cast<int>(packet.code)));
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapIdentityResponse(
    uint8_t identifier, absl::string_view identity) {
  return EncodeEapPacket(
      {EapCode::kResponse, identifier, EapType::kIdentity, AsBytes(identity)});
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapNak(
    uint8_t identifier, absl::Span<const uint8_t> desired) {
  if (desired.empty()) {
    return absl::InvalidArgumentError(
        "EAP Nak needs at least one desired Type (0: none acceptable)");
  }
  return EncodeEapPacket(
      {EapCode::kResponse, identifier, EapType::kNak, desired});
}

absl::StatusOr<std::vector<uint8_t>> ParseEapNak(
    absl::Span<const uint8_t> type_data) {
  // RFC 3748 5.3.1: one or more desired Types, one octet each.
  if (type_data.empty()) {
    return absl::InvalidArgumentError("EAP Nak lists no desired Type");
  }
  return std::vector<uint8_t>(type_data.begin(), type_data.end());
}

absl::StatusOr<EapMd5Challenge> ParseEapMd5Challenge(
    absl::Span<const uint8_t> type_data) {
  ASSIGN_OR_RETURN(ValueAndName parsed,
                   ParseValueAndName("EAP MD5-Challenge", type_data));
  return EapMd5Challenge{parsed.value, parsed.name};
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapMd5Response(
    uint8_t identifier, absl::Span<const uint8_t> value,
    absl::string_view name) {
  RETURN_IF_ERROR(CheckValueSize("EAP MD5-Challenge", value));
  const uint8_t value_size[1] = {static_cast<uint8_t>(value.size())};
  const uint8_t type[1] = {static_cast<uint8_t>(EapType::kMd5Challenge)};
  return EncodePacket(static_cast<uint8_t>(EapCode::kResponse), identifier,
                      {type, value_size, value, AsBytes(name)});
}

// --- EAP-MSCHAPv2
// -------------------------------------------------------------

namespace {

absl::string_view OpCodeName(EapMsChapV2OpCode op_code) {
  switch (op_code) {
    case EapMsChapV2OpCode::kChallenge:
      return "Challenge";
    case EapMsChapV2OpCode::kResponse:
      return "Response";
    case EapMsChapV2OpCode::kSuccess:
      return "Success";
    case EapMsChapV2OpCode::kFailure:
      return "Failure";
    case EapMsChapV2OpCode::kChangePassword:
      return "Change-Password";
  }
  return "?";
}

bool IsKnownOpCode(uint8_t op_code) {
  switch (static_cast<EapMsChapV2OpCode>(op_code)) {
    case EapMsChapV2OpCode::kChallenge:
    case EapMsChapV2OpCode::kResponse:
    case EapMsChapV2OpCode::kSuccess:
    case EapMsChapV2OpCode::kFailure:
    case EapMsChapV2OpCode::kChangePassword:
      return true;
  }
  return false;
}

// MS-CHAPv2 OpCode + MS-CHAPv2-ID + MS-Length.
constexpr size_t kMsChapV2HeaderSize = 4;

}  // namespace

absl::StatusOr<EapMsChapV2Packet> ParseEapMsChapV2(const EapPacket& packet) {
  if (packet.code != EapCode::kRequest && packet.code != EapCode::kResponse) {
    return absl::InvalidArgumentError(
        "EAP-MSCHAPv2 data only travels in an EAP Request or Response");
  }
  if (packet.type != EapType::kMsChapV2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EAP Type %s is not EAP-MSCHAPv2 (26)", EapTypeName(packet.type)));
  }
  const bool request = packet.code == EapCode::kRequest;
  ByteReader reader(packet.type_data);
  uint8_t op_code = 0;
  if (!reader.ReadU8(&op_code)) {
    return absl::InvalidArgumentError(
        "EAP-MSCHAPv2 Type-Data is empty (no OpCode)");
  }
  if (!IsKnownOpCode(op_code)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("EAP-MSCHAPv2 OpCode %d unknown", op_code));
  }
  EapMsChapV2Packet ms;
  ms.op_code = static_cast<EapMsChapV2OpCode>(op_code);
  const absl::string_view name = OpCodeName(ms.op_code);
  // The peer acknowledges Success and Failure with the OpCode alone.
  if (!request && reader.empty() &&
      (ms.op_code == EapMsChapV2OpCode::kSuccess ||
       ms.op_code == EapMsChapV2OpCode::kFailure)) {
    ms.header_only = true;
    return ms;
  }
  reader.ReadU8(&ms.ms_chapv2_id);
  reader.ReadU16(&ms.ms_length);
  if (!reader.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EAP-MSCHAPv2 %s: Type-Data %d octets < %d-octet header", name,
        packet.type_data.size(), kMsChapV2HeaderSize));
  }
  auto wrong_direction = [&]() {
    return absl::InvalidArgumentError(
        absl::StrFormat("EAP-MSCHAPv2 %s in an EAP %s", name,
                        request ? "Request" : "Response"));
  };
  switch (ms.op_code) {
    case EapMsChapV2OpCode::kChallenge:
    case EapMsChapV2OpCode::kResponse: {
      const bool challenge = ms.op_code == EapMsChapV2OpCode::kChallenge;
      if (challenge != request) return wrong_direction();
      const std::string what = absl::StrCat("EAP-MSCHAPv2 ", name);
      ASSIGN_OR_RETURN(ValueAndName parsed,
                       ParseValueAndName(what, reader.ReadRemaining()));
      const size_t want =
          challenge ? kMsChapV2ChallengeSize : kMsChapV2ResponseValueSize;
      if (parsed.value.size() != want) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s Value-Size %d != %d", what, parsed.value.size(), want));
      }
      ms.value = parsed.value;
      ms.name = parsed.name;
      break;
    }
    case EapMsChapV2OpCode::kSuccess:
    case EapMsChapV2OpCode::kFailure:
      ms.message = AsText(reader.ReadRemaining());
      break;
    case EapMsChapV2OpCode::kChangePassword:
      if (request) return wrong_direction();
      ms.data = reader.ReadRemaining();
      break;
  }
  return ms;
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2(
    EapCode code, uint8_t eap_identifier, const EapMsChapV2Packet& ms) {
  const uint8_t op_code[1] = {static_cast<uint8_t>(ms.op_code)};
  const uint8_t type[1] = {static_cast<uint8_t>(EapType::kMsChapV2)};
  if (ms.header_only) {
    return EncodePacket(static_cast<uint8_t>(code), eap_identifier,
                        {type, op_code});
  }
  // The variable part after MS-Length.
  std::vector<uint8_t> body;
  switch (ms.op_code) {
    case EapMsChapV2OpCode::kChallenge:
    case EapMsChapV2OpCode::kResponse: {
      const size_t want = ms.op_code == EapMsChapV2OpCode::kChallenge
                              ? kMsChapV2ChallengeSize
                              : kMsChapV2ResponseValueSize;
      if (ms.value.size() != want) {
        return absl::InvalidArgumentError(
            absl::StrFormat("EAP-MSCHAPv2 %s Value of %d octets, must be %d",
                            OpCodeName(ms.op_code), ms.value.size(), want));
      }
      body.push_back(static_cast<uint8_t>(want));
      body.insert(body.end(), ms.value.begin(), ms.value.end());
      body.insert(body.end(), ms.name.begin(), ms.name.end());
      break;
    }
    case EapMsChapV2OpCode::kSuccess:
    case EapMsChapV2OpCode::kFailure:
      body.assign(ms.message.begin(), ms.message.end());
      break;
    case EapMsChapV2OpCode::kChangePassword:
      body.assign(ms.data.begin(), ms.data.end());
      break;
  }
  // draft-kamath-pppext-eap-mschapv2-02 2: MS-Length is the EAP Length
  // minus 5, i.e. the Type-Data length.
  const size_t ms_length = kMsChapV2HeaderSize + body.size();
  if (ms_length > 0xFFFF - kControlHeaderSize - 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EAP-MSCHAPv2 %s of %d octets exceeds the 16-bit Length field",
        OpCodeName(ms.op_code), ms_length));
  }
  const uint8_t header[3] = {ms.ms_chapv2_id,
                             static_cast<uint8_t>(ms_length >> 8),
                             static_cast<uint8_t>(ms_length)};
  return EncodePacket(static_cast<uint8_t>(code), eap_identifier,
                      {type, op_code, header, body});
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2Response(
    uint8_t eap_identifier, uint8_t ms_chapv2_id,
    const MsChapV2ResponseValue& value, absl::string_view name) {
  const std::array<uint8_t, kMsChapV2ResponseValueSize> bytes =
      EncodeMsChapV2ResponseValue(value);
  EapMsChapV2Packet ms;
  ms.op_code = EapMsChapV2OpCode::kResponse;
  ms.ms_chapv2_id = ms_chapv2_id;
  ms.value = bytes;
  ms.name = name;
  return EncodeEapMsChapV2(EapCode::kResponse, eap_identifier, ms);
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2SuccessResponse(
    uint8_t eap_identifier) {
  EapMsChapV2Packet ms;
  ms.op_code = EapMsChapV2OpCode::kSuccess;
  ms.header_only = true;
  return EncodeEapMsChapV2(EapCode::kResponse, eap_identifier, ms);
}

absl::StatusOr<std::vector<uint8_t>> EncodeEapMsChapV2FailureResponse(
    uint8_t eap_identifier) {
  EapMsChapV2Packet ms;
  ms.op_code = EapMsChapV2OpCode::kFailure;
  ms.header_only = true;
  return EncodeEapMsChapV2(EapCode::kResponse, eap_identifier, ms);
}

}  // namespace sstp::ppp
