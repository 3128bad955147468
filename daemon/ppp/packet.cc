#include "daemon/ppp/packet.h"

#include <algorithm>
#include <initializer_list>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/byte_writer.h"

namespace sstp::ppp {
namespace {

absl::StatusOr<std::vector<uint8_t>> EncodeWithParts(
    Code code, uint8_t identifier,
    std::initializer_list<absl::Span<const uint8_t>> parts) {
  return EncodePacket(static_cast<uint8_t>(code), identifier, parts);
}

std::vector<uint8_t> U32Bytes(uint32_t value) {
  return {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

absl::StatusOr<std::vector<uint8_t>> EncodeMagicAndData(
    Code code, uint8_t identifier, uint32_t magic_number,
    absl::Span<const uint8_t> data) {
  const std::vector<uint8_t> magic = U32Bytes(magic_number);
  return EncodeWithParts(code, identifier, {magic, data});
}

}  // namespace

std::string CodeName(Code code) {
  switch (code) {
    case Code::kConfigureRequest:
      return "Configure-Request";
    case Code::kConfigureAck:
      return "Configure-Ack";
    case Code::kConfigureNak:
      return "Configure-Nak";
    case Code::kConfigureReject:
      return "Configure-Reject";
    case Code::kTerminateRequest:
      return "Terminate-Request";
    case Code::kTerminateAck:
      return "Terminate-Ack";
    case Code::kCodeReject:
      return "Code-Reject";
    case Code::kProtocolReject:
      return "Protocol-Reject";
    case Code::kEchoRequest:
      return "Echo-Request";
    case Code::kEchoReply:
      return "Echo-Reply";
    case Code::kDiscardRequest:
      return "Discard-Request";
    case Code::kIdentification:
      return "Identification";
    case Code::kTimeRemaining:
      return "Time-Remaining";
  }
  // A received Code outside the enum (RFC 1661 5.6: to be Code-Rejected).
  return absl::StrFormat("code %d", static_cast<int>(code));
}

absl::StatusOr<std::vector<uint8_t>> EncodePacket(
    uint8_t code, uint8_t identifier,
    std::initializer_list<absl::Span<const uint8_t>> parts) {
  size_t length = kControlHeaderSize;
  for (absl::Span<const uint8_t> part : parts) length += part.size();
  if (length > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PPP packet (code %d) of %d octets exceeds the 16-bit Length field",
        code, length));
  }
  std::vector<uint8_t> packet(length);
  ByteWriter writer(absl::MakeSpan(packet));
  writer.WriteU8(code);
  writer.WriteU8(identifier);
  writer.WriteU16(static_cast<uint16_t>(length));
  for (absl::Span<const uint8_t> part : parts) writer.WriteBytes(part);
  if (!writer.ok()) return absl::InternalError("PPP packet size mismatch");
  return packet;
}

absl::StatusOr<ControlPacket> ParseControlPacket(
    absl::Span<const uint8_t> packet) {
  ByteReader reader(packet);
  uint8_t code = 0;
  uint8_t identifier = 0;
  uint16_t length = 0;
  reader.ReadU8(&code);
  reader.ReadU8(&identifier);
  reader.ReadU16(&length);
  if (!reader.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PPP packet truncated: %d octets < %d-octet header",
                        packet.size(), kControlHeaderSize));
  }
  if (length < kControlHeaderSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PPP packet Length %d < %d", length, kControlHeaderSize));
  }
  // RFC 1661 5: octets beyond Length are padding and ignored; a Length past
  // the received octets means the packet was truncated.
  absl::Span<const uint8_t> data;
  if (!reader.ReadBytes(length - kControlHeaderSize, &data)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PPP packet Length %d > %d octets received", length, packet.size()));
  }
  return ControlPacket{static_cast<Code>(code), identifier, data};
}

absl::StatusOr<std::vector<uint8_t>> EncodeControlPacket(
    Code code, uint8_t identifier, absl::Span<const uint8_t> data) {
  return EncodeWithParts(code, identifier, {data});
}

absl::StatusOr<EchoData> ParseEchoData(absl::Span<const uint8_t> data) {
  ByteReader reader(data);
  EchoData echo;
  if (!reader.ReadU32(&echo.magic_number)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Echo/Discard data %d octets < 4-octet Magic-Number", data.size()));
  }
  echo.data = reader.ReadRemaining();
  return echo;
}

absl::StatusOr<std::vector<uint8_t>> EncodeEchoRequest(
    uint8_t identifier, uint32_t magic_number, absl::Span<const uint8_t> data) {
  return EncodeMagicAndData(Code::kEchoRequest, identifier, magic_number, data);
}

