#include "daemon/sstp/crypto_binding.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sstp::proto {
namespace {

const EVP_MD* Digest(HashProtocol hash) {
  switch (hash) {
    case HashProtocol::kSha1:
      return EVP_sha1();
    case HashProtocol::kSha256:
      return EVP_sha256();
  }
  return nullptr;  // Out-of-range enum value: reported by the caller.
}

absl::string_view HashName(HashProtocol hash) {
  switch (hash) {
    case HashProtocol::kSha1:
      return "SHA1";
    case HashProtocol::kSha256:
      return "SHA256";
  }
  return "unknown hash";
}

// HMAC-H(key, data) into the first HashLength(hash) bytes of `out`; the rest
// of `out` is left as it is (zero).
absl::Status Hmac(HashProtocol hash, absl::Span<const uint8_t> key, absl::Span<const uint8_t> data,
                  uint8_t* out) {
  const EVP_MD* md = Digest(hash);
  unsigned int length = 0;
  if (md == nullptr ||
      HMAC(md, key.data(), static_cast<int>(key.size()), data.data(), data.size(), out, &length) ==
          nullptr ||
      length != static_cast<unsigned int>(HashLength(hash))) {
    return absl::InternalError(absl::StrCat("libcrypto: HMAC-", HashName(hash), " failed"));
  }
  return absl::OkStatus();
}

// MS-SSTP 3.2.5.2: the 29-byte seed of the CMK PRF.
constexpr absl::string_view kCmkSeed = "SSTP inner method derived CMK";
static_assert(kCmkSeed.size() == 29);

}  // namespace

absl::StatusOr<CryptoBindingField> ComputeCertHash(HashProtocol hash,
                                                   absl::Span<const uint8_t> certificate_der) {
  CryptoBindingField field{};
  const EVP_MD* md = Digest(hash);
  unsigned int length = 0;
  if (md == nullptr ||
      EVP_Digest(certificate_der.data(), certificate_der.size(), field.data(), &length, md,
                 nullptr) != 1 ||
      length != static_cast<unsigned int>(HashLength(hash))) {
    return absl::InternalError(
        absl::StrCat("libcrypto: ", HashName(hash), " of the server certificate failed"));
  }
  return field;
}

absl::StatusOr<Cmk> ComputeCmk(HashProtocol hash, const Hlak& hlak) {
  // MS-SSTP 3.2.5.2: T1 = HMAC(HLAK, S || LEN || 0x01), S the seed and LEN
  // the output length in bytes, 16 bits little-endian (unlike the rest of
  // SSTP, which is big-endian; the 4.7 examples confirm it).
  std::array<uint8_t, kCmkSeed.size() + 3> input;
  std::memcpy(input.data(), kCmkSeed.data(), kCmkSeed.size());
  const uint16_t length = static_cast<uint16_t>(HashLength(hash));
  input[kCmkSeed.size()] = static_cast<uint8_t>(length & 0xFF);
  input[kCmkSeed.size() + 1] = static_cast<uint8_t>(length >> 8);
  input[kCmkSeed.size() + 2] = 0x01;
  Cmk cmk;
  absl::Status status = Hmac(hash, hlak.span(), input, cmk.data());
  if (!status.ok()) return status;
  return cmk;
}

absl::StatusOr<CryptoBindingField> ComputeCompoundMac(
    HashProtocol hash, const Cmk& cmk, absl::Span<const uint8_t> call_connected_mac_zeroed) {
  CryptoBindingField mac{};
  absl::Status status = Hmac(hash, cmk.span().first(static_cast<size_t>(HashLength(hash))),
                             call_connected_mac_zeroed, mac.data());
  if (!status.ok()) return status;
  return mac;
}

absl::Status VerifyCompoundMac(HashProtocol hash, const Cmk& cmk,
                               absl::Span<const uint8_t> call_connected_mac_zeroed,
                               absl::Span<const uint8_t> received_mac) {
  if (received_mac.size() != kCryptoBindingFieldLength) {
    return absl::InvalidArgumentError(absl::StrCat("SSTP Compound MAC field has ",
                                                   received_mac.size(), " bytes; expected 32"));
  }
  absl::StatusOr<CryptoBindingField> expected =
      ComputeCompoundMac(hash, cmk, call_connected_mac_zeroed);
  if (!expected.ok()) return expected.status();
  // Constant time, padding included: a SHA1 MAC must be followed by 12 zero
  // bytes (MS-SSTP 2.2.7).
  if (CRYPTO_memcmp(expected->data(), received_mac.data(), kCryptoBindingFieldLength) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "SSTP Compound MAC (", HashName(hash),
        ") does not match: crypto binding failed (MS-SSTP 3.2.5.2)"));
  }
  return absl::OkStatus();
}

}  // namespace sstp::proto
