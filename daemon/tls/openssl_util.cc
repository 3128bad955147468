#include "daemon/tls/openssl_util.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sstp::tls::internal {
namespace {

// A name from a certificate goes into log lines and error messages: bytes
// outside printable ASCII are shown as \xNN.
std::string Printable(const unsigned char* data, size_t size) {
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] > 0x20 && data[i] < 0x7f && data[i] != '\\') {
      out.push_back(static_cast<char>(data[i]));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", data[i]);
    }
  }
  return out;
}

}  // namespace

std::string ConsumeOpenSslError() {
  // The TLS library's own entry says what failed at the protocol level
  // ("decryption failed or bad record mac"); entries from libcrypto below it
  // ("cipher operation failed") are less telling, so they are used only
  // when there is no libssl entry.
  unsigned long first = 0;
  unsigned long last_ssl = 0;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    if (first == 0) first = code;
    if (ERR_GET_LIB(code) == ERR_LIB_SSL) last_ssl = code;
  }
  const unsigned long chosen = last_ssl != 0 ? last_ssl : first;
  if (chosen == 0) return "";
  const char* text = ERR_reason_error_string(chosen);
  return text != nullptr ? text : "unknown OpenSSL error";
}

std::string SubjectString(const X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return "(out of memory)";
  // XN_FLAG_RFC2253 escapes separators and non-ASCII, so the result is
  // printable and unambiguous in a log line.
  if (X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
    return "(unprintable subject)";
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0) return "(empty subject)";
  return std::string(data, static_cast<size_t>(size));
}

std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back(
          Printable(ASN1_STRING_get0_data(dns), static_cast<size_t>(ASN1_STRING_length(dns))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const int length = ASN1_STRING_length(ip);
      char text[INET6_ADDRSTRLEN] = {};
      const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text))) {
        names.emplace_back(text);
      } else {
        names.emplace_back("(malformed IP address)");
      }
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

absl::StatusOr<std::vector<uint8_t>> CertificateDer(X509* cert) {
  const int size = i2d_X509(cert, nullptr);
  if (size <= 0) return absl::InternalError("i2d_X509: cannot encode the certificate");
  std::vector<uint8_t> der(static_cast<size_t>(size));
  uint8_t* p = der.data();
  if (i2d_X509(cert, &p) != size) {
    return absl::InternalError("i2d_X509: encoded size changed");
  }
  return der;
}

BIO_METHOD* MakeStateBioMethod(const BioCallbacks& callbacks) {
  BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, callbacks.method_name);
  if (m == nullptr) return nullptr;
  BIO_meth_set_write_ex(m, callbacks.write);
  BIO_meth_set_read_ex(m, callbacks.read);
  BIO_meth_set_ctrl(m, callbacks.ctrl);
  BIO_meth_set_create(m, [](BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  });
  BIO_meth_set_destroy(m, [](BIO* bio) {
    BIO_set_data(bio, nullptr);  // Borrowed: not ours to free.
    return 1;
  });
  return m;
}

BIO* NewStateBio(const BIO_METHOD* method, void* state) {
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, state);
  return bio;
}

}  // namespace sstp::tls::internal
