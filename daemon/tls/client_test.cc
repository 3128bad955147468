// Handshake and certificate verification of the TLS client against an
// in-process OpenSSL server (test_server.h) with certificates made in the
// test (test_pki.h).
#include "daemon/tls/client.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "base/log.h"
#include "daemon/tls/test_pki.h"
#include "daemon/tls/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::Issued;
using testing::LeafOptions;
using testing::ServerConfig;
using testing::TestCa;
using testing::TestServer;

class CapturingSink : public LogSink {
 public:
  void Write(LogLevel level, absl::string_view context, absl::string_view message) override {
    lines.push_back({level, std::string(context), std::string(message)});
  }
  struct Line {
    LogLevel level;
    std::string context;
    std::string message;
  };
  std::vector<Line> lines;
};

std::vector<uint8_t> Bytes(absl::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

// A server that answers "ping" with "pong", the shape of the HTTP exchange.
void PingPong(SSL* ssl, int /*fd*/) {
  EXPECT_EQ(testing::ServerReadExactly(ssl, 4), "ping");
  testing::ServerWrite(ssl, "pong");
}

// The client side of PingPong.
void ExpectPingPong(Connection& connection) {
  ASSERT_TRUE(connection.Write(Bytes("ping"), absl::Seconds(5)).ok());
  std::array<uint8_t, kMaxRecordPlaintext> buffer;
  absl::StatusOr<size_t> read = connection.Read(absl::MakeSpan(buffer), absl::Seconds(5));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + *read), "pong");
}

class TlsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TestCa(TestCa::Root("sstp-ktls test root"));
    other_root_ = new TestCa(TestCa::Root("unrelated root"));
    ca_file_ = new std::string(root_->WritePem());
  }
  static void TearDownTestSuite() {
    delete root_;
    delete other_root_;
    delete ca_file_;
  }
  void SetUp() override {
    previous_sink_ = SetLogSink(&sink_);
    previous_level_ = GetLogLevel();
    SetLogLevel(LogLevel::kDebug);
  }
  void TearDown() override {
    SetLogSink(previous_sink_);
    SetLogLevel(previous_level_);
  }

  static const TestCa& root() { return *root_; }
  static const TestCa& other_root() { return *other_root_; }

  static ClientConfig Config(const std::string& server_name = "vpn.example.test") {
    ClientConfig config;
    config.server_name = server_name;
    config.ca_file = *ca_file_;
    config.handshake_timeout = absl::Seconds(10);
    return config;
  }

  static absl::StatusOr<std::unique_ptr<Connection>> Connect(const ClientConfig& config,
                                                             const TestServer& server) {
    absl::StatusOr<std::unique_ptr<ClientContext>> context =
        ClientContext::Create(config, Logger("office"));
    if (!context.ok()) return context.status();
    return (*context)->Handshake(server.client_fd());
  }

  // Handshake against a server presenting `leaf` (and `chain`), with
  // `config`; returns the handshake status.
  static absl::Status HandshakeStatus(const ClientConfig& config, const Issued& leaf,
                                      std::vector<testing::CertRef> chain = {}) {
    TestServer server({.identity = leaf, .chain = std::move(chain)}, PingPong);
    absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(config, server);
    if (!connection.ok()) return connection.status();
    // Finish the exchange so the server thread ends cleanly.
    absl::Status written = (*connection)->Write(Bytes("ping"), absl::Seconds(5));
    if (!written.ok()) return written;
    std::array<uint8_t, 16> buffer;
    absl::StatusOr<size_t> read = (*connection)->Read(absl::MakeSpan(buffer), absl::Seconds(5));
    if (!read.ok()) return read.status();
    if (std::string(buffer.begin(), buffer.begin() + *read) != "pong") {
      return absl::InternalError("unexpected reply");
    }
    return absl::OkStatus();
  }

  bool Logged(LogLevel level, absl::string_view needle) const {
    for (const auto& line : sink_.lines) {
      if (line.level == level && line.message.find(std::string(needle)) != std::string::npos) return true;
    }
    return false;
  }

  CapturingSink sink_;

 private:
  static TestCa* root_;
  static TestCa* other_root_;
  static std::string* ca_file_;
  LogSink* previous_sink_ = nullptr;
  LogLevel previous_level_ = LogLevel::kNotice;
};

