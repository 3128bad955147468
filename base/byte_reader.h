// Bounds-checked, big-endian reader over received bytes.
//
// Wire data is only ever read through a ByteReader: no struct is cast over
// received bytes. Every read checks what remains; a read that does not fit
// fails, and poisons the reader, so every later read fails too and
// remaining() is 0. A parser can therefore do a run of reads and check ok()
// once, without ever reading past the end.
//
// The reader does not own the bytes; they must outlive it and every span it
// hands out.
#ifndef SSTP_KTLS_BASE_BYTE_READER_H_
#define SSTP_KTLS_BASE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace sstp {

class ByteReader {
 public:
  explicit ByteReader(absl::Span<const uint8_t> data) : data_(data) {}

  bool ReadU8(uint8_t* out);
  bool ReadU16(uint16_t* out);  // Big-endian (network order).
  bool ReadU32(uint32_t* out);  // Big-endian.
  bool ReadU64(uint64_t* out);  // Big-endian.
  // Hands out a view of the next `n` bytes and moves past them.
  bool ReadBytes(size_t n, absl::Span<const uint8_t>* out);
  // Copies the next out.size() bytes.
  bool CopyBytes(absl::Span<uint8_t> out);
  bool Skip(size_t n);
  // Looks at the next byte without consuming it.
  bool PeekU8(uint8_t* out) const;
  bool PeekU16(uint16_t* out) const;

  // Everything not read yet; moves to the end.
  absl::Span<const uint8_t> ReadRemaining();

  size_t remaining() const { return ok_ ? data_.size() - offset_ : 0; }
  size_t offset() const { return offset_; }
  bool empty() const { return remaining() == 0; }
  // False once any read has failed.
  bool ok() const { return ok_; }

 private:
  bool Fits(size_t n);

  absl::Span<const uint8_t> data_;
  size_t offset_ = 0;
  bool ok_ = true;
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_BYTE_READER_H_
