#include "daemon/sstp/stream.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::proto {

absl::Status PacketReassembler::CheckHeader(absl::Span<const uint8_t> header,
                                            uint64_t offset, size_t* length) {
  absl::StatusOr<PacketHeader> parsed = ParseHeader(header);
  if (!parsed.ok()) {
    // MS-SSTP 3.1.5.1: the stream can no longer be delineated; stay failed.
    error_ = Annotate(parsed.status(),
                      absl::StrCat("SSTP stream offset ", offset));
    return error_;
  }
  *length = parsed->length;
  return absl::OkStatus();
}

absl::Status PacketReassembler::Feed(absl::Span<const uint8_t> chunk,
                                     PacketCallback on_packet) {
  if (!error_.ok()) return error_;
  const uint64_t base = stream_offset_;  // Stream offset of chunk[0].
  stream_offset_ += chunk.size();
  size_t pos = 0;

  // Copies up to `want` bytes of the chunk into the carry buffer.
  auto carry_in = [&](size_t want) {
    const size_t n = std::min(want, chunk.size() - pos);
    if (n > 0) std::memcpy(carry_.data() + carry_size_, chunk.data() + pos, n);
    carry_size_ += n;
    pos += n;
  };

  // First finish the packet cut by the previous chunk boundary.
  if (carry_size_ > 0) {
    if (carry_size_ < kHeaderSize) {
      carry_in(kHeaderSize - carry_size_);
      if (carry_size_ < kHeaderSize) return absl::OkStatus();
      RETURN_IF_ERROR(CheckHeader(absl::MakeConstSpan(carry_.data(), kHeaderSize),
                                  base + pos - carry_size_, &carry_length_));
    }
    carry_in(carry_length_ - carry_size_);
    if (carry_size_ < carry_length_) return absl::OkStatus();
    const size_t length = carry_length_;
    carry_size_ = 0;
    carry_length_ = 0;
    on_packet(absl::MakeConstSpan(carry_.data(), length));
  }

  // Then every packet that starts in this chunk: whole ones are handed out
  // in place, the last one may be cut and carried.
  while (pos < chunk.size()) {
    const size_t remaining = chunk.size() - pos;
    if (remaining < kHeaderSize) {
      carry_in(remaining);
      break;
    }
    size_t length = 0;
    RETURN_IF_ERROR(
        CheckHeader(chunk.subspan(pos, kHeaderSize), base + pos, &length));
    if (remaining < length) {
      carry_length_ = length;
      carry_in(remaining);
      break;
    }
    on_packet(chunk.subspan(pos, length));
    pos += length;
  }
  return absl::OkStatus();
}

}  // namespace sstp::proto
