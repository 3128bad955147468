#include "daemon/tls/test_pki.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace sstp::tls::testing {
namespace {

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "test PKI: %s failed\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

KeyRef NewKey(KeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kEcP256:
      key = EVP_EC_gen("P-256");
      break;
    case KeyType::kRsa2048:
      key = EVP_RSA_gen(2048);
      break;
  }
  Check(key != nullptr, "key generation");
  return KeyRef(key, EVP_PKEY_free);
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// `issuer` null: self-signed (the caller adds extensions and signs).
CertRef MakeCert(const std::string& common_name, EVP_PKEY* key, X509* issuer, long not_before,
                 long not_after) {
  X509* cert = X509_new();
  Check(cert != nullptr, "X509_new");
  Check(X509_set_version(cert, X509_VERSION_3) == 1, "X509_set_version");
  uint64_t serial = 0;
  Check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof(serial)) == 1, "RAND_bytes");
  Check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial >> 1) == 1, "serial");
  Check(X509_gmtime_adj(X509_getm_notBefore(cert), not_before) != nullptr, "notBefore");
  Check(X509_gmtime_adj(X509_getm_notAfter(cert), not_after) != nullptr, "notAfter");
  X509_NAME* name = X509_get_subject_name(cert);
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0) == 1,
        "subject CN");
  Check(X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
        "issuer");
  Check(X509_set_pubkey(cert, key) == 1, "X509_set_pubkey");
  return CertRef(cert, X509_free);
}

void Sign(X509* cert, EVP_PKEY* key) {
  Check(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign");
}

std::atomic<int> temp_counter{0};

}  // namespace

TestCa TestCa::Root(const std::string& common_name) {
  TestCa ca;
  ca.key_ = NewKey(KeyType::kEcP256);
  ca.cert_ = MakeCert(common_name, ca.key_.get(), nullptr, -3600, 3650L * 24 * 3600);
  X509* cert = ca.cert_.get();
  AddExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert, cert, NID_subject_key_identifier, "hash");
  Sign(cert, ca.key_.get());
  return ca;
}

TestCa TestCa::Intermediate(const std::string& common_name) const {
  TestCa ca;
  ca.key_ = NewKey(KeyType::kEcP256);
  ca.cert_ = MakeCert(common_name, ca.key_.get(), cert_.get(), -3600, 3650L * 24 * 3600);
  X509* cert = ca.cert_.get();
  AddExtension(cert, cert_.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  AddExtension(cert, cert_.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(cert, cert_.get(), NID_subject_key_identifier, "hash");
  AddExtension(cert, cert_.get(), NID_authority_key_identifier, "keyid:always");
  Sign(cert, key_.get());
  return ca;
}

Issued TestCa::Issue(const LeafOptions& options) const {
  Issued leaf;
  leaf.key = NewKey(options.key_type);
  leaf.cert = MakeCert(options.common_name, leaf.key.get(), cert_.get(), options.not_before,
                       options.not_after);
  X509* cert = leaf.cert.get();
  AddExtension(cert, cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
  if (!options.key_usage.empty()) {
    AddExtension(cert, cert_.get(), NID_key_usage, options.key_usage);
  }
  if (!options.extended_key_usage.empty()) {
    AddExtension(cert, cert_.get(), NID_ext_key_usage, options.extended_key_usage);
  }
  std::vector<std::string> sans;
  for (const std::string& dns : options.dns_names) sans.push_back("DNS:" + dns);
  for (const std::string& ip : options.ip_addresses) sans.push_back("IP:" + ip);
  if (!sans.empty()) {
    AddExtension(cert, cert_.get(), NID_subject_alt_name, absl::StrJoin(sans, ","));
  }
  AddExtension(cert, cert_.get(), NID_subject_key_identifier, "hash");
  AddExtension(cert, cert_.get(), NID_authority_key_identifier, "keyid:always");
  Sign(cert, key_.get());
  return leaf;
}

std::string TestCa::WritePem() const { return WriteTempFile("ca", CertPem(cert_.get())); }

namespace {

// The text a PEM writer put into a memory BIO.
template <typename Writer>
std::string PemText(Writer write, const char* what) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(bio != nullptr && write(bio) == 1, what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

}  // namespace

std::string CertPem(X509* cert) {
  return PemText([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); },
                 "PEM_write_bio_X509");
}

std::string KeyPem(EVP_PKEY* key) {
  return PemText(
      [key](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
      },
      "PEM_write_bio_PrivateKey");
}

std::vector<uint8_t> CertDer(X509* cert) {
  const int size = i2d_X509(cert, nullptr);
  Check(size > 0, "i2d_X509");
  std::vector<uint8_t> der(static_cast<size_t>(size));
  uint8_t* p = der.data();
  Check(i2d_X509(cert, &p) == size, "i2d_X509");
  return der;
}

std::vector<uint8_t> CertSha256(X509* cert) {
  const std::vector<uint8_t> der = CertDer(cert);
  std::vector<uint8_t> digest(32);
  Check(EVP_Digest(der.data(), der.size(), digest.data(), nullptr, EVP_sha256(), nullptr) == 1,
        "EVP_Digest");
  return digest;
}

std::string TempPath(const std::string& stem) {
  return absl::StrCat(::testing::TempDir(), "/tls_test_", getpid(), "_", temp_counter++, "_",
                      stem);
}

std::string WriteTempFile(const std::string& stem, const std::string& text) {
  const std::string path = TempPath(stem);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  Check(static_cast<bool>(out), "writing a temp file");
  return path;
}

}  // namespace sstp::tls::testing
