// The TLS client of the SSTP tunnel (lifecycle steps 3-4 of
// ARCHITECTURE.md): handshake over a connected TCP socket, server
// certificate verification, the HTTP exchange over the socket, then either a
// hand-over of the keys to the kernel (ExportKeyMaterial) or the user-space
// record layer over memory buffers (SwitchToMemoryBios, Encrypt, Decrypt).
//
// This is the only module that knows OpenSSL's SSL API; nothing OpenSSL
// appears in this header.
//
// Verification (before the handshake completes, so before the caller can
// write a byte):
//   1. The chain, against ca_file / ca_dir, or the system store when both
//      are empty.
//   2. The server name against the leaf's subjectAltName (RFC 6125 6.4 as
//      updated by RFC 9525: DNS-IDs only, the subject CN is never used; a
//      wildcard is a whole left-most label and matches exactly one label:
//      *.example.test matches a.example.test, not a.b.example.test nor
//      example.test; an IP-literal server name is matched against IP SANs
//      only).
//   3. Extended key usage of the leaf: serverAuth, anyExtendedKeyUsage, or
//      no EKU extension. MS-SSTP 3.2.4.1 (SSTP-NOTES "HTTP layer") requires
//      serverAuth or anyExtendedKeyUsage; a certificate without the
//      extension is valid for any purpose (RFC 5280 4.2.1.12), which OpenSSL
//      and Windows also accept. Intermediates get OpenSSL's usual purpose
//      checks.
//   4. The pin (SHA-256 of the leaf certificate's DER), if configured. The
//      pin is checked even with insecure_skip_verify.
// Each failure is a Status with code kUnauthenticated and a message such as
//   "TLS certificate verification failed: unable to get local issuer
//    certificate (depth 0, subject CN=vpn.example.test)"
//   "TLS host name mismatch: certificate names vpn.other.test,
//    *.other.test; expected vpn.example.test"
//   "TLS pin mismatch: leaf sha256:<hex> is not the pinned sha256:<hex>"
// Other handshake failures: kDeadlineExceeded (timeout), kUnavailable (the
// server closed or reset the connection, or a socket error),
// kFailedPrecondition (TLS protocol failure: an alert from the server, no
// common version or cipher, the server does not speak TLS).
//
// SNI: sent for DNS names; not for IP literals, which RFC 6066 3 forbids in
// server_name.
//
// The Connection a handshake returns is declared in connection.h (shared with
// the test server, server.h). Not thread-safe: a Connection is used by one
// thread at a time.
#ifndef SSTP_KTLS_DAEMON_TLS_CLIENT_H_
#define SSTP_KTLS_DAEMON_TLS_CLIENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "daemon/tls/connection.h"
#include "daemon/tls/key_material.h"

namespace sstp::tls {

// Plain values, filled by the session from the profile's [tls] section.
struct ClientConfig {
  // The name the certificate must carry, also sent as SNI: a DNS name or an
  // IP literal (an IPv6 literal may be in brackets).
  std::string server_name;
  // Trust anchors. Both empty: the system default store.
  std::string ca_file;
  std::string ca_dir;
  // SHA-256 of the leaf certificate (DER).
  std::optional<std::array<uint8_t, 32>> pin_sha256;
  TlsVersion min_version = TlsVersion::kTls12;
  // TLS 1.3 unless the session should suit NIC offload (TLS 1.2 only in
  // mainline). Create() fails if it is below min_version.
  TlsVersion max_version = TlsVersion::kTls13;
  // Skips chain, name and EKU checks (the pin, if set, is still checked).
  // Logged as a warning on every handshake.
  bool insecure_skip_verify = false;
  // NSS key log file (appended, created 0600), for Wireshark. Empty: off.
  // Logged as a warning when on.
  std::string keylog_file;
  absl::Duration handshake_timeout = absl::Seconds(30);
  // Empty: the default policy, AEAD only: TLS 1.3 AES-128-GCM,
  // AES-256-GCM, ChaCha20-Poly1305; TLS 1.2 ECDHE (ECDSA or RSA) with the
  // same three AEADs. Otherwise only the listed AEADs (both versions), in
  // this order of preference.
  std::vector<Cipher> ciphers;
};

// The configuration turned into an OpenSSL context once per profile (trust
// store loaded, cipher policy set). Immutable after Create(); connections
// keep what they need, so the context may be destroyed before them.
class ClientContext {
 public:
  // Fails on an empty server name, an unreadable CA file or directory, a CA
  // file without certificates, an unwritable keylog file, a non-positive
  // timeout or an empty/duplicate cipher entry.
  static absl::StatusOr<std::unique_ptr<ClientContext>> Create(ClientConfig config,
                                                               Logger logger);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  // Runs the handshake on `fd`, a connected stream socket the caller owns
  // (borrowed: it must stay open while the Connection uses it, i.e. until
  // SwitchToMemoryBios() or the Connection is destroyed). The socket's flags
  // are left alone: I/O uses MSG_DONTWAIT and poll() with a deadline of
  // config.handshake_timeout, and MSG_NOSIGNAL so a closed peer is an error,
  // not a SIGPIPE.
  absl::StatusOr<std::unique_ptr<Connection>> Handshake(int fd) const;

  const ClientConfig& config() const { return config_; }

  struct Impl;

 private:
  ClientContext(ClientConfig config, Logger logger);

  ClientConfig config_;
  Logger logger_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sstp::tls

#endif  // SSTP_KTLS_DAEMON_TLS_CLIENT_H_
