#include "daemon/tls/connection.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "base/status.h"
#include "daemon/tls/connection_impl.h"
#include "daemon/tls/keylog.h"

namespace sstp::tls {

using internal::BioPtr;
using internal::ConsumeOpenSslError;
using internal::Role;
using internal::SslCtxPtr;

namespace {

// RFC 8446 6: alert descriptions that do not mean "the session failed", and
// those the handshake errors explain.
constexpr int kAlertCloseNotify = 0;
constexpr int kAlertUserCanceled = 90;
constexpr int kAlertHandshakeFailure = 40;
constexpr int kAlertProtocolVersion = 70;
constexpr int kAlertUnrecognizedName = 112;  // RFC 6066 3.

// OpenSSL names of the suites for each AEAD (RFC 8446 B.4; RFC 5289 and
// RFC 7905 for the TLS 1.2 ECDHE suites).
absl::string_view Tls13SuiteName(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
      return "TLS_AES_128_GCM_SHA256";
    case Cipher::kAes256Gcm:
      return "TLS_AES_256_GCM_SHA384";
    case Cipher::kChacha20Poly1305:
      return "TLS_CHACHA20_POLY1305_SHA256";
  }
  return "";
}

absl::string_view Tls12SuiteNames(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
      return "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
    case Cipher::kAes256Gcm:
      return "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
    case Cipher::kChacha20Poly1305:
      return "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  }
  return "";
}

int OpenSslVersion(TlsVersion version) {
  return version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// RFC 8446 5.1 / RFC 5246 6.2.1: a record header is a known content type
// (change_cipher_spec 20 .. heartbeat 24) and a 3.x legacy version.
bool LooksLikeTlsHeader(const std::array<uint8_t, 5>& header) {
  return header[0] >= 20 && header[0] <= 24 && header[1] == 3 && header[2] <= 4;
}

absl::Status WaitFd(int fd, short events, absl::Duration deadline) {
  while (true) {
    const absl::Duration remaining = deadline - MonotonicClock::Get().Now();
    if (remaining <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    pollfd pfd = {fd, events, 0};
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(remaining, absl::Milliseconds(1)));
    const int n = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (n > 0) return absl::OkStatus();  // Readable, writable, or an error to read.
    if (n < 0 && errno != EINTR) return LastErrnoStatus("poll");
  }
}

// OpenSSL callbacks. The SSL's app data is its Connection::Impl.

void KeylogCallback(const SSL* ssl, const char* line) {
  Connection::Impl* impl = Connection::Impl::From(ssl);
  if (impl != nullptr) impl->OnKeyLogLine(line);
}

void MsgCallback(int write_p, int /*version*/, int content_type, const void* buf, size_t len,
                 SSL* ssl, void* arg) {
  static_cast<Connection::Impl*>(arg)->OnMessage(write_p != 0, SSL_version(ssl) == TLS1_3_VERSION,
                                                 content_type, static_cast<const uint8_t*>(buf),
                                                 len);
}

void InfoCallback(const SSL* ssl, int where, int value) {
  if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT) return;
  Connection::Impl* impl = Connection::Impl::From(ssl);
  if (impl != nullptr) impl->OnAlertReceived(value);
}

}  // namespace

// ---------------------------------------------------------------------------
// Shared context settings.

