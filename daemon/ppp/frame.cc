#include "daemon/ppp/frame.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "base/byte_writer.h"

namespace sstp::ppp {

std::string ProtocolName(uint16_t protocol) {
  switch (protocol) {
    case kProtocolIpv4:
      return "IPv4";
    case kProtocolIpv6:
      return "IPv6";
    case kProtocolIpcp:
      return "IPCP";
    case kProtocolEcp:
      return "ECP";
    case kProtocolIpv6cp:
      return "IPv6CP";
    case kProtocolCcp:
      return "CCP";
    case kProtocolLcp:
      return "LCP";
    case kProtocolPap:
      return "PAP";
    case kProtocolLqr:
      return "LQR";
    case kProtocolChap:
      return "CHAP";
    case kProtocolEap:
      return "EAP";
  }
  return absl::StrFormat("0x%04x", protocol);
}

bool IsValidProtocol(uint16_t protocol) {
  return (protocol & 0x0100) == 0 && (protocol & 0x0001) == 1 &&
         protocol != 0x00FF;
}

absl::StatusOr<Frame> DecodeFrame(absl::Span<const uint8_t> frame) {
  ByteReader reader(frame);
  uint8_t first = 0;
  if (!reader.PeekU8(&first)) {
    return absl::InvalidArgumentError("PPP frame is empty");
  }
  // RFC 1661 6.6: if the first two octets are FF 03 they are the Address and
  // Control fields, otherwise they were compressed away. A lone FF cannot
  // start a Protocol field (0x00FF is reserved for exactly this reason).
  if (first == kAllStationsAddress) {
    uint16_t address_control = 0;
    if (!reader.ReadU16(&address_control)) {
      return absl::InvalidArgumentError(
          "PPP frame truncated: Address 0xff without Control field");
    }
    if ((address_control & 0xFF) != kUnnumberedInformation) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "PPP Address 0xff followed by Control 0x%02x, expected 0x03",
          address_control & 0xFF));
    }
  }
  uint8_t high = 0;
  if (!reader.ReadU8(&high)) {
    return absl::InvalidArgumentError("PPP frame has no Protocol field");
  }
  uint16_t protocol = 0;
  if (high & 0x01) {
    // RFC 1661 6.5: an odd first octet is a compressed 1-octet Protocol
    // field holding the low octet of 0x00XX.
    protocol = high;
  } else {
    uint8_t low = 0;
    if (!reader.ReadU8(&low)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "PPP Protocol field truncated: 1 of 2 octets (0x%02x)", high));
    }
    protocol = static_cast<uint16_t>(high << 8 | low);
    if ((low & 0x01) == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "PPP Protocol 0x%04x invalid: least significant octet must be odd "
          "(RFC 1661 section 2)",
          protocol));
    }
  }
  if (protocol == 0x00FF) {
    return absl::InvalidArgumentError(
        "PPP Protocol 0x00ff is reserved (RFC 1661 6.6)");
  }
  return Frame{protocol, reader.ReadRemaining()};
}

absl::Status WriteFrameHeader(absl::Span<uint8_t> header, uint16_t protocol) {
  if (!IsValidProtocol(protocol)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot send PPP Protocol 0x%04x: not a valid Protocol value "
        "(RFC 1661 section 2)",
        protocol));
  }
  ByteWriter writer(header);
  writer.WriteU8(kAllStationsAddress);
  writer.WriteU8(kUnnumberedInformation);
  writer.WriteU16(protocol);
  if (!writer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("PPP frame header needs %d bytes, buffer has %d",
                        kFrameHeaderSize, header.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> EncodeFrame(
    uint16_t protocol, absl::Span<const uint8_t> information) {
  std::vector<uint8_t> frame(kFrameHeaderSize + information.size());
  absl::Status status = WriteFrameHeader(absl::MakeSpan(frame), protocol);
  if (!status.ok()) return status;
  if (!information.empty()) {
    std::copy(information.begin(), information.end(),
              frame.begin() + kFrameHeaderSize);
  }
  return frame;
}

}  // namespace sstp::ppp
