#include "ktls/key_schedule.h"

#include <linux/tls.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace sstp::ktls {
namespace {

std::vector<uint8_t> Bytes(absl::string_view hex) { return HexOrDie(hex); }

std::string Hex(absl::Span<const uint8_t> bytes) { return ToHex(bytes); }

std::string ExpandLabelHex(Hash hash, absl::string_view secret_hex, absl::string_view label,
                           absl::string_view context_hex, size_t length) {
  std::vector<uint8_t> out(length);
  absl::Status status =
      HkdfExpandLabel(hash, Bytes(secret_hex), label, Bytes(context_hex), absl::MakeSpan(out));
  EXPECT_TRUE(status.ok()) << status;
  return Hex(out);
}

// RFC 8448 section 3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256.
constexpr absl::string_view kEarlySecret =
    "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a";
constexpr absl::string_view kEmptyHash =  // SHA256("")
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr absl::string_view kMasterSecret =
    "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919";
constexpr absl::string_view kTranscriptThroughServerFinished =
    "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13";
constexpr absl::string_view kClientHandshakeSecret =
    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
constexpr absl::string_view kServerHandshakeSecret =
    "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
constexpr absl::string_view kClientApplicationSecret =
    "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
constexpr absl::string_view kServerApplicationSecret =
    "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";

// RFC 8448 3: "derive secret for handshake "tls13 derived"" (a non-empty
// context: the empty transcript hash).
TEST(HkdfExpandLabelTest, Rfc8448DerivedSecret) {
  EXPECT_EQ(ExpandLabelHex(Hash::kSha256, kEarlySecret, "derived", kEmptyHash, 32),
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
}

// RFC 8448 3: "derive secret "tls13 c ap traffic"" / "s ap traffic" over the
// transcript through the server Finished.
TEST(HkdfExpandLabelTest, Rfc8448ApplicationTrafficSecrets) {
  EXPECT_EQ(ExpandLabelHex(Hash::kSha256, kMasterSecret, "c ap traffic",
                           kTranscriptThroughServerFinished, 32),
            kClientApplicationSecret);
  EXPECT_EQ(ExpandLabelHex(Hash::kSha256, kMasterSecret, "s ap traffic",
                           kTranscriptThroughServerFinished, 32),
            kServerApplicationSecret);
}

// RFC 8448 3: "calculate finished "tls13 finished"" for both sides.
TEST(HkdfExpandLabelTest, Rfc8448FinishedKeys) {
  EXPECT_EQ(ExpandLabelHex(Hash::kSha256, kServerHandshakeSecret, "finished", "", 32),
            "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8");
  EXPECT_EQ(ExpandLabelHex(Hash::kSha256, kClientHandshakeSecret, "finished", "", 32),
            "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4");
}

TEST(HkdfExpandLabelTest, RejectsBadLengths) {
  const std::vector<uint8_t> secret(32, 1);
  std::vector<uint8_t> out(16);
  absl::Status status = HkdfExpandLabel(Hash::kSha256, secret, "", {}, absl::MakeSpan(out));
  EXPECT_EQ(status.message(), "HKDF-Expand-Label label has 0 bytes; must be 1..249 (RFC 8446 7.1)");
  status = HkdfExpandLabel(Hash::kSha256, secret, std::string(250, 'x'), {}, absl::MakeSpan(out));
  EXPECT_EQ(status.message(),
            "HKDF-Expand-Label label has 250 bytes; must be 1..249 (RFC 8446 7.1)");
  EXPECT_TRUE(
      HkdfExpandLabel(Hash::kSha256, secret, std::string(249, 'x'), {}, absl::MakeSpan(out)).ok());
  const std::vector<uint8_t> context(256, 0);
  status = HkdfExpandLabel(Hash::kSha256, secret, "key", context, absl::MakeSpan(out));
  EXPECT_EQ(status.message(), "HKDF-Expand-Label context has 256 bytes; at most 255");
  std::vector<uint8_t> big(255 * 32 + 1);
  status = HkdfExpandLabel(Hash::kSha256, secret, "key", {}, absl::MakeSpan(big));
  EXPECT_EQ(status.message(), "HKDF-Expand-Label output of 8161 bytes; must be 1..8160");
  status = HkdfExpandLabel(Hash::kSha256, secret, "key", {}, {});
  EXPECT_EQ(status.message(), "HKDF-Expand-Label output of 0 bytes; must be 1..8160");
}

void ExpectKeys(Cipher cipher, absl::string_view secret_hex, absl::string_view key_hex,
                absl::string_view iv_hex) {
  absl::StatusOr<TrafficKeys> keys = DeriveTls13Keys(cipher, Bytes(secret_hex));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->cipher, cipher);
  EXPECT_EQ(Hex(keys->key_span()), key_hex);
  EXPECT_EQ(Hex(keys->iv.span()), iv_hex);
  // Bytes past the key length stay zero.
  for (size_t i = KeyLength(cipher); i < kMaxKeyLength; ++i) EXPECT_EQ(keys->key[i], 0);
}

// RFC 8448 3: "{client} derive write traffic keys for application data" and
// "{server} derive write traffic keys for application data".
TEST(DeriveTls13KeysTest, Rfc8448ApplicationTrafficKeys) {
  ExpectKeys(Cipher::kAes128Gcm, kClientApplicationSecret, "17422dda596ed5d9acd890e3c63f5051",
             "5b78923dee08579033e523d9");
  ExpectKeys(Cipher::kAes128Gcm, kServerApplicationSecret, "9f02283b6c9c07efc26bb9f2ac92e356",
             "cf782b88dd83549aadf1e984");
}

// RFC 8448 3: "{server} derive write traffic keys for handshake data" and the
// client's counterpart.
TEST(DeriveTls13KeysTest, Rfc8448HandshakeTrafficKeys) {
  ExpectKeys(Cipher::kAes128Gcm, kServerHandshakeSecret, "3fce516009c21727d0f2e4e86ee403bc",
             "5d313eb2671276ee13000b30");
  ExpectKeys(Cipher::kAes128Gcm, kClientHandshakeSecret, "dbfaa693d1762c5b666af5d950258d01",
             "5bd3c71b836e0b76bb73265f");
}

// No published vectors for these suites: expected values from an independent
// HKDF-Expand-Label written with Python's hmac module, the same script
// reproducing the RFC 8448 values above:
//   def hel(h, secret, label, ctx, L):
//     full = b'tls13 ' + label
//     info = L.to_bytes(2,'big') + bytes([len(full)]) + full + bytes([len(ctx)]) + ctx
//     out, t, i = b'', b'', 1
//     while len(out) < L: t = hmac.new(secret, t + info + bytes([i]), h).digest(); out += t; i += 1
//     return out[:L]
//   hel('sha384', bytes(range(48)), b'key', b'', 32), hel('sha384', ..., b'iv', b'', 12)
//   hel('sha256', bytes(range(32, 64)), b'key', b'', 32), ... b'iv' ...
std::string Range(int first, int count) {
  std::vector<uint8_t> bytes(count);
  for (int i = 0; i < count; ++i) bytes[i] = static_cast<uint8_t>(first + i);
  return Hex(bytes);
}

TEST(DeriveTls13KeysTest, Aes256GcmUsesSha384) {
  ExpectKeys(Cipher::kAes256Gcm, Range(0, 48),
             "6877d022f1c61d24ebb7487c16752d9a4798e40431c75b39320e537c90e23225",
             "42822531a0fe88648fc09e9f");
}

TEST(DeriveTls13KeysTest, Chacha20Poly1305UsesSha256) {
  ExpectKeys(Cipher::kChacha20Poly1305, Range(32, 32),
             "d923000c2ebbe7e78f9fb6b956f12f56c0a5a89205e07985eec830c208f6a697",
             "e0a19f74444f6ad9ab160d17");
}

TEST(DeriveTls13KeysTest, RejectsSecretOfWrongLength) {
  absl::StatusOr<TrafficKeys> keys = DeriveTls13Keys(Cipher::kAes256Gcm, Bytes(kClientApplicationSecret));
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().message(),
            "TLS 1.3 traffic secret has 32 bytes; AES-256-GCM uses SHA384, which needs 48");
  keys = DeriveTls13Keys(Cipher::kAes128Gcm, Bytes(Range(0, 48)));
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().message(),
            "TLS 1.3 traffic secret has 48 bytes; AES-128-GCM uses SHA256, which needs 32");
}