TestCa* TlsClientTest::root_ = nullptr;
TestCa* TlsClientTest::other_root_ = nullptr;
std::string* TlsClientTest::ca_file_ = nullptr;

// --- Success paths.

TEST_F(TlsClientTest, Tls13HandshakeVerifiesSanAndReportsTheLeaf) {
  const Issued leaf = root().Issue();
  TestServer server({.identity = leaf}, PingPong);
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  const HandshakeInfo& info = (*connection)->info();
  EXPECT_EQ(info.version, TlsVersion::kTls13);
  EXPECT_EQ(info.cipher, Cipher::kAes128Gcm);  // Our first preference.
  EXPECT_EQ(info.cipher_suite, 0x1301);
  EXPECT_EQ(info.cipher_name, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(info.peer_subject, "CN=vpn.example.test");
  EXPECT_TRUE(info.verified);

  const std::vector<uint8_t> der = testing::CertDer(leaf.cert.get());
  EXPECT_EQ(info.leaf_der, der);
  std::array<uint8_t, 20> sha1;
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), sha1.data(), nullptr, EVP_sha1(), nullptr), 1);
  EXPECT_EQ(info.leaf_sha1, sha1);
  const std::vector<uint8_t> sha256 = testing::CertSha256(leaf.cert.get());
  EXPECT_EQ(std::vector<uint8_t>(info.leaf_sha256.begin(), info.leaf_sha256.end()), sha256);

  ASSERT_TRUE((*connection)->Write(Bytes("ping"), absl::Seconds(5)).ok());
  std::array<uint8_t, kMaxRecordPlaintext> buffer;
  absl::StatusOr<size_t> read = (*connection)->Read(absl::MakeSpan(buffer), absl::Seconds(5));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(std::string(buffer.begin(), buffer.begin() + *read), "pong");
  server.Join();
  EXPECT_EQ(server.sni(), "vpn.example.test");
  EXPECT_TRUE(Logged(LogLevel::kInfo, "TLS handshake with vpn.example.test done: TLS 1.3 "
                                      "TLS_AES_128_GCM_SHA256, server certificate "
                                      "CN=vpn.example.test, sha256:" +
                                          ToHex(sha256)));
}

TEST_F(TlsClientTest, Tls12OnlyServerNegotiatesTls12) {
  TestServer server({.identity = root().Issue(), .max_version = TLS1_2_VERSION}, PingPong);
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ((*connection)->info().version, TlsVersion::kTls12);
  EXPECT_EQ((*connection)->info().cipher, Cipher::kAes128Gcm);
  EXPECT_EQ((*connection)->info().cipher_suite, 0xC02B);  // ECDHE-ECDSA-AES128-GCM-SHA256
  EXPECT_EQ((*connection)->info().cipher_name, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
  ExpectPingPong(**connection);
}

TEST_F(TlsClientTest, RsaServerKeyUsesEcdheRsaSuite) {
  LeafOptions options;
  options.key_type = testing::KeyType::kRsa2048;
  options.key_usage = "critical,digitalSignature,keyEncipherment";
  TestServer server({.identity = root().Issue(options), .max_version = TLS1_2_VERSION}, PingPong);
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ((*connection)->info().cipher_suite, 0xC02F);  // ECDHE-RSA-AES128-GCM-SHA256
  ExpectPingPong(**connection);
}

TEST_F(TlsClientTest, ChainThroughIntermediateVerifies) {
  const TestCa intermediate = root().Intermediate("sstp-ktls test intermediate");
  const Issued leaf = intermediate.Issue();
  EXPECT_TRUE(HandshakeStatus(Config(), leaf, {intermediate.cert()}).ok());
  // Without the intermediate the chain cannot be built.
  const absl::Status missing = HandshakeStatus(Config(), leaf);
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(missing.message(),
            "TLS certificate verification failed: unable to get local issuer certificate "
            "(depth 0, subject CN=vpn.example.test)");
}

// --- Version policy.

TEST_F(TlsClientTest, Tls12OnlyServerWithMinimumTls13FailsClearly) {
  TestServer server({.identity = root().Issue(), .max_version = TLS1_2_VERSION}, PingPong);
  ClientConfig config = Config();
  config.min_version = TlsVersion::kTls13;
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(config, server);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(connection.status().message(),
            "TLS handshake with vpn.example.test failed: the server sent alert \"protocol "
            "version\" (the server does not accept TLS 1.3, the configured minimum)");
}

// --- Chain verification.

TEST_F(TlsClientTest, UnknownCaIsAVerificationError) {
  const absl::Status status = HandshakeStatus(Config(), other_root().Issue());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS certificate verification failed: unable to get local issuer certificate "
            "(depth 0, subject CN=vpn.example.test)");
}