namespace internal {

bool KeylogFile::Append(const char* line) {
  iovec parts[2] = {{const_cast<char*>(line), std::strlen(line)},
                    {const_cast<char*>("\n"), 1}};
  ssize_t n;
  do {
    n = writev(fd_.get(), parts, 2);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(parts[0].iov_len + 1);
}

absl::StatusOr<std::shared_ptr<KeylogFile>> OpenKeylogFile(const std::string& path,
                                                           const Logger& logger) {
  if (path.empty()) return std::shared_ptr<KeylogFile>();
  // O_NONBLOCK: opening a FIFO must not wait for a reader (it is refused
  // below; for a regular file the flag changes nothing).
  UniqueFd fd(open(path.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600));
  if (!fd) return LastErrnoStatus(absl::StrCat("TLS key log file ", path));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return LastErrnoStatus(absl::StrCat("TLS key log file ", path));
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key log file ", path, " is not a regular file"));
  }
  // An existing file keeps its mode on open: secrets go only to its owner.
  if ((st.st_mode & 077) != 0 && fchmod(fd.get(), 0600) != 0) {
    return LastErrnoStatus(absl::StrCat("TLS key log file ", path, ": chmod 600"));
  }
  logger.Warning(
      "TLS key log on: session secrets are appended to %s; anyone who can read it can "
      "decrypt captured traffic",
      path);
  return std::make_shared<KeylogFile>(std::move(fd), path);
}

absl::Status CheckHandshakeTimeout(absl::Duration timeout) {
  if (timeout > absl::ZeroDuration()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("TLS handshake timeout ", absl::FormatDuration(timeout), " is not positive"));
}

absl::StatusOr<SslCtxPtr> NewContext(const SSL_METHOD* method, TlsVersion min_version,
                                     TlsVersion max_version,
                                     const std::vector<Cipher>& configured) {
  std::vector<Cipher> ciphers = configured;
  if (ciphers.empty()) {
    // AES-128-GCM first: the fastest with AES-NI, and supported by every
    // kernel TLS version (4.13+) and by NIC offload.
    ciphers = {Cipher::kAes128Gcm, Cipher::kAes256Gcm, Cipher::kChacha20Poly1305};
  }
  std::vector<absl::string_view> tls13_names;
  std::vector<absl::string_view> tls12_names;
  for (size_t i = 0; i < ciphers.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (ciphers[i] == ciphers[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("TLS cipher ", CipherName(ciphers[i]), " is listed twice"));
      }
    }
    tls13_names.push_back(Tls13SuiteName(ciphers[i]));
    tls12_names.push_back(Tls12SuiteNames(ciphers[i]));
  }
  ERR_clear_error();
  SslCtxPtr owned(SSL_CTX_new(method));
  if (owned == nullptr) {
    return absl::InternalError(absl::StrCat("SSL_CTX_new: ", ConsumeOpenSslError()));
  }
  SSL_CTX* ctx = owned.get();
  if (SSL_CTX_set_min_proto_version(ctx, OpenSslVersion(min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, OpenSslVersion(max_version)) != 1) {
    return absl::InternalError(absl::StrCat("TLS versions: ", ConsumeOpenSslError()));
  }
  // No renegotiation (TLS 1.2 keys never change under the kernel), no
  // compression. SSL_OP_ENABLE_KTLS stays off: the daemon installs the keys
  // itself, for both versions and directions (KTLS-NOTES "OpenSSL 3.0").
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_KTLS);
  // Read-ahead off: OpenSSL reads exactly one record at a time from the
  // socket, so nothing past the last record it processed is ever in user
  // space when the kernel or the memory mode takes over.
  SSL_CTX_set_read_ahead(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  const std::string tls13_list = absl::StrJoin(tls13_names, ":");
  const std::string tls12_list = absl::StrJoin(tls12_names, ":");
  if (SSL_CTX_set_ciphersuites(ctx, tls13_list.c_str()) != 1 ||
      SSL_CTX_set_cipher_list(ctx, tls12_list.c_str()) != 1) {
    return absl::InternalError(absl::StrCat("TLS cipher policy: ", ConsumeOpenSslError()));
  }
  // Always on: it is how the kernel TLS secrets are captured.
  SSL_CTX_set_keylog_callback(ctx, KeylogCallback);
  return owned;
}

std::string EscapeBytes(absl::Span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) {
    if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') {
      out.push_back(static_cast<char>(b));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", b);
    }
  }
  return out;
}

}  // namespace internal

// ---------------------------------------------------------------------------
// Connection::Impl

Connection::Impl::Impl(Role role, std::string label, Logger logger,
                       std::shared_ptr<internal::KeylogFile> keylog, TlsVersion min_version,
                       TlsVersion max_version)
    : role(role),
      label(std::move(label)),
      logger(std::move(logger)),
      keylog(std::move(keylog)),
      min_version(min_version),
      max_version(max_version) {}

