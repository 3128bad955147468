// tools/make-test-pki.sh, which the integration tests and the demo use,
// checked against the real client: its server certificate verifies, its
// pin matches, and its two "bad" certificates fail the way they should.
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/hex.h"
#include "daemon/tls/client.h"
#include "daemon/tls/test_pki.h"
#include "daemon/tls/test_server.h"
#include "gtest/gtest.h"

namespace sstp::tls {
namespace {

using testing::Issued;
using testing::TestServer;

bool HaveOpenSslCli() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

// Runs the script; returns its `key=value` lines.
std::map<std::string, std::string> RunScript(const std::string& outdir,
                                             const std::string& names) {
  const std::string command = absl::StrCat(SSTP_SOURCE_DIR, "/tools/make-test-pki.sh ", outdir,
                                           " ", names, " 2>&1");
  std::map<std::string, std::string> values;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return values;
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    values[kv.first] = kv.second;
  }
  return values;
}

Issued LoadIdentity(const std::string& cert_path, const std::string& key_path) {
  Issued identity;
  FILE* cert_file = fopen(cert_path.c_str(), "r");
  FILE* key_file = fopen(key_path.c_str(), "r");
  if (cert_file != nullptr) {
    identity.cert.reset(PEM_read_X509(cert_file, nullptr, nullptr, nullptr), X509_free);
    fclose(cert_file);
  }
  if (key_file != nullptr) {
    identity.key.reset(PEM_read_PrivateKey(key_file, nullptr, nullptr, nullptr), EVP_PKEY_free);
    fclose(key_file);
  }
  return identity;
}

absl::Status Handshake(const ClientConfig& config, const Issued& identity) {
  TestServer server({.identity = identity}, [](SSL* ssl, int) { testing::ServerRead(ssl); });
  absl::StatusOr<std::unique_ptr<ClientContext>> context =
      ClientContext::Create(config, Logger("pki"));
  if (!context.ok()) return context.status();
  return (*context)->Handshake(server.client_fd()).status();
}

TEST(MakeTestPkiTest, ItsCertificatesBehaveAsDocumented) {
  if (!HaveOpenSslCli()) GTEST_SKIP() << "the openssl command-line tool is not installed";
  const std::string outdir = testing::TempPath("pki");
  std::map<std::string, std::string> paths =
      RunScript(outdir, "vpn.example.test 192.0.2.10 '[2001:db8::1]'");
  ASSERT_EQ(paths.count("server_cert"), 1u);
  for (const char* key : {"ca_cert", "server_key", "other_server_cert", "other_server_key",
                          "wrong_name_cert", "wrong_name_key", "server_pin"}) {
    EXPECT_EQ(paths.count(key), 1u) << key;
  }

  ClientConfig config;
  config.server_name = "vpn.example.test";
  config.ca_file = paths["ca_cert"];
  config.handshake_timeout = absl::Seconds(10);
  const Issued server = LoadIdentity(paths["server_cert"], paths["server_key"]);
  ASSERT_NE(server.cert, nullptr);
  ASSERT_NE(server.key, nullptr);

  // The printed pin is the leaf's SHA-256, and server.pin holds it too.
  const std::string pin = ToHex(testing::CertSha256(server.cert.get()));
  EXPECT_EQ(paths["server_pin"], "sha256:" + pin);
  std::ifstream pin_file(outdir + "/server.pin");
  std::string pin_line;
  std::getline(pin_file, pin_line);
  EXPECT_EQ(pin_line, "sha256:" + pin);

  config.pin_sha256.emplace();
  const std::vector<uint8_t> pin_bytes = HexOrDie(pin);
  std::copy(pin_bytes.begin(), pin_bytes.end(), config.pin_sha256->begin());
  EXPECT_TRUE(Handshake(config, server).ok());
  for (const char* ip : {"192.0.2.10", "2001:db8::1"}) {
    ClientConfig by_ip = config;
    by_ip.server_name = ip;
    EXPECT_TRUE(Handshake(by_ip, server).ok()) << ip;
  }

  config.pin_sha256.reset();
  const absl::Status other_ca =
      Handshake(config, LoadIdentity(paths["other_server_cert"], paths["other_server_key"]));
  EXPECT_EQ(other_ca.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(other_ca.message(),
            "TLS certificate verification failed: unable to get local issuer certificate "
            "(depth 0, subject CN=vpn.example.test)");

  const absl::Status wrong_name =
      Handshake(config, LoadIdentity(paths["wrong_name_cert"], paths["wrong_name_key"]));
  EXPECT_EQ(wrong_name.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong_name.message(),
            "TLS host name mismatch: certificate names wrong-name.invalid; expected "
            "vpn.example.test");

  // Running it again overwrites the files with a fresh PKI.
  std::map<std::string, std::string> again = RunScript(outdir, "vpn.example.test");
  EXPECT_EQ(again["server_cert"], paths["server_cert"]);
  EXPECT_NE(again["server_pin"], paths["server_pin"]);
}

}  // namespace
}  // namespace sstp::tls