TEST_F(TlsClientTest, ServerSendingAnUntrustedRootNamesIt) {
  const absl::Status status =
      HandshakeStatus(Config(), other_root().Issue(), {other_root().cert()});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS certificate verification failed: self-signed certificate in certificate chain "
            "(depth 1, subject CN=unrelated root)");
}

TEST_F(TlsClientTest, EmptyCaSettingsUseTheSystemStoreWhichDoesNotKnowTheTestCa) {
  ClientConfig config = Config();
  config.ca_file.clear();
  const absl::Status status = HandshakeStatus(config, root().Issue());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()),
              StartsWith("TLS certificate verification failed: unable to get local issuer "
                         "certificate (depth 0"));
}

TEST_F(TlsClientTest, ExpiredCertificateIsRejected) {
  LeafOptions options;
  options.not_before = -10 * 24 * 3600;
  options.not_after = -24 * 3600;
  const absl::Status status = HandshakeStatus(Config(), root().Issue(options));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS certificate verification failed: certificate has expired (depth 0, subject "
            "CN=vpn.example.test)");
}

TEST_F(TlsClientTest, CaDirectoryIsATrustStore) {
  // OpenSSL looks up <subject hash>.0 in the directory.
  const std::string dir = testing::TempPath("cadir");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  char hash[16];
  snprintf(hash, sizeof(hash), "%08lx", X509_subject_name_hash(root().cert().get()));
  ASSERT_EQ(rename(root().WritePem().c_str(), absl::StrCat(dir, "/", hash, ".0").c_str()), 0);
  ClientConfig config = Config();
  config.ca_file.clear();
  config.ca_dir = dir;
  EXPECT_TRUE(HandshakeStatus(config, root().Issue()).ok());
}

// --- Host name rules (RFC 6125 / RFC 9525).

TEST_F(TlsClientTest, HostNameMismatchListsTheCertificateNames) {
  LeafOptions options;
  options.common_name = "vpn.other.test";
  options.dns_names = {"vpn.other.test", "*.other.test"};
  const absl::Status status = HandshakeStatus(Config(), root().Issue(options));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS host name mismatch: certificate names vpn.other.test, *.other.test; expected "
            "vpn.example.test");
}