absl::string_view Connection::Impl::peer() const {
  return role == Role::kClient ? "server" : "client";
}

absl::Status Connection::Impl::Attach(SSL_CTX* ctx, int fd) {
  if (fd < 0) return absl::InvalidArgumentError("TLS handshake: invalid socket descriptor");
  fd_state.fd = fd;
  ERR_clear_error();
  ssl.reset(SSL_new(ctx));
  if (ssl == nullptr) return absl::InternalError(absl::StrCat("SSL_new: ", ConsumeOpenSslError()));
  SSL_set_app_data(ssl.get(), this);
  SSL_set_msg_callback(ssl.get(), MsgCallback);
  SSL_set_msg_callback_arg(ssl.get(), this);
  SSL_set_info_callback(ssl.get(), InfoCallback);
  BIO* bio = internal::NewFdBio(&fd_state);
  if (bio == nullptr) return absl::ResourceExhaustedError("TLS: cannot allocate the socket BIO");
  SSL_set_bio(ssl.get(), bio, bio);  // One reference, owned by `ssl` from here.
  return absl::OkStatus();
}

void Connection::Impl::OnKeyLogLine(const char* line) {
  if (keylog != nullptr && !keylog->Append(line) && !keylog_write_failed) {
    keylog_write_failed = true;
    logger.Warning("TLS key log %s: write failed; later lines may be missing", keylog->path());
  }
  absl::StatusOr<KeyLogEntry> entry = ParseKeyLogLine(line);
  if (!entry.ok()) {
    if (!capture_error.has_value()) capture_error = entry.status();
    return;
  }
  switch (entry->label) {
    case KeyLogLabel::kClientRandom:
      master_secret = entry->secret;
      master_client_random = entry->client_random;
      break;
    case KeyLogLabel::kClientTrafficSecret0:
      client_traffic_secret = entry->secret;
      break;
    case KeyLogLabel::kServerTrafficSecret0:
      server_traffic_secret = entry->secret;
      break;
    case KeyLogLabel::kOther:
      break;
  }
}

// See RecordCounters for what is counted and why.
void Connection::Impl::OnMessage(bool sent, bool tls13, int content_type, const uint8_t* bytes,
                                 size_t size) {
  switch (content_type) {
    case SSL3_RT_HEADER: {
      if (!sent && !first_rx_seen && size >= first_rx_header.size()) {
        std::memcpy(first_rx_header.data(), bytes, first_rx_header.size());
        first_rx_seen = true;
      }
      uint64_t& seq = sent ? counters.tx_seq : counters.rx_seq;
      ++(sent ? counters.tx_records : counters.rx_records);
      // RFC 5246 7.1: the records after a ChangeCipherSpec record use the
      // new keys, starting at sequence number 0. The record header is the
      // only place both directions show it: OpenSSL 3.0 has no message
      // callback for a received ChangeCipherSpec. (A TLS 1.3 compatibility
      // CCS changes no keys; the Finished message below restarts the counts
      // anyway.)
      if (size >= 1 && bytes[0] == SSL3_RT_CHANGE_CIPHER_SPEC) {
        seq = 0;
      } else {
        ++seq;
      }
      break;
    }
    case SSL3_RT_HANDSHAKE:
      if (size < 1) break;
      // RFC 8446 7.3: a side protects every record after its own Finished
      // with its application traffic secret. The callback for a message
      // comes after the one for its record's header, so the Finished record
      // itself is counted under the handshake key. The server's first
      // application records (its NewSessionTickets) go out inside
      // SSL_accept, so the count cannot wait for the handshake to return.
      if (tls13 && !handshake_done && bytes[0] == SSL3_MT_FINISHED) {
        (sent ? counters.tx_seq : counters.rx_seq) = 0;
        (sent ? counters.tx_records : counters.rx_records) = 0;
      }
      // RFC 8446 4.6.3: after a KeyUpdate the sender uses the next traffic
      // secret; the KeyUpdate record itself is counted under the old key.
      if (handshake_done && bytes[0] == SSL3_MT_KEY_UPDATE) {
        if (sent) {
          counters.tx_seq = 0;
          ++counters.tx_key_updates;
        } else {
          counters.rx_seq = 0;
          ++counters.rx_key_updates;
        }
      }
      break;
    default:
      break;
  }
}

