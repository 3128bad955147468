// Fuzzes sstp::ppp::DecodeFrame() (RFC 1661 section 2, RFC 1662 3.1 as SSTP
// carries PPP).
//
// Invariants checked (abort() on violation):
//   - a decoded frame has a valid Protocol value and its Information field is
//     the tail of the input (nothing copied, nothing dropped);
//   - EncodeFrame() accepts every decoded protocol, writes FF 03 + 2-octet
//     Protocol, agrees with WriteFrameHeader(), and decoding the encoding
//     gives back the same protocol and information.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "daemon/ppp/frame.h"

using sstp::ppp::Frame;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> input(data, size);
  absl::StatusOr<Frame> frame = sstp::ppp::DecodeFrame(input);
  if (!frame.ok()) return 0;
  if (!sstp::ppp::IsValidProtocol(frame->protocol)) abort();
  if (frame->information.size() > size ||
      frame->information.data() + frame->information.size() != data + size) {
    abort();
  }

  absl::StatusOr<std::vector<uint8_t>> encoded =
      sstp::ppp::EncodeFrame(frame->protocol, frame->information);
  if (!encoded.ok()) abort();
  if (encoded->size() !=
          sstp::ppp::kFrameHeaderSize + frame->information.size() ||
      (*encoded)[0] != 0xFF || (*encoded)[1] != 0x03) {
    abort();
  }
  uint8_t header[sstp::ppp::kFrameHeaderSize];
  if (!sstp::ppp::WriteFrameHeader(absl::MakeSpan(header), frame->protocol)
           .ok() ||
      std::memcmp(header, encoded->data(), sizeof(header)) != 0) {
    abort();
  }

  absl::StatusOr<Frame> again = sstp::ppp::DecodeFrame(*encoded);
  if (!again.ok() || again->protocol != frame->protocol ||
      again->information != frame->information) {
    abort();
  }
  return 0;
}
