#include "daemon/tls/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "base/hex.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "daemon/tls/fd_bio.h"
#include "daemon/tls/keylog.h"
#include "daemon/tls/openssl_util.h"

namespace sstp::tls {

using internal::BioPtr;
using internal::ConsumeOpenSslError;
using internal::FdBioState;
using internal::SslCtxPtr;
using internal::SslPtr;

namespace {

// RFC 8446 6: alert descriptions that do not mean "the session failed".
constexpr int kAlertCloseNotify = 0;
constexpr int kAlertUserCanceled = 90;
constexpr int kAlertHandshakeFailure = 40;
constexpr int kAlertProtocolVersion = 70;

// The key log file (NSS format), shared by the connections of one context.
class KeylogFile {
 public:
  KeylogFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  // Appends "line\n" in one write (O_APPEND keeps concurrent writers'
  // lines whole). Returns false if the write failed or was short.
  bool Append(const char* line) {
    iovec parts[2] = {{const_cast<char*>(line), std::strlen(line)},
                      {const_cast<char*>("\n"), 1}};
    ssize_t n;
    do {
      n = writev(fd_.get(), parts, 2);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(parts[0].iov_len + 1);
  }
  const std::string& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::string path_;
};

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

// Strips the brackets of "[2001:db8::1]"; reports whether `name` is an IP
// literal.
absl::StatusOr<std::pair<std::string, bool>> NormalizeServerName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("TLS server name is empty");
  std::string host(name);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS server name \"", name, "\": unbalanced '['"));
    }
    host = host.substr(1, host.size() - 2);
  }
  in6_addr v6;
  in_addr v4;
  const bool is_ip = inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
                     inet_pton(AF_INET6, host.c_str(), &v6) == 1;
  if (name.front() == '[' && !is_ip) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS server name \"", name, "\": brackets around a non-IPv6 name"));
  }
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS server name has a space or non-ASCII character; use the A-label (xn--) form"));
    }
  }
  return std::make_pair(std::move(host), is_ip);
}

// The first bytes the server sent, for "the server did not answer with
// TLS" errors: printable ASCII as is, anything else as \xNN.
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

// RFC 8446 5.1 / RFC 5246 6.2.1: a record header is a known content type
// (change_cipher_spec 20 .. heartbeat 24) and a 3.x legacy version.
bool LooksLikeTlsHeader(const std::array<uint8_t, 5>& header) {
  return header[0] >= 20 && header[0] <= 24 && header[1] == 3 && header[2] <= 4;
}

// MS-SSTP 3.2.4.1 (SSTP-NOTES "HTTP layer"): the server certificate's EKU
// must include serverAuth or anyExtendedKeyUsage. OpenSSL's ssl_server
// purpose check rejects an anyExtendedKeyUsage-only leaf, so the verify
// callback accepts exactly that case: EKU present with anyExtendedKeyUsage,
// and the key usage (if present) still allows a TLS server key (RFC 5280
// 4.2.1.3; the same bits OpenSSL requires). A leaf with a Netscape cert
// type is left to OpenSSL.
bool LeafAllowedByAnyEku(X509* cert) {
  const uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_XKUSAGE) == 0 || (flags & EXFLAG_NSCERT) != 0) return false;
  if ((X509_get_extended_key_usage(cert) & XKU_ANYEKU) == 0) return false;
  if ((flags & EXFLAG_KUSAGE) == 0) return true;
  return (X509_get_key_usage(cert) &
          (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)) != 0;
}