void Connection::Impl::OnAlertReceived(int value) {
  const int description = value & 0xff;
  if (description == kAlertCloseNotify || description == kAlertUserCanceled) return;
  peer_alert = value;
}

absl::Status Connection::Impl::Wait(int ssl_error, absl::Duration deadline) {
  return WaitFd(fd_state.fd, ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline);
}

absl::Status Connection::Impl::AwaitRetry(int result, absl::string_view what,
                                          absl::Duration timeout, absl::Duration deadline) {
  const int error = SSL_get_error(ssl.get(), result);
  if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) return IoFailure(what);
  absl::Status waited = Wait(error, deadline);
  if (absl::IsDeadlineExceeded(waited)) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, " timed out after ", absl::FormatDuration(timeout)));
  }
  return waited;
}

absl::Status Connection::Impl::RunHandshake(absl::Duration timeout) {
  const absl::Duration deadline = MonotonicClock::Get().Now() + timeout;
  while (true) {
    ERR_clear_error();
    const int result = role == Role::kClient ? SSL_connect(ssl.get()) : SSL_accept(ssl.get());
    if (result == 1) break;
    const int error = SSL_get_error(ssl.get(), result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      absl::Status waited = Wait(error, deadline);
      if (absl::IsDeadlineExceeded(waited)) {
        absl::string_view silent =
            role == Role::kClient ? " (no answer from the server)" : " (no ClientHello)";
        return absl::DeadlineExceededError(absl::StrCat("TLS handshake with ", label,
                                                        " timed out after ",
                                                        absl::FormatDuration(timeout),
                                                        first_rx_seen ? "" : silent));
      }
      RETURN_IF_ERROR(waited);
      continue;
    }
    return HandshakeFailure();
  }
  handshake_done = true;
  // TLS 1.2 switched keys at ChangeCipherSpec (seq) and counts records from
  // here; TLS 1.3 restarted both counts at each side's Finished.
  if (SSL_version(ssl.get()) != TLS1_3_VERSION) {
    counters.tx_records = 0;
    counters.rx_records = 0;
  }
  RETURN_IF_ERROR(CollectInfo());
  mode = Mode::kSocket;
  return absl::OkStatus();
}

absl::Status Connection::Impl::HandshakeFailure() {
  const std::string reason = ConsumeOpenSslError();
  if (refusal.has_value()) return *refusal;
  const std::string prefix = absl::StrCat("TLS handshake with ", label, " failed: ");
  const bool client = role == Role::kClient;
  if (peer_alert.has_value()) {
    std::string hint;
    if ((*peer_alert & 0xff) == kAlertProtocolVersion) {
      if (!client) {
        hint = " (the client accepts none of the versions this server allows)";
      } else if (min_version == TlsVersion::kTls13) {
        hint = " (the server does not accept TLS 1.3, the configured minimum)";
      } else {
        hint = " (the server accepts neither TLS 1.2 nor TLS 1.3)";
      }
    } else if ((*peer_alert & 0xff) == kAlertHandshakeFailure) {
      hint = " (no cipher suite, group or signature algorithm in common)";
    } else if ((*peer_alert & 0xff) == kAlertUnrecognizedName && client) {
      hint = " (the server wants another server name in SNI)";
    }
    return absl::FailedPreconditionError(absl::StrCat(prefix, "the ", peer(), " sent alert \"",
                                                      SSL_alert_desc_string_long(*peer_alert),
                                                      "\"", hint));
  }
  if (first_rx_seen && !LooksLikeTlsHeader(first_rx_header)) {
    return absl::FailedPreconditionError(absl::StrCat(
        prefix, "the ", peer(), " does not speak TLS (", client ? "its reply starts" : "it starts",
        " with \"", internal::EscapeBytes(first_rx_header), "\")"));
  }
  if (fd_state.eof) {
    absl::string_view silent = client ? " without answering the ClientHello"
                                      : " without sending a ClientHello";
    return absl::UnavailableError(absl::StrCat(prefix, "the ", peer(), " closed the connection",
                                               first_rx_seen ? "" : silent));
  }
  if (fd_state.last_errno != 0) {
    return ErrnoStatus(fd_state.last_errno, absl::StrCat("TLS handshake with ", label));
  }
  if (reason == "unsupported protocol") {
    if (client && min_version == TlsVersion::kTls13) {
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "the server chose a TLS version below the configured minimum TLS 1.3 (",
          reason, ")"));
    }
    if (!client) {
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "the client offered no version from ", TlsVersionName(min_version), " to ",
          TlsVersionName(max_version), " (", reason, ")"));
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat(prefix, reason.empty() ? "unknown TLS error" : reason));
}

