// Fuzzes sstp::proto::ParsePacket() (MS-SSTP 2.2).
//
// Invariants checked (abort() on violation):
//   - every parse error carries the STATUS_INFO detail for the peer;
//   - a parsed control message encodes again (EncodeControl accepts all the
//     parser accepts), the encoding has the input's size, parses back to the
//     same message with no reserved bit set, and equals the input byte for
//     byte unless the input had reserved bits set;
//   - a parsed data packet's payload is the input after the 4-byte header,
//     and re-encoding it gives back the input (reserved bits aside).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "daemon/sstp/packet.h"

using sstp::proto::ControlMessage;
using sstp::proto::Packet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> input(data, size);
  absl::StatusOr<Packet> packet = sstp::proto::ParsePacket(input);
  if (!packet.ok()) {
    if (!sstp::proto::GetParseErrorDetail(packet.status()).has_value()) abort();
    return 0;
  }
  std::vector<uint8_t> expected(input.begin(), input.end());
  if (packet->reserved_bits_set) {
    // Only the header bits can be cleared generically; for control messages
    // the attribute reserved fields are compared through the re-parse below.
    expected[1] &= 0x01;
    expected[2] &= 0x0F;
  }
  if (const ControlMessage* message = packet->control()) {
    absl::StatusOr<std::vector<uint8_t>> encoded = sstp::proto::EncodeControl(*message);
    if (!encoded.ok()) abort();
    if (encoded->size() != size) abort();
    absl::StatusOr<Packet> again = sstp::proto::ParsePacket(*encoded);
    if (!again.ok() || again->reserved_bits_set || again->control() == nullptr ||
        *again->control() != *message) {
      abort();
    }
    if (!packet->reserved_bits_set && *encoded != expected) abort();
    return 0;
  }
  const sstp::proto::DataPacket* data_packet = packet->data();
  if (data_packet == nullptr || data_packet->payload.data() != data + 4 ||
      data_packet->payload.size() != size - 4) {
    abort();
  }
  absl::StatusOr<std::vector<uint8_t>> encoded =
      sstp::proto::EncodeDataPacket(data_packet->payload);
  if (!encoded.ok() || *encoded != expected) abort();
  return 0;
}