absl::StatusOr<std::vector<uint8_t>> EncodeEchoReply(
    uint8_t identifier, uint32_t magic_number, absl::Span<const uint8_t> data) {
  return EncodeMagicAndData(Code::kEchoReply, identifier, magic_number, data);
}

absl::StatusOr<std::vector<uint8_t>> EncodeDiscardRequest(
    uint8_t identifier, uint32_t magic_number, absl::Span<const uint8_t> data) {
  return EncodeMagicAndData(Code::kDiscardRequest, identifier, magic_number,
                            data);
}

absl::StatusOr<std::vector<uint8_t>> EncodeTerminateRequest(
    uint8_t identifier, absl::Span<const uint8_t> data) {
  return EncodeWithParts(Code::kTerminateRequest, identifier, {data});
}

absl::StatusOr<std::vector<uint8_t>> EncodeTerminateAck(
    uint8_t identifier, absl::Span<const uint8_t> data) {
  return EncodeWithParts(Code::kTerminateAck, identifier, {data});
}

absl::StatusOr<std::vector<uint8_t>> EncodeCodeReject(
    uint8_t identifier, absl::Span<const uint8_t> rejected_packet,
    size_t peer_mru) {
  if (peer_mru < kControlHeaderSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "peer MRU %d too small for a %d-octet Code-Reject header", peer_mru,
        kControlHeaderSize));
  }
  const size_t room = std::min<size_t>(peer_mru, 0xFFFF) - kControlHeaderSize;
  return EncodeWithParts(
      Code::kCodeReject, identifier,
      {rejected_packet.subspan(0, std::min(room, rejected_packet.size()))});
}

absl::StatusOr<ProtocolRejectData> ParseProtocolReject(
    absl::Span<const uint8_t> data) {
  ByteReader reader(data);
  ProtocolRejectData reject;
  if (!reader.ReadU16(&reject.rejected_protocol)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Protocol-Reject data %d octets < 2-octet Rejected-Protocol",
        data.size()));
  }
  reject.rejected_information = reader.ReadRemaining();
  return reject;
}

absl::StatusOr<std::vector<uint8_t>> EncodeProtocolReject(
    uint8_t identifier, uint16_t rejected_protocol,
    absl::Span<const uint8_t> rejected_information, size_t peer_mru) {
  constexpr size_t kHeader = kControlHeaderSize + 2;
  if (peer_mru < kHeader) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "peer MRU %d too small for a %d-octet Protocol-Reject header", peer_mru,
        kHeader));
  }
  const size_t room = std::min<size_t>(peer_mru, 0xFFFF) - kHeader;
  const uint8_t protocol[2] = {static_cast<uint8_t>(rejected_protocol >> 8),
                               static_cast<uint8_t>(rejected_protocol)};
  return EncodeWithParts(
      Code::kProtocolReject, identifier,
      {protocol, rejected_information.subspan(
                     0, std::min(room, rejected_information.size()))});
}

absl::StatusOr<IdentificationData> ParseIdentification(
    absl::Span<const uint8_t> data) {
  ByteReader reader(data);
  IdentificationData identification;
  if (!reader.ReadU32(&identification.magic_number)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Identification data %d octets < 4-octet Magic-Number", data.size()));
  }
  identification.message = AsText(reader.ReadRemaining());
  return identification;
}

absl::StatusOr<std::vector<uint8_t>> EncodeIdentification(
    uint8_t identifier, uint32_t magic_number, absl::string_view message) {
  return EncodeMagicAndData(Code::kIdentification, identifier, magic_number,
                            AsBytes(message));
}

absl::StatusOr<TimeRemainingData> ParseTimeRemaining(
    absl::Span<const uint8_t> data) {
  ByteReader reader(data);
  TimeRemainingData time_remaining;
  reader.ReadU32(&time_remaining.magic_number);
  reader.ReadU32(&time_remaining.seconds_remaining);
  if (!reader.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Time-Remaining data %d octets < 8 (Magic-Number, Seconds-Remaining)",
        data.size()));
  }
  time_remaining.message = AsText(reader.ReadRemaining());
  return time_remaining;
}

absl::StatusOr<std::vector<uint8_t>> EncodeTimeRemaining(
    uint8_t identifier, uint32_t magic_number, uint32_t seconds_remaining,
    absl::string_view message) {
  const std::vector<uint8_t> magic = U32Bytes(magic_number);
  const std::vector<uint8_t> seconds = U32Bytes(seconds_remaining);
  return EncodeWithParts(Code::kTimeRemaining, identifier,
                         {magic, seconds, AsBytes(message)});
}

}  // namespace sstp::ppp