absl::Status Connection::Impl::CollectInfo() {
  switch (SSL_version(ssl.get())) {
    case TLS1_3_VERSION:
      info.version = TlsVersion::kTls13;
      break;
    case TLS1_2_VERSION:
      info.version = TlsVersion::kTls12;
      break;
    default:
      return absl::FailedPreconditionError(absl::StrCat(
          "TLS handshake with ", label, ": unexpected version ", SSL_get_version(ssl.get())));
  }
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl.get());
  if (cipher == nullptr) return absl::InternalError("TLS: no current cipher after handshake");
  info.cipher_suite = static_cast<uint16_t>(SSL_CIPHER_get_protocol_id(cipher));
  const std::optional<Cipher> aead = CipherFromSuite(info.cipher_suite);
  if (!aead.has_value()) {
    // Only the client can see this: a server picks from its own policy.
    return absl::FailedPreconditionError(absl::StrFormat(
        "TLS handshake with %s: the %s chose suite 0x%04x (%s), which was not offered", label,
        peer(), info.cipher_suite, SSL_CIPHER_get_name(cipher)));
  }
  info.cipher = *aead;
  const char* standard_name = SSL_CIPHER_standard_name(cipher);
  info.cipher_name = standard_name != nullptr ? standard_name : SSL_CIPHER_get_name(cipher);

  // The server's certificate on both sides: received, or our own.
  X509* leaf = role == Role::kClient ? SSL_get0_peer_certificate(ssl.get())
                                     : SSL_get_certificate(ssl.get());
  if (leaf == nullptr) return absl::InternalError("TLS: no server certificate after handshake");
  ASSIGN_OR_RETURN(info.leaf_der, internal::CertificateDer(leaf));
  if (EVP_Digest(info.leaf_der.data(), info.leaf_der.size(), info.leaf_sha1.data(), nullptr,
                 EVP_sha1(), nullptr) != 1 ||
      EVP_Digest(info.leaf_der.data(), info.leaf_der.size(), info.leaf_sha256.data(), nullptr,
                 EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("TLS: cannot hash the leaf certificate");
  }
  info.peer_subject = internal::SubjectString(leaf);
  const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
  info.sni = sni != nullptr ? sni : "";
  info.verified = verified;
  return absl::OkStatus();
}

absl::Status Connection::Impl::RequireMode(Mode wanted, absl::string_view operation) const {
  if (mode == wanted) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "TLS ", operation, ": only in ", wanted == Mode::kSocket ? "socket" : "memory",
      " mode; the connection is in ", mode == Mode::kSocket ? "socket" : "memory", " mode"));
}

absl::Status Connection::Impl::RequireTls13(absl::string_view operation) const {
  if (info.version == TlsVersion::kTls13) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "TLS ", operation, ": only in TLS 1.3; the connection is ", TlsVersionName(info.version)));
}

absl::Status Connection::Impl::EncodePostHandshake(absl::string_view operation,
                                                   const std::function<int(SSL*)>& schedule,
                                                   std::vector<uint8_t>* out) {
  RETURN_IF_ERROR(RequireMode(Mode::kMemory, operation));
  RETURN_IF_ERROR(RequireTls13(operation));
  ERR_clear_error();
  // SSL_key_update / SSL_new_session_ticket only schedule the message;
  // SSL_do_handshake writes it (into `out`, through the buffer BIO, so it
  // completes at once).
  if (schedule(ssl.get()) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("TLS ", operation, ": ", ConsumeOpenSslError()));
  }
  internal::SinkScope sink(buffers, out);
  const int result = SSL_do_handshake(ssl.get());
  if (result != 1) return IoFailure(absl::StrCat("TLS ", operation));
  return absl::OkStatus();
}

