#include "daemon/ppp/mschapv2.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/hex.h"
#include "base/secret.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

template <size_t N>
std::array<uint8_t, N> Array(absl::string_view hex) {
  std::vector<uint8_t> bytes = HexOrDie(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N);
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

template <size_t N>
SecretArray<N> Secret(absl::string_view hex) {
  std::array<uint8_t, N> bytes = Array<N>(hex);
  SecretArray<N> out;
  std::copy(bytes.begin(), bytes.end(), out.data());
  return out;
}

template <size_t N>
std::string Hex(const SecretArray<N>& secret) {
  return ToHex(secret.span());
}

// RFC 2759 9.2 sample data; the MPPE values are RFC 3079 3.5.3's, which
// starts from the same sample (also copied in SSTP-NOTES.md).
constexpr absl::string_view kUserName = "User";
constexpr absl::string_view kPassword = "clientPass";
const MsChapV2Challenge kAuthenticatorChallenge =
    Array<16>("5B5D7C7D7B3F2F3E3C2C602132262628");
const MsChapV2Challenge kPeerChallenge = Array<16>("21402324255E262A28295F2B3A337C7E");
constexpr absl::string_view kChallenge = "d02e4386bce91226";
constexpr absl::string_view kNtResponse = "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df";
constexpr absl::string_view kPasswordHash = "44ebba8d5312b8d611474411f56989ae";
constexpr absl::string_view kPasswordHashHash = "41c00c584bd2d91c4017a2a12fa59f3f";
constexpr absl::string_view kAuthenticatorResponse = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
constexpr absl::string_view kMasterKey = "fdece3717a8c838cb388e527ae3cdd31";
// RFC 3079 3.5.3 SendStartKey128: computed there as the server's send key
// (IsSend, IsServer), so it is the client's receive key.
constexpr absl::string_view kServerSendStartKey = "8b7cdc149b993a1ba118cb153f56dccb";
// Not printed in RFC 3079: the Magic2 key from the same master key, computed
// independently with
//   python3 -c "import hashlib; print(hashlib.sha1(bytes.fromhex('FDECE371...DD31') +
//     bytes(40) + b'On the client side, this is the send key; on the server side,
//     it is the receive key.' + b'\xf2'*40).hexdigest()[:32])"
constexpr absl::string_view kClientSendStartKey = "d5f0e9521e3ea9589645e86051c82226";

// RFC 2759 9.2: PasswordHash.
TEST(MsChapV2CryptoTest, Rfc2759NtPasswordHash) {
  absl::StatusOr<NtHash> hash = NtPasswordHash(kPassword);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(Hex(*hash), kPasswordHash);
}

// RFC 2759 9.2: PasswordHashHash.
TEST(MsChapV2CryptoTest, Rfc2759HashNtPasswordHash) {
  EXPECT_EQ(Hex(HashNtPasswordHash(Secret<16>(kPasswordHash))), kPasswordHashHash);
}

// RFC 2759 9.2: Challenge.
TEST(MsChapV2CryptoTest, Rfc2759ChallengeHash) {
  absl::StatusOr<ChallengeHashValue> challenge =
      ChallengeHash(kPeerChallenge, kAuthenticatorChallenge, kUserName);
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(ToHex(*challenge), kChallenge);
}

// RFC 2759 9.2: NT-Response = ChallengeResponse(Challenge, PasswordHash).
TEST(MsChapV2CryptoTest, Rfc2759ChallengeResponse) {
  absl::StatusOr<NtResponse> response =
      ChallengeResponse(Array<8>(kChallenge), Secret<16>(kPasswordHash));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(ToHex(*response), kNtResponse);
}

// RFC 2759 9.2: NT-Response through GenerateNTResponse().
TEST(MsChapV2CryptoTest, Rfc2759GenerateNtResponse) {
  absl::StatusOr<NtResponse> response = GenerateNtResponse(
      kAuthenticatorChallenge, kPeerChallenge, kUserName, Secret<16>(kPasswordHash));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(ToHex(*response), kNtResponse);
}

// RFC 2759 9.2: AuthenticatorResponse.
TEST(MsChapV2CryptoTest, Rfc2759GenerateAuthenticatorResponse) {
  absl::StatusOr<AuthenticatorResponse> response = GenerateAuthenticatorResponse(
      Secret<16>(kPasswordHash), Array<24>(kNtResponse), kPeerChallenge,
      kAuthenticatorChallenge, kUserName);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(FormatAuthenticatorResponse(*response), kAuthenticatorResponse);
}

// RFC 3079 3.5.3: MasterKey.
TEST(MsChapV2CryptoTest, Rfc3079MasterKey) {
  absl::StatusOr<SecretArray<16>> master =
      GetMasterKey(Secret<16>(kPasswordHashHash), Array<24>(kNtResponse));
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_EQ(Hex(*master), kMasterKey);
}

// RFC 3079 3.5.3: SendStartKey128 (server send) and the three other
// direction/side combinations, which pair up as RFC 3079 3.4 says.
TEST(MsChapV2CryptoTest, Rfc3079AsymmetricStartKeys) {
  const SecretArray<16> master = Secret<16>(kMasterKey);
  auto key = [&](MppeDirection direction, MppeSide side) {
    absl::StatusOr<SecretArray<16>> k = GetAsymmetricStartKey(master, direction, side);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? Hex(*k) : std::string();
  };
  EXPECT_EQ(key(MppeDirection::kSend, MppeSide::kServer), kServerSendStartKey);
  EXPECT_EQ(key(MppeDirection::kReceive, MppeSide::kClient), kServerSendStartKey);
  EXPECT_EQ(key(MppeDirection::kSend, MppeSide::kClient), kClientSendStartKey);
  EXPECT_EQ(key(MppeDirection::kReceive, MppeSide::kServer), kClientSendStartKey);
}

// MS-SSTP 3.2.5.2: the client HLAK is its send key then its receive key.
TEST(MsChapV2CryptoTest, ClientHlakIsSendThenReceive) {
  absl::StatusOr<SecretArray<32>> hlak = ClientHlak(Secret<16>(kMasterKey));
  ASSERT_TRUE(hlak.ok()) << hlak.status();
  EXPECT_EQ(Hex(*hlak), std::string(kClientSendStartKey) + std::string(kServerSendStartKey));
}

// The whole client computation reproduces every RFC 2759 9.2 / RFC 3079
// 3.5.3 value.
TEST(MsChapV2CryptoTest, ComputeMsChapV2ClientMatchesRfcVectors) {
  absl::StatusOr<MsChapV2ClientResult> result =
      ComputeMsChapV2Client(kUserName, kPassword, kAuthenticatorChallenge, kPeerChallenge);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(ToHex(result->nt_response), kNtResponse);
  EXPECT_EQ(FormatAuthenticatorResponse(result->expected_authenticator), kAuthenticatorResponse);
  EXPECT_EQ(Hex(result->hlak), std::string(kClientSendStartKey) + std::string(kServerSendStartKey));
  EXPECT_TRUE(CheckAuthenticatorResponse(result->expected_authenticator,
                                         std::string(kAuthenticatorResponse) + " M=Welcome")
                  .ok());
}

// RFC 2759 8.2: a "DOMAIN\user" name hashes as "user".
TEST(MsChapV2CryptoTest, DomainPrefixIsDroppedForChallengeHash) {
  EXPECT_EQ(UserNameWithoutDomain("CORP\\User"), "User");
  EXPECT_EQ(UserNameWithoutDomain("User"), "User");
  EXPECT_EQ(UserNameWithoutDomain("A\\B\\User"), "User");
  absl::StatusOr<MsChapV2ClientResult> result =
      ComputeMsChapV2Client("CORP\\User", kPassword, kAuthenticatorChallenge, kPeerChallenge);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(ToHex(result->nt_response), kNtResponse);
  EXPECT_EQ(FormatAuthenticatorResponse(result->expected_authenticator), kAuthenticatorResponse);
}

TEST(MsChapV2CryptoTest, CheckAuthenticatorResponseAcceptsMatch) {
  const AuthenticatorResponse expected = Secret<20>("407A5589115FD0D6209F510FE9C04566932CDA56");
  EXPECT_TRUE(CheckAuthenticatorResponse(expected, kAuthenticatorResponse).ok());
  EXPECT_TRUE(CheckAuthenticatorResponse(expected, std::string(kAuthenticatorResponse) + " M=OK").ok());
  // Lower-case digits from a lax server still match.
  EXPECT_TRUE(
      CheckAuthenticatorResponse(expected, "S=407a5589115fd0d6209f510fe9c04566932cda56").ok());
}

// RFC 2759 8.8: the client must reject a response that does not match.
TEST(MsChapV2CryptoTest, CheckAuthenticatorResponseRejectsWrongValue) {
  const AuthenticatorResponse expected = Secret<20>("407A5589115FD0D6209F510FE9C04566932CDA56");
  absl::Status status =
      CheckAuthenticatorResponse(expected, "S=407A5589115FD0D6209F510FE9C04566932CDA57 M=hi");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(status.message().find("authenticator response does not match"), absl::string_view::npos)
      << status;
  // First octet wrong too.
  EXPECT_EQ(CheckAuthenticatorResponse(expected, "S=007A5589115FD0D6209F510FE9C04566932CDA56")
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(MsChapV2CryptoTest, CheckAuthenticatorResponseRejectsMalformed) {
  const AuthenticatorResponse expected = Secret<20>("407A5589115FD0D6209F510FE9C04566932CDA56");
  absl::Status status = CheckAuthenticatorResponse(expected, "");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("does not start with \"S=\""), absl::string_view::npos) << status;

  status = CheckAuthenticatorResponse(expected, "M=Welcome");
  EXPECT_NE(status.message().find("does not start with \"S=\""), absl::string_view::npos) << status;

  status = CheckAuthenticatorResponse(expected, "S=407A5589115FD0D6209F510FE9C04566932CDA5");
  EXPECT_NE(status.message().find("has 39 hex digits after \"S=\"; expected 40"),
            absl::string_view::npos)
      << status;

  status = CheckAuthenticatorResponse(expected, "S=407A5589115FD0D6209F510FE9C04566932CDA560");
  EXPECT_NE(status.message().find("has 41 hex digits"), absl::string_view::npos) << status;

  status = CheckAuthenticatorResponse(expected, "S=407A5589115FD0D6209F510FE9C04566932CDA56M=x");
  EXPECT_NE(status.message().find("not followed by a space"), absl::string_view::npos) << status;
}

TEST(MsChapV2CryptoTest, FormatAuthenticatorResponseIsUpperCase) {
  EXPECT_EQ(FormatAuthenticatorResponse(Secret<20>("00112233445566778899aabbccddeeff0a0b0c0d")),
            "S=00112233445566778899AABBCCDDEEFF0A0B0C0D");
}

std::string Utf16Hex(absl::string_view utf8) {
  absl::StatusOr<std::vector<uint8_t>> out = Utf8ToUtf16Le(utf8);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? ToHex(*out) : "error";
}

TEST(MsChapV2CryptoTest, Utf8ToUtf16LeConverts) {
  EXPECT_EQ(Utf16Hex(""), "");
  EXPECT_EQ(Utf16Hex("Ab1"), "410062003100");
  EXPECT_EQ(Utf16Hex("\xC3\xA9"), "e900");                // U+00E9 é
  EXPECT_EQ(Utf16Hex("\xE2\x82\xAC"), "ac20");            // U+20AC €
  EXPECT_EQ(Utf16Hex("\xEF\xBF\xBD"), "fdff");            // U+FFFD, last 3-byte range
  EXPECT_EQ(Utf16Hex("\xF0\x9F\x98\x80"), "3dd800de");    // U+1F600 😀 -> D83D DE00
  EXPECT_EQ(Utf16Hex("\xF4\x8F\xBF\xBF"), "ffdbffdf");    // U+10FFFF -> DBFF DFFF
  EXPECT_EQ(Utf16Hex(absl::string_view("a\0b", 3)), "610000006200");
}

void ExpectUtf8Error(absl::string_view utf8, absl::string_view message) {
  absl::StatusOr<std::vector<uint8_t>> out = Utf8ToUtf16Le(utf8);
  ASSERT_FALSE(out.ok()) << ToHex(*out);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status().message(), message);
}

TEST(MsChapV2CryptoTest, Utf8ToUtf16LeRejectsInvalidUtf8) {
  ExpectUtf8Error("ab\xFF", "invalid UTF-8 at byte offset 2: invalid lead byte");
  ExpectUtf8Error("\x80", "invalid UTF-8 at byte offset 0: unexpected continuation byte");
  ExpectUtf8Error("x\xC3", "invalid UTF-8 at byte offset 1: truncated sequence");
  ExpectUtf8Error("\xF0\x9F\x98", "invalid UTF-8 at byte offset 0: truncated sequence");
  ExpectUtf8Error("\xC3(", "invalid UTF-8 at byte offset 1: missing continuation byte");
  ExpectUtf8Error("\xC0\xAF", "invalid UTF-8 at byte offset 0: overlong encoding");
  ExpectUtf8Error("\xE0\x80\xAF", "invalid UTF-8 at byte offset 0: overlong encoding");
  ExpectUtf8Error("\xED\xA0\x80", "invalid UTF-8 at byte offset 0: surrogate code point");
  ExpectUtf8Error("\xF4\x90\x80\x80", "invalid UTF-8 at byte offset 0: code point above U+10FFFF");
}

// NtPasswordHash over a non-ASCII password, checked independently:
//   python3 -c "import sys; sys.stdout.buffer.write('pässwörd😀'.encode('utf-16-le'))" |
//     openssl dgst -md4 -provider legacy -provider default
TEST(MsChapV2CryptoTest, NtPasswordHashOfNonAsciiPassword) {
  absl::StatusOr<NtHash> hash = NtPasswordHash("p\xC3\xA4ssw\xC3\xB6rd\xF0\x9F\x98\x80");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(Hex(*hash), "a395e2e215e896a8ec4b1657b229f081");
}

TEST(MsChapV2CryptoTest, NtPasswordHashRejectsInvalidUtf8) {
  absl::StatusOr<NtHash> hash = NtPasswordHash("pass\xC3");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().message(),
            "MS-CHAPv2 password: invalid UTF-8 at byte offset 4: truncated sequence");
}

