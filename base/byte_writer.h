// Bounds-checked, big-endian writer into a caller-provided buffer.
//
// Writes that do not fit fail and poison the writer (every later write fails
// too), so an encoder can write a whole message and check ok() once. The
// writer never allocates: the data plane writes headers in place with it.
// Lengths known only at the end are filled in with the PatchU16At() family.
#ifndef SSTP_KTLS_BASE_BYTE_WRITER_H_
#define SSTP_KTLS_BASE_BYTE_WRITER_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace sstp {

class ByteWriter {
 public:
  explicit ByteWriter(absl::Span<uint8_t> buffer) : buffer_(buffer) {}

  bool WriteU8(uint8_t value);
  bool WriteU16(uint16_t value);  // Big-endian (network order).
  bool WriteU32(uint32_t value);  // Big-endian.
  bool WriteU64(uint64_t value);  // Big-endian.
  bool WriteBytes(absl::Span<const uint8_t> bytes);
  bool WriteZeros(size_t n);

  // Overwrites bytes already written (offset + size <= size()).
  bool PatchU8At(size_t offset, uint8_t value);
  bool PatchU16At(size_t offset, uint16_t value);

  // Bytes written so far.
  size_t size() const { return offset_; }
  size_t remaining() const { return ok_ ? buffer_.size() - offset_ : 0; }
  absl::Span<const uint8_t> written() const {
    return absl::Span<const uint8_t>(buffer_.data(), offset_);
  }
  // False once any write has failed.
  bool ok() const { return ok_; }

 private:
  bool Fits(size_t n);

  absl::Span<uint8_t> buffer_;
  size_t offset_ = 0;
  bool ok_ = true;
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_BYTE_WRITER_H_
