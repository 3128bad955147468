// Internal to daemon/tls: the state behind a Connection and the OpenSSL
// settings both sides share. The client (client.cc) and the test server
// (server.cc) make the SSL_CTX and run their side's checks; connection.cc
// holds the handshake loop, key capture, record counting and record layer,
// which are the same for both roles. Only this module's .cc files include
// this header.
#ifndef SSTP_KTLS_DAEMON_TLS_CONNECTION_IMPL_H_
#define SSTP_KTLS_DAEMON_TLS_CONNECTION_IMPL_H_

#include <openssl/ssl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "daemon/tls/connection.h"
#include "daemon/tls/buffer_bio.h"
#include "daemon/tls/fd_bio.h"
#include "daemon/tls/key_material.h"
#include "daemon/tls/openssl_util.h"

namespace sstp::tls {
namespace internal {

enum class Role { kClient, kServer };

// The key log file (NSS format), shared by the connections of one context.
class KeylogFile {
 public:
  KeylogFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  // Appends "line\n" in one write (O_APPEND keeps concurrent writers'
  // lines whole). Returns false if the write failed or was short.
  bool Append(const char* line);
  const std::string& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::string path_;
};

// Opens `path` for appending (created 0600, no symlink followed) and warns
// through `logger` that secrets go there. nullptr for an empty path.
absl::StatusOr<std::shared_ptr<KeylogFile>> OpenKeylogFile(const std::string& path,
                                                           const Logger& logger);

// "TLS handshake timeout <d> is not positive" unless timeout > 0.
absl::Status CheckHandshakeTimeout(absl::Duration timeout);

// A new SSL_CTX for `method` with the settings every context of this module
// shares: the version range, no renegotiation or compression, OpenSSL's own
// kTLS off, read-ahead off, no session cache, the AEAD-only cipher policy
// (`ciphers` in order of preference; empty: AES-128-GCM, AES-256-GCM,
// ChaCha20-Poly1305) and the keylog callback that captures the secrets.
// Fails on a duplicate cipher ("TLS cipher AES-256-GCM is listed twice").
absl::StatusOr<SslCtxPtr> NewContext(const SSL_METHOD* method, TlsVersion min_version,
                                     TlsVersion max_version, const std::vector<Cipher>& ciphers);

// The first bytes a peer sent, for "does not speak TLS" errors and names
// taken from the wire: printable ASCII as is, anything else as \xNN.
std::string EscapeBytes(absl::Span<const uint8_t> bytes);
inline std::string EscapeBytes(absl::string_view text) {
  return EscapeBytes(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace internal

struct Connection::Impl {
  enum class Mode { kHandshake, kSocket, kMemory };

  // `label` names the peer in handshake errors and logs: the server name on
  // the client ("TLS handshake with vpn.example.test failed: ..."), "the
  // client" on the server. `min_version`/`max_version` are the configured
  // range, for the hints in error messages.
  Impl(internal::Role role, std::string label, Logger logger,
       std::shared_ptr<internal::KeylogFile> keylog, TlsVersion min_version,
       TlsVersion max_version);

  static Impl* From(const SSL* ssl) { return static_cast<Impl*>(SSL_get_app_data(ssl)); }

  const internal::Role role;
  const std::string label;
  const Logger logger;
  const std::shared_ptr<internal::KeylogFile> keylog;
  const TlsVersion min_version;
  const TlsVersion max_version;

  internal::SslPtr ssl;
  internal::FdBioState fd_state;
  internal::BufferBioState buffers;  // Memory mode: the BIO's state.
  Mode mode = Mode::kHandshake;
  HandshakeInfo info;

  // A precise reason set by a callback that made the handshake fail (the
  // client's certificate verification, the server's SNI check); reported
  // instead of OpenSSL's generic text.
  std::optional<absl::Status> refusal;
  // Set by the client's certificate verification.
  bool verified = false;
  // The last alert received other than close_notify / user_canceled.
  std::optional<int> peer_alert;  // OpenSSL's (level << 8 | description).
  bool keylog_write_failed = false;

  // The first record header received, to tell a peer that does not speak
  // TLS apart.
  std::array<uint8_t, 5> first_rx_header{};
  bool first_rx_seen = false;

  bool handshake_done = false;
  RecordCounters counters;
  uint64_t key_update_records = Connection::kDefaultKeyUpdateRecords;

  // Captured from the keylog callback (KeyMaterial).
  Secret client_traffic_secret;
  Secret server_traffic_secret;
  Secret master_secret;
  std::array<uint8_t, 32> master_client_random{};
  std::optional<absl::Status> capture_error;

  // "server" on the client, "client" on the server.
  absl::string_view peer() const;

  // Makes `ssl` from `ctx` over the borrowed socket `fd`, with this Impl as
  // its app data and the message and info callbacks installed.
  absl::Status Attach(SSL_CTX* ctx, int fd);

  // SSL_connect or SSL_accept until done, then CollectInfo(); the
  // connection is in socket mode afterwards.
  absl::Status RunHandshake(absl::Duration timeout);

  // --- Callbacks (connection.cc installs them).
  void OnKeyLogLine(const char* line);
  void OnMessage(bool sent, bool tls13, int content_type, const uint8_t* bytes, size_t size);
  void OnAlertReceived(int value);

  // --- Used by the Connection methods.
  absl::Status RequireMode(Mode wanted, absl::string_view operation) const;
  absl::Status RequireTls13(absl::string_view operation) const;
  absl::Status Wait(int ssl_error, absl::Duration deadline);
  // After an SSL_* call in socket mode returned `result` (not success):
  // waits for the socket if OpenSSL wants it, so the caller retries (OK);
  // else the failure, or "<what> timed out after <timeout>" once `deadline`
  // has passed.
  absl::Status AwaitRetry(int result, absl::string_view what, absl::Duration timeout,
                          absl::Duration deadline);
  // Memory mode, TLS 1.3: `schedule` queues a post-handshake message
  // (SSL_key_update, SSL_new_session_ticket), which is then written and
  // appended to `out`.
  absl::Status EncodePostHandshake(absl::string_view operation,
                                   const std::function<int(SSL*)>& schedule,
                                   std::vector<uint8_t>* out);
  // After a failed SSL_read/SSL_write/SSL_shutdown (not WANT_*).
  absl::Status IoFailure(absl::string_view what);

 private:
  absl::Status HandshakeFailure();
  absl::Status CollectInfo();
};

}  // namespace sstp::tls

#endif  // SSTP_KTLS_DAEMON_TLS_CONNECTION_IMPL_H_