// RFC 8446 7.2 has no published vector: check the definition (HKDF-Expand-
// Label with "traffic upd", empty context, Hash.length), determinism, and an
// independent value (same Python hel(): hel('sha256', secret, b'traffic upd',
// b'', 32)).
TEST(NextTrafficSecretTest, IsHkdfExpandLabelTrafficUpd) {
  absl::StatusOr<TrafficSecret> next =
      NextTrafficSecret(Cipher::kAes128Gcm, Bytes(kClientApplicationSecret));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->size(), 32u);
  EXPECT_EQ(Hex(next->span()),
            ExpandLabelHex(Hash::kSha256, kClientApplicationSecret, "traffic upd", "", 32));
  EXPECT_EQ(Hex(next->span()), "fcdfcc72725aaee48bf64e4fd8b749cdbdbab39d90da0b26e2245ca6ea167207");

  absl::StatusOr<TrafficSecret> again =
      NextTrafficSecret(Cipher::kAes128Gcm, Bytes(kClientApplicationSecret));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Hex(again->span()), Hex(next->span()));

  // Each generation differs from the last.
  absl::StatusOr<TrafficSecret> third = NextTrafficSecret(Cipher::kAes128Gcm, next->span());
  ASSERT_TRUE(third.ok());
  EXPECT_NE(Hex(third->span()), Hex(next->span()));
  EXPECT_NE(Hex(next->span()), kClientApplicationSecret);
  // And the new keys come from the new secret.
  absl::StatusOr<TrafficKeys> keys = DeriveTls13Keys(Cipher::kAes128Gcm, next->span());
  ASSERT_TRUE(keys.ok());
  EXPECT_NE(Hex(keys->key_span()), "17422dda596ed5d9acd890e3c63f5051");
}

