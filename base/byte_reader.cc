#include "base/byte_reader.h"

#include <cstring>

namespace sstp {

bool ByteReader::Fits(size_t n) {
  if (!ok_) return false;
  if (n > data_.size() - offset_) {
    ok_ = false;
    return false;
  }
  return true;
}

bool ByteReader::ReadU8(uint8_t* out) {
  if (!Fits(1)) return false;
  *out = data_[offset_++];
  return true;
}

bool ByteReader::ReadU16(uint16_t* out) {
  if (!Fits(2)) return false;
  *out = static_cast<uint16_t>(data_[offset_] << 8 | data_[offset_ + 1]);
  offset_ += 2;
  return true;
}

bool ByteReader::ReadU32(uint32_t* out) {
  if (!Fits(4)) return false;
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = value << 8 | data_[offset_ + i];
  *out = value;
  offset_ += 4;
  return true;
}

bool ByteReader::ReadU64(uint64_t* out) {
  if (!Fits(8)) return false;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | data_[offset_ + i];
  *out = value;
  offset_ += 8;
  return true;
}

bool ByteReader::ReadBytes(size_t n, absl::Span<const uint8_t>* out) {
  if (!Fits(n)) return false;
  *out = data_.subspan(offset_, n);
  offset_ += n;
  return true;
}

bool ByteReader::CopyBytes(absl::Span<uint8_t> out) {
  if (!Fits(out.size())) return false;
  if (!out.empty()) std::memcpy(out.data(), data_.data() + offset_, out.size());
  offset_ += out.size();
  return true;
}

bool ByteReader::Skip(size_t n) {
  if (!Fits(n)) return false;
  offset_ += n;
  return true;
}

bool ByteReader::PeekU8(uint8_t* out) const {
  if (remaining() < 1) return false;
  *out = data_[offset_];
  return true;
}

bool ByteReader::PeekU16(uint16_t* out) const {
  if (remaining() < 2) return false;
  *out = static_cast<uint16_t>(data_[offset_] << 8 | data_[offset_ + 1]);
  return true;
}

absl::Span<const uint8_t> ByteReader::ReadRemaining() {
  if (!ok_) return {};
  absl::Span<const uint8_t> rest = data_.subspan(offset_);
  offset_ = data_.size();
  return rest;
}

}  // namespace sstp