int VerifyCallback(int ok, X509_STORE_CTX* store) {
  if (ok) return 1;
  if (X509_STORE_CTX_get_error(store) == X509_V_ERR_INVALID_PURPOSE &&
      X509_STORE_CTX_get_error_depth(store) == 0 &&
      LeafAllowedByAnyEku(X509_STORE_CTX_get_current_cert(store))) {
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  return 0;
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

}  // namespace

// ---------------------------------------------------------------------------

struct ClientContext::Impl {
  SslCtxPtr ctx;
  std::string host;  // Brackets stripped.
  bool host_is_ip = false;
  std::shared_ptr<KeylogFile> keylog;
};

struct Connection::Impl {
  enum class Mode { kHandshake, kSocket, kMemory };

  Impl(const ClientConfig& config, const Logger& logger, const ClientContext::Impl& context)
      : insecure_skip_verify(config.insecure_skip_verify),
        pin_sha256(config.pin_sha256),
        min_version(config.min_version),
        host(context.host),
        host_is_ip(context.host_is_ip),
        logger(logger),
        keylog(context.keylog) {}

  // Configuration kept from the context.
  const bool insecure_skip_verify;
  const std::optional<std::array<uint8_t, 32>> pin_sha256;
  const TlsVersion min_version;
  const std::string host;
  const bool host_is_ip;
  const Logger logger;
  const std::shared_ptr<KeylogFile> keylog;

  SslPtr ssl;
  FdBioState fd_state;
  BIO* rbio = nullptr;  // Memory mode; owned by `ssl`.
  BIO* wbio = nullptr;
  Mode mode = Mode::kHandshake;
  HandshakeInfo info;
  std::unique_ptr<uint8_t[]> scratch;  // kMaxRecordPlaintext bytes, memory mode.

  // Set by the certificate verification callback.
  std::optional<absl::Status> verify_failure;
  bool verified = false;
  // The last alert received other than close_notify / user_canceled.
  std::optional<int> peer_alert;  // OpenSSL's (level << 8 | description).
  bool keylog_write_failed = false;

  // The first record header received, to tell a non-TLS server apart.
  std::array<uint8_t, 5> first_rx_header{};
  bool first_rx_seen = false;

  bool handshake_done = false;
  RecordCounters counters;

  // Captured from the keylog callback (KeyMaterial).
  Secret client_traffic_secret;
  Secret server_traffic_secret;
  Secret master_secret;
  std::array<uint8_t, 32> master_client_random{};
  std::optional<absl::Status> capture_error;

  static Impl* From(const SSL* ssl) { return static_cast<Impl*>(SSL_get_app_data(ssl)); }

  // --- Callbacks.

  void OnKeyLogLine(const char* line) {
    if (keylog != nullptr && !keylog->Append(line) && !keylog_write_failed) {
      keylog_write_failed = true;
      logger.Warning("TLS key log %s: write failed; later lines may be missing",
                     keylog->path());
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
  void OnMessage(bool sent, int content_type, const uint8_t* bytes, size_t size) {
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
        // CCS changes no keys, but TLS 1.3 restarts the counts at the end of
        // the handshake anyway.)
        if (size >= 1 && bytes[0] == SSL3_RT_CHANGE_CIPHER_SPEC) {
          seq = 0;
        } else {
          ++seq;
        }
        break;
      }
      case SSL3_RT_HANDSHAKE:
        // RFC 8446 4.6.3: after a KeyUpdate the sender uses the next
        // traffic secret. The callback for the message comes after the one
        // for its record's header, so the KeyUpdate record itself is counted
        // under the old key.
        if (handshake_done && size >= 1 && bytes[0] == SSL3_MT_KEY_UPDATE) {
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

  void OnAlertReceived(int value) {
    const int description = value & 0xff;
    if (description == kAlertCloseNotify || description == kAlertUserCanceled) return;
    peer_alert = value;
  }

  // SSL_CTX_set_cert_verify_callback: replaces OpenSSL's X509_verify_cert()
  // call so that verification, the EKU rule and the pin run once, in order,
  // with a precise error for each failure.
  bool VerifyPeer(X509_STORE_CTX* store) {
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    if (leaf == nullptr) {
      verify_failure = absl::UnauthenticatedError("TLS server sent no certificate");
      return false;
    }
    X509_STORE_CTX_set_verify_cb(store, VerifyCallback);
    const int chain_ok = X509_verify_cert(store);
    if (chain_ok <= 0) {
      absl::Status failure = DescribeVerifyFailure(store, leaf);
      ERR_clear_error();
      if (!insecure_skip_verify) {
        verify_failure = std::move(failure);
        return false;
      }
      logger.Warning("TLS certificate of %s NOT verified (insecure-skip-verify); it fails: %s",
                     host, failure.message());
    }
    verified = chain_ok > 0;
    if (pin_sha256.has_value()) {
      absl::StatusOr<std::vector<uint8_t>> der = internal::CertificateDer(leaf);
      std::array<uint8_t, 32> digest{};
      if (!der.ok() ||
          EVP_Digest(der->data(), der->size(), digest.data(), nullptr, EVP_sha256(), nullptr) != 1) {
        verify_failure = absl::UnauthenticatedError("TLS pin: cannot hash the leaf certificate");
        return false;
      }
      if (CRYPTO_memcmp(digest.data(), pin_sha256->data(), digest.size()) != 0) {
        verify_failure = absl::UnauthenticatedError(absl::StrCat(
            "TLS pin mismatch: leaf sha256:", ToHex(digest), " is not the pinned sha256:",
            ToHex(*pin_sha256)));
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return false;
      }
    }
    return true;
  }

  absl::Status DescribeVerifyFailure(X509_STORE_CTX* store, X509* leaf) const {
    const int error = X509_STORE_CTX_get_error(store);
    const int depth = X509_STORE_CTX_get_error_depth(store);
    if (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      const std::vector<std::string> names = internal::SubjectAltNames(leaf);
      if (names.empty()) {
        return absl::UnauthenticatedError(absl::StrCat(
            "TLS host name mismatch: certificate has no DNS or IP subjectAltName (its subject ",
            internal::SubjectString(leaf), " is not used for matching, RFC 9525 6.3); expected ",
            host));
      }
      return absl::UnauthenticatedError(absl::StrCat("TLS host name mismatch: certificate names ",
                                                     absl::StrJoin(names, ", "), "; expected ",
                                                     host));
    }
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    std::string message = absl::StrFormat(
        "TLS certificate verification failed: %s (depth %d, subject %s)",
        X509_verify_cert_error_string(error), depth,
        cert != nullptr ? internal::SubjectString(cert) : std::string("unknown"));
    if (error == X509_V_ERR_INVALID_PURPOSE && depth == 0) {
      const bool eku_rejects =
          (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) != 0 &&
          (X509_get_extended_key_usage(leaf) & (XKU_SSL_SERVER | XKU_ANYEKU)) == 0;
      absl::StrAppend(&message, eku_rejects ? ": its extended key usage has neither serverAuth "
                                              "nor anyExtendedKeyUsage"
                                            : ": its key usage does not allow a TLS server key");
    }
    return absl::UnauthenticatedError(message);
  }

  // --- Handshake.

  absl::Status Wait(int ssl_error, absl::Duration deadline) {
    return WaitFd(fd_state.fd, ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline);
  }

  absl::Status RunHandshake(absl::Duration timeout) {
    const absl::Duration deadline = MonotonicClock::Get().Now() + timeout;
    while (true) {
      ERR_clear_error();
      const int result = SSL_connect(ssl.get());
      if (result == 1) break;
      const int error = SSL_get_error(ssl.get(), result);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        absl::Status waited = Wait(error, deadline);
        if (absl::IsDeadlineExceeded(waited)) {
          return absl::DeadlineExceededError(absl::StrCat(
              "TLS handshake with ", host, " timed out after ", absl::FormatDuration(timeout),
              first_rx_seen ? "" : " (no answer from the server)"));
        }
        RETURN_IF_ERROR(waited);
        continue;
      }
      return HandshakeFailure();
    }
    // From here on the application traffic keys protect every record (TLS
    // 1.3: RFC 8446 7.3); TLS 1.2 switched at ChangeCipherSpec already.
    handshake_done = true;
    counters.tx_records = 0;
    counters.rx_records = 0;
    if (SSL_version(ssl.get()) == TLS1_3_VERSION) {
      counters.tx_seq = 0;
      counters.rx_seq = 0;
    }
    return absl::OkStatus();
  }

  absl::Status HandshakeFailure() {
    const std::string reason = ConsumeOpenSslError();
    if (verify_failure.has_value()) return *verify_failure;
    const std::string prefix = absl::StrCat("TLS handshake with ", host, " failed: ");
    if (peer_alert.has_value()) {
      std::string hint;
      if ((*peer_alert & 0xff) == kAlertProtocolVersion) {
        hint = min_version == TlsVersion::kTls13
                   ? " (the server does not accept TLS 1.3, the configured minimum)"
                   : " (the server accepts neither TLS 1.2 nor TLS 1.3)";
      } else if ((*peer_alert & 0xff) == kAlertHandshakeFailure) {
        hint = " (no cipher suite, group or signature algorithm in common)";
      }
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "the server sent alert \"", SSL_alert_desc_string_long(*peer_alert), "\"", hint));
    }
    if (first_rx_seen && !LooksLikeTlsHeader(first_rx_header)) {
      return absl::FailedPreconditionError(
          absl::StrCat(prefix, "the server does not speak TLS (its reply starts with \"",
                       EscapeBytes(first_rx_header), "\")"));
    }
    if (fd_state.eof) {
      return absl::UnavailableError(
          absl::StrCat(prefix, "the server closed the connection",
                       first_rx_seen ? "" : " without answering the ClientHello"));
    }
    if (fd_state.last_errno != 0) {
      return ErrnoStatus(fd_state.last_errno, absl::StrCat("TLS handshake with ", host));
    }
    if (reason == "unsupported protocol" && min_version == TlsVersion::kTls13) {
      return absl::FailedPreconditionError(absl::StrCat(
          prefix, "the server chose a TLS version below the configured minimum TLS 1.3 (",
          reason, ")"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(prefix, reason.empty() ? "unknown TLS error" : reason));
  }

  absl::Status CollectInfo() {
    switch (SSL_version(ssl.get())) {
      case TLS1_3_VERSION:
        info.version = TlsVersion::kTls13;
        break;
      case TLS1_2_VERSION:
        info.version = TlsVersion::kTls12;
        break;
      default:
        return absl::FailedPreconditionError(
            absl::StrCat("TLS handshake with ", host, ": unexpected version ",
                         SSL_get_version(ssl.get())));
    }
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl.get());
    if (cipher == nullptr) return absl::InternalError("TLS: no current cipher after handshake");
    info.cipher_suite = static_cast<uint16_t>(SSL_CIPHER_get_protocol_id(cipher));
    const std::optional<Cipher> aead = CipherFromSuite(info.cipher_suite);
    if (!aead.has_value()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "TLS handshake with %s: the server chose suite 0x%04x (%s), which was not offered",
          host, info.cipher_suite, SSL_CIPHER_get_name(cipher)));
    }
    info.cipher = *aead;
    const char* standard_name = SSL_CIPHER_standard_name(cipher);
    info.cipher_name = standard_name != nullptr ? standard_name : SSL_CIPHER_get_name(cipher);

    X509* leaf = SSL_get0_peer_certificate(ssl.get());
    if (leaf == nullptr) return absl::InternalError("TLS: no peer certificate after handshake");
    ASSIGN_OR_RETURN(info.leaf_der, internal::CertificateDer(leaf));
    if (EVP_Digest(info.leaf_der.data(), info.leaf_der.size(), info.leaf_sha1.data(), nullptr,
                   EVP_sha1(), nullptr) != 1 ||
        EVP_Digest(info.leaf_der.data(), info.leaf_der.size(), info.leaf_sha256.data(), nullptr,
                   EVP_sha256(), nullptr) != 1) {
      return absl::InternalError("TLS: cannot hash the leaf certificate");
    }
    info.peer_subject = internal::SubjectString(leaf);
    info.verified = verified;
    return absl::OkStatus();
  }

  // --- After the handshake.

  absl::Status RequireMode(Mode wanted, absl::string_view operation) const {
    if (mode == wanted) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "TLS ", operation, ": only in ", wanted == Mode::kSocket ? "socket" : "memory",
        " mode; the connection is in ", mode == Mode::kSocket ? "socket" : "memory", " mode"));
  }

  // After a failed SSL_read/SSL_write/SSL_shutdown (not WANT_*).
  absl::Status IoFailure(absl::string_view what) {
    const std::string reason = ConsumeOpenSslError();
    if (peer_alert.has_value()) {
      return absl::AbortedError(
          absl::StrCat("TLS alert from peer: ", SSL_alert_desc_string_long(*peer_alert)));
    }
    if (mode == Mode::kSocket) {
      if (fd_state.eof) {
        return absl::UnavailableError(
            absl::StrCat(what, ": the server closed the connection without close_notify"));
      }
      if (fd_state.last_errno != 0) return ErrnoStatus(fd_state.last_errno, what);
    }
    return absl::DataLossError(
        absl::StrCat(what, ": ", reason.empty() ? "unknown TLS error" : reason));
  }

  void DrainWbio(std::vector<uint8_t>* out) {
    const size_t pending = BIO_ctrl_pending(wbio);
    if (pending == 0) return;
    const size_t old_size = out->size();
    out->resize(old_size + pending);
    size_t n = 0;
    if (BIO_read_ex(wbio, out->data() + old_size, pending, &n) != 1) n = 0;
    out->resize(old_size + n);
  }
};