TEST_F(TlsClientTest, WildcardMatchesExactlyOneLeftmostLabel) {
  LeafOptions options;
  options.common_name = "wildcard";
  options.dns_names = {"*.example.test"};
  const Issued leaf = root().Issue(options);
  EXPECT_TRUE(HandshakeStatus(Config("a.example.test"), leaf).ok());
  EXPECT_TRUE(HandshakeStatus(Config("A.EXAMPLE.TEST"), leaf).ok());  // Case-insensitive.
  const absl::Status two_labels = HandshakeStatus(Config("a.b.example.test"), leaf);
  EXPECT_EQ(two_labels.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(two_labels.message(),
            "TLS host name mismatch: certificate names *.example.test; expected a.b.example.test");
  const absl::Status bare = HandshakeStatus(Config("example.test"), leaf);
  EXPECT_EQ(bare.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(bare.message(),
            "TLS host name mismatch: certificate names *.example.test; expected example.test");
}

TEST_F(TlsClientTest, PartialWildcardIsNotAWildcard) {
  LeafOptions options;
  options.dns_names = {"vpn*.example.test"};
  const absl::Status status = HandshakeStatus(Config("vpn1.example.test"), root().Issue(options));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS host name mismatch: certificate names vpn*.example.test; expected "
            "vpn1.example.test");
}

TEST_F(TlsClientTest, SubjectCommonNameIsNeverMatched) {
  LeafOptions options;
  options.common_name = "vpn.example.test";
  options.dns_names = {};
  const absl::Status status = HandshakeStatus(Config(), root().Issue(options));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS host name mismatch: certificate has no DNS or IP subjectAltName (its subject "
            "CN=vpn.example.test is not used for matching, RFC 9525 6.3); expected "
            "vpn.example.test");
}

TEST_F(TlsClientTest, IpLiteralMatchesIpSanAndSendsNoSni) {
  LeafOptions options;
  options.dns_names = {"vpn.example.test"};
  options.ip_addresses = {"127.0.0.1", "::1"};
  const Issued leaf = root().Issue(options);
  {
    TestServer server({.identity = leaf}, PingPong);
    absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config("127.0.0.1"), server);
    ASSERT_TRUE(connection.ok()) << connection.status();
    ExpectPingPong(**connection);
    server.Join();
    EXPECT_EQ(server.sni(), "");  // RFC 6066 3: no IP literal in server_name.
  }
  EXPECT_TRUE(HandshakeStatus(Config("::1"), leaf).ok());
  EXPECT_TRUE(HandshakeStatus(Config("[::1]"), leaf).ok());
  const absl::Status other_ip = HandshakeStatus(Config("10.0.0.1"), leaf);
  EXPECT_EQ(other_ip.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(other_ip.message(),
            "TLS host name mismatch: certificate names vpn.example.test, 127.0.0.1, ::1; "
            "expected 10.0.0.1");
}

TEST_F(TlsClientTest, IpLiteralDoesNotMatchADnsSanSpellingIt) {
  LeafOptions options;
  options.dns_names = {"127.0.0.1"};
  const absl::Status status = HandshakeStatus(Config("127.0.0.1"), root().Issue(options));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS host name mismatch: certificate names 127.0.0.1; expected 127.0.0.1");
}

// --- Extended key usage (MS-SSTP 3.2.4.1).

TEST_F(TlsClientTest, ExtendedKeyUsageRules) {
  LeafOptions options;
  options.extended_key_usage = "anyExtendedKeyUsage";
  EXPECT_TRUE(HandshakeStatus(Config(), root().Issue(options)).ok());
  options.extended_key_usage = "";  // No EKU extension: any purpose (RFC 5280 4.2.1.12).
  EXPECT_TRUE(HandshakeStatus(Config(), root().Issue(options)).ok());
  options.extended_key_usage = "clientAuth,serverAuth";
  EXPECT_TRUE(HandshakeStatus(Config(), root().Issue(options)).ok());

  options.extended_key_usage = "clientAuth";
  const absl::Status client_only = HandshakeStatus(Config(), root().Issue(options));
  EXPECT_EQ(client_only.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client_only.message(),
            "TLS certificate verification failed: unsuitable certificate purpose (depth 0, "
            "subject CN=vpn.example.test): its extended key usage has neither serverAuth nor "
            "anyExtendedKeyUsage");
}

TEST_F(TlsClientTest, AnyExtendedKeyUsageDoesNotExcuseAWrongKeyUsage) {
  LeafOptions options;
  options.extended_key_usage = "anyExtendedKeyUsage";
  options.key_usage = "critical,keyCertSign";
  const absl::Status status = HandshakeStatus(Config(), root().Issue(options));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(status.message(),
            "TLS certificate verification failed: unsuitable certificate purpose (depth 0, "
            "subject CN=vpn.example.test): its key usage does not allow a TLS server key");
}

// --- Pin.

TEST_F(TlsClientTest, PinMatchAndMismatch) {
  const Issued leaf = root().Issue();
  const std::vector<uint8_t> digest = testing::CertSha256(leaf.cert.get());
  ClientConfig config = Config();
  config.pin_sha256.emplace();
  std::copy(digest.begin(), digest.end(), config.pin_sha256->begin());
  EXPECT_TRUE(HandshakeStatus(config, leaf).ok());

  (*config.pin_sha256)[31] ^= 0x01;
  const absl::Status mismatch = HandshakeStatus(config, leaf);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(mismatch.message(), absl::StrCat("TLS pin mismatch: leaf sha256:", ToHex(digest),
                                             " is not the pinned sha256:",
                                             ToHex(*config.pin_sha256)));
}

// --- insecure_skip_verify.

TEST_F(TlsClientTest, InsecureSkipVerifyAcceptsAnUnknownCaButSaysSoLoudly) {
  ClientConfig config = Config();
  config.insecure_skip_verify = true;
  TestServer server({.identity = other_root().Issue()}, PingPong);
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(config, server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_FALSE((*connection)->info().verified);
  ExpectPingPong(**connection);
  EXPECT_TRUE(Logged(LogLevel::kWarning,
                     "TLS certificate verification is DISABLED (insecure-skip-verify): "
                     "vpn.example.test is not authenticated"));
  EXPECT_TRUE(Logged(LogLevel::kWarning,
                     "TLS certificate of vpn.example.test NOT verified (insecure-skip-verify); "
                     "it fails: TLS certificate verification failed: unable to get local issuer "
                     "certificate"));
  EXPECT_TRUE(Logged(LogLevel::kInfo, "(NOT verified)"));
  for (const auto& line : sink_.lines) EXPECT_EQ(line.context, "office");
}

TEST_F(TlsClientTest, InsecureSkipVerifyStillChecksThePin) {
  ClientConfig config = Config();
  config.insecure_skip_verify = true;
  config.pin_sha256.emplace();
  config.pin_sha256->fill(0xab);
  const absl::Status status = HandshakeStatus(config, other_root().Issue());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()), StartsWith("TLS pin mismatch: leaf sha256:"));
}

