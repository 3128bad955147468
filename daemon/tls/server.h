// The TLS server side, for the project's SSTP test server (tools/): the
// handshake on an accepted TCP socket, then the same Connection as the
// client's (connection.h), so the same HTTP exchange, kernel hand-over and
// memory-mode data plane run on top. Only daemon/tls may use OpenSSL's SSL
// API; nothing OpenSSL appears in this header.
//
// It can behave like the servers clients meet: a TLS 1.2 maximum (Windows
// Server 2019's SSTP), one forced AEAD, no or several NewSessionTickets, a
// required SNI name (accel-ppp's `host-name`), and on demand a KeyUpdate or a
// late NewSessionTicket (Connection::EncodeKeyUpdate,
// Connection::EncodeNewSessionTicket).
//
// No client certificate is requested. TLS 1.3 tickets are OpenSSL's
// stateless ones, issued so that clients must absorb them; the project's
// client keeps no sessions, so its handshakes are always full ones.
#ifndef SSTP_KTLS_DAEMON_TLS_SERVER_H_
#define SSTP_KTLS_DAEMON_TLS_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "daemon/tls/connection.h"
#include "daemon/tls/key_material.h"

namespace sstp::tls {

struct ServerConfig {
  // PEM: the leaf certificate first, then any intermediates to send.
  std::string cert_file;
  // PEM private key of the leaf (unencrypted).
  std::string key_file;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // Same meaning as ClientConfig::ciphers: empty is AES-128-GCM,
  // AES-256-GCM, ChaCha20-Poly1305 (TLS 1.3 suites and TLS 1.2 ECDHE
  // suites); otherwise only the listed AEADs, in this order of preference,
  // which the server enforces (it does not follow the client's order).
  std::vector<Cipher> ciphers;
  // TLS 1.3 NewSessionTickets sent right after the handshake (RFC 8446
  // 4.6.1); OpenSSL's default is 2. 0 sends none.
  size_t num_tickets = 2;
  // Non-empty: the SNI the client must send (compared without regard to
  // case, RFC 4343). A ClientHello with another name or none is refused
  // with a fatal unrecognized_name alert (RFC 6066 3), as accel-ppp does
  // with `host-name`.
  std::string required_sni;
  absl::Duration handshake_timeout = absl::Seconds(30);
  // NSS key log file (appended, created 0600). Empty: off.
  std::string keylog_file;
};

// Immutable after Create(); Accept() may run on several threads at once.
// Connections keep what they need, so the context may be destroyed before
// them.
class ServerContext {
 public:
  // Loads and checks the certificate chain and key. Fails, naming the file,
  // on: an unset, unreadable or non-PEM certificate or key file
  // ("TLS certificate file /x: No such file or directory (errno 2)", "TLS
  // key file /k: no PEM private key (...)"), a key that does not belong to
  // the leaf certificate ("TLS key file /k does not match the certificate
  // in /c"), min_version above max_version, a non-positive timeout, a
  // duplicate cipher, an SNI name with a character outside a DNS name, an
  // unwritable keylog file.
  static absl::StatusOr<std::unique_ptr<ServerContext>> Create(ServerConfig config, Logger logger);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // Runs the server handshake on `fd`, an accepted stream socket the caller
  // owns (borrowed, as for ClientContext::Handshake: same non-blocking I/O
  // with poll() and a deadline of config.handshake_timeout). Errors name
  // "the client": e.g. kFailedPrecondition "TLS handshake refused: client
  // SNI 'x' does not match required 'y'", "TLS handshake with the client
  // failed: the client sent alert \"...\"", kUnavailable when the client
  // closed the connection, kDeadlineExceeded on timeout.
  absl::StatusOr<std::unique_ptr<Connection>> Accept(int fd) const;

  const ServerConfig& config() const { return config_; }

  struct Impl;

 private:
  ServerContext(ServerConfig config, Logger logger);

  ServerConfig config_;
  Logger logger_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sstp::tls

#endif  // SSTP_KTLS_DAEMON_TLS_SERVER_H_