// ---------------------------------------------------------------------------
// OpenSSL callbacks. The SSL's app data is its Connection::Impl.

namespace {

void KeylogCallback(const SSL* ssl, const char* line) {
  Connection::Impl* impl = Connection::Impl::From(ssl);
  if (impl != nullptr) impl->OnKeyLogLine(line);
}

void MsgCallback(int write_p, int /*version*/, int content_type, const void* buf, size_t len,
                 SSL* /*ssl*/, void* arg) {
  static_cast<Connection::Impl*>(arg)->OnMessage(write_p != 0, content_type,
                                                 static_cast<const uint8_t*>(buf), len);
}

void InfoCallback(const SSL* ssl, int where, int value) {
  if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT) return;
  Connection::Impl* impl = Connection::Impl::From(ssl);
  if (impl != nullptr) impl->OnAlertReceived(value);
}

int CertVerifyCallback(X509_STORE_CTX* store, void* /*arg*/) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  Connection::Impl* impl = ssl != nullptr ? Connection::Impl::From(ssl) : nullptr;
  if (impl == nullptr) return 0;
  return impl->VerifyPeer(store) ? 1 : 0;
}

}  // namespace

// ---------------------------------------------------------------------------

ClientContext::ClientContext(ClientConfig config, Logger logger)
    : config_(std::move(config)), logger_(std::move(logger)), impl_(std::make_unique<Impl>()) {}

