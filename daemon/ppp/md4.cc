#include "daemon/ppp/md4.h"

#include <algorithm>
#include <cstring>

#include "base/secret.h"

namespace sstp::ppp {
namespace {

// RFC 1320 3.4: the three auxiliary functions.
constexpr uint32_t F(uint32_t x, uint32_t y, uint32_t z) { return (x & y) | (~x & z); }
constexpr uint32_t G(uint32_t x, uint32_t y, uint32_t z) { return (x & y) | (x & z) | (y & z); }
constexpr uint32_t H(uint32_t x, uint32_t y, uint32_t z) { return x ^ y ^ z; }

constexpr uint32_t RotateLeft(uint32_t value, int bits) {
  return (value << bits) | (value >> (32 - bits));
}

// RFC 1320 3.4: the words of a block are little-endian.
uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void StoreLe32(uint32_t value, uint8_t* p) {
  p[0] = static_cast<uint8_t>(value);
  p[1] = static_cast<uint8_t>(value >> 8);
  p[2] = static_cast<uint8_t>(value >> 16);
  p[3] = static_cast<uint8_t>(value >> 24);
}

// Round constants (RFC 1320 3.4): sqrt(2) and sqrt(3) scaled to 32 bits.
constexpr uint32_t kRound2 = 0x5A827999;
constexpr uint32_t kRound3 = 0x6ED9EBA1;

}  // namespace

Md4Context::Md4Context() { Reset(); }

Md4Context::~Md4Context() {
  WipeBytes(state_.data(), sizeof(state_));
  WipeBytes(buffer_.data(), buffer_.size());
}

void Md4Context::Reset() {
  // RFC 1320 3.3: initial buffer A, B, C, D.
  state_ = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476};
  WipeBytes(buffer_.data(), buffer_.size());
  buffered_ = 0;
  total_bytes_ = 0;
}

void Md4Context::Transform(const uint8_t* block) {
  uint32_t x[16];
  for (int i = 0; i < 16; ++i) x[i] = LoadLe32(block + 4 * i);
  uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];

  // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s, k = 0..15 in order.
  for (int i = 0; i < 16; i += 4) {
    a = RotateLeft(a + F(b, c, d) + x[i + 0], 3);
    d = RotateLeft(d + F(a, b, c) + x[i + 1], 7);
    c = RotateLeft(c + F(d, a, b) + x[i + 2], 11);
    b = RotateLeft(b + F(c, d, a) + x[i + 3], 19);
  }
  // Round 2: k runs down the columns (0 4 8 12, 1 5 9 13, ...).
  for (int i = 0; i < 4; ++i) {
    a = RotateLeft(a + G(b, c, d) + x[i + 0] + kRound2, 3);
    d = RotateLeft(d + G(a, b, c) + x[i + 4] + kRound2, 5);
    c = RotateLeft(c + G(d, a, b) + x[i + 8] + kRound2, 9);
    b = RotateLeft(b + G(c, d, a) + x[i + 12] + kRound2, 13);
  }
  // Round 3: k in bit-reversed order (0 8 4 12, 2 10 6 14, 1 9 5 13, 3 11 7 15).
  static constexpr int kOrder3[4] = {0, 2, 1, 3};
  for (int i : kOrder3) {
    a = RotateLeft(a + H(b, c, d) + x[i + 0] + kRound3, 3);
    d = RotateLeft(d + H(a, b, c) + x[i + 8] + kRound3, 9);
    c = RotateLeft(c + H(d, a, b) + x[i + 4] + kRound3, 11);
    b = RotateLeft(b + H(c, d, a) + x[i + 12] + kRound3, 15);
  }

  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  WipeBytes(x, sizeof(x));
}

void Md4Context::Update(absl::Span<const uint8_t> data) {
  if (data.empty()) return;  // data() may be null: keep it away from memcpy.
  total_bytes_ += data.size();
  const uint8_t* p = data.data();
  size_t left = data.size();
  if (buffered_ > 0) {
    size_t take = std::min(left, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    left -= take;
    if (buffered_ < buffer_.size()) return;
    Transform(buffer_.data());
    buffered_ = 0;
  }
  while (left >= 64) {
    Transform(p);
    p += 64;
    left -= 64;
  }
  if (left > 0) {
    std::memcpy(buffer_.data(), p, left);
    buffered_ = left;
  }
}

Md4Digest Md4Context::Finish() {
  // RFC 1320 3.1, 3.2: append 0x80, zeros up to 56 mod 64, then the bit
  // length as a 64-bit little-endian number.
  const uint64_t bit_length = total_bytes_ * 8;
  uint8_t padding[64 + 8] = {0x80};
  size_t pad_length = (buffered_ < 56) ? 56 - buffered_ : 120 - buffered_;
  uint8_t length_le[8];
  StoreLe32(static_cast<uint32_t>(bit_length), length_le);
  StoreLe32(static_cast<uint32_t>(bit_length >> 32), length_le + 4);
  Update(absl::MakeConstSpan(padding, pad_length));
  Update(absl::MakeConstSpan(length_le, sizeof(length_le)));

  Md4Digest digest;
  for (int i = 0; i < 4; ++i) StoreLe32(state_[i], digest.data() + 4 * i);
  Reset();
  return digest;
}

Md4Digest Md4(absl::Span<const uint8_t> data) {
  Md4Context context;
  context.Update(data);
  return context.Finish();
}

}  // namespace sstp::ppp
