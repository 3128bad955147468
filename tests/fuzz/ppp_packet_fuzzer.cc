// Fuzzes the PPP packet parsers of daemon/ppp: control packets (RFC 1661 5)
// with LCP / IPCP / IPv6CP options (RFC 1661 6, RFC 1332, RFC 1877,
// RFC 5072), PAP (RFC 1334), CHAP (RFC 1994) and MS-CHAPv2 (RFC 2759), EAP
// (RFC 3748) and EAP-MSCHAPv2. The first input octet selects the parser; the
// rest is the packet (or, for the MS-CHAPv2 messages, the text).
//
// Invariants checked (abort() on violation):
//   - a parsed control packet re-encodes to the input's first Length octets;
//   - parsed option lists re-encode (generic and typed) to the same Data;
//   - Echo / Protocol-Reject / Identification / Time-Remaining data, PAP,
//     CHAP, EAP and EAP-MSCHAPv2 packets re-encode and parse back to the same
//     fields (and to the same bytes wherever the format is canonical);
//   - MS-CHAPv2 Success / Failure messages format and parse back to the same
//     fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/options.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

void Check(bool condition) {
  if (!condition) abort();
}

// The input's first Length octets (the part a parser consumed).
absl::Span<const uint8_t> Consumed(absl::Span<const uint8_t> packet) {
  const size_t length = static_cast<size_t>(packet[2]) << 8 | packet[3];
  return packet.subspan(0, length);
}

bool SameBytes(const absl::StatusOr<std::vector<uint8_t>>& encoded,
               absl::Span<const uint8_t> expected) {
  return encoded.ok() && absl::MakeConstSpan(*encoded) == expected;
}

template <typename Typed, typename Parse, typename Add>
void CheckOptions(absl::Span<const uint8_t> data, Parse parse, Add add) {
  absl::StatusOr<std::vector<Option>> options = ParseOptions(data);
  if (!options.ok()) return;
  Check(SameBytes(EncodeOptions(*options), data));
  absl::StatusOr<std::vector<Typed>> typed = parse(data);
  if (!typed.ok()) return;
  Check(typed->size() == options->size());
  OptionListBuilder builder;
  for (const Typed& option : *typed) add(builder, option);
  Check(SameBytes(builder.Build(), data));
}

void FuzzControlPacket(absl::Span<const uint8_t> input, uint8_t selector) {
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(input);
  if (!packet.ok()) return;
  Check(SameBytes(
      EncodeControlPacket(packet->code, packet->identifier, packet->data),
      Consumed(input)));
  const absl::Span<const uint8_t> data = packet->data;
  switch (selector) {
    case 0:
      CheckOptions<LcpOption>(
          data, ParseLcpOptions,
          [](OptionListBuilder& b, const LcpOption& o) { b.AddLcp(o); });
      break;
    case 1:
      CheckOptions<IpcpOption>(
          data, ParseIpcpOptions,
          [](OptionListBuilder& b, const IpcpOption& o) { b.AddIpcp(o); });
      break;
    case 2:
      CheckOptions<Ipv6cpOption>(
          data, ParseIpv6cpOptions,
          [](OptionListBuilder& b, const Ipv6cpOption& o) { b.AddIpv6cp(o); });
      break;
    default: {
      const uint8_t id = packet->identifier;
      if (absl::StatusOr<EchoData> echo = ParseEchoData(data); echo.ok()) {
        absl::StatusOr<std::vector<uint8_t>> expected =
            EncodeControlPacket(Code::kEchoRequest, id, data);
        Check(expected.ok());
        Check(SameBytes(EncodeEchoRequest(id, echo->magic_number, echo->data),
                        *expected));
      }
      if (absl::StatusOr<ProtocolRejectData> reject = ParseProtocolReject(data);
          reject.ok()) {
        absl::StatusOr<std::vector<uint8_t>> encoded =
            EncodeProtocolReject(id, reject->rejected_protocol,
                                 reject->rejected_information, 0xFFFF);
        Check(encoded.ok());
        absl::StatusOr<ControlPacket> again = ParseControlPacket(*encoded);
        Check(again.ok() && again->data == data);
      }
      if (absl::StatusOr<IdentificationData> ident = ParseIdentification(data);
          ident.ok()) {
        absl::StatusOr<std::vector<uint8_t>> encoded =
            EncodeIdentification(id, ident->magic_number, ident->message);
        Check(encoded.ok());
        absl::StatusOr<ControlPacket> again = ParseControlPacket(*encoded);
        Check(again.ok() && again->data == data);
      }
      if (absl::StatusOr<TimeRemainingData> time = ParseTimeRemaining(data);
          time.ok()) {
        absl::StatusOr<std::vector<uint8_t>> encoded = EncodeTimeRemaining(
            id, time->magic_number, time->seconds_remaining, time->message);
        Check(encoded.ok());
        absl::StatusOr<ControlPacket> again = ParseControlPacket(*encoded);
        Check(again.ok() && again->data == data);
      }
      break;
    }
  }
}