ClientContext::~ClientContext() = default;

absl::StatusOr<std::unique_ptr<ClientContext>> ClientContext::Create(ClientConfig config,
                                                                     Logger logger) {
  ASSIGN_OR_RETURN(auto normalized, NormalizeServerName(config.server_name));
  if (config.handshake_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("TLS handshake timeout ",
                                                   absl::FormatDuration(config.handshake_timeout),
                                                   " is not positive"));
  }
  std::vector<Cipher> ciphers = config.ciphers;
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

  std::unique_ptr<ClientContext> context(new ClientContext(std::move(config), std::move(logger)));
  Impl& impl = *context->impl_;
  const ClientConfig& cfg = context->config_;
  impl.host = std::move(normalized.first);
  impl.host_is_ip = normalized.second;

  ERR_clear_error();
  impl.ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (impl.ctx == nullptr) {
    return absl::InternalError(absl::StrCat("SSL_CTX_new: ", ConsumeOpenSslError()));
  }
  SSL_CTX* ctx = impl.ctx.get();
  const int min_version = cfg.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
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

  // Trust store.
  if (!cfg.ca_file.empty()) {
    UniqueFd probe(open(cfg.ca_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!probe) return LastErrnoStatus(absl::StrCat("TLS CA file ", cfg.ca_file));
    if (SSL_CTX_load_verify_file(ctx, cfg.ca_file.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("TLS CA file ", cfg.ca_file,
                                                     ": no usable certificate (",
                                                     ConsumeOpenSslError(), ")"));
    }
  }
  if (!cfg.ca_dir.empty()) {
    struct stat st;
    if (stat(cfg.ca_dir.c_str(), &st) != 0) {
      return LastErrnoStatus(absl::StrCat("TLS CA directory ", cfg.ca_dir));
    }
    if (!S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS CA directory ", cfg.ca_dir, " is not a directory"));
    }
    if (SSL_CTX_load_verify_dir(ctx, cfg.ca_dir.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS CA directory ", cfg.ca_dir, ": ", ConsumeOpenSslError()));
    }
  }
  if (cfg.ca_file.empty() && cfg.ca_dir.empty() && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return absl::InternalError(
        absl::StrCat("TLS system trust store: ", ConsumeOpenSslError()));
  }

  // Verification runs in CertVerifyCallback; SSL_VERIFY_PEER makes a
  // failure abort the handshake with an alert.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, CertVerifyCallback, nullptr);
  SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  // Always on: it is how the kernel TLS secrets are captured.
  SSL_CTX_set_keylog_callback(ctx, KeylogCallback);

  if (!cfg.keylog_file.empty()) {
    UniqueFd fd(open(cfg.keylog_file.c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return LastErrnoStatus(absl::StrCat("TLS key log file ", cfg.keylog_file));
    impl.keylog = std::make_shared<KeylogFile>(std::move(fd), cfg.keylog_file);
    context->logger_.Warning(
        "TLS key log on: session secrets are appended to %s; anyone who can read it can "
        "decrypt captured traffic",
        cfg.keylog_file);
  }
  ERR_clear_error();
  return context;
}

absl::StatusOr<std::unique_ptr<Connection>> ClientContext::Handshake(int fd) const {
  if (fd < 0) return absl::InvalidArgumentError("TLS handshake: invalid socket descriptor");
  auto impl = std::make_unique<Connection::Impl>(config_, logger_, *impl_);
  Connection::Impl& c = *impl;
  c.fd_state.fd = fd;

  ERR_clear_error();
  c.ssl.reset(SSL_new(impl_->ctx.get()));
  if (c.ssl == nullptr) return absl::InternalError(absl::StrCat("SSL_new: ", ConsumeOpenSslError()));
  SSL* ssl = c.ssl.get();
  SSL_set_app_data(ssl, &c);
  SSL_set_msg_callback(ssl, MsgCallback);
  SSL_set_msg_callback_arg(ssl, &c);
  SSL_set_info_callback(ssl, InfoCallback);
  BIO* bio = internal::NewFdBio(&c.fd_state);
  if (bio == nullptr) return absl::ResourceExhaustedError("TLS: cannot allocate the socket BIO");
  SSL_set_bio(ssl, bio, bio);  // One reference, owned by `ssl` from here.

  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // RFC 9525 6.3 / RFC 6125 6.4.4: subjectAltName only, never the CN; a
  // wildcard must be the whole left-most label.
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  const std::string& host = impl_->host;
  if (impl_->host_is_ip) {
    // RFC 6066 3: "Literal IPv4 and IPv6 addresses are not permitted in
    // HostName", so no SNI; the address must be an iPAddress SAN.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      return absl::InternalError(absl::StrCat("TLS: cannot set IP ", host, " to verify"));
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 ||
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) {
      return absl::InternalError(
          absl::StrCat("TLS: cannot set server name ", host, ": ", ConsumeOpenSslError()));
    }
  }
  if (config_.insecure_skip_verify) {
    logger_.Warning(
        "TLS certificate verification is DISABLED (insecure-skip-verify): %s is not "
        "authenticated and anyone on the path can impersonate it%s",
        host, config_.pin_sha256.has_value() ? " (the pin is still checked)" : "");
  }

  RETURN_IF_ERROR(c.RunHandshake(config_.handshake_timeout));
  RETURN_IF_ERROR(c.CollectInfo());
  c.mode = Connection::Impl::Mode::kSocket;
  logger_.Info("TLS handshake with %s done: %s %s, server certificate %s, sha256:%s%s", host,
               TlsVersionName(c.info.version), c.info.cipher_name, c.info.peer_subject,
               ToHex(c.info.leaf_sha256), c.info.verified ? "" : " (NOT verified)");
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

// ---------------------------------------------------------------------------

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
    const int error = SSL_get_error(c.ssl.get(), result);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      return c.IoFailure("TLS write");
    }
    absl::Status waited = c.Wait(error, deadline);
    if (absl::IsDeadlineExceeded(waited)) {
      return absl::DeadlineExceededError(
          absl::StrCat("TLS write timed out after ", absl::FormatDuration(timeout)));
    }
    RETURN_IF_ERROR(waited);
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
    const int error = SSL_get_error(c.ssl.get(), result);
    if (error == SSL_ERROR_ZERO_RETURN) return 0;
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      return c.IoFailure("TLS read");
    }
    absl::Status waited = c.Wait(error, deadline);
    if (absl::IsDeadlineExceeded(waited)) {
      return absl::DeadlineExceededError(
          absl::StrCat("TLS read timed out after ", absl::FormatDuration(timeout)));
    }
    RETURN_IF_ERROR(waited);
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
    const int error = SSL_get_error(c.ssl.get(), result);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
      return c.IoFailure("TLS shutdown");
    }
    absl::Status waited = c.Wait(error, deadline);
    if (absl::IsDeadlineExceeded(waited)) {
      return absl::DeadlineExceededError(
          absl::StrCat("TLS shutdown timed out after ", absl::FormatDuration(timeout)));
    }
    RETURN_IF_ERROR(waited);
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
  if (c.mode == Impl::Mode::kMemory && BIO_ctrl_pending(c.rbio) > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "TLS: ", BIO_ctrl_pending(c.rbio), " bytes of ciphertext fed to Decrypt() are unprocessed"));
  }
  return absl::OkStatus();
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
  BioPtr rbio(BIO_new(BIO_s_mem()));
  BioPtr wbio(BIO_new(BIO_s_mem()));
  if (rbio == nullptr || wbio == nullptr) {
    return absl::ResourceExhaustedError("TLS: cannot allocate memory BIOs");
  }
  // An empty read BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(rbio.get(), -1);
  c.scratch = std::make_unique<uint8_t[]>(kMaxRecordPlaintext);
  c.rbio = rbio.get();
  c.wbio = wbio.get();
  // Frees the socket BIO (the fd stays open: it is the caller's).
  SSL_set_bio(c.ssl.get(), rbio.release(), wbio.release());
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
  size_t written = 0;
  const int result = SSL_write_ex(c.ssl.get(), plaintext.data(), plaintext.size(), &written);
  c.DrainWbio(out);
  if (result != 1) return c.IoFailure("TLS encrypt");
  return absl::OkStatus();
}

