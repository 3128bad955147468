#include "daemon/tls/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/hex.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "daemon/tls/connection_impl.h"
#include "daemon/tls/openssl_util.h"

namespace sstp::tls {

using internal::ConsumeOpenSslError;
using internal::SslCtxPtr;

namespace {

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

}  // namespace

// ---------------------------------------------------------------------------

struct ClientContext::Impl {
  const ClientConfig* config = nullptr;  // The owning context's.
  SslCtxPtr ctx;
  std::string host;  // Brackets stripped.
  bool host_is_ip = false;
  std::shared_ptr<internal::KeylogFile> keylog;
};

namespace {

absl::Status DescribeVerifyFailure(const std::string& host, X509_STORE_CTX* store, X509* leaf) {
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

// SSL_CTX_set_cert_verify_callback: replaces OpenSSL's X509_verify_cert()
// call so that verification, the EKU rule and the pin run once, in order,
// with a precise error for each failure (left in c.refusal).
bool VerifyServer(const ClientConfig& config, const std::string& host, Connection::Impl& c,
                  X509_STORE_CTX* store) {
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf == nullptr) {
    c.refusal = absl::UnauthenticatedError("TLS server sent no certificate");
    return false;
  }
  X509_STORE_CTX_set_verify_cb(store, VerifyCallback);
  const int chain_ok = X509_verify_cert(store);
  if (chain_ok <= 0) {
    absl::Status failure = DescribeVerifyFailure(host, store, leaf);
    ERR_clear_error();
    if (!config.insecure_skip_verify) {
      c.refusal = std::move(failure);
      return false;
    }
    c.logger.Warning("TLS certificate of %s NOT verified (insecure-skip-verify); it fails: %s",
                     host, failure.message());
  }
  c.verified = chain_ok > 0;
  if (config.pin_sha256.has_value()) {
    absl::StatusOr<std::vector<uint8_t>> der = internal::CertificateDer(leaf);
    std::array<uint8_t, 32> digest{};
    if (!der.ok() ||
        EVP_Digest(der->data(), der->size(), digest.data(), nullptr, EVP_sha256(), nullptr) != 1) {
      c.refusal = absl::UnauthenticatedError("TLS pin: cannot hash the leaf certificate");
      return false;
    }
    if (CRYPTO_memcmp(digest.data(), config.pin_sha256->data(), digest.size()) != 0) {
      c.refusal = absl::UnauthenticatedError(absl::StrCat(
          "TLS pin mismatch: leaf sha256:", ToHex(digest), " is not the pinned sha256:",
          ToHex(*config.pin_sha256)));
      X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
      return false;
    }
  }
  return true;
}

// The SSL_CTX's app data is its ClientContext::Impl, alive while a
// handshake runs (Handshake() is a ClientContext method); the SSL's is the
// Connection::Impl.
int CertVerifyCallback(X509_STORE_CTX* store, void* /*arg*/) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  Connection::Impl* impl = Connection::Impl::From(ssl);
  auto* context =
      static_cast<const ClientContext::Impl*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (impl == nullptr || context == nullptr) return 0;
  return VerifyServer(*context->config, context->host, *impl, store) ? 1 : 0;
}

}  // namespace

// ---------------------------------------------------------------------------

ClientContext::ClientContext(ClientConfig config, Logger logger)
    : config_(std::move(config)), logger_(std::move(logger)), impl_(std::make_unique<Impl>()) {}

ClientContext::~ClientContext() = default;

absl::StatusOr<std::unique_ptr<ClientContext>> ClientContext::Create(ClientConfig config,
                                                                     Logger logger) {
  ASSIGN_OR_RETURN(auto normalized, NormalizeServerName(config.server_name));
  RETURN_IF_ERROR(internal::CheckHandshakeTimeout(config.handshake_timeout));

  std::unique_ptr<ClientContext> context(new ClientContext(std::move(config), std::move(logger)));
  Impl& impl = *context->impl_;
  const ClientConfig& cfg = context->config_;
  impl.config = &cfg;
  impl.host = std::move(normalized.first);
  impl.host_is_ip = normalized.second;

  // TLS 1.3 is always the maximum.
  if (cfg.min_version == TlsVersion::kTls13 && cfg.max_version == TlsVersion::kTls12) {
    return absl::InvalidArgumentError("TLS: the minimum version is above the maximum");
  }
  ASSIGN_OR_RETURN(impl.ctx, internal::NewContext(TLS_client_method(), cfg.min_version,
                                                  cfg.max_version, cfg.ciphers));
  SSL_CTX* ctx = impl.ctx.get();

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
  SSL_CTX_set_app_data(ctx, &impl);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, CertVerifyCallback, nullptr);
  SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);

  ASSIGN_OR_RETURN(impl.keylog, internal::OpenKeylogFile(cfg.keylog_file, context->logger_));
  ERR_clear_error();
  return context;
}

absl::StatusOr<std::unique_ptr<Connection>> ClientContext::Handshake(int fd) const {
  const std::string& host = impl_->host;
  auto impl = std::make_unique<Connection::Impl>(internal::Role::kClient, host, logger_,
                                                 impl_->keylog, config_.min_version,
                                                 config_.max_version);
  Connection::Impl& c = *impl;
  RETURN_IF_ERROR(c.Attach(impl_->ctx.get(), fd));
  SSL* ssl = c.ssl.get();

  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // RFC 9525 6.3 / RFC 6125 6.4.4: subjectAltName only, never the CN; a
  // wildcard must be the whole left-most label.
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
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
  logger_.Info("TLS handshake with %s done: %s %s, server certificate %s, sha256:%s%s", host,
               TlsVersionName(c.info.version), c.info.cipher_name, c.info.peer_subject,
               ToHex(c.info.leaf_sha256), c.info.verified ? "" : " (NOT verified)");
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

}  // namespace sstp::tls