void FuzzPap(absl::Span<const uint8_t> input) {
  if (absl::StatusOr<PapAckNak> ack = ParsePapAckNak(input); ack.ok()) {
    absl::StatusOr<std::vector<uint8_t>> encoded = EncodePapAckNak(*ack);
    Check(encoded.ok());
    absl::StatusOr<PapAckNak> again = ParsePapAckNak(*encoded);
    Check(again.ok() && again->code == ack->code &&
          again->identifier == ack->identifier &&
          again->message == ack->message);
  }
  if (absl::StatusOr<PapAuthenticateRequest> request =
          ParsePapAuthenticateRequest(input);
      request.ok()) {
    absl::StatusOr<std::vector<uint8_t>> encoded = EncodePapAuthenticateRequest(
        request->identifier, request->peer_id, request->password);
    Check(encoded.ok());
    absl::StatusOr<PapAuthenticateRequest> again =
        ParsePapAuthenticateRequest(*encoded);
    Check(again.ok() && again->identifier == request->identifier &&
          again->peer_id == request->peer_id &&
          again->password == request->password);
  }
}

void FuzzChap(absl::Span<const uint8_t> input) {
  if (absl::StatusOr<ChapChallenge> challenge = ParseChapChallenge(input);
      challenge.ok()) {
    Check(SameBytes(EncodeChapChallenge(challenge->identifier, challenge->value,
                                        challenge->name),
                    Consumed(input)));
    absl::StatusOr<MsChapV2ChallengePacket> ms = ParseMsChapV2Challenge(input);
    Check(ms.ok() == (challenge->value.size() == kMsChapV2ChallengeSize));
  }
  if (absl::StatusOr<ChapResponse> response = ParseChapResponse(input);
      response.ok()) {
    Check(SameBytes(EncodeChapResponse(response->identifier, response->value,
                                       response->name),
                    Consumed(input)));
    if (absl::StatusOr<MsChapV2ResponseValue> value =
            ParseMsChapV2ResponseValue(response->value);
        value.ok()) {
      Check(SameBytes(
          EncodeMsChapV2Response(response->identifier, *value, response->name),
          Consumed(input)));
    }
  }
  if (absl::StatusOr<ChapResult> result = ParseChapResult(input); result.ok()) {
    Check(SameBytes(EncodeChapResult(*result), Consumed(input)));
  }
}

void FuzzSuccessMessage(absl::string_view text) {
  absl::StatusOr<MsChapV2SuccessMessage> success =
      ParseMsChapV2SuccessMessage(text);
  if (!success.ok()) return;
  const std::string formatted = FormatMsChapV2SuccessMessage(*success);
  absl::StatusOr<MsChapV2SuccessMessage> again =
      ParseMsChapV2SuccessMessage(formatted);
  Check(again.ok() &&
        again->authenticator_response == success->authenticator_response &&
        again->message == success->message);
}

