// Reassembles SSTP packets from the byte stream that comes out of TLS.
//
// TLS hands out arbitrary chunks: a packet may span several chunks and one
// chunk may hold many packets. Feed() delivers every whole packet (header
// included, ready for ParsePacket()) to a callback:
//   - a packet lying wholly inside the chunk is handed out as a span into
//     the chunk, without a copy;
//   - only a packet cut by a chunk boundary is copied, into a fixed carry
//     buffer of kMaxPacketSize bytes that lives inside the object.
// Nothing is allocated after construction.
//
// Only framing is checked here (ParseHeader(): version 0x10, length >= 4).
// A framing error means the stream cannot be delineated any more; MS-SSTP
// 3.1.5.1 says to drop the connection without sending anything, so the
// reassembler stays failed: every later Feed() returns the same error.
//
// Not thread-safe; one per connection. The callback must not call Feed() on
// the same object. Spans given to the callback are valid only during the
// call.
#ifndef SSTP_KTLS_DAEMON_SSTP_STREAM_H_
#define SSTP_KTLS_DAEMON_SSTP_STREAM_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "daemon/sstp/packet.h"

namespace sstp::proto {

class PacketReassembler {
 public:
  using PacketCallback = absl::FunctionRef<void(absl::Span<const uint8_t>)>;

  PacketReassembler() = default;
  PacketReassembler(const PacketReassembler&) = delete;
  PacketReassembler& operator=(const PacketReassembler&) = delete;

  // Consumes all of `chunk`, calling `on_packet` for each packet completed,
  // in stream order. On a framing error, returns it (naming the stream
  // offset of the bad header) after delivering the packets before it.
  absl::Status Feed(absl::Span<const uint8_t> chunk, PacketCallback on_packet);

  // Bytes of an incomplete packet are held (the stream is between packets
  // only when this is false; e.g. a clean end of stream needs it false).
  bool mid_packet() const { return carry_size_ > 0; }
  size_t pending_bytes() const { return carry_size_; }
  bool failed() const { return !error_.ok(); }
  // Total bytes fed so far.
  uint64_t stream_offset() const { return stream_offset_; }

 private:
  // Checks the header at the start of `header` (4 bytes) found at stream
  // offset `offset`; on failure records the sticky error.
  absl::Status CheckHeader(absl::Span<const uint8_t> header, uint64_t offset,
                           size_t* length);

  std::array<uint8_t, kMaxPacketSize> carry_;
  size_t carry_size_ = 0;
  size_t carry_length_ = 0;   // Length of the carried packet, once known.
  uint64_t stream_offset_ = 0;  // Stream offset of chunk[0] during Feed().
  absl::Status error_;
};

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_STREAM_H_
