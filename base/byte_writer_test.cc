#include "base/byte_writer.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace sstp {
namespace {

TEST(ByteWriterTest, WritesBigEndian) {
  std::vector<uint8_t> buf(15);
  ByteWriter w(absl::MakeSpan(buf));
  ASSERT_TRUE(w.WriteU8(0x01));
  ASSERT_TRUE(w.WriteU16(0x0203));
  ASSERT_TRUE(w.WriteU32(0x04050607));
  ASSERT_TRUE(w.WriteU64(0x08090a0b0c0d0e0fULL));
  EXPECT_EQ(w.size(), 15u);
  EXPECT_EQ(buf, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
}

TEST(ByteWriterTest, OverflowPoisonsAndWritesNothing) {
  std::vector<uint8_t> buf(3, 0xee);
  ByteWriter w(absl::MakeSpan(buf));
  ASSERT_TRUE(w.WriteU8(1));
  EXPECT_FALSE(w.WriteU32(0x11223344));
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(buf[1], 0xee) << "a failed write leaves the buffer alone";
  EXPECT_FALSE(w.WriteU8(2)) << "poisoned: even a write that fits fails";
  EXPECT_EQ(w.remaining(), 0u);
}

TEST(ByteWriterTest, PatchLengthAfterTheFact) {
  std::vector<uint8_t> buf(8);
  ByteWriter w(absl::MakeSpan(buf));
  ASSERT_TRUE(w.WriteU16(0));  // Length placeholder.
  ASSERT_TRUE(w.WriteBytes(std::vector<uint8_t>{0xaa, 0xbb, 0xcc}));
  ASSERT_TRUE(w.PatchU16At(0, static_cast<uint16_t>(w.size())));
  EXPECT_EQ(buf[0], 0);
  EXPECT_EQ(buf[1], 5);
  ASSERT_TRUE(w.PatchU8At(4, 0x11));
  EXPECT_EQ(buf[4], 0x11);
  EXPECT_FALSE(w.PatchU16At(4, 1)) << "patch past what was written";
  EXPECT_FALSE(w.ok());
}

TEST(ByteWriterTest, WriteZerosAndWrittenView) {
  std::vector<uint8_t> buf(4, 0xff);
  ByteWriter w(absl::MakeSpan(buf));
  ASSERT_TRUE(w.WriteZeros(3));
  EXPECT_EQ(w.written().size(), 3u);
  EXPECT_EQ(buf, (std::vector<uint8_t>{0, 0, 0, 0xff}));
  EXPECT_FALSE(w.WriteZeros(2));
}

}  // namespace
}  // namespace sstp
