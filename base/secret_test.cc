#include "base/secret.h"

#include "gtest/gtest.h"

namespace sstp {
namespace {

TEST(SecretTest, WipeBytesZeroes) {
  uint8_t buf[4] = {1, 2, 3, 4};
  WipeBytes(buf, sizeof(buf));
  for (uint8_t b : buf) EXPECT_EQ(b, 0);
}

TEST(SecretTest, SecretStringMoveLeavesSourceEmpty) {
  SecretString a(std::string("clientPass"));
  SecretString b(std::move(a));
  EXPECT_EQ(b.reveal(), "clientPass");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the wipe.
  SecretString c;
  c = b;
  EXPECT_EQ(c.reveal(), "clientPass");
}

TEST(SecretTest, SecretArrayStartsZeroed) {
  SecretArray<16> key;
  for (size_t i = 0; i < key.size(); ++i) EXPECT_EQ(key[i], 0);
  key[3] = 7;
  EXPECT_EQ(key.span()[3], 7);
}

}  // namespace
}  // namespace sstp
