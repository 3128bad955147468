#include "daemon/ppp/md4.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

std::string Md4Hex(absl::string_view text) {
  Md4Digest digest = Md4(absl::MakeConstSpan(
      reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  return ToHex(digest);
}

// RFC 1320 A.5, the full test suite.
TEST(Md4Test, Rfc1320TestSuite) {
  EXPECT_EQ(Md4Hex(""), "31d6cfe0d16ae931b73c59d7e0c089c0");
  EXPECT_EQ(Md4Hex("a"), "bde52cb31de33e46245e05fbdbd6fb24");
  EXPECT_EQ(Md4Hex("abc"), "a448017aaf21d8525fc10ae87aa6729d");
  EXPECT_EQ(Md4Hex("message digest"), "d9130a8164549fe818874806e1c7014b");
  EXPECT_EQ(Md4Hex("abcdefghijklmnopqrstuvwxyz"), "d79e1c308aa5bbcdeea8ed63df412da9");
  EXPECT_EQ(Md4Hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "043f8582f241db351ce627e153e7f0e4");
  EXPECT_EQ(Md4Hex("1234567890123456789012345678901234567890"
                   "1234567890123456789012345678901234567890"),
            "e33b4ddc9c38f2199c3e7b164fcc0536");
}

// Bytes i % 251 for i in [0, n): no period aligned with the 64-byte block.
std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i % 251);
  return bytes;
}

// Padding boundaries (RFC 1320 3.1: 55 bytes is the longest message whose
// length fits in the same block; 56..63 need a second block) and multi-block
// messages. Expected values computed independently with OpenSSL's legacy
// provider:
//   python3 -c "import sys; sys.stdout.buffer.write(bytes(i%251 for i in range(N)))" |
//     openssl dgst -md4 -provider legacy -provider default
TEST(Md4Test, BlockBoundariesMatchOpenSslLegacyProvider) {
  struct Case {
    size_t length;
    const char* md4_hex;
  };
  const Case kCases[] = {
      {55, "cc8a7f2bd608e3eeecb7f121d13bea55"},  {56, "b8e94b6408bbfa6ec9805bf21bc05cbd"},
      {63, "54ba4472fcd03e99cf28f90eed9f2ae0"},  {64, "2de6578f0e7898fa17acd84b79685d3a"},
      {65, "3a4f2ca37eebdf6dc99a6155517b74fc"},  {128, "e1275970eb67d2d996e6e658270aa149"},
      {1000, "9146d274cb46d791aefb861959aa5e98"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(ToHex(Md4(Pattern(c.length))), c.md4_hex) << "length " << c.length;
  }
}

// Same boundaries with 'a' * N (same OpenSSL command over `printf 'a%.0s' ...`).
TEST(Md4Test, RepeatedLetterBoundaries) {
  EXPECT_EQ(Md4Hex(std::string(55, 'a')), "c889c81dd86c4d2e025778944ea02881");
  EXPECT_EQ(Md4Hex(std::string(56, 'a')), "d5f9a9e9257077a5f08b0b92f348b0ad");
  EXPECT_EQ(Md4Hex(std::string(63, 'a')), "7ea3da77432d44c323671097d1348fc8");
  EXPECT_EQ(Md4Hex(std::string(64, 'a')), "52f5076fabd22680234a3fa9f9dc5732");
  EXPECT_EQ(Md4Hex(std::string(65, 'a')), "330e377bf231f3cacfecc2c182fe7e5b");
}

// Feeding the message in pieces of every size gives the one-shot digest, so
// the buffering across Update() calls is right.
TEST(Md4Test, IncrementalEqualsOneShot) {
  const std::vector<uint8_t> message = Pattern(300);
  const Md4Digest expected = Md4(message);
  for (size_t chunk = 1; chunk <= 130; ++chunk) {
    Md4Context context;
    for (size_t offset = 0; offset < message.size(); offset += chunk) {
      size_t n = std::min(chunk, message.size() - offset);
      context.Update(absl::MakeConstSpan(message.data() + offset, n));
    }
    EXPECT_EQ(context.Finish(), expected) << "chunk " << chunk;
  }
}

// Empty updates, including a null span, change nothing.
TEST(Md4Test, EmptyUpdatesAreNoOps) {
  Md4Context context;
  const std::string abc = "abc";
  context.Update({});
  context.Update(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(abc.data()), 1));
  context.Update(absl::Span<const uint8_t>());
  context.Update(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(abc.data()) + 1, 2));
  EXPECT_EQ(ToHex(context.Finish()), "a448017aaf21d8525fc10ae87aa6729d");
}

// Finish() resets the context, so it can hash the next message.
TEST(Md4Test, FinishResetsContext) {
  Md4Context context;
  const std::string abc = "abc";
  context.Update(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()));
  EXPECT_EQ(ToHex(context.Finish()), "a448017aaf21d8525fc10ae87aa6729d");
  EXPECT_EQ(ToHex(context.Finish()), "31d6cfe0d16ae931b73c59d7e0c089c0");  // MD4("")
}

}  // namespace
}  // namespace sstp::ppp
