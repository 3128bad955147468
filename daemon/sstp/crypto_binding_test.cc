#include "daemon/sstp/crypto_binding.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "base/secret.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

template <size_t N>
SecretArray<N> Secret(absl::string_view hex) {
  std::vector<uint8_t> bytes = HexOrDie(hex);
  EXPECT_EQ(bytes.size(), N);
  SecretArray<N> out;
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.data());
  return out;
}

// The CALL_CONNECTED message (MS-SSTP 2.2.10) with its Compound MAC field
// zeroed, built by hand: header 10 01 00 70 (control, 112 bytes), MsgType
// 00 04, NumAttr 00 01, attribute header 00 03 00 68 (CRYPTO_BINDING, 104
// bytes), 3 reserved bytes + hash protocol, nonce (32), cert hash (32), MAC
// (32).
std::vector<uint8_t> CallConnected(HashProtocol hash, absl::string_view nonce_hex,
                                   absl::string_view cert_hash_hex) {
  std::vector<uint8_t> message = HexOrDie("10010070 00040001 00030068 000000");
  message.push_back(static_cast<uint8_t>(hash));
  std::vector<uint8_t> nonce = HexOrDie(nonce_hex);
  std::vector<uint8_t> cert_hash = HexOrDie(cert_hash_hex);
  EXPECT_EQ(nonce.size(), 32u);
  cert_hash.resize(32, 0);  // A SHA1 hash is followed by 12 zero bytes.
  message.insert(message.end(), nonce.begin(), nonce.end());
  message.insert(message.end(), cert_hash.begin(), cert_hash.end());
  message.resize(112, 0);
  return message;
}

// MS-SSTP 4.7, SHA256 example.
constexpr absl::string_view kSha256Hlak =
    "2A1BB40D55AB0F5EF32F06F2B3CC73C4 8FD3FAC41D7A1315A19228D9024CA164";
constexpr absl::string_view kSha256Nonce =
    "412B489AEBD7ECC7D08966F26BE7CD72 B231A0E9210D7C91B308862B0344C435";
constexpr absl::string_view kSha256CertHash =
    "7993EF314C493DACE9F02D60E7E61C84 B6690AAFE9D7AEEA92CBBE8AD599422D";
constexpr absl::string_view kSha256Cmk =
    "ECF59AC9FE155CF0A9E7D66ADC1B363C 1AD7BA91A9217F0CEC2A534298828DF6";
constexpr absl::string_view kSha256Mac =
    "52A68EFD8CFFBF52770B8F0FE8EC7371 6583AF6D611EB6D179B3B20840985449";

// MS-SSTP 4.7, SHA1 example.
constexpr absl::string_view kSha1Hlak =
    "4B3128F43925D9006EEFB1C4E86515A1 D88E56BAB3CA2BDF0373B7F5A8A13B19";
constexpr absl::string_view kSha1Nonce =
    "0F1A2D58D4A3E3000FAD3CE4906E07B7 07AA9E441CCEAC5CBD7B2CC1C9D86CDF";
constexpr absl::string_view kSha1CertHash = "5826B629BDA59B8E6FD8DCD2622FD34C 534805A5";
constexpr absl::string_view kSha1Cmk = "A98B862A38CC7E224B42CD128586ACB2 2F0BD1E9";
constexpr absl::string_view kSha1Mac = "69915DD583D8062FEF16F61DB2F03290 EC27CB6C";

std::string Lower(absl::string_view hex) { return ToHex(HexOrDie(hex)); }
std::string Padded(absl::string_view hex20) { return Lower(hex20) + std::string(24, '0'); }

TEST(CryptoBindingTest, MsSstp47Sha256Cmk) {
  absl::StatusOr<Cmk> cmk = ComputeCmk(HashProtocol::kSha256, Secret<32>(kSha256Hlak));
  ASSERT_TRUE(cmk.ok()) << cmk.status();
  EXPECT_EQ(ToHex(cmk->span()), Lower(kSha256Cmk));
}

