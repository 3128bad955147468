// What the TLS layer hands to the rest of the daemon after a handshake, as
// plain values: the negotiated version and AEAD, the application traffic
// secrets (TLS 1.3) or master secret and randoms (TLS 1.2), and how many
// records each direction has already protected. Together these let the
// kernel (kTLS) take over the record layer at the exact record OpenSSL
// stopped at (KTLS-NOTES.md "Kernel TLS"). No OpenSSL types.
//
// Secrets live in SecretArray (wiped on destruction, never printable); the
// randoms are public values (they travel in clear in the hellos).
#ifndef SSTP_KTLS_DAEMON_TLS_KEY_MATERIAL_H_
#define SSTP_KTLS_DAEMON_TLS_KEY_MATERIAL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/secret.h"

namespace sstp::tls {

enum class TlsVersion { kTls12, kTls13 };

// The AEADs this client offers (and the kernel supports). TLS 1.3 suites
// TLS_AES_128_GCM_SHA256 (0x1301), TLS_AES_256_GCM_SHA384 (0x1302),
// TLS_CHACHA20_POLY1305_SHA256 (0x1303); TLS 1.2 the ECDHE_ECDSA / ECDHE_RSA
// suites with the same AEAD (RFC 5289, RFC 7905).
enum class Cipher { kAes128Gcm, kAes256Gcm, kChacha20Poly1305 };

absl::string_view TlsVersionName(TlsVersion version);  // "TLS 1.2", "TLS 1.3"
absl::string_view CipherName(Cipher cipher);           // "AES-128-GCM", ...

// The hash of the suite: SHA-384 for AES-256-GCM, SHA-256 otherwise. It is
// the TLS 1.3 HKDF hash and the TLS 1.2 PRF hash; its length is the length of
// a TLS 1.3 traffic secret.
size_t CipherHashLength(Cipher cipher);  // 32 or 48

// Maps an IANA cipher suite value to the AEAD, for the suites above only.
std::optional<Cipher> CipherFromSuite(uint16_t cipher_suite);

// A TLS secret of 32 or 48 bytes (a TLS 1.3 traffic secret) or 48 bytes (a
// TLS 1.2 master secret).
class Secret {
 public:
  static constexpr size_t kMaxSize = 48;

  Secret() = default;
  // Fails unless 0 < bytes.size() <= kMaxSize.
  static absl::StatusOr<Secret> FromBytes(absl::Span<const uint8_t> bytes);

  absl::Span<const uint8_t> span() const { return bytes_.span().first(size_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  SecretArray<kMaxSize> bytes_;
  size_t size_ = 0;
};

// Records per direction, counted from OpenSSL's message callback, which
// sees the 5-byte header of every record read or written.
//
// `*_seq` is what the kernel's crypto_info.rec_seq needs: the number of
// records already protected with the CURRENT traffic key of that direction,
// whatever their content type (application data, alerts, post-handshake
// handshake messages such as NewSessionTicket and KeyUpdate all consume a
// sequence number: RFC 8446 5.3, RFC 5246 6.1):
//   - TLS 1.3: the application keys take over when the handshake completes
//     (RFC 8446 7.3; Finished is protected with the handshake keys), so
//     seq counts every record after it: the server's NewSessionTickets (an
//     OpenSSL server sends 2, each in its own record), the HTTP reply, ...
//     A KeyUpdate (RFC 8446 4.6.3) switches that direction to the next
//     secret: seq restarts at 0 after the KeyUpdate record and
//     `*_key_updates` counts how many times "traffic upd" must be applied to
//     the _0 secret.
//   - TLS 1.2: the keys change after the ChangeCipherSpec record, and
//     Finished is the first record under them (RFC 5246 7.1, 7.4.9), so
//     right after the handshake tx_seq == rx_seq == 1. (Renegotiation is
//     refused, so the keys never change again.)
// `*_records` counts records of any content type since the handshake
// completed (so for TLS 1.2, seq == records + 1 until a KeyUpdate, which TLS
// 1.2 does not have).
struct RecordCounters {
  uint64_t tx_seq = 0;
  uint64_t rx_seq = 0;
  uint64_t tx_records = 0;
  uint64_t rx_records = 0;
  uint32_t tx_key_updates = 0;
  uint32_t rx_key_updates = 0;
};

// Everything the kernel needs to continue the session (see
// Connection::ExportKeyMaterial()). Copyable; the secrets are wiped on
// destruction.
//
// Both sides export the same secrets and randoms; what differs is which one
// each direction uses. The client installs TLS_TX from the client secret
// (TLS 1.3: client_traffic_secret; TLS 1.2: the key block's
// client_write_key / client_write_IV, RFC 5246 6.3) and TLS_RX from the
// server's; a server (the test server, server.h) swaps them: TLS_TX from the
// server secret, TLS_RX from the client's. `records` is always this side's
// view (tx = what this side sent), so on either side TLS_TX takes
// records.tx_seq and TLS_RX records.rx_seq, and a KeyUpdate count applies
// to the secret of the direction it names (tx_key_updates to the secret
// this side sends with).
struct KeyMaterial {
  TlsVersion version = TlsVersion::kTls13;
  Cipher cipher = Cipher::kAes128Gcm;
  uint16_t cipher_suite = 0;  // IANA value, e.g. 0x1301.

  // TLS 1.3 (RFC 8446 7.1): client_application_traffic_secret_0 and
  // server_application_traffic_secret_0 (keylog labels
  // CLIENT_TRAFFIC_SECRET_0 / SERVER_TRAFFIC_SECRET_0), CipherHashLength()
  // bytes. Empty for TLS 1.2.
  Secret client_traffic_secret;
  Secret server_traffic_secret;

  // TLS 1.2 (RFC 5246 8.1): the 48-byte master secret (keylog label
  // CLIENT_RANDOM). Empty for TLS 1.3.
  Secret master_secret;

  // Both versions: the hello randoms (RFC 8446 4.1.2-4.1.3).
  std::array<uint8_t, 32> client_random{};
  std::array<uint8_t, 32> server_random{};

  RecordCounters records;
};

}  // namespace sstp::tls

#endif  // SSTP_KTLS_DAEMON_TLS_KEY_MATERIAL_H_