absl::Status Connection::Impl::IoFailure(absl::string_view what) {
  const std::string reason = ConsumeOpenSslError();
  if (peer_alert.has_value()) {
    return absl::AbortedError(
        absl::StrCat("TLS alert from peer: ", SSL_alert_desc_string_long(*peer_alert)));
  }
  if (mode == Mode::kSocket) {
    if (fd_state.eof) {
      return absl::UnavailableError(
          absl::StrCat(what, ": the ", peer(), " closed the connection without close_notify"));
    }
    if (fd_state.last_errno != 0) return ErrnoStatus(fd_state.last_errno, what);
  }
  return absl::DataLossError(
      absl::StrCat(what, ": ", reason.empty() ? "unknown TLS error" : reason));
}

// ---------------------------------------------------------------------------
// Connection

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Connection::~Connection() = default;

const HandshakeInfo& Connection::info() const { return impl_->info; }

RecordCounters Connection::counters() const { return impl_->counters; }

absl::Status Connection::Write(absl::Span<const uint8_t> data, absl::Duration timeout) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kSocket, "Write"));
  if (data.empty()) return absl::OkStatus();
  const absl::Duration deadline = MonotonicClock::Get().Now() + timeout;
  while (true) {
    ERR_clear_error();
    size_t written = 0;
    const int result = SSL_write_ex(c.ssl.get(), data.data(), data.size(), &written);
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE, success means all of `data`.
    if (result == 1) return absl::OkStatus();
    RETURN_IF_ERROR(c.AwaitRetry(result, "TLS write", timeout, deadline));
  }
}

absl::StatusOr<size_t> Connection::Read(absl::Span<uint8_t> buffer, absl::Duration timeout) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kSocket, "Read"));
  if (buffer.empty()) return absl::InvalidArgumentError("TLS read: empty buffer");
  const absl::Duration deadline = MonotonicClock::Get().Now() + timeout;
  while (true) {
    ERR_clear_error();
    size_t read = 0;
    const int result = SSL_read_ex(c.ssl.get(), buffer.data(), buffer.size(), &read);
    if (result == 1) return read;
    if (SSL_get_error(c.ssl.get(), result) == SSL_ERROR_ZERO_RETURN) return 0;
    RETURN_IF_ERROR(c.AwaitRetry(result, "TLS read", timeout, deadline));
  }
}

absl::Status Connection::Shutdown(absl::Duration timeout) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kSocket, "Shutdown"));
  const absl::Duration deadline = MonotonicClock::Get().Now() + timeout;
  while (true) {
    ERR_clear_error();
    // 0: our close_notify is sent; 1: and the peer's was received.
    const int result = SSL_shutdown(c.ssl.get());
    if (result >= 0) return absl::OkStatus();
    RETURN_IF_ERROR(c.AwaitRetry(result, "TLS shutdown", timeout, deadline));
  }
}

absl::Status Connection::CheckDrained() const {
  const Impl& c = *impl_;
  SSL* ssl = c.ssl.get();
  const int plaintext = SSL_pending(ssl);
  if (plaintext > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "TLS: ", plaintext, " bytes of received application data are still in OpenSSL"));
  }
  // Bytes pulled from the socket but not yet a whole record (a partial
  // header leaves them in the buffer; a whole header with the body still
  // missing leaves the record layer in state "read body").
  if (SSL_has_pending(ssl) == 1 || std::strcmp(SSL_rstate_string(ssl), "RH") != 0) {
    return absl::FailedPreconditionError(
        "TLS: OpenSSL holds part of a received record; the stream cannot be handed over "
        "between records");
  }
  if (c.mode == Impl::Mode::kMemory && c.buffers.Unread() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "TLS: ", c.buffers.Unread(), " bytes of ciphertext fed to Decrypt() are unprocessed"));
  }
  return absl::OkStatus();
}