TEST(CryptoBindingTest, MsSstp47Sha256CompoundMac) {
  const std::vector<uint8_t> message =
      CallConnected(HashProtocol::kSha256, kSha256Nonce, kSha256CertHash);
  ASSERT_EQ(message.size(), 112u);
  absl::StatusOr<CryptoBindingField> mac =
      ComputeCompoundMac(HashProtocol::kSha256, Secret<32>(kSha256Cmk), message);
  ASSERT_TRUE(mac.ok()) << mac.status();
  EXPECT_EQ(ToHex(*mac), Lower(kSha256Mac));
  EXPECT_TRUE(VerifyCompoundMac(HashProtocol::kSha256, Secret<32>(kSha256Cmk), message,
                                HexOrDie(kSha256Mac))
                  .ok());
}

TEST(CryptoBindingTest, MsSstp47Sha1Cmk) {
  absl::StatusOr<Cmk> cmk = ComputeCmk(HashProtocol::kSha1, Secret<32>(kSha1Hlak));
  ASSERT_TRUE(cmk.ok()) << cmk.status();
  // 20 bytes of HMAC-SHA1, the rest of the array zero.
  EXPECT_EQ(ToHex(cmk->span()), Padded(kSha1Cmk));
}

TEST(CryptoBindingTest, MsSstp47Sha1CompoundMac) {
  const std::vector<uint8_t> message = CallConnected(HashProtocol::kSha1, kSha1Nonce, kSha1CertHash);
  ASSERT_EQ(message.size(), 112u);
  EXPECT_EQ(message[15], 0x01);  // Hash protocol SHA1.
  const Cmk cmk = Secret<32>(Padded(kSha1Cmk));
  absl::StatusOr<CryptoBindingField> mac = ComputeCompoundMac(HashProtocol::kSha1, cmk, message);
  ASSERT_TRUE(mac.ok()) << mac.status();
  EXPECT_EQ(ToHex(*mac), Padded(kSha1Mac));
  EXPECT_TRUE(
      VerifyCompoundMac(HashProtocol::kSha1, cmk, message, HexOrDie(Padded(kSha1Mac))).ok());
}

// The whole chain from the HLAK, as the client runs it.
TEST(CryptoBindingTest, MsSstp47ChainFromHlak) {
  struct Case {
    HashProtocol hash;
    absl::string_view hlak, nonce, cert_hash, mac;
  };
  const Case kCases[] = {
      {HashProtocol::kSha256, kSha256Hlak, kSha256Nonce, kSha256CertHash, kSha256Mac},
      {HashProtocol::kSha1, kSha1Hlak, kSha1Nonce, kSha1CertHash, kSha1Mac},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<Cmk> cmk = ComputeCmk(c.hash, Secret<32>(c.hlak));
    ASSERT_TRUE(cmk.ok()) << cmk.status();
    absl::StatusOr<CryptoBindingField> mac =
        ComputeCompoundMac(c.hash, *cmk, CallConnected(c.hash, c.nonce, c.cert_hash));
    ASSERT_TRUE(mac.ok()) << mac.status();
    std::vector<uint8_t> expected = HexOrDie(c.mac);
    expected.resize(32, 0);
    EXPECT_EQ(ToHex(*mac), ToHex(expected)) << static_cast<int>(c.hash);
  }
}

