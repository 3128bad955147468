// TLS record keys for the kernel (kTLS): the TLS 1.3 key schedule from a
// traffic secret (RFC 8446 7.1-7.3), the TLS 1.2 key block from the master
// secret (RFC 5246 5, 6.3), and the <linux/tls.h> crypto_info that
// setsockopt(SOL_TLS, TLS_TX / TLS_RX) takes.
//
// Pure functions over plain secrets: this module never includes OpenSSL's SSL
// headers; the daemon's TLS layer captures the secrets (keylog callback /
// SSL_SESSION_get_master_key) and hands them over. Keys, IVs and secrets
// live in SecretArray (wiped on destruction); KernelCryptoInfo wipes itself.
// Every function that calls libcrypto returns Status/StatusOr.
#ifndef SSTP_KTLS_KTLS_KEY_SCHEDULE_H_
#define SSTP_KTLS_KTLS_KEY_SCHEDULE_H_

#include <linux/tls.h>

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/secret.h"

namespace sstp::ktls {

enum class TlsVersion { kTls12, kTls13 };

// The AEADs both TLS versions and the kernel share. TLS 1.3 suites:
// TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
// TLS_CHACHA20_POLY1305_SHA256; TLS 1.2: the ECDHE_*_WITH_<same AEAD> suites,
// whose PRF hash is the same (RFC 5289, RFC 7905).
enum class Cipher { kAes128Gcm, kAes256Gcm, kChacha20Poly1305 };

enum class Hash { kSha256, kSha384 };

inline constexpr size_t kMaxKeyLength = 32;
// RFC 8446 5.3, RFC 5116: all three AEADs take a 12-byte nonce.
inline constexpr size_t kIvLength = 12;
inline constexpr size_t kMaxHashLength = 48;

size_t KeyLength(Cipher cipher);  // 16, 32, 32.
// TLS 1.2 client/server_write_IV length from the key block: the 4-byte
// implicit salt for AES-GCM (RFC 5288 3), the whole 12-byte IV for
// ChaCha20-Poly1305 (RFC 7905 2).
size_t Tls12FixedIvLength(Cipher cipher);
// The TLS 1.3 suite hash, which is also the TLS 1.2 PRF hash of these suites.
Hash CipherHash(Cipher cipher);
size_t HashLength(Hash hash);  // 32, 48.

absl::string_view CipherName(Cipher cipher);  // "AES-128-GCM", ...
absl::string_view TlsVersionName(TlsVersion version);  // "TLS 1.2", "TLS 1.3"
absl::string_view HashName(Hash hash);  // "SHA256", "SHA384"

// A TLS 1.3 traffic secret (32 or 48 bytes), e.g. CLIENT_TRAFFIC_SECRET_0.
class TrafficSecret {
 public:
  TrafficSecret() = default;
  // Fails unless `bytes` is 32 or 48 bytes long.
  static absl::StatusOr<TrafficSecret> FromBytes(absl::Span<const uint8_t> bytes);

  absl::Span<const uint8_t> span() const { return bytes_.span().first(size_); }
  size_t size() const { return size_; }

 private:
  SecretArray<kMaxHashLength> bytes_;
  size_t size_ = 0;
};

// The write key and IV of one direction.
struct TrafficKeys {
  Cipher cipher = Cipher::kAes128Gcm;
  // The first KeyLength(cipher) bytes are the key; the rest are zero.
  SecretArray<kMaxKeyLength> key;
  // TLS 1.3: the 12-byte write_iv (RFC 8446 7.3). TLS 1.2: the key block's
  // write_IV, i.e. for AES-GCM the 4-byte salt followed by 8 zero bytes, for
  // ChaCha20-Poly1305 the whole 12-byte IV. In both versions the AES-GCM salt
  // is iv[0..4).
  SecretArray<kIvLength> iv;

