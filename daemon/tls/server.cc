#include "daemon/tls/server.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "daemon/tls/connection_impl.h"
#include "daemon/tls/openssl_util.h"

namespace sstp::tls {

using internal::BioPtr;
using internal::ConsumeOpenSslError;
using internal::EvpPkeyPtr;
using internal::SslCtxPtr;

struct ServerContext::Impl {
  SslCtxPtr ctx;
  std::shared_ptr<internal::KeylogFile> keylog;
};

namespace {

// A key file is read without a passphrase; OpenSSL's default would prompt
// on the terminal for an encrypted one.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

absl::Status CheckReadable(const std::string& path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("TLS ", what, " is not set"));
  UniqueFd probe(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!probe) return LastErrnoStatus(absl::StrCat("TLS ", what, " ", path));
  return absl::OkStatus();
}

// Loads the chain and the key into `ctx`, checking that the key is the
// leaf's, so that a wrong pair fails here, naming both files, rather than
// in every handshake.
absl::Status LoadIdentity(SSL_CTX* ctx, const ServerConfig& config) {
  RETURN_IF_ERROR(CheckReadable(config.cert_file, "certificate file"));
  RETURN_IF_ERROR(CheckReadable(config.key_file, "key file"));
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx, config.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("TLS certificate file ", config.cert_file,
                                                   ": no PEM certificate (", ConsumeOpenSslError(),
                                                   ")"));
  }
  BioPtr bio(BIO_new_file(config.key_file.c_str(), "r"));
  if (bio == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key file ", config.key_file, ": ", ConsumeOpenSslError()));
  }
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("TLS key file ", config.key_file,
                                                   ": no PEM private key (", ConsumeOpenSslError(),
                                                   "; an encrypted key is not supported)"));
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  if (leaf == nullptr) return absl::InternalError("TLS: no certificate after loading the chain");
  if (X509_check_private_key(leaf, key.get()) != 1) {
    const std::string reason = ConsumeOpenSslError();
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS key file ", config.key_file, " does not match the certificate in ", config.cert_file,
        " (subject ", internal::SubjectString(leaf), ": ", reason, ")"));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS key file ", config.key_file, ": ", ConsumeOpenSslError()));
  }
  return absl::OkStatus();
}

// RFC 6066 3 carries a DNS host name; anything else could never match.
absl::Status CheckSniName(const std::string& name) {
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS required SNI \"", internal::EscapeBytes(name), "\" is not a DNS name"));
    }
  }
  return absl::OkStatus();
}

// SSL_CTX_set_tlsext_servername_callback: OpenSSL calls it for every
// ClientHello, with or without a server_name extension. `arg` is the
// context's required name (ServerConfig::required_sni, alive while Accept()
// runs).
int ServerNameCallback(SSL* ssl, int* alert, void* arg) {
  const std::string& required = *static_cast<const std::string*>(arg);
  Connection::Impl* c = Connection::Impl::From(ssl);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  // RFC 4343: DNS names compare without regard to ASCII case.
  if (name != nullptr && absl::EqualsIgnoreCase(name, required)) return SSL_TLSEXT_ERR_OK;
  if (c != nullptr) {
    c->refusal = absl::FailedPreconditionError(
        name == nullptr
            ? absl::StrCat("TLS handshake refused: the client sent no SNI; required '", required,
                           "'")
            : absl::StrCat("TLS handshake refused: client SNI '", internal::EscapeBytes(name),
                           "' does not match required '", required, "'"));
  }
  // RFC 6066 3: "unrecognized_name(112) alert ... the server does not
  // recognize the name"; fatal, as accel-ppp's host-name check ends the
  // connection.
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

ServerContext::ServerContext(ServerConfig config, Logger logger)
    : config_(std::move(config)), logger_(std::move(logger)), impl_(std::make_unique<Impl>()) {}

ServerContext::~ServerContext() = default;

absl::StatusOr<std::unique_ptr<ServerContext>> ServerContext::Create(ServerConfig config,
                                                                     Logger logger) {
  RETURN_IF_ERROR(internal::CheckHandshakeTimeout(config.handshake_timeout));
  if (config.min_version == TlsVersion::kTls13 && config.max_version == TlsVersion::kTls12) {
    return absl::InvalidArgumentError("TLS minimum version TLS 1.3 is above the maximum TLS 1.2");
  }
  RETURN_IF_ERROR(CheckSniName(config.required_sni));

  std::unique_ptr<ServerContext> context(new ServerContext(std::move(config), std::move(logger)));
  Impl& impl = *context->impl_;
  const ServerConfig& cfg = context->config_;
  ASSIGN_OR_RETURN(impl.ctx, internal::NewContext(TLS_server_method(), cfg.min_version,
                                                  cfg.max_version, cfg.ciphers));
  SSL_CTX* ctx = impl.ctx.get();
  // The configured order decides, as ServerConfig::ciphers promises.
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_num_tickets(ctx, cfg.num_tickets) != 1) {
    return absl::InternalError(absl::StrCat("TLS tickets: ", ConsumeOpenSslError()));
  }
  RETURN_IF_ERROR(LoadIdentity(ctx, cfg));
  if (!cfg.required_sni.empty()) {
    SSL_CTX_set_tlsext_servername_callback(ctx, ServerNameCallback);
    SSL_CTX_set_tlsext_servername_arg(ctx, const_cast<std::string*>(&cfg.required_sni));
  }
  ASSIGN_OR_RETURN(impl.keylog, internal::OpenKeylogFile(cfg.keylog_file, context->logger_));
  ERR_clear_error();
  return context;
}

absl::StatusOr<std::unique_ptr<Connection>> ServerContext::Accept(int fd) const {
  auto impl =
      std::make_unique<Connection::Impl>(internal::Role::kServer, "the client", logger_,
                                         impl_->keylog, config_.min_version, config_.max_version);
  Connection::Impl& c = *impl;
  RETURN_IF_ERROR(c.Attach(impl_->ctx.get(), fd));
  RETURN_IF_ERROR(c.RunHandshake(config_.handshake_timeout));
  // The SNI is the client's bytes: escaped for the log.
  const std::string sni = internal::EscapeBytes(c.info.sni);
  logger_.Info("TLS handshake with the client done: %s %s, SNI %s", TlsVersionName(c.info.version),
               c.info.cipher_name, sni.empty() ? "(none)" : sni);
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

}  // namespace sstp::tls