// --- Servers that misbehave.

TEST_F(TlsClientTest, ServerThatDoesNotSpeakTls) {
  TestServer server([](int fd) {
    testing::RecvUntilIdle(fd, 100);  // The ClientHello.
    testing::SendRaw(fd, Bytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    testing::RecvUntilIdle(fd, 2000);
  });
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(connection.status().message(),
            "TLS handshake with vpn.example.test failed: the server does not speak TLS (its "
            "reply starts with \"HTTP/\")");
}

TEST_F(TlsClientTest, ServerThatClosesWithoutAnswering) {
  TestServer server([](int fd) {
    testing::RecvUntilIdle(fd, 100);
    shutdown(fd, SHUT_RDWR);
  });
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(connection.status().message(),
            "TLS handshake with vpn.example.test failed: the server closed the connection "
            "without answering the ClientHello");
}

TEST_F(TlsClientTest, SilentServerTimesOut) {
  TestServer server([](int fd) { testing::RecvUntilIdle(fd, 3000); });
  ClientConfig config = Config();
  config.handshake_timeout = absl::Milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(config, server);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(connection.status().message(),
            "TLS handshake with vpn.example.test timed out after 200ms (no answer from the "
            "server)");
  EXPECT_GE(elapsed, std::chrono::milliseconds(200));
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

// --- After the handshake, socket mode.

TEST_F(TlsClientTest, ReadReturnsZeroOnCloseNotifyAndShutdownSendsOne) {
  TestServer server({.identity = root().Issue()}, [](SSL* ssl, int) {
    EXPECT_EQ(testing::ServerReadExactly(ssl, 4), "ping");
    EXPECT_EQ(SSL_shutdown(ssl), 0);  // Our close_notify; wait for the client's.
    EXPECT_EQ(SSL_shutdown(ssl), 1);
  });
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->Write(Bytes("ping"), absl::Seconds(5)).ok());
  std::array<uint8_t, kMaxRecordPlaintext> buffer;
  absl::StatusOr<size_t> read = (*connection)->Read(absl::MakeSpan(buffer), absl::Seconds(5));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, 0u);
  EXPECT_TRUE((*connection)->Shutdown(absl::Seconds(5)).ok());
  server.Join();
}