// SHA1 and SHA256 of a DER blob, placed in the 32-byte field. Expected
// values: python3 -c "import hashlib; print(hashlib.sha1(b'abc').hexdigest())"
// (and sha256), i.e. the FIPS 180 "abc" examples.
TEST(CryptoBindingTest, CertHashField) {
  const std::vector<uint8_t> der = {'a', 'b', 'c'};
  absl::StatusOr<CryptoBindingField> sha256 = ComputeCertHash(HashProtocol::kSha256, der);
  ASSERT_TRUE(sha256.ok()) << sha256.status();
  EXPECT_EQ(ToHex(*sha256), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  absl::StatusOr<CryptoBindingField> sha1 = ComputeCertHash(HashProtocol::kSha1, der);
  ASSERT_TRUE(sha1.ok()) << sha1.status();
  EXPECT_EQ(ToHex(*sha1), Padded("a9993e364706816aba3e25717850c26c9cd0d89d"));
}

// A flipped bit anywhere in the nonce, the cert hash or the HLAK changes the
// MAC, and the server's check rejects the original MAC.
TEST(CryptoBindingTest, FlippedBitFailsVerification) {
  const HashProtocol kHashes[] = {HashProtocol::kSha256, HashProtocol::kSha1};
  for (HashProtocol hash : kHashes) {
    const bool sha256 = hash == HashProtocol::kSha256;
    const std::vector<uint8_t> message = CallConnected(hash, sha256 ? kSha256Nonce : kSha1Nonce,
                                                       sha256 ? kSha256CertHash : kSha1CertHash);
    const Hlak hlak = Secret<32>(sha256 ? kSha256Hlak : kSha1Hlak);
    absl::StatusOr<Cmk> cmk = ComputeCmk(hash, hlak);
    ASSERT_TRUE(cmk.ok());
    absl::StatusOr<CryptoBindingField> good_mac = ComputeCompoundMac(hash, *cmk, message);
    ASSERT_TRUE(good_mac.ok());
    ASSERT_TRUE(VerifyCompoundMac(hash, *cmk, message, *good_mac).ok());

    // Nonce is bytes 16..47, cert hash 48..79 (only 48..67 for SHA1 values,
    // but the field is covered whole).
    for (size_t offset : {16u, 31u, 47u, 48u, 67u, 79u}) {
      std::vector<uint8_t> tampered = message;
      tampered[offset] ^= 0x01;
      absl::Status status = VerifyCompoundMac(hash, *cmk, tampered, *good_mac);
      EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << "offset " << offset;
      EXPECT_NE(status.message().find("Compound MAC"), absl::string_view::npos) << status;
    }
    for (size_t i : {0u, 17u, 31u}) {
      Hlak wrong_hlak = hlak;
      wrong_hlak[i] ^= 0x80;
      absl::StatusOr<Cmk> wrong_cmk = ComputeCmk(hash, wrong_hlak);
      ASSERT_TRUE(wrong_cmk.ok());
      EXPECT_NE(ToHex(wrong_cmk->span()), ToHex(cmk->span()));
      EXPECT_EQ(VerifyCompoundMac(hash, *wrong_cmk, message, *good_mac).code(),
                absl::StatusCode::kPermissionDenied)
          << "hlak byte " << i;
    }
    // A MAC with a flipped bit, or (SHA1) non-zero padding, is rejected.
    for (size_t i : {0u, 19u, 31u}) {
      CryptoBindingField bad_mac = *good_mac;
      bad_mac[i] ^= 0x01;
      EXPECT_EQ(VerifyCompoundMac(hash, *cmk, message, bad_mac).code(),
                absl::StatusCode::kPermissionDenied)
          << "mac byte " << i;
    }
  }
}

TEST(CryptoBindingTest, VerifyRejectsWrongMacLength) {
  const Cmk cmk = Secret<32>(kSha256Cmk);
  const std::vector<uint8_t> mac20 = HexOrDie(kSha1Mac);
  absl::Status status = VerifyCompoundMac(
      HashProtocol::kSha1, cmk, CallConnected(HashProtocol::kSha1, kSha1Nonce, kSha1CertHash), mac20);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "SSTP Compound MAC field has 20 bytes; expected 32");
}

// PAP/CHAP: the HLAK is 32 zero bytes (MS-SSTP 3.2.5.2); the computation
// still runs and depends on the hash.
TEST(CryptoBindingTest, ZeroHlakForKeylessAuthentication) {
  const Hlak zero;
  absl::StatusOr<Cmk> sha256 = ComputeCmk(HashProtocol::kSha256, zero);
  absl::StatusOr<Cmk> sha1 = ComputeCmk(HashProtocol::kSha1, zero);
  ASSERT_TRUE(sha256.ok() && sha1.ok());
  EXPECT_NE(ToHex(sha256->span()), std::string(64, '0'));
  EXPECT_EQ(ToHex(sha1->span()).substr(40), std::string(24, '0'));
  EXPECT_NE(ToHex(sha1->span()).substr(0, 40), ToHex(sha256->span()).substr(0, 40));
}

}  // namespace
}  // namespace sstp::proto