absl::StatusOr<DecryptResult> Connection::Decrypt(absl::Span<const uint8_t> ciphertext,
                                                  std::vector<uint8_t>* plaintext,
                                                  std::vector<uint8_t>* to_send) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kMemory, "Decrypt"));
  if (!ciphertext.empty()) {
    size_t written = 0;
    if (BIO_write_ex(c.rbio, ciphertext.data(), ciphertext.size(), &written) != 1 ||
        written != ciphertext.size()) {
      return absl::ResourceExhaustedError("TLS decrypt: cannot buffer the ciphertext");
    }
  }
  DecryptResult result;
  while (true) {
    ERR_clear_error();
    size_t read = 0;
    const int status = SSL_read_ex(c.ssl.get(), c.scratch.get(), kMaxRecordPlaintext, &read);
    if (status == 1) {
      plaintext->insert(plaintext->end(), c.scratch.get(), c.scratch.get() + read);
      continue;
    }
    const int error = SSL_get_error(c.ssl.get(), status);
    if (error == SSL_ERROR_WANT_READ) break;  // The rest of a record is still to come.
    if (error == SSL_ERROR_ZERO_RETURN) {
      result.close_notify = true;
      break;
    }
    absl::Status failure = c.IoFailure("TLS decrypt");
    c.DrainWbio(to_send);
    return failure;
  }
  c.DrainWbio(to_send);
  return result;
}

absl::Status Connection::EncodeCloseNotify(std::vector<uint8_t>* out) {
  Impl& c = *impl_;
  RETURN_IF_ERROR(c.RequireMode(Impl::Mode::kMemory, "EncodeCloseNotify"));
  ERR_clear_error();
  const int result = SSL_shutdown(c.ssl.get());
  c.DrainWbio(out);
  if (result < 0) return c.IoFailure("TLS close_notify");
  return absl::OkStatus();
}

}  // namespace sstp::tls
