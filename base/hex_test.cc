#include "base/hex.h"

#include "gtest/gtest.h"

namespace sstp {
namespace {

TEST(HexTest, RoundTrip) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(*FromHex("0001ABff"), bytes);
}

TEST(HexTest, AcceptsSeparatorsBetweenBytes) {
  EXPECT_EQ(*FromHex("2A1BB40D 55ab\n0F:5E"),
            (std::vector<uint8_t>{0x2a, 0x1b, 0xb4, 0x0d, 0x55, 0xab, 0x0f, 0x5e}));
}

TEST(HexTest, RejectsMalformedInput) {
  EXPECT_EQ(FromHex("abc").status().message(), "hex: odd number of digits");
  EXPECT_EQ(FromHex("zz").status().message(), "hex: invalid character at offset 0");
  EXPECT_EQ(FromHex("a b").status().message(), "hex: separator inside a byte at offset 1");
}

}  // namespace
}  // namespace sstp