TEST(NextTrafficSecretTest, Sha384SuiteKeeps48Bytes) {
  absl::StatusOr<TrafficSecret> next = NextTrafficSecret(Cipher::kAes256Gcm, Bytes(Range(0, 48)));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->size(), 48u);
  EXPECT_EQ(Hex(next->span()),
            "401331b63e9d59f202e8f041042d9516f4cd7fa2e2ee14631d3b49fc340d7af3"
            "7fc2c0c9f252d8036f81ec5b85cbe5db");
  EXPECT_FALSE(NextTrafficSecret(Cipher::kAes256Gcm, Bytes(kClientApplicationSecret)).ok());
}

TEST(TrafficSecretTest, FromBytesChecksLength) {
  EXPECT_TRUE(TrafficSecret::FromBytes(Bytes(Range(0, 32))).ok());
  EXPECT_TRUE(TrafficSecret::FromBytes(Bytes(Range(0, 48))).ok());
  absl::StatusOr<TrafficSecret> secret = TrafficSecret::FromBytes(Bytes(Range(0, 20)));
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message(),
            "TLS traffic secret has 20 bytes; expected 32 (SHA256) or 48 (SHA384)");
}

// The TLS 1.2 PRF vectors posted to the IETF TLS WG list
// (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), widely
// used as known answers for P_SHA256 and P_SHA384.
TEST(Tls12PrfTest, IetfSha256Vector) {
  std::vector<uint8_t> out(100);
  absl::Status status = Tls12Prf(Hash::kSha256, Bytes("9bbe436ba940f017b17652849a71db35"),
                                 "test label", Bytes("a0ba9f936cda311827a6f796ffd5198c"),
                                 absl::MakeSpan(out));
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Hex(out),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
            "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
            "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
            "87347b66");
}

TEST(Tls12PrfTest, IetfSha384Vector) {
  std::vector<uint8_t> out(148);
  absl::Status status = Tls12Prf(Hash::kSha384, Bytes("b80b733d6ceefcdc71566ea48e5567df"),
                                 "test label", Bytes("cd665cf6a8447dd6ff8b27555edb7465"),
                                 absl::MakeSpan(out));
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Hex(out),
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
            "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
            "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
            "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
            "91c8f3a26854308d5eaa3be85e0990703d73e56f");
}

// P_hash is a stream: a shorter output is a prefix of a longer one.
TEST(Tls12PrfTest, ShorterOutputIsPrefix) {
  std::vector<uint8_t> long_out(100), short_out(13);
  const std::vector<uint8_t> secret = Bytes("9bbe436ba940f017b17652849a71db35");
  const std::vector<uint8_t> seed = Bytes("a0ba9f936cda311827a6f796ffd5198c");
  ASSERT_TRUE(Tls12Prf(Hash::kSha256, secret, "test label", seed, absl::MakeSpan(long_out)).ok());
  ASSERT_TRUE(Tls12Prf(Hash::kSha256, secret, "test label", seed, absl::MakeSpan(short_out)).ok());
  EXPECT_TRUE(std::equal(short_out.begin(), short_out.end(), long_out.begin()));
}