  absl::Span<const uint8_t> key_span() const { return key.span().first(KeyLength(cipher)); }
};

// RFC 8446 7.1: HKDF-Expand-Label(Secret, Label, Context, Length) =
// HKDF-Expand(Secret, HkdfLabel, Length), HkdfLabel = uint16 length ||
// opaque label<7..255> ("tls13 " + Label) || opaque context<0..255>.
// Writes out.size() bytes. Fails if the label or context is too long, or
// out.size() exceeds 255 * HashLength(hash).
absl::Status HkdfExpandLabel(Hash hash, absl::Span<const uint8_t> secret, absl::string_view label,
                             absl::Span<const uint8_t> context, absl::Span<uint8_t> out);

// RFC 8446 7.3: key = HKDF-Expand-Label(secret, "key", "", key_length),
// iv = HKDF-Expand-Label(secret, "iv", "", 12). Fails unless the secret is
// HashLength(CipherHash(cipher)) bytes.
absl::StatusOr<TrafficKeys> DeriveTls13Keys(Cipher cipher, absl::Span<const uint8_t> traffic_secret);

// RFC 8446 7.2 (KeyUpdate): application_traffic_secret_N+1 =
// HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "",
// Hash.length). Same length check as DeriveTls13Keys().
absl::StatusOr<TrafficSecret> NextTrafficSecret(Cipher cipher,
                                                absl::Span<const uint8_t> traffic_secret);

// RFC 5246 5: PRF(secret, label, seed) = P_<hash>(secret, label || seed),
// out.size() bytes.
absl::Status Tls12Prf(Hash hash, absl::Span<const uint8_t> secret, absl::string_view label,
                      absl::Span<const uint8_t> seed, absl::Span<uint8_t> out);

struct Tls12Keys {
  TrafficKeys client;  // client_write_key / client_write_IV
  TrafficKeys server;  // server_write_key / server_write_IV
};

// RFC 5246 6.3: key_block = PRF(master_secret, "key expansion",
// server_random || client_random), split into client_write_key,
// server_write_key, client_write_IV, server_write_IV (AEAD suites have no MAC
// keys). The master secret is 48 bytes (RFC 5246 8.1), randoms 32 each.
absl::StatusOr<Tls12Keys> DeriveTls12Keys(Cipher cipher, absl::Span<const uint8_t> master_secret,
                                          absl::Span<const uint8_t> client_random,
                                          absl::Span<const uint8_t> server_random);

// The kernel's crypto_info for one direction, ready for
// setsockopt(fd, SOL_TLS, TLS_TX or TLS_RX, data(), size()). Holds key
// material: wiped on destruction.
class KernelCryptoInfo {
 public:
  KernelCryptoInfo(const KernelCryptoInfo& other) = default;
  KernelCryptoInfo& operator=(const KernelCryptoInfo& other) = default;
  ~KernelCryptoInfo();

  const void* data() const { return &storage_; }
  size_t size() const { return size_; }
  uint16_t version() const { return storage_.info.version; }
  uint16_t cipher_type() const { return storage_.info.cipher_type; }

 private:
  friend KernelCryptoInfo BuildCryptoInfo(TlsVersion, const TrafficKeys&, uint64_t);
  KernelCryptoInfo();

  union Storage {
    tls_crypto_info info;
    tls12_crypto_info_aes_gcm_128 aes_gcm_128;
    tls12_crypto_info_aes_gcm_256 aes_gcm_256;
    tls12_crypto_info_chacha20_poly1305 chacha20_poly1305;
  } storage_;
  size_t size_ = 0;
};

// Fills the struct for `keys.cipher` (Documentation/networking/tls.rst):
// - AES-GCM, TLS 1.3: salt = iv[0..4), iv = iv[4..12); the kernel rebuilds
//   the nonce as (salt || iv) XOR sequence (RFC 8446 5.3).
// - AES-GCM, TLS 1.2: salt = the 4-byte implicit IV, iv = the 8-byte
//   explicit nonce of the next record, which we set to the record sequence
//   number (RFC 5288 3 allows it; it is unique per key, and the kernel then
//   increments it per record).
// - ChaCha20-Poly1305, both versions: iv = the whole 12-byte IV, no salt
//   (RFC 7905 2, RFC 8446 5.3).
// rec_seq = `record_sequence` big-endian: the number of records already
// protected with these keys in this direction.
KernelCryptoInfo BuildCryptoInfo(TlsVersion version, const TrafficKeys& keys,
                                 uint64_t record_sequence);

}  // namespace sstp::ktls

#endif  // SSTP_KTLS_KTLS_KEY_SCHEDULE_H_
