#include "daemon/ppp/mschapv2.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <initializer_list>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/status.h"
#include "daemon/ppp/md4.h"

namespace sstp::ppp {
namespace {

constexpr size_t kSha1Length = 20;

absl::Span<const uint8_t> AsBytes(absl::string_view text) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EvpCipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// SHA1 over the concatenation of `parts` into `out`.
absl::Status Sha1(std::initializer_list<absl::Span<const uint8_t>> parts,
                  SecretArray<kSha1Length>& out) {
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1) {
    return absl::InternalError("libcrypto: SHA1 digest unavailable");
  }
  for (absl::Span<const uint8_t> part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
      return absl::InternalError("libcrypto: SHA1 update failed");
    }
  }
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1 || length != kSha1Length) {
    return absl::InternalError("libcrypto: SHA1 final failed");
  }
  return absl::OkStatus();
}

// RFC 2759 8.6 DesEncrypt(): a 7-octet key spread over the 8 octets DES
// takes, 7 key bits per octet, the low (parity) bit left clear; DES ignores
// it.
void ExpandDesKey(const uint8_t key7[7], uint8_t key8[8]) {
  for (int i = 0; i < 8; ++i) {
    // Bits 7i .. 7i+6 of the 56-bit key, most significant first.
    int bit = 7 * i;
    int byte = bit / 8;
    int shift = bit % 8;
    uint16_t window = static_cast<uint16_t>(key7[byte] << 8);
    if (byte + 1 < 7) window |= key7[byte + 1];
    key8[i] = static_cast<uint8_t>((window << shift) >> 8) & 0xFE;
  }
}

// RFC 2759 8.6: DES-ECB of one 8-octet block under a 7-octet key.
//
// OpenSSL 3 moved single DES to the legacy provider, which may be missing.
// Triple DES in EDE mode with K1 = K2 = K3 is E_K(D_K(E_K(x))) = E_K(x),
// i.e. exactly single DES, and DES-EDE3 is in the default provider. That
// keeps a vetted DES implementation instead of carrying our own (unlike MD4,
// which OpenSSL 3 offers only in the legacy provider in any form).
absl::Status DesEncrypt(const ChallengeHashValue& clear, const uint8_t key7[7],
                        uint8_t cypher[8]) {
  SecretArray<24> ede3_key;
  ExpandDesKey(key7, ede3_key.data());
  std::memcpy(ede3_key.data() + 8, ede3_key.data(), 8);
  std::memcpy(ede3_key.data() + 16, ede3_key.data(), 8);

  std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_des_ede3_ecb(), nullptr, ede3_key.data(), nullptr) != 1) {
    return absl::InternalError("libcrypto: DES-EDE3-ECB unavailable (needed for MS-CHAPv2)");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  int length = 0;
  if (EVP_EncryptUpdate(ctx.get(), cypher, &length, clear.data(), 8) != 1 || length != 8) {
    return absl::InternalError("libcrypto: DES-EDE3-ECB encryption failed");
  }
  return absl::OkStatus();
}

// RFC 2759 8.7: the two magic constants of GenerateAuthenticatorResponse().
constexpr absl::string_view kAuthMagic1 = "Magic server to client signing constant";  // 39
constexpr absl::string_view kAuthMagic2 = "Pad to make it do more than one iteration";  // 41

// RFC 3079 3.4: the magic constants of GetMasterKey() and
// GetAsymmetricStartKey().
constexpr absl::string_view kMppeMagic1 = "This is the MPPE Master Key";  // 27
constexpr absl::string_view kMppeMagic2 =
    "On the client side, this is the send key; on the server side, it is the receive key.";  // 84
constexpr absl::string_view kMppeMagic3 =
    "On the client side, this is the receive key; on the server side, it is the send key.";  // 84
static_assert(kAuthMagic1.size() == 39 && kAuthMagic2.size() == 41);
static_assert(kMppeMagic1.size() == 27 && kMppeMagic2.size() == 84 && kMppeMagic3.size() == 84);

