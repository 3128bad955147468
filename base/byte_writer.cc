#include "base/byte_writer.h"

#include <cstring>

namespace sstp {

bool ByteWriter::Fits(size_t n) {
  if (!ok_) return false;
  if (n > buffer_.size() - offset_) {
    ok_ = false;
    return false;
  }
  return true;
}

bool ByteWriter::WriteU8(uint8_t value) {
  if (!Fits(1)) return false;
  buffer_[offset_++] = value;
  return true;
}

bool ByteWriter::WriteU16(uint16_t value) {
  if (!Fits(2)) return false;
  buffer_[offset_++] = static_cast<uint8_t>(value >> 8);
  buffer_[offset_++] = static_cast<uint8_t>(value);
  return true;
}

bool ByteWriter::WriteU32(uint32_t value) {
  if (!Fits(4)) return false;
  for (int shift = 24; shift >= 0; shift -= 8) {
    buffer_[offset_++] = static_cast<uint8_t>(value >> shift);
  }
  return true;
}

bool ByteWriter::WriteU64(uint64_t value) {
  if (!Fits(8)) return false;
  for (int shift = 56; shift >= 0; shift -= 8) {
    buffer_[offset_++] = static_cast<uint8_t>(value >> shift);
  }
  return true;
}

bool ByteWriter::WriteBytes(absl::Span<const uint8_t> bytes) {
  if (!Fits(bytes.size())) return false;
  if (!bytes.empty()) std::memcpy(buffer_.data() + offset_, bytes.data(), bytes.size());
  offset_ += bytes.size();
  return true;
}

bool ByteWriter::WriteZeros(size_t n) {
  if (!Fits(n)) return false;
  if (n > 0) std::memset(buffer_.data() + offset_, 0, n);
  offset_ += n;
  return true;
}

bool ByteWriter::PatchU8At(size_t offset, uint8_t value) {
  if (!ok_ || offset >= offset_) {
    ok_ = false;
    return false;
  }
  buffer_[offset] = value;
  return true;
}

bool ByteWriter::PatchU16At(size_t offset, uint16_t value) {
  if (!ok_ || offset_ < 2 || offset > offset_ - 2) {
    ok_ = false;
    return false;
  }
  buffer_[offset] = static_cast<uint8_t>(value >> 8);
  buffer_[offset + 1] = static_cast<uint8_t>(value);
  return true;
}

}  // namespace sstp
