#include "daemon/tls/key_material.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sstp::tls {

absl::string_view TlsVersionName(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls12:
      return "TLS 1.2";
    case TlsVersion::kTls13:
      return "TLS 1.3";
  }
  return "TLS ?";
}

absl::string_view CipherName(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
      return "AES-128-GCM";
    case Cipher::kAes256Gcm:
      return "AES-256-GCM";
    case Cipher::kChacha20Poly1305:
      return "CHACHA20-POLY1305";
  }
  return "?";
}

size_t CipherHashLength(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
    case Cipher::kChacha20Poly1305:
      return 32;
    case Cipher::kAes256Gcm:
      return 48;
  }
  return 0;
}

std::optional<Cipher> CipherFromSuite(uint16_t cipher_suite) {
  switch (cipher_suite) {
    case 0x1301:  // TLS_AES_128_GCM_SHA256 (RFC 8446 B.4)
    case 0xC02B:  // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
    case 0xC02F:  // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 5289)
      return Cipher::kAes128Gcm;
    case 0x1302:  // TLS_AES_256_GCM_SHA384
    case 0xC02C:  // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    case 0xC030:  // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
      return Cipher::kAes256Gcm;
    case 0x1303:  // TLS_CHACHA20_POLY1305_SHA256
    case 0xCCA8:  // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905)
    case 0xCCA9:  // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905)
      return Cipher::kChacha20Poly1305;
    default:
      return std::nullopt;
  }
}

absl::StatusOr<Secret> Secret::FromBytes(absl::Span<const uint8_t> bytes) {
  if (bytes.empty() || bytes.size() > kMaxSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS secret of ", bytes.size(), " bytes; expected 1 to ", kMaxSize));
  }
  Secret secret;
  std::memcpy(secret.bytes_.data(), bytes.data(), bytes.size());
  secret.size_ = bytes.size();
  return secret;
}

}  // namespace sstp::tls