// RFC 3079 3.4: SHSpad1 is 40 octets of 0x00, SHSpad2 40 octets of 0xF2.
constexpr std::array<uint8_t, 40> kShsPad1 = {};
constexpr std::array<uint8_t, 40> kShsPad2 = [] {
  std::array<uint8_t, 40> pad{};
  pad.fill(0xF2);
  return pad;
}();

absl::Status Utf8Error(size_t offset, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid UTF-8 at byte offset ", offset, ": ", what));
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> Utf8ToUtf16Le(absl::string_view utf8) {
  std::vector<uint8_t> out;
  // Every UTF-8 byte yields at most 2 UTF-16 bytes (1 -> 2, 2 -> 2, 3 -> 2,
  // 4 -> 4), so this capacity is never exceeded and never reallocated.
  out.reserve(2 * utf8.size());
  auto fail = [&out](size_t offset, absl::string_view what) {
    WipeBytes(out.data(), out.size());
    return Utf8Error(offset, what);
  };
  auto put_unit = [&out](uint32_t unit) {
    out.push_back(static_cast<uint8_t>(unit & 0xFF));
    out.push_back(static_cast<uint8_t>(unit >> 8));
  };

  size_t i = 0;
  while (i < utf8.size()) {
    const uint8_t lead = static_cast<uint8_t>(utf8[i]);
    size_t extra;
    uint32_t code_point;
    uint32_t minimum;  // Smallest code point allowed for this length (no overlong forms).
    if (lead < 0x80) {
      put_unit(lead);
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1, code_point = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2, code_point = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3, code_point = lead & 0x07, minimum = 0x10000;
    } else {
      return fail(i, (lead & 0xC0) == 0x80 ? "unexpected continuation byte" : "invalid lead byte");
    }
    if (utf8.size() - i - 1 < extra) return fail(i, "truncated sequence");
    for (size_t k = 1; k <= extra; ++k) {
      const uint8_t next = static_cast<uint8_t>(utf8[i + k]);
      if ((next & 0xC0) != 0x80) return fail(i + k, "missing continuation byte");
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < minimum) return fail(i, "overlong encoding");
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return fail(i, "surrogate code point");
    if (code_point > 0x10FFFF) return fail(i, "code point above U+10FFFF");
    if (code_point >= 0x10000) {
      const uint32_t offset = code_point - 0x10000;
      put_unit(0xD800 | (offset >> 10));
      put_unit(0xDC00 | (offset & 0x3FF));
    } else {
      put_unit(code_point);
    }
    i += 1 + extra;
  }
  return out;
}

absl::string_view UserNameWithoutDomain(absl::string_view user_name) {
  const size_t backslash = user_name.rfind('\\');
  return backslash == absl::string_view::npos ? user_name : user_name.substr(backslash + 1);
}

absl::StatusOr<NtHash> NtPasswordHash(absl::string_view password_utf8) {
  absl::StatusOr<std::vector<uint8_t>> unicode = Utf8ToUtf16Le(password_utf8);
  if (!unicode.ok()) return Annotate(unicode.status(), "MS-CHAPv2 password");
  const size_t units = unicode->size() / 2;
  if (units > kMsChapV2MaxPasswordUnits) {
    WipeBytes(unicode->data(), unicode->size());
    return absl::InvalidArgumentError(
        absl::StrCat("MS-CHAPv2 password has ", units,
                     " UTF-16 code units; RFC 2759 8.1 allows at most 256"));
  }
  Md4Digest digest = Md4(*unicode);
  WipeBytes(unicode->data(), unicode->size());
  NtHash hash;
  std::memcpy(hash.data(), digest.data(), hash.size());
  WipeBytes(digest.data(), digest.size());
  return hash;
}

NtHash HashNtPasswordHash(const NtHash& password_hash) {
  Md4Digest digest = Md4(password_hash.span());
  NtHash hash;
  std::memcpy(hash.data(), digest.data(), hash.size());
  WipeBytes(digest.data(), digest.size());
  return hash;
}

absl::StatusOr<ChallengeHashValue> ChallengeHash(const MsChapV2Challenge& peer_challenge,
                                                     const MsChapV2Challenge& authenticator_challenge,
                                                     absl::string_view user_name) {
  SecretArray<kSha1Length> digest;
  RETURN_IF_ERROR(Sha1({peer_challenge, authenticator_challenge, AsBytes(user_name)}, digest));
  ChallengeHashValue challenge;
  std::memcpy(challenge.data(), digest.data(), challenge.size());
  return challenge;
}

absl::StatusOr<NtResponse> ChallengeResponse(const ChallengeHashValue& challenge,
                                             const NtHash& password_hash) {
  // RFC 2759 8.5: ZPasswordHash = PasswordHash || 5 zero octets.
  SecretArray<21> z_password_hash;
  std::memcpy(z_password_hash.data(), password_hash.data(), password_hash.size());
  NtResponse response;
  for (int i = 0; i < 3; ++i) {
    RETURN_IF_ERROR(DesEncrypt(challenge, z_password_hash.data() + 7 * i, response.data() + 8 * i));
  }
  return response;
}

absl::StatusOr<NtResponse> GenerateNtResponse(const MsChapV2Challenge& authenticator_challenge,
                                              const MsChapV2Challenge& peer_challenge,
                                              absl::string_view user_name,
                                              const NtHash& password_hash) {
  ASSIGN_OR_RETURN(ChallengeHashValue challenge,
                   ChallengeHash(peer_challenge, authenticator_challenge, user_name));
  return ChallengeResponse(challenge, password_hash);
}

absl::StatusOr<AuthenticatorResponse> GenerateAuthenticatorResponse(
    const NtHash& password_hash, const NtResponse& nt_response,
    const MsChapV2Challenge& peer_challenge, const MsChapV2Challenge& authenticator_challenge,
    absl::string_view user_name) {
  const NtHash password_hash_hash = HashNtPasswordHash(password_hash);
  SecretArray<kSha1Length> digest;
  RETURN_IF_ERROR(Sha1({password_hash_hash.span(), nt_response, AsBytes(kAuthMagic1)}, digest));
  ASSIGN_OR_RETURN(ChallengeHashValue challenge,
                   ChallengeHash(peer_challenge, authenticator_challenge, user_name));
  AuthenticatorResponse response;
  RETURN_IF_ERROR(Sha1({digest.span(), challenge, AsBytes(kAuthMagic2)}, response));
  return response;
}

std::string FormatAuthenticatorResponse(const AuthenticatorResponse& response) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string text = "S=";
  for (size_t i = 0; i < response.size(); ++i) {
    text.push_back(kDigits[response[i] >> 4]);
    text.push_back(kDigits[response[i] & 0x0F]);
  }
  return text;
}

