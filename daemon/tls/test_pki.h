// Test helper: certificates made with the OpenSSL API in memory, so the TLS
// tests need no files from elsewhere and no openssl CLI. Aborts on any
// OpenSSL failure (a broken test setup, not a test result).
#ifndef SSTP_KTLS_DAEMON_TLS_TEST_PKI_H_
#define SSTP_KTLS_DAEMON_TLS_TEST_PKI_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sstp::tls::testing {

using KeyRef = std::shared_ptr<EVP_PKEY>;
using CertRef = std::shared_ptr<X509>;

enum class KeyType { kEcP256, kRsa2048 };

struct LeafOptions {
  std::string common_name = "vpn.example.test";
  std::vector<std::string> dns_names = {"vpn.example.test"};
  std::vector<std::string> ip_addresses;
  // The extendedKeyUsage value in openssl.cnf syntax; empty: no extension.
  std::string extended_key_usage = "serverAuth";
  // The keyUsage value; empty: no extension.
  std::string key_usage = "critical,digitalSignature";
  KeyType key_type = KeyType::kEcP256;
  // Validity relative to now, in seconds.
  long not_before = -3600;
  long not_after = 2 * 24 * 3600;
};

struct Issued {
  KeyRef key;
  CertRef cert;
};

// A certificate authority (root or intermediate).
class TestCa {
 public:
  // A self-signed root.
  static TestCa Root(const std::string& common_name);

  // An intermediate CA signed by this one.
  TestCa Intermediate(const std::string& common_name) const;

  // A leaf signed by this CA.
  Issued Issue(const LeafOptions& options = {}) const;

  const CertRef& cert() const { return cert_; }
  const KeyRef& key() const { return key_; }

  // Writes the CA certificate as PEM to a fresh file under the test's temp
  // dir and returns its path.
  std::string WritePem() const;

 private:
  KeyRef key_;
  CertRef cert_;
};

// PEM text of a certificate, and of an unencrypted private key (PKCS #8).
std::string CertPem(X509* cert);
std::string KeyPem(EVP_PKEY* key);

// SHA-256 of the certificate's DER.
std::vector<uint8_t> CertSha256(X509* cert);
std::vector<uint8_t> CertDer(X509* cert);

// A fresh path under ::testing::TempDir() (not created).
std::string TempPath(const std::string& stem);

// Writes `text` to a fresh temp file and returns its path.
std::string WriteTempFile(const std::string& stem, const std::string& text);

}  // namespace sstp::tls::testing

#endif  // SSTP_KTLS_DAEMON_TLS_TEST_PKI_H_