void FuzzFailureMessage(absl::string_view text) {
  absl::StatusOr<MsChapV2FailureMessage> failure =
      ParseMsChapV2FailureMessage(text);
  if (!failure.ok()) return;
  const std::string formatted = FormatMsChapV2FailureMessage(*failure);
  absl::StatusOr<MsChapV2FailureMessage> again =
      ParseMsChapV2FailureMessage(formatted);
  Check(again.ok() && again->error == failure->error &&
        again->retry == failure->retry &&
        again->challenge == failure->challenge &&
        again->version == failure->version &&
        again->message == failure->message);
}

void FuzzEap(absl::Span<const uint8_t> input) {
  absl::StatusOr<EapPacket> eap = ParseEapPacket(input);
  if (!eap.ok()) return;
  Check(SameBytes(EncodeEapPacket(*eap), Consumed(input)));
  if (eap->code != EapCode::kRequest && eap->code != EapCode::kResponse) return;
  switch (eap->type) {
    case EapType::kNak:
      if (absl::StatusOr<std::vector<uint8_t>> types =
              ParseEapNak(eap->type_data);
          types.ok() && eap->code == EapCode::kResponse) {
        Check(
            SameBytes(EncodeEapNak(eap->identifier, *types), Consumed(input)));
      }
      break;
    case EapType::kMd5Challenge:
      if (absl::StatusOr<EapMd5Challenge> md5 =
              ParseEapMd5Challenge(eap->type_data);
          md5.ok() && eap->code == EapCode::kResponse) {
        Check(SameBytes(
            EncodeEapMd5Response(eap->identifier, md5->value, md5->name),
            Consumed(input)));
      }
      break;
    case EapType::kMsChapV2: {
      absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(*eap);
      if (!ms.ok()) return;
      absl::StatusOr<std::vector<uint8_t>> encoded =
          EncodeEapMsChapV2(eap->code, eap->identifier, *ms);
      Check(encoded.ok());
      // Byte-identical unless the sender's MS-Length was wrong (tolerated).
      if (ms->header_only || ms->ms_length == eap->type_data.size()) {
        Check(absl::MakeConstSpan(*encoded) == Consumed(input));
      }
      absl::StatusOr<EapPacket> eap_again = ParseEapPacket(*encoded);
      Check(eap_again.ok());
      absl::StatusOr<EapMsChapV2Packet> again = ParseEapMsChapV2(*eap_again);
      Check(again.ok() && again->op_code == ms->op_code &&
            again->header_only == ms->header_only &&
            again->ms_chapv2_id == ms->ms_chapv2_id &&
            again->value == ms->value && again->name == ms->name &&
            again->message == ms->message && again->data == ms->data);
      if (ms->op_code == EapMsChapV2OpCode::kSuccess)
        FuzzSuccessMessage(ms->message);
      if (ms->op_code == EapMsChapV2OpCode::kFailure)
        FuzzFailureMessage(ms->message);
      break;
    }
    case EapType::kIdentity:
    case EapType::kNotification:
    case EapType::kTls:
      break;
  }
}

}  // namespace
}  // namespace sstp::ppp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const absl::Span<const uint8_t> input(data + 1, size - 1);
  const absl::string_view text = sstp::ppp::AsText(input);
  switch (selector % 9) {
    case 0:  // LCP Configure-* with LCP options
    case 1:  // IPCP
    case 2:  // IPv6CP
    case 3:  // LCP Echo / Protocol-Reject / Identification / Time-Remaining
      sstp::ppp::FuzzControlPacket(input, selector % 9);
      break;
    case 4:
      sstp::ppp::FuzzPap(input);
      break;
    case 5:
      sstp::ppp::FuzzChap(input);
      break;
    case 6:
      sstp::ppp::FuzzSuccessMessage(text);
      break;
    case 7:
      sstp::ppp::FuzzFailureMessage(text);
      break;
    case 8:
      sstp::ppp::FuzzEap(input);
      break;
  }
  return 0;
}