absl::Status CheckAuthenticatorResponse(const AuthenticatorResponse& expected,
                                        absl::string_view success_message) {
  constexpr size_t kHexDigits = 2 * kMsChapV2AuthenticatorResponseLength;
  if (success_message.substr(0, 2) != "S=") {
    return absl::InvalidArgumentError(
        "MS-CHAPv2 Success message does not start with \"S=\" (RFC 2759 5)");
  }
  const absl::string_view rest = success_message.substr(2);
  auto is_hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  size_t digits = 0;
  while (digits < rest.size() && is_hex(rest[digits])) ++digits;
  if (digits != kHexDigits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MS-CHAPv2 authenticator response has ", digits, " hex digits after \"S=\"; expected 40"));
  }
  if (rest.size() > kHexDigits && rest[kHexDigits] != ' ') {
    return absl::InvalidArgumentError(
        "MS-CHAPv2 Success message: authenticator response not followed by a space");
  }
  auto nibble = [](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
    return static_cast<uint8_t>(c - 'A' + 10);
  };
  AuthenticatorResponse received;
  for (size_t i = 0; i < received.size(); ++i) {
    received[i] = static_cast<uint8_t>(nibble(rest[2 * i]) << 4 | nibble(rest[2 * i + 1]));
  }
  // RFC 2759 8.8: compare in constant time, so a forger learns nothing from
  // timing about how many octets matched.
  if (CRYPTO_memcmp(received.data(), expected.data(), expected.size()) != 0) {
    return absl::UnauthenticatedError(
        "MS-CHAPv2 authenticator response does not match: the server did not prove it knows the "
        "password (RFC 2759 8.8)");
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretArray<16>> GetMasterKey(const NtHash& password_hash_hash,
                                             const NtResponse& nt_response) {
  SecretArray<kSha1Length> digest;
  RETURN_IF_ERROR(Sha1({password_hash_hash.span(), nt_response, AsBytes(kMppeMagic1)}, digest));
  SecretArray<16> master_key;
  std::memcpy(master_key.data(), digest.data(), master_key.size());
  return master_key;
}

absl::StatusOr<SecretArray<16>> GetAsymmetricStartKey(const SecretArray<16>& master_key,
                                                      MppeDirection direction, MppeSide side) {
  // RFC 3079 3.4: Magic2 is the client's send key and the server's receive
  // key; Magic3 the other two.
  bool client_send_key = false;
  switch (direction) {
    case MppeDirection::kSend:
      client_send_key = (side == MppeSide::kClient);
      break;
    case MppeDirection::kReceive:
      client_send_key = (side == MppeSide::kServer);
      break;
  }
  const absl::string_view magic = client_send_key ? kMppeMagic2 : kMppeMagic3;
  SecretArray<kSha1Length> digest;
  RETURN_IF_ERROR(Sha1({master_key.span(), kShsPad1, AsBytes(magic), kShsPad2}, digest));
  SecretArray<16> start_key;
  std::memcpy(start_key.data(), digest.data(), start_key.size());
  return start_key;
}

absl::StatusOr<SecretArray<32>> ClientHlak(const SecretArray<16>& master_key) {
  ASSIGN_OR_RETURN(SecretArray<16> send,
                   GetAsymmetricStartKey(master_key, MppeDirection::kSend, MppeSide::kClient));
  ASSIGN_OR_RETURN(SecretArray<16> receive,
                   GetAsymmetricStartKey(master_key, MppeDirection::kReceive, MppeSide::kClient));
  SecretArray<32> hlak;
  std::memcpy(hlak.data(), send.data(), send.size());
  std::memcpy(hlak.data() + send.size(), receive.data(), receive.size());
  return hlak;
}

absl::StatusOr<MsChapV2ClientResult> ComputeMsChapV2Client(
    absl::string_view user_name, absl::string_view password_utf8,
    const MsChapV2Challenge& authenticator_challenge, const MsChapV2Challenge& peer_challenge) {
  const absl::string_view hash_name = UserNameWithoutDomain(user_name);
  ASSIGN_OR_RETURN(NtHash password_hash, NtPasswordHash(password_utf8));
  MsChapV2ClientResult result;
  ASSIGN_OR_RETURN(result.nt_response, GenerateNtResponse(authenticator_challenge, peer_challenge,
                                                          hash_name, password_hash));
  ASSIGN_OR_RETURN(result.expected_authenticator,
                   GenerateAuthenticatorResponse(password_hash, result.nt_response,
                                                 peer_challenge, authenticator_challenge,
                                                 hash_name));
  ASSIGN_OR_RETURN(SecretArray<16> master_key,
                   GetMasterKey(HashNtPasswordHash(password_hash), result.nt_response));
  ASSIGN_OR_RETURN(result.hlak, ClientHlak(master_key));
  return result;
}

}  // namespace sstp::ppp
