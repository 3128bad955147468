// Fuzzes sstp::proto::PacketReassembler (MS-SSTP 2.2.1, 3.1.5.1).
//
// Input: data[0] % 32 = k, the next k bytes are chunk sizes (used in turn,
// cycling), the rest is the TLS byte stream. The stream is fed once whole
// and once in those chunks. Invariants (abort() on violation):
//   - both feedings emit the same packets and end with the same status and
//     the same pending bytes;
//   - every packet emitted has a valid header whose length is its size;
//   - the bytes of the packets emitted are a prefix of the stream;
//   - after an error, the reassembler stays failed and emits nothing more.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "daemon/sstp/packet.h"
#include "daemon/sstp/stream.h"

namespace {

using Packets = std::vector<std::vector<uint8_t>>;

struct Result {
  Packets packets;
  absl::Status status;
  size_t pending = 0;
};

void CheckPacket(absl::Span<const uint8_t> packet) {
  absl::StatusOr<sstp::proto::PacketHeader> header = sstp::proto::ParseHeader(packet);
  if (!header.ok() || header->length != packet.size()) abort();
}

Result Feed(absl::Span<const uint8_t> stream, absl::Span<const uint8_t> sizes) {
  sstp::proto::PacketReassembler reassembler;
  Result result;
  auto collect = [&](absl::Span<const uint8_t> packet) {
    CheckPacket(packet);
    result.packets.emplace_back(packet.begin(), packet.end());
  };
  size_t pos = 0;
  size_t next_size = 0;
  bool any_nonzero = false;
  for (uint8_t s : sizes) any_nonzero |= s != 0;
  while (pos < stream.size()) {
    size_t n = stream.size() - pos;
    if (!sizes.empty() && any_nonzero) {
      n = std::min<size_t>(sizes[next_size++ % sizes.size()], n);
    }
    result.status = reassembler.Feed(stream.subspan(pos, n), collect);
    pos += n;
    if (!result.status.ok()) {
      if (!reassembler.failed()) abort();
      // Sticky: the rest of the stream is refused and emits nothing.
      const size_t emitted = result.packets.size();
      if (reassembler.Feed(stream.subspan(pos), collect) != result.status) abort();
      if (result.packets.size() != emitted) abort();
      break;
    }
  }
  result.pending = reassembler.pending_bytes();
  if (result.status.ok() && reassembler.mid_packet() != (result.pending > 0)) abort();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t k = std::min<size_t>(data[0] % 32, size - 1);
  const absl::Span<const uint8_t> sizes(data + 1, k);
  const absl::Span<const uint8_t> stream(data + 1 + k, size - 1 - k);

  const Result whole = Feed(stream, {});
  const Result chunked = Feed(stream, sizes);
  if (whole.packets != chunked.packets) abort();
  if (whole.status != chunked.status) abort();
  if (whole.status.ok() && whole.pending != chunked.pending) abort();

  size_t offset = 0;
  for (const auto& packet : whole.packets) {
    if (offset + packet.size() > stream.size()) abort();
    if (!std::equal(packet.begin(), packet.end(), stream.begin() + offset)) abort();
    offset += packet.size();
  }
  if (whole.status.ok() && offset + whole.pending != stream.size()) abort();
  return 0;
}