void Connection::ForgetCapturedSecrets() {
  Impl& c = *impl_;
  c.client_traffic_secret = Secret();  // Copies zeros over the bytes.
  c.server_traffic_secret = Secret();
  c.master_secret = Secret();
  c.capture_error = absl::FailedPreconditionError("forgotten after the record layer was chosen");
}

absl::StatusOr<KeyMaterial> Connection::ExportKeyMaterial() const {
  const Impl& c = *impl_;
  RETURN_IF_ERROR(CheckDrained());
  if (c.capture_error.has_value()) {
    return absl::InternalError(
        absl::StrCat("TLS secrets were not captured: ", c.capture_error->message()));
  }
  KeyMaterial keys;
  keys.version = c.info.version;
  keys.cipher = c.info.cipher;
  keys.cipher_suite = c.info.cipher_suite;
  if (SSL_get_client_random(c.ssl.get(), keys.client_random.data(), keys.client_random.size()) !=
          keys.client_random.size() ||
      SSL_get_server_random(c.ssl.get(), keys.server_random.data(), keys.server_random.size()) !=
          keys.server_random.size()) {
    return absl::InternalError("TLS: cannot read the hello randoms");
  }
  switch (c.info.version) {
    case TlsVersion::kTls13: {
      const size_t expected = CipherHashLength(c.info.cipher);
      if (c.client_traffic_secret.size() != expected ||
          c.server_traffic_secret.size() != expected) {
        return absl::InternalError(absl::StrCat(
            "TLS 1.3 traffic secrets were not captured (client ", c.client_traffic_secret.size(),
            " bytes, server ", c.server_traffic_secret.size(), " bytes; expected ", expected,
            ")"));
      }
      keys.client_traffic_secret = c.client_traffic_secret;
      keys.server_traffic_secret = c.server_traffic_secret;
      break;
    }
    case TlsVersion::kTls12:
      if (c.master_secret.size() != 48) {
        return absl::InternalError("TLS 1.2 master secret was not captured");
      }
      if (c.master_client_random != keys.client_random) {
        return absl::InternalError(
            "TLS 1.2 master secret was logged for another client random");
      }
      keys.master_secret = c.master_secret;
      break;
  }
  keys.records = c.counters;
  return keys;
}

absl::Status Connection::SwitchToMemoryBios() {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kSocket, "SwitchToMemoryBios"));
  RETURN_IF_ERROR(CheckDrained());
  BIO* bio = internal::NewBufferBio(&c.buffers);
  if (bio == nullptr) return absl::ResourceExhaustedError("TLS: cannot allocate the record BIO");
  // One BIO both ways (one reference taken). Frees the socket BIO; the fd
  // stays open: it is the caller's.
  SSL_set_bio(c.ssl.get(), bio, bio);
  c.mode = Impl::Mode::kMemory;
  return absl::OkStatus();
}

absl::Status Connection::Encrypt(absl::Span<const uint8_t> plaintext, std::vector<uint8_t>* out) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kMemory, "Encrypt"));
  if (plaintext.size() > kMaxRecordPlaintext) {
    return absl::InvalidArgumentError(absl::StrCat("TLS record plaintext of ", plaintext.size(),
                                                   " bytes > ", kMaxRecordPlaintext));
  }
  if (plaintext.empty()) return absl::OkStatus();
  ERR_clear_error();
  if (c.key_update_records != 0 && c.counters.tx_seq >= c.key_update_records &&
      c.info.version == TlsVersion::kTls13 && c.info.cipher != Cipher::kChacha20Poly1305 &&
      SSL_get_key_update_type(c.ssl.get()) == SSL_KEY_UPDATE_NONE) {
    // Scheduled here, sent by the SSL_write below ahead of the data; the
    // message callback then restarts tx_seq under the next key.
    if (SSL_key_update(c.ssl.get(), SSL_KEY_UPDATE_NOT_REQUESTED) != 1) {
      return c.IoFailure("TLS key update");
    }
    c.logger.Info("our TLS keys updated after %d records (the AES-GCM limit; rekey %d)",
                  c.counters.tx_seq + 1, c.counters.tx_key_updates + 1);
  }
  internal::SinkScope sink(c.buffers, out);
  size_t written = 0;
  if (SSL_write_ex(c.ssl.get(), plaintext.data(), plaintext.size(), &written) != 1) {
    return c.IoFailure("TLS encrypt");
  }
  return absl::OkStatus();
}