// RFC 5246 6.3 key block split. No published vector for "key expansion":
// expected values from an independent P_hash in Python (the same code gives
// the IETF PRF vectors above):
//   def p_hash(h, secret, seed, L):
//     out, a = b'', seed
//     while len(out) < L: a = hmac.new(secret, a, h).digest(); out += hmac.new(secret, a + seed, h).digest()
//     return out[:L]
//   kb = p_hash(h, bytes(range(48)), b'key expansion' + b'\x5e'*32 + b'\xc0'*32, 2*K + 2*IV)
struct Tls12Case {
  Cipher cipher;
  const char* client_key;
  const char* server_key;
  const char* client_iv;
  const char* server_iv;
};

TEST(DeriveTls12KeysTest, KeyBlockSplit) {
  const Tls12Case kCases[] = {
      {Cipher::kAes128Gcm, "ab9bd9302bd13d4e1ccd095472af4a9b", "08f5e7e9b329fab7b7058f60d60aabe6",
       "1751c365", "fd6e3b3f"},
      {Cipher::kAes256Gcm, "03f8e5f647b0e22a1beee277f64233b14dbd296246ee82c82cbb6bcc4d6401f5",
       "6f8da9b2cd474e2bfad3c6d87957457f1be8d180c4b07899a14a3c4387740b9a", "e89040a1",
       "a73553ec"},
      {Cipher::kChacha20Poly1305,
       "ab9bd9302bd13d4e1ccd095472af4a9b08f5e7e9b329fab7b7058f60d60aabe6",
       "1751c365fd6e3b3f70e7e22d25b985decca9a6967732bc89bad11049487866c1",
       "c5573f1be5028196fb0387ab", "b6632c931b9485712164d29d"},
  };
  const std::vector<uint8_t> master = Bytes(Range(0, 48));
  const std::vector<uint8_t> client_random(32, 0xc0);
  const std::vector<uint8_t> server_random(32, 0x5e);
  for (const Tls12Case& c : kCases) {
    SCOPED_TRACE(std::string(CipherName(c.cipher)));
    absl::StatusOr<Tls12Keys> keys = DeriveTls12Keys(c.cipher, master, client_random, server_random);
    ASSERT_TRUE(keys.ok()) << keys.status();
    EXPECT_EQ(keys->client.cipher, c.cipher);
    EXPECT_EQ(keys->server.cipher, c.cipher);
    EXPECT_EQ(Hex(keys->client.key_span()), c.client_key);
    EXPECT_EQ(Hex(keys->server.key_span()), c.server_key);
    const size_t iv_length = Tls12FixedIvLength(c.cipher);
    EXPECT_EQ(Hex(keys->client.iv.span().first(iv_length)), c.client_iv);
    EXPECT_EQ(Hex(keys->server.iv.span().first(iv_length)), c.server_iv);
    for (size_t i = iv_length; i < kIvLength; ++i) {
      EXPECT_EQ(keys->client.iv[i], 0);
      EXPECT_EQ(keys->server.iv[i], 0);
    }
  }
}

TEST(DeriveTls12KeysTest, RejectsBadInputLengths) {
  const std::vector<uint8_t> random(32, 1);
  absl::StatusOr<Tls12Keys> keys =
      DeriveTls12Keys(Cipher::kAes128Gcm, std::vector<uint8_t>(47, 0), random, random);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().message(), "TLS 1.2 master secret has 47 bytes; expected 48");
  keys = DeriveTls12Keys(Cipher::kAes128Gcm, std::vector<uint8_t>(48, 0), random,
                         std::vector<uint8_t>(31, 0));
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().message(), "TLS 1.2 randoms have 32 and 31 bytes; expected 32 each");
}

TEST(CipherTest, SizesHashesAndNames) {
  EXPECT_EQ(KeyLength(Cipher::kAes128Gcm), 16u);
  EXPECT_EQ(KeyLength(Cipher::kAes256Gcm), 32u);
  EXPECT_EQ(KeyLength(Cipher::kChacha20Poly1305), 32u);
  EXPECT_EQ(Tls12FixedIvLength(Cipher::kAes128Gcm), 4u);
  EXPECT_EQ(Tls12FixedIvLength(Cipher::kAes256Gcm), 4u);
  EXPECT_EQ(Tls12FixedIvLength(Cipher::kChacha20Poly1305), 12u);
  EXPECT_EQ(CipherHash(Cipher::kAes128Gcm), Hash::kSha256);
  EXPECT_EQ(CipherHash(Cipher::kAes256Gcm), Hash::kSha384);
  EXPECT_EQ(CipherHash(Cipher::kChacha20Poly1305), Hash::kSha256);
  EXPECT_EQ(HashLength(Hash::kSha256), 32u);
  EXPECT_EQ(HashLength(Hash::kSha384), 48u);
  EXPECT_EQ(CipherName(Cipher::kChacha20Poly1305), "CHACHA20-POLY1305");
  EXPECT_EQ(TlsVersionName(TlsVersion::kTls13), "TLS 1.3");
  EXPECT_EQ(HashName(Hash::kSha384), "SHA384");
}

