// Internal to daemon/tls: owners for OpenSSL handles and the error queue.
// Only this module's .cc files (and its tests) include this header.
#ifndef SSTP_KTLS_DAEMON_TLS_OPENSSL_UTIL_H_
#define SSTP_KTLS_DAEMON_TLS_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sstp::tls::internal {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free_all(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Our own source/sink BIOs: the callbacks get a borrowed state through
// BIO_get_data(). MakeStateBioMethod() builds a method (the caller keeps it
// for the process's lifetime); NewStateBio() makes a BIO of it over
// `state`. Both return nullptr when out of memory.
struct BioCallbacks {
  const char* method_name;  // Names the kind in OpenSSL's tables.
  int (*write)(BIO*, const char*, size_t, size_t*);
  int (*read)(BIO*, char*, size_t, size_t*);
  long (*ctrl)(BIO*, int, long, void*);
};
BIO_METHOD* MakeStateBioMethod(const BioCallbacks& callbacks);
BIO* NewStateBio(const BIO_METHOD* method, void* state);

// Empties this thread's OpenSSL error queue and returns the reason text of
// its last libssl entry (else its first entry), e.g. "wrong version
// number"; "" when the queue was empty.
std::string ConsumeOpenSslError();

// The certificate's subject in RFC 2253 form ("CN=a,O=b").
std::string SubjectString(const X509* cert);

// The leaf's subjectAltName dNSName and iPAddress entries, in certificate
// order, IPs in text form ("192.0.2.1", "2001:db8::1").
std::vector<std::string> SubjectAltNames(X509* cert);

// The certificate's DER encoding.
absl::StatusOr<std::vector<uint8_t>> CertificateDer(X509* cert);

}  // namespace sstp::tls::internal

#endif  // SSTP_KTLS_DAEMON_TLS_OPENSSL_UTIL_H_