void Connection::set_key_update_records(uint64_t records) { impl_->key_update_records = records; }
uint64_t Connection::key_update_records() const { return impl_->key_update_records; }

size_t Connection::DecryptSpace(size_t ciphertext_size) const {
  return ciphertext_size + kMaxRecordOnWire + impl_->buffers.Unread();
}

absl::StatusOr<DecryptResult> Connection::Decrypt(absl::Span<const uint8_t> ciphertext,
                                                  std::vector<uint8_t>* plaintext,
                                                  std::vector<uint8_t>* to_send) {
  const size_t old_size = plaintext->size();
  plaintext->resize(old_size + DecryptSpace(ciphertext.size()));
  absl::StatusOr<DecryptResult> result =
      DecryptInto(ciphertext, absl::MakeSpan(*plaintext).subspan(old_size), to_send);
  plaintext->resize(old_size + (result.ok() ? result->plaintext_size : 0));
  return result;
}

absl::StatusOr<DecryptResult> Connection::DecryptInto(absl::Span<const uint8_t> ciphertext,
                                                      absl::Span<uint8_t> plaintext,
                                                      std::vector<uint8_t>* to_send) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kMemory, "Decrypt"));
  if (plaintext.size() < DecryptSpace(ciphertext.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS decrypt: ", plaintext.size(), " bytes of space for up to ",
        DecryptSpace(ciphertext.size()), " bytes of application data"));
  }
  internal::SinkScope sink(c.buffers, to_send);
  c.buffers.input = ciphertext;
  DecryptResult result;
  absl::Status failure;
  while (true) {
    ERR_clear_error();
    size_t read = 0;
    const absl::Span<uint8_t> space = plaintext.subspan(result.plaintext_size);
    const int status = SSL_read_ex(c.ssl.get(), space.data(), space.size(), &read);
    if (status == 1) {
      result.plaintext_size += read;
      continue;
    }
    const int error = SSL_get_error(c.ssl.get(), status);
    if (error == SSL_ERROR_WANT_READ) break;  // The rest of a record is still to come.
    if (error == SSL_ERROR_ZERO_RETURN) {
      result.close_notify = true;
      break;
    }
    failure = c.IoFailure("TLS decrypt");
    break;
  }
  c.buffers.KeepUnreadInput();
  if (!failure.ok()) return failure;
  return result;
}

absl::Status Connection::EncodeCloseNotify(std::vector<uint8_t>* out) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kMemory, "EncodeCloseNotify"));
  ERR_clear_error();
  internal::SinkScope sink(c.buffers, out);
  if (SSL_shutdown(c.ssl.get()) < 0) return c.IoFailure("TLS close_notify");
  return absl::OkStatus();
}

absl::Status Connection::EncodeKeyUpdate(bool request_peer_update, std::vector<uint8_t>* out) {
  return impl_->EncodePostHandshake(
      "EncodeKeyUpdate",
      [request_peer_update](SSL* ssl) {
        return SSL_key_update(ssl, request_peer_update ? SSL_KEY_UPDATE_REQUESTED
                                                       : SSL_KEY_UPDATE_NOT_REQUESTED);
      },
      out);
}

absl::Status Connection::EncodeNewSessionTicket(std::vector<uint8_t>* out) {
  if (impl_->role != Role::kServer) {
    return absl::FailedPreconditionError(
        "TLS EncodeNewSessionTicket: only a server issues session tickets");
  }
  return impl_->EncodePostHandshake("EncodeNewSessionTicket", SSL_new_session_ticket, out);
}

}  // namespace sstp::tls