TEST_F(TlsClientTest, ConnectionEndWithoutCloseNotifyIsAnError) {
  TestServer server({.identity = root().Issue()}, [](SSL* ssl, int fd) {
    EXPECT_EQ(testing::ServerReadExactly(ssl, 4), "ping");
    shutdown(fd, SHUT_RDWR);
  });
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->Write(Bytes("ping"), absl::Seconds(5)).ok());
  std::array<uint8_t, kMaxRecordPlaintext> buffer;
  absl::StatusOr<size_t> read = (*connection)->Read(absl::MakeSpan(buffer), absl::Seconds(5));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read.status().message(),
            "TLS read: the server closed the connection without close_notify");
}

TEST_F(TlsClientTest, ReadTimesOut) {
  TestServer server({.identity = root().Issue()}, [](SSL* ssl, int) {
    EXPECT_EQ(testing::ServerReadExactly(ssl, 4), "ping");
    testing::ServerRead(ssl);  // Until the client goes away.
  });
  absl::StatusOr<std::unique_ptr<Connection>> connection = Connect(Config(), server);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->Write(Bytes("ping"), absl::Seconds(5)).ok());
  std::array<uint8_t, 64> buffer;
  absl::StatusOr<size_t> read =
      (*connection)->Read(absl::MakeSpan(buffer), absl::Milliseconds(100));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(read.status().message(), "TLS read timed out after 100ms");
}

// --- Configuration errors.

TEST_F(TlsClientTest, CreateRejectsBadConfiguration) {
  ClientConfig config = Config();
  config.server_name = "";
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS server name is empty");
  config.server_name = "[::1";
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS server name \"[::1\": unbalanced '['");
  config.server_name = "[vpn.example.test]";
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS server name \"[vpn.example.test]\": brackets around a non-IPv6 name");

  config = Config();
  config.ca_file = "/nonexistent/ca.pem";
  absl::Status status = ClientContext::Create(config, Logger("t")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "TLS CA file /nonexistent/ca.pem: No such file or directory (errno 2)");

  config.ca_file = testing::WriteTempFile("empty.pem", "not a certificate\n");
  status = ClientContext::Create(config, Logger("t")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              StartsWith(absl::StrCat("TLS CA file ", config.ca_file, ": no usable certificate")));

  config = Config();
  config.ca_dir = config.ca_file;  // A file, not a directory.
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            absl::StrCat("TLS CA directory ", config.ca_file, " is not a directory"));

  config = Config();
  config.handshake_timeout = absl::ZeroDuration();
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS handshake timeout 0 is not positive");

  config = Config();
  config.ciphers = {Cipher::kAes256Gcm, Cipher::kAes256Gcm};
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS cipher AES-256-GCM is listed twice");

  config = Config();
  config.keylog_file = "/nonexistent/keys.log";
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS key log file /nonexistent/keys.log: No such file or directory (errno 2)");

  config = Config();
  config.keylog_file = "/dev/null";
  EXPECT_EQ(ClientContext::Create(config, Logger("t")).status().message(),
            "TLS key log file /dev/null is not a regular file");
}

TEST_F(TlsClientTest, KeylogFileThatExistsIsMadeOwnerOnly) {
  const std::string path = ::testing::TempDir() + "keylog-existing.log";
  unlink(path.c_str());
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchmod(fd, 0644), 0);  // As a careless earlier run might have left it.
  close(fd);
  ClientConfig config = Config();
  config.keylog_file = path;
  ASSERT_TRUE(ClientContext::Create(config, Logger("t")).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  unlink(path.c_str());
}

}  // namespace
}  // namespace sstp::tls