// RFC 2759 8.1: at most 256 Unicode characters.
TEST(MsChapV2CryptoTest, NtPasswordHashLengthLimit) {
  EXPECT_TRUE(NtPasswordHash(std::string(256, 'a')).ok());
  absl::StatusOr<NtHash> hash = NtPasswordHash(std::string(257, 'a'));
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().message(),
            "MS-CHAPv2 password has 257 UTF-16 code units; RFC 2759 8.1 allows at most 256");
  // 128 emoji are 256 UTF-16 code units (surrogate pairs), 129 are 258.
  std::string emoji;
  for (int i = 0; i < 128; ++i) emoji += "\xF0\x9F\x98\x80";
  EXPECT_TRUE(NtPasswordHash(emoji).ok());
  emoji += "\xF0\x9F\x98\x80";
  hash = NtPasswordHash(emoji);
  ASSERT_FALSE(hash.ok());
  EXPECT_NE(hash.status().message().find("has 258 UTF-16 code units"), absl::string_view::npos);
}

// Every input changes the NT-Response and the authenticator response.
TEST(MsChapV2CryptoTest, EveryInputMatters) {
  absl::StatusOr<MsChapV2ClientResult> base =
      ComputeMsChapV2Client(kUserName, kPassword, kAuthenticatorChallenge, kPeerChallenge);
  ASSERT_TRUE(base.ok());
  MsChapV2Challenge other_auth = kAuthenticatorChallenge;
  other_auth[15] ^= 1;
  MsChapV2Challenge other_peer = kPeerChallenge;
  other_peer[0] ^= 0x80;
  const absl::StatusOr<MsChapV2ClientResult> variants[] = {
      ComputeMsChapV2Client("user", kPassword, kAuthenticatorChallenge, kPeerChallenge),
      ComputeMsChapV2Client(kUserName, "clientPasS", kAuthenticatorChallenge, kPeerChallenge),
      ComputeMsChapV2Client(kUserName, kPassword, other_auth, kPeerChallenge),
      ComputeMsChapV2Client(kUserName, kPassword, kAuthenticatorChallenge, other_peer),
  };
  for (const auto& v : variants) {
    ASSERT_TRUE(v.ok());
    EXPECT_NE(v->nt_response, base->nt_response);
    EXPECT_NE(Hex(v->expected_authenticator), Hex(base->expected_authenticator));
    EXPECT_NE(Hex(v->hlak), Hex(base->hlak));
  }
}

}  // namespace
}  // namespace sstp::ppp
