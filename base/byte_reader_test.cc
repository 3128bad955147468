#include "base/byte_reader.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace sstp {
namespace {

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  const std::vector<uint8_t> data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                     0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  ByteReader r(data);
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  ASSERT_TRUE(r.ReadU8(&u8));
  ASSERT_TRUE(r.ReadU16(&u16));
  ASSERT_TRUE(r.ReadU32(&u32));
  ASSERT_TRUE(r.ReadU64(&u64));
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u32, 0x04050607u);
  EXPECT_EQ(u64, 0x08090a0b0c0d0e0fULL);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, FailedReadPoisonsReader) {
  const std::vector<uint8_t> data = {0xaa, 0xbb, 0xcc};
  ByteReader r(data);
  uint32_t u32 = 0x12345678;
  EXPECT_FALSE(r.ReadU32(&u32));
  EXPECT_EQ(u32, 0x12345678u) << "a failed read must not write its output";
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  uint8_t u8;
  EXPECT_FALSE(r.ReadU8(&u8)) << "bytes remain, but the reader is poisoned";
  EXPECT_TRUE(r.ReadRemaining().empty());
}

TEST(ByteReaderTest, ReadBytesAndSkipRespectBounds) {
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  ByteReader r(data);
  absl::Span<const uint8_t> view;
  ASSERT_TRUE(r.Skip(1));
  ASSERT_TRUE(r.ReadBytes(3, &view));
  EXPECT_EQ(view, absl::MakeConstSpan(data).subspan(1, 3));
  EXPECT_EQ(r.offset(), 4u);
  EXPECT_FALSE(r.ReadBytes(2, &view));
  EXPECT_FALSE(r.ok());
}

TEST(ByteReaderTest, HugeLengthDoesNotOverflow) {
  const std::vector<uint8_t> data = {1, 2};
  ByteReader r(data);
  ASSERT_TRUE(r.Skip(1));
  EXPECT_FALSE(r.Skip(SIZE_MAX));
  EXPECT_FALSE(r.ok());
}

TEST(ByteReaderTest, PeekDoesNotConsume) {
  const std::vector<uint8_t> data = {0xff, 0x03, 0x00};
  ByteReader r(data);
  uint16_t v16;
  uint8_t v8;
  ASSERT_TRUE(r.PeekU16(&v16));
  EXPECT_EQ(v16, 0xff03);
  ASSERT_TRUE(r.PeekU8(&v8));
  EXPECT_EQ(v8, 0xff);
  EXPECT_EQ(r.remaining(), 3u);
  ASSERT_TRUE(r.Skip(2));
  EXPECT_FALSE(r.PeekU16(&v16));
  EXPECT_TRUE(r.ok()) << "a failed peek does not poison";
}

TEST(ByteReaderTest, CopyBytes) {
  const std::vector<uint8_t> data = {9, 8, 7};
  ByteReader r(data);
  uint8_t out[2];
  ASSERT_TRUE(r.CopyBytes(absl::MakeSpan(out)));
  EXPECT_EQ(out[0], 9);
  EXPECT_EQ(out[1], 8);
  EXPECT_FALSE(r.CopyBytes(absl::MakeSpan(out)));
}

}  // namespace
}  // namespace sstp