// Raw bytes [offset, offset + length) of the crypto_info.
std::string Field(const KernelCryptoInfo& info, size_t offset, size_t length) {
  const uint8_t* p = static_cast<const uint8_t*>(info.data());
  EXPECT_LE(offset + length, info.size());
  return Hex(absl::MakeConstSpan(p + offset, length));
}

TrafficKeys Keys(Cipher cipher, absl::string_view key_hex, absl::string_view iv_hex) {
  TrafficKeys keys;
  keys.cipher = cipher;
  std::vector<uint8_t> key = Bytes(key_hex), iv = Bytes(iv_hex);
  std::copy(key.begin(), key.end(), keys.key.data());
  std::copy(iv.begin(), iv.end(), keys.iv.data());
  return keys;
}

// TLS 1.3 AES-128-GCM from the RFC 8448 server application keys: salt =
// iv[0..4), iv = iv[4..12) (KTLS-NOTES.md, kernel tls.rst). Offsets are
// spelled out (not offsetof) so a wrong struct choice shows up.
TEST(BuildCryptoInfoTest, Tls13Aes128GcmFromRfc8448) {
  absl::StatusOr<TrafficKeys> keys =
      DeriveTls13Keys(Cipher::kAes128Gcm, Bytes(kServerApplicationSecret));
  ASSERT_TRUE(keys.ok());
  const KernelCryptoInfo info = BuildCryptoInfo(TlsVersion::kTls13, *keys, 2);
  ASSERT_EQ(info.size(), sizeof(tls12_crypto_info_aes_gcm_128));
  ASSERT_EQ(info.size(), 40u);
  EXPECT_EQ(info.version(), TLS_1_3_VERSION);
  EXPECT_EQ(info.version(), 0x0304);
  EXPECT_EQ(info.cipher_type(), TLS_CIPHER_AES_GCM_128);
  EXPECT_EQ(info.cipher_type(), 51);
  EXPECT_EQ(Field(info, 4, 8), "dd83549aadf1e984");                   // iv
  EXPECT_EQ(Field(info, 12, 16), "9f02283b6c9c07efc26bb9f2ac92e356");  // key
  EXPECT_EQ(Field(info, 28, 4), "cf782b88");                           // salt
  EXPECT_EQ(Field(info, 32, 8), "0000000000000002");                   // rec_seq

  // The same through the kernel's field names.
  tls12_crypto_info_aes_gcm_128 kernel;
  std::memcpy(&kernel, info.data(), sizeof(kernel));
  EXPECT_EQ(Hex(absl::MakeConstSpan(kernel.salt, 4)), "cf782b88");
  EXPECT_EQ(Hex(absl::MakeConstSpan(kernel.iv, 8)), "dd83549aadf1e984");
  EXPECT_EQ(Hex(absl::MakeConstSpan(kernel.key, 16)), "9f02283b6c9c07efc26bb9f2ac92e356");
  EXPECT_EQ(Hex(absl::MakeConstSpan(kernel.rec_seq, 8)), "0000000000000002");
}

// TLS 1.2 AES-128-GCM: salt = the implicit IV, iv = explicit nonce = the
// sequence number, rec_seq = the sequence number.
TEST(BuildCryptoInfoTest, Tls12Aes128Gcm) {
  const TrafficKeys keys =
      Keys(Cipher::kAes128Gcm, "000102030405060708090a0b0c0d0e0f", "a1a2a3a4");
  const KernelCryptoInfo info = BuildCryptoInfo(TlsVersion::kTls12, keys, 0x0102030405060708);
  ASSERT_EQ(info.size(), 40u);
  EXPECT_EQ(info.version(), TLS_1_2_VERSION);
  EXPECT_EQ(info.version(), 0x0303);
  EXPECT_EQ(info.cipher_type(), 51);
  EXPECT_EQ(Field(info, 4, 8), "0102030405060708");                   // iv (explicit nonce)
  EXPECT_EQ(Field(info, 12, 16), "000102030405060708090a0b0c0d0e0f");  // key
  EXPECT_EQ(Field(info, 28, 4), "a1a2a3a4");                           // salt
  EXPECT_EQ(Field(info, 32, 8), "0102030405060708");                   // rec_seq
}

