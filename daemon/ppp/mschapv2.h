// MS-CHAPv2 (RFC 2759) response computation and MPPE key derivation
// (RFC 3079), as pure functions. The client computes the NT-Response it
// sends, the authenticator response it expects back in the Success packet,
// and the SSTP Higher-Layer Authentication Key (MS-SSTP 3.2.5.2).
//
// Secrets (password hashes, master and start keys, the expected
// authenticator response, the HLAK) are returned in SecretArray, which wipes
// itself; intermediate buffers are wiped before returning. Nothing here logs.
// Every function that calls libcrypto returns StatusOr: the only failures are
// libcrypto refusing an algorithm (e.g. a FIPS-only configuration without
// DES), named in the message.
#ifndef SSTP_KTLS_DAEMON_PPP_MSCHAPV2_H_
#define SSTP_KTLS_DAEMON_PPP_MSCHAPV2_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/secret.h"

namespace sstp::ppp {

// RFC 2759 4: Authenticator and Peer challenges are 16 octets.
inline constexpr size_t kMsChapV2ChallengeLength = 16;
// RFC 2759 4: the NT-Response field is 24 octets.
inline constexpr size_t kMsChapV2NtResponseLength = 24;
// RFC 2759 8.1: the password is 0 to 256 Unicode characters.
inline constexpr size_t kMsChapV2MaxPasswordUnits = 256;
// RFC 2759 8.7: the authenticator response is a 20-octet SHA1 digest.
inline constexpr size_t kMsChapV2AuthenticatorResponseLength = 20;

using MsChapV2Challenge = std::array<uint8_t, kMsChapV2ChallengeLength>;
using NtResponse = std::array<uint8_t, kMsChapV2NtResponseLength>;
// RFC 2759 8.2: the 8-octet output of ChallengeHash().
using ChallengeHashValue = std::array<uint8_t, 8>;
using NtHash = SecretArray<16>;
using AuthenticatorResponse = SecretArray<kMsChapV2AuthenticatorResponseLength>;

// UTF-8 to UTF-16 little-endian (the "Unicode" of RFC 2759 8.3), code
// points above U+FFFF as surrogate pairs. Rejects malformed UTF-8 (stray or
// missing continuation bytes, overlong forms, surrogate code points, values
// above U+10FFFF) with the byte offset of the error, never the byte itself.
// The result may hold a password: the caller wipes it (WipeBytes). Its
// capacity is reserved up front, so no unwiped copy is left by growth.
absl::StatusOr<std::vector<uint8_t>> Utf8ToUtf16Le(absl::string_view utf8);

// RFC 2759 8.2: ChallengeHash() uses the user name without any domain
// prefix ("DOMAIN\user" -> "user"); the Response packet's Name field carries
// the full name.
absl::string_view UserNameWithoutDomain(absl::string_view user_name);

// RFC 2759 8.3: MD4 over the UTF-16LE password. `password_utf8` is the
// profile password; fails if it is not UTF-8 or longer than 256 UTF-16 code
// units.
absl::StatusOr<NtHash> NtPasswordHash(absl::string_view password_utf8);

// RFC 2759 8.4: MD4(PasswordHash).
NtHash HashNtPasswordHash(const NtHash& password_hash);

// RFC 2759 8.2: first 8 octets of SHA1(PeerChallenge || AuthenticatorChallenge
// || UserName). `user_name` is used as given (see UserNameWithoutDomain).
absl::StatusOr<ChallengeHashValue> ChallengeHash(const MsChapV2Challenge& peer_challenge,
                                                     const MsChapV2Challenge& authenticator_challenge,
                                                     absl::string_view user_name);

// RFC 2759 8.5, 8.6: the 16-octet hash zero-padded to 21 octets, split into
// three 7-octet DES keys, each encrypting the 8-octet challenge.
absl::StatusOr<NtResponse> ChallengeResponse(const ChallengeHashValue& challenge,
                                             const NtHash& password_hash);

// RFC 2759 8.1: ChallengeResponse(ChallengeHash(...), PasswordHash). Takes
// NtPasswordHash(password) rather than the password, so that a server holding
// only the hash can use it too.
absl::StatusOr<NtResponse> GenerateNtResponse(const MsChapV2Challenge& authenticator_challenge,
                                              const MsChapV2Challenge& peer_challenge,
                                              absl::string_view user_name,
                                              const NtHash& password_hash);

// RFC 2759 8.7: the 20 octets the server proves knowledge of the password
// with. Takes NtPasswordHash(password), like GenerateNtResponse().
absl::StatusOr<AuthenticatorResponse> GenerateAuthenticatorResponse(
    const NtHash& password_hash, const NtResponse& nt_response,
    const MsChapV2Challenge& peer_challenge, const MsChapV2Challenge& authenticator_challenge,
    absl::string_view user_name);

// RFC 2759 8.7: "S=" followed by 40 upper-case hex digits.
std::string FormatAuthenticatorResponse(const AuthenticatorResponse& response);

// RFC 2759 5, 8.8: checks the Message field of a Success packet
// ("S=<40 hex digits>" optionally followed by " M=<text>") against the
// expected response, in constant time. Fails (InvalidArgument) if the field is
// malformed and (Unauthenticated) if it does not match: the client must then
// end the connection, as the server has not proved it knows the password.
// Hex digits are accepted in either case although RFC 2759 makes senders
// use upper case.
absl::Status CheckAuthenticatorResponse(const AuthenticatorResponse& expected,
                                        absl::string_view success_message);

// RFC 3079 3.4: GetMasterKey(), the first 16 octets of
// SHA1(PasswordHashHash || NT-Response || Magic1).
absl::StatusOr<SecretArray<16>> GetMasterKey(const NtHash& password_hash_hash,
                                             const NtResponse& nt_response);

// Which of the two RFC 3079 3.4 start keys: the IsSend and IsServer flags.
enum class MppeDirection { kSend, kReceive };
enum class MppeSide { kClient, kServer };

// RFC 3079 3.4: GetAsymmetricStartKey() for 128-bit keys. The client's send
// key is the server's receive key and vice versa.
absl::StatusOr<SecretArray<16>> GetAsymmetricStartKey(const SecretArray<16>& master_key,
                                                      MppeDirection direction, MppeSide side);

// MS-SSTP 3.2.5.2: the client's HLAK for MS-CHAPv2 is MasterSendKey ||
// MasterReceiveKey, 16 octets each, from the client's point of view. The
// server computes the same 32 octets (its receive key || its send key).
absl::StatusOr<SecretArray<32>> ClientHlak(const SecretArray<16>& master_key);

// Everything an MS-CHAPv2 client computes when it answers a Challenge.
struct MsChapV2ClientResult {
  NtResponse nt_response;                        // Goes in the Response packet.
  AuthenticatorResponse expected_authenticator;  // Compare the Success packet with it.
  SecretArray<32> hlak;                          // For the SSTP crypto binding.
};

// The whole client computation. `user_name` is the name sent in the
// Response packet; the domain part, if any, is dropped for ChallengeHash()
// (RFC 2759 8.2). `peer_challenge` must come from a CSPRNG.
absl::StatusOr<MsChapV2ClientResult> ComputeMsChapV2Client(
    absl::string_view user_name, absl::string_view password_utf8,
    const MsChapV2Challenge& authenticator_challenge, const MsChapV2Challenge& peer_challenge);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_MSCHAPV2_H_
