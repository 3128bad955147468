#include "daemon/ppp/chap_md5.h"

#include <cstdint>
#include <string>
#include <vector>

#include "base/hex.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

std::string ResponseHex(uint8_t identifier, absl::string_view secret, absl::string_view challenge_hex) {
  const std::vector<uint8_t> challenge = HexOrDie(challenge_hex);
  absl::StatusOr<ChapMd5Response> response = ComputeChapMd5Response(identifier, secret, challenge);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? ToHex(*response) : "error";
}

// RFC 1994 4.1: MD5(Identifier || secret || Challenge). Expected values
// computed independently:
//   python3 -c "import hashlib; print(hashlib.md5(bytes([0x2a]) + b'clientPass' +
//     bytes.fromhex('5B5D7C7D7B3F2F3E3C2C602132262628')).hexdigest())"
//   python3 -c "import hashlib; print(hashlib.md5(bytes([0x01]) + b'secret' +
//     bytes.fromhex('000102030405060708090a0b0c0d0e0f')).hexdigest())"
TEST(ChapMd5Test, MatchesIndependentMd5) {
  EXPECT_EQ(ResponseHex(0x2a, "clientPass", "5B5D7C7D7B3F2F3E3C2C602132262628"),
            "9966cfdea8173477fb942a7606aeb0c7");
  EXPECT_EQ(ResponseHex(0x01, "secret", "000102030405060708090a0b0c0d0e0f"),
            "740e86463bda3a4d7017d6e0fba0699d");
}

// Identifier, secret and challenge each change the response.
TEST(ChapMd5Test, EveryInputMatters) {
  const std::string base = ResponseHex(0x01, "secret", "000102030405060708090a0b0c0d0e0f");
  EXPECT_NE(ResponseHex(0x02, "secret", "000102030405060708090a0b0c0d0e0f"), base);
  EXPECT_NE(ResponseHex(0x01, "secreT", "000102030405060708090a0b0c0d0e0f"), base);
  EXPECT_NE(ResponseHex(0x01, "secret", "000102030405060708090a0b0c0d0e0e"), base);
  EXPECT_NE(ResponseHex(0x01, "secret", "000102030405060708090a0b0c0d0e"), base);
}

// RFC 1994 4.1 hashes the plain concatenation, with no length fields: a byte
// moved from the start of the challenge to the end of the secret hashes the
// same string, so the response is the same.
TEST(ChapMd5Test, IsMd5OverTheConcatenation) {
  EXPECT_EQ(ResponseHex(0x01, std::string("secret") + '\0', "0102030405060708090a0b0c0d0e0f"),
            ResponseHex(0x01, "secret", "000102030405060708090a0b0c0d0e0f"));
}

TEST(ChapMd5Test, EmptySecretAndChallenge) {
  // MD5 of the single byte 0x00:
  //   python3 -c "import hashlib; print(hashlib.md5(b'\x00').hexdigest())"
  EXPECT_EQ(ResponseHex(0x00, "", ""), "93b885adfe0da089cdf634904fd59f71");
}

}  // namespace
}  // namespace sstp::ppp