TEST(BuildCryptoInfoTest, Aes256GcmBothVersions) {
  const TrafficKeys keys = Keys(Cipher::kAes256Gcm, Range(0x20, 32), "b0b1b2b3b4b5b6b7b8b9babb");
  const KernelCryptoInfo tls13 = BuildCryptoInfo(TlsVersion::kTls13, keys, 1);
  ASSERT_EQ(tls13.size(), sizeof(tls12_crypto_info_aes_gcm_256));
  ASSERT_EQ(tls13.size(), 56u);
  EXPECT_EQ(tls13.version(), 0x0304);
  EXPECT_EQ(tls13.cipher_type(), TLS_CIPHER_AES_GCM_256);
  EXPECT_EQ(tls13.cipher_type(), 52);
  EXPECT_EQ(Field(tls13, 4, 8), "b4b5b6b7b8b9babb");  // iv[4..12)
  EXPECT_EQ(Field(tls13, 12, 32), Range(0x20, 32));   // key
  EXPECT_EQ(Field(tls13, 44, 4), "b0b1b2b3");         // salt
  EXPECT_EQ(Field(tls13, 48, 8), "0000000000000001");  // rec_seq

  const KernelCryptoInfo tls12 = BuildCryptoInfo(TlsVersion::kTls12, keys, 1);
  ASSERT_EQ(tls12.size(), 56u);
  EXPECT_EQ(tls12.version(), 0x0303);
  EXPECT_EQ(Field(tls12, 4, 8), "0000000000000001");   // explicit nonce
  EXPECT_EQ(Field(tls12, 44, 4), "b0b1b2b3");
  EXPECT_EQ(Field(tls12, 48, 8), "0000000000000001");
}

// ChaCha20-Poly1305: the whole 12-byte IV in iv, no salt (RFC 7905 2),
// in both versions.
TEST(BuildCryptoInfoTest, Chacha20Poly1305BothVersions) {
  const TrafficKeys keys =
      Keys(Cipher::kChacha20Poly1305, Range(0x40, 32), "c0c1c2c3c4c5c6c7c8c9cacb");
  for (TlsVersion version : {TlsVersion::kTls12, TlsVersion::kTls13}) {
    SCOPED_TRACE(std::string(TlsVersionName(version)));
    const KernelCryptoInfo info = BuildCryptoInfo(version, keys, 0xfffffffffffffffe);
    ASSERT_EQ(info.size(), sizeof(tls12_crypto_info_chacha20_poly1305));
    ASSERT_EQ(info.size(), 56u);
    EXPECT_EQ(info.version(), version == TlsVersion::kTls12 ? 0x0303 : 0x0304);
    EXPECT_EQ(info.cipher_type(), TLS_CIPHER_CHACHA20_POLY1305);
    EXPECT_EQ(info.cipher_type(), 54);
    EXPECT_EQ(Field(info, 4, 12), "c0c1c2c3c4c5c6c7c8c9cacb");  // iv
    EXPECT_EQ(Field(info, 16, 32), Range(0x40, 32));            // key
    EXPECT_EQ(Field(info, 48, 8), "fffffffffffffffe");          // rec_seq
  }
}

// The kernel compares optlen with the struct size exactly.
TEST(BuildCryptoInfoTest, SizeMatchesKernelStructPerCipher) {
  EXPECT_EQ(BuildCryptoInfo(TlsVersion::kTls13, Keys(Cipher::kAes128Gcm, "", ""), 0).size(),
            sizeof(tls12_crypto_info_aes_gcm_128));
  EXPECT_EQ(BuildCryptoInfo(TlsVersion::kTls13, Keys(Cipher::kAes256Gcm, "", ""), 0).size(),
            sizeof(tls12_crypto_info_aes_gcm_256));
  EXPECT_EQ(BuildCryptoInfo(TlsVersion::kTls13, Keys(Cipher::kChacha20Poly1305, "", ""), 0).size(),
            sizeof(tls12_crypto_info_chacha20_poly1305));
}

}  // namespace
}  // namespace sstp::ktls
