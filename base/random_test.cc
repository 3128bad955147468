#include "base/random.h"

#include <array>

#include "gtest/gtest.h"

namespace sstp {
namespace {

TEST(RandomTest, FixedRandomRepeatsItsBytes) {
  FixedRandom r({0x01, 0x02, 0x03});
  std::array<uint8_t, 5> out;
  r.Fill(absl::MakeSpan(out));
  EXPECT_EQ(out, (std::array<uint8_t, 5>{1, 2, 3, 1, 2}));
  EXPECT_EQ(r.NextU32(), 0x03010203u);
}

TEST(RandomTest, SystemRandomFillsAndDiffers) {
  std::array<uint8_t, 32> a{}, b{};
  SystemRandom::Get().Fill(absl::MakeSpan(a));
  SystemRandom::Get().Fill(absl::MakeSpan(b));
  // 2^-256 chance of a false failure.
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace sstp
