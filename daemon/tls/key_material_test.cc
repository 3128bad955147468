#include "daemon/tls/key_material.h"

#include <vector>

#include "gtest/gtest.h"

namespace sstp::tls {
namespace {

// IANA TLS Cipher Suites registry values (RFC 8446 B.4, RFC 5289 3,
// RFC 7905 3).
TEST(KeyMaterialTest, SuitesMapToTheirAead) {
  EXPECT_EQ(CipherFromSuite(0x1301), Cipher::kAes128Gcm);
  EXPECT_EQ(CipherFromSuite(0x1302), Cipher::kAes256Gcm);
  EXPECT_EQ(CipherFromSuite(0x1303), Cipher::kChacha20Poly1305);
  EXPECT_EQ(CipherFromSuite(0xC02B), Cipher::kAes128Gcm);
  EXPECT_EQ(CipherFromSuite(0xC02F), Cipher::kAes128Gcm);
  EXPECT_EQ(CipherFromSuite(0xC02C), Cipher::kAes256Gcm);
  EXPECT_EQ(CipherFromSuite(0xC030), Cipher::kAes256Gcm);
  EXPECT_EQ(CipherFromSuite(0xCCA8), Cipher::kChacha20Poly1305);
  EXPECT_EQ(CipherFromSuite(0xCCA9), Cipher::kChacha20Poly1305);
  // TLS_AES_128_CCM_SHA256 and a CBC suite are not offered.
  EXPECT_EQ(CipherFromSuite(0x1304), std::nullopt);
  EXPECT_EQ(CipherFromSuite(0xC013), std::nullopt);
}

TEST(KeyMaterialTest, HashLengthAndNames) {
  EXPECT_EQ(CipherHashLength(Cipher::kAes128Gcm), 32u);
  EXPECT_EQ(CipherHashLength(Cipher::kAes256Gcm), 48u);
  EXPECT_EQ(CipherHashLength(Cipher::kChacha20Poly1305), 32u);
  EXPECT_EQ(CipherName(Cipher::kChacha20Poly1305), "CHACHA20-POLY1305");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls12), "TLS 1.2");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls13), "TLS 1.3");
}

TEST(KeyMaterialTest, SecretSizeBounds) {
  EXPECT_EQ(Secret::FromBytes({}).status().message(), "TLS secret of 0 bytes; expected 1 to 48");
  EXPECT_EQ(Secret::FromBytes(std::vector<uint8_t>(49)).status().message(),
            "TLS secret of 49 bytes; expected 1 to 48");
  const std::vector<uint8_t> bytes = {1, 2, 3};
  absl::StatusOr<Secret> secret = Secret::FromBytes(bytes);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(std::vector<uint8_t>(secret->span().begin(), secret->span().end()), bytes);
  EXPECT_FALSE(secret->empty());
  EXPECT_TRUE(Secret().empty());
}

}  // namespace
}  // namespace sstp::tls
