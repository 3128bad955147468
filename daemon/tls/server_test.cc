// The TLS server (server.h) against the project's own TLS client
// (client.h): both ends of an AF_UNIX socketpair, the server's handshake in
// a thread, certificates made in the test (test_pki.h).
#include "daemon/tls/server.h"

#include <sys/socket.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "daemon/tls/client.h"
#include "daemon/tls/test_pki.h"
#include "daemon/tls/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::tls {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::Text;

// The test PKI, made once: a root the client trusts, an intermediate, and
// the server's leaf; the server's PEM files hold the leaf and intermediate.
struct Pki {
  Pki()
      : root(testing::TestCa::Root("sstp-ktls test root")),
        intermediate(root.Intermediate("sstp-ktls test intermediate")),
        leaf(intermediate.Issue()),
        ca_file(root.WritePem()),
        cert_file(testing::WriteTempFile(
            "chain.pem",
            testing::CertPem(leaf.cert.get()) + testing::CertPem(intermediate.cert().get()))),
        key_file(testing::WriteTempFile("key.pem", testing::KeyPem(leaf.key.get()))) {}

  testing::TestCa root;
  testing::TestCa intermediate;
  testing::Issued leaf;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

const Pki& TestPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

ClientConfig Client(const std::string& server_name = "vpn.example.test") {
  return ClientConfig{.server_name = server_name,
                      .ca_file = TestPki().ca_file,
                      .handshake_timeout = absl::Seconds(10)};
}

ServerConfig Server() {
  return ServerConfig{.cert_file = TestPki().cert_file,
                      .key_file = TestPki().key_file,
                      .handshake_timeout = absl::Seconds(10)};
}

// Both ends of one handshake. The socketpair outlives the connections.
struct Session {
  UniqueFd client_fd;
  UniqueFd server_fd;
  absl::StatusOr<std::unique_ptr<Connection>> client = absl::UnknownError("not run");
  absl::StatusOr<std::unique_ptr<Connection>> server = absl::UnknownError("not run");

  bool ok() const { return client.ok() && server.ok(); }
};

void MakePair(Session* s) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  s->client_fd.reset(fds[0]);
  s->server_fd.reset(fds[1]);
}

// Moves ciphertext from one memory-mode connection to the other and
// returns the plaintext that came out. Fails the test on an error.
std::string Deliver(Connection& to, const std::vector<uint8_t>& ciphertext,
                    std::vector<uint8_t>* to_send = nullptr) {
  std::vector<uint8_t> plaintext;
  std::vector<uint8_t> reply;
  absl::StatusOr<DecryptResult> result = to.Decrypt(ciphertext, &plaintext, &reply);
  EXPECT_TRUE(result.ok()) << result.status();
  if (to_send != nullptr) to_send->insert(to_send->end(), reply.begin(), reply.end());
  return Text(plaintext);
}

void Append(std::vector<uint8_t>* to, const std::vector<uint8_t>& bytes) {
  to->insert(to->end(), bytes.begin(), bytes.end());
}

std::vector<uint8_t> Seal(Connection& from, absl::string_view text) {
  std::vector<uint8_t> out;
  absl::Status status = from.Encrypt(Bytes(text), &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

class TlsServerTest : public ::testing::Test {
 protected:
  // Runs both handshakes. A side that fails shuts its socket down so the
  // other side does not wait for its timeout.
  static Session Handshake(const ClientConfig& client_config, const ServerConfig& server_config) {
    Session s;
    MakePair(&s);
    absl::StatusOr<std::unique_ptr<ServerContext>> server_context =
        ServerContext::Create(server_config, Logger("server"));
    absl::StatusOr<std::unique_ptr<ClientContext>> client_context =
        ClientContext::Create(client_config, Logger("client"));
    if (!server_context.ok() || !client_context.ok()) {
      ADD_FAILURE() << server_context.status() << " / " << client_context.status();
      return s;
    }
    std::thread server_thread([&] {
      s.server = (*server_context)->Accept(s.server_fd.get());
      if (!s.server.ok()) shutdown(s.server_fd.get(), SHUT_RDWR);
    });
    s.client = (*client_context)->Handshake(s.client_fd.get());
    if (!s.client.ok()) shutdown(s.client_fd.get(), SHUT_RDWR);
    server_thread.join();
    return s;
  }

  // A handshake both sides must complete.
  static Session Connected(const ClientConfig& client_config, const ServerConfig& server_config) {
    Session s = Handshake(client_config, server_config);
    EXPECT_TRUE(s.client.ok()) << s.client.status();
    EXPECT_TRUE(s.server.ok()) << s.server.status();
    return s;
  }

  // Socket mode: the client writes `request`, the server answers `reply`
  // (the HTTP exchange's shape). The client's read also takes in the
  // server's NewSessionTickets.
  static void Exchange(Session& s, absl::string_view request, absl::string_view reply) {
    Connection& client = **s.client;
    Connection& server = **s.server;
    ASSERT_TRUE(client.Write(Bytes(request), absl::Seconds(5)).ok());
    std::vector<uint8_t> buffer(kMaxRecordPlaintext);
    absl::StatusOr<size_t> read = server.Read(absl::MakeSpan(buffer), absl::Seconds(5));
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(Text(absl::MakeSpan(buffer).first(*read)), request);
    ASSERT_TRUE(server.Write(Bytes(reply), absl::Seconds(5)).ok());
    read = client.Read(absl::MakeSpan(buffer), absl::Seconds(5));
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(Text(absl::MakeSpan(buffer).first(*read)), reply);
  }

  // Connected, the HTTP exchange done in socket mode (which takes in the
  // NewSessionTickets), then both sides in memory mode.
  static Session InMemoryMode(const ServerConfig& server_config) {
    Session s = Connected(Client(), server_config);
    if (!s.ok()) return s;
    Exchange(s, "SSTP_DUPLEX_POST", "HTTP/1.1 200 OK");
    EXPECT_TRUE((*s.client)->SwitchToMemoryBios().ok());
    EXPECT_TRUE((*s.server)->SwitchToMemoryBios().ok());
    return s;
  }

  // Accept() on a socket whose other end `client` (run first, in this
  // thread) uses directly.
  static absl::Status AcceptFrom(const ServerConfig& config,
                                 const std::function<void(UniqueFd& client_fd)>& client) {
    Session s;
    MakePair(&s);
    absl::StatusOr<std::unique_ptr<ServerContext>> context =
        ServerContext::Create(config, Logger("server"));
    if (!context.ok()) return context.status();
    client(s.client_fd);
    return (*context)->Accept(s.server_fd.get()).status();
  }

  // Both handshakes failed with kFailedPrecondition and these messages.
  static void ExpectRefused(const Session& s, absl::string_view server_message,
                            absl::string_view client_message) {
    EXPECT_EQ(s.server.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.server.status().message(), server_message);
    EXPECT_EQ(s.client.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.client.status().message(), client_message);
  }

  // What one side sent is what the other received, record for record.
  static void ExpectMirroredCounters(const Connection& client, const Connection& server) {
    const RecordCounters c = client.counters();
    const RecordCounters s = server.counters();
    EXPECT_EQ(c.tx_seq, s.rx_seq);
    EXPECT_EQ(c.rx_seq, s.tx_seq);
    EXPECT_EQ(c.tx_records, s.rx_records);
    EXPECT_EQ(c.rx_records, s.tx_records);
    EXPECT_EQ(c.tx_key_updates, s.rx_key_updates);
    EXPECT_EQ(c.rx_key_updates, s.tx_key_updates);
  }

  testing::LogCapture log_;
};

// --- Handshakes.

TEST_F(TlsServerTest, Tls13HandshakeBothSidesAgree) {
  Session s = Connected(Client(), Server());
  ASSERT_TRUE(s.ok());
  const HandshakeInfo& client = (*s.client)->info();
  const HandshakeInfo& server = (*s.server)->info();
  for (const HandshakeInfo* info : {&client, &server}) {
    EXPECT_EQ(info->version, TlsVersion::kTls13);
    EXPECT_EQ(info->cipher, Cipher::kAes128Gcm);
    EXPECT_EQ(info->cipher_suite, 0x1301);
    EXPECT_EQ(info->cipher_name, "TLS_AES_128_GCM_SHA256");
    EXPECT_EQ(info->sni, "vpn.example.test");
    EXPECT_EQ(info->peer_subject, "CN=vpn.example.test");
    // The crypto binding's CertHash is over the same certificate on both
    // ends (MS-SSTP 3.2.5.2).
    EXPECT_EQ(info->leaf_der, testing::CertDer(TestPki().leaf.cert.get()));
  }
  EXPECT_EQ(server.leaf_sha256, client.leaf_sha256);
  EXPECT_EQ(server.leaf_sha1, client.leaf_sha1);
  EXPECT_TRUE(client.verified);
  EXPECT_FALSE(server.verified);
  EXPECT_TRUE(
      log_.Has("server: TLS handshake with the client done: TLS 1.3 TLS_AES_128_GCM_SHA256, SNI "
               "vpn.example.test"));

  Exchange(s, "SSTP_DUPLEX_POST", "HTTP/1.1 200 OK");
  // close_notify from the server: the client's Read returns 0.
  ASSERT_TRUE((*s.server)->Shutdown(absl::Seconds(5)).ok());
  std::vector<uint8_t> buffer(kMaxRecordPlaintext);
  absl::StatusOr<size_t> read = (*s.client)->Read(absl::MakeSpan(buffer), absl::Seconds(5));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, 0u);
}

TEST_F(TlsServerTest, Tls12MaximumServerNegotiatesTls12) {
  ServerConfig config = Server();
  config.max_version = TlsVersion::kTls12;  // Like Windows Server 2019.
  Session s = Connected(Client(), config);
  ASSERT_TRUE(s.ok());
  for (const Connection* c : {s.client->get(), s.server->get()}) {
    EXPECT_EQ(c->info().version, TlsVersion::kTls12);
    EXPECT_EQ(c->info().cipher_suite, 0xC02B);  // ECDHE-ECDSA-AES128-GCM-SHA256 (EC key).
    EXPECT_EQ(c->info().sni, "vpn.example.test");
  }
  Exchange(s, "ping", "pong");
  ExpectMirroredCounters(**s.client, **s.server);
}

TEST_F(TlsServerTest, Tls12MaximumServerRefusesATls13OnlyClient) {
  ServerConfig server = Server();
  server.max_version = TlsVersion::kTls12;
  ClientConfig client = Client();
  client.min_version = TlsVersion::kTls13;
  ExpectRefused(Handshake(client, server),
                "TLS handshake with the client failed: the client offered no version from TLS "
                "1.2 to TLS 1.2 (unsupported protocol)",
                "TLS handshake with vpn.example.test failed: the server sent alert \"protocol "
                "version\" (the server does not accept TLS 1.3, the configured minimum)");
}

struct CipherCase {
  TlsVersion version;
  Cipher cipher;
  uint16_t suite;
};

class TlsServerCipherTest : public TlsServerTest,
                            public ::testing::WithParamInterface<CipherCase> {};

TEST_P(TlsServerCipherTest, ForcedCipherIsNegotiated) {
  ServerConfig config = Server();
  config.max_version = GetParam().version;
  config.ciphers = {GetParam().cipher};
  Session s = Connected(Client(), config);
  ASSERT_TRUE(s.ok());
  for (const Connection* c : {s.client->get(), s.server->get()}) {
    EXPECT_EQ(c->info().version, GetParam().version);
    EXPECT_EQ(c->info().cipher, GetParam().cipher);
    EXPECT_EQ(c->info().cipher_suite, GetParam().suite);
  }
  Exchange(s, "ping", "pong");
}

INSTANTIATE_TEST_SUITE_P(
    AllAeads, TlsServerCipherTest,
    ::testing::Values(CipherCase{TlsVersion::kTls13, Cipher::kAes128Gcm, 0x1301},
                      CipherCase{TlsVersion::kTls13, Cipher::kAes256Gcm, 0x1302},
                      CipherCase{TlsVersion::kTls13, Cipher::kChacha20Poly1305, 0x1303},
                      // RFC 5289, RFC 7905: the ECDSA suites, the test key being P-256.
                      CipherCase{TlsVersion::kTls12, Cipher::kAes128Gcm, 0xC02B},
                      CipherCase{TlsVersion::kTls12, Cipher::kAes256Gcm, 0xC02C},
                      CipherCase{TlsVersion::kTls12, Cipher::kChacha20Poly1305, 0xCCA9}),
    [](const ::testing::TestParamInfo<CipherCase>& info) {
      std::string name = info.param.version == TlsVersion::kTls13 ? "Tls13_" : "Tls12_";
      switch (info.param.cipher) {
        case Cipher::kAes128Gcm:
          return name + "Aes128Gcm";
        case Cipher::kAes256Gcm:
          return name + "Aes256Gcm";
        case Cipher::kChacha20Poly1305:
          return name + "Chacha20Poly1305";
      }
      return name;
    });

TEST_F(TlsServerTest, ServerCipherOrderWins) {
  ServerConfig config = Server();
  config.ciphers = {Cipher::kChacha20Poly1305, Cipher::kAes128Gcm};
  Session s = Connected(Client(), config);  // The client prefers AES-128-GCM.
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s.client)->info().cipher, Cipher::kChacha20Poly1305);
}

TEST_F(TlsServerTest, NoCommonCipherFailsOnBothSides) {
  ServerConfig server = Server();
  server.ciphers = {Cipher::kAes256Gcm};
  ClientConfig client = Client();
  client.ciphers = {Cipher::kChacha20Poly1305};
  ExpectRefused(Handshake(client, server), "TLS handshake with the client failed: no shared cipher",
                "TLS handshake with vpn.example.test failed: the server sent alert \"handshake "
                "failure\" (no cipher suite, group or signature algorithm in common)");
}

// --- Required SNI (accel-ppp host-name).

TEST_F(TlsServerTest, RequiredSniMatchesWithoutRegardToCase) {
  ServerConfig config = Server();
  config.required_sni = "VPN.Example.Test";
  Session s = Connected(Client(), config);
  ASSERT_TRUE(s.server.ok());
  EXPECT_EQ((*s.server)->info().sni, "vpn.example.test");
}

TEST_F(TlsServerTest, RequiredSniMismatchOrAbsenceIsRefusedWithUnrecognizedName) {
  ServerConfig config = Server();
  config.required_sni = "vpn.example.test";
  ExpectRefused(Handshake(Client("other.example.test"), config),
                "TLS handshake refused: client SNI 'other.example.test' does not match required "
                "'vpn.example.test'",
                "TLS handshake with other.example.test failed: the server sent alert "
                "\"unrecognized name\" (the server wants another server name in SNI)");
  // RFC 6066 3: an IP-literal server name sends no SNI.
  ExpectRefused(Handshake(Client("127.0.0.1"), config),
                "TLS handshake refused: the client sent no SNI; required 'vpn.example.test'",
                "TLS handshake with 127.0.0.1 failed: the server sent alert \"unrecognized "
                "name\" (the server wants another server name in SNI)");
}

TEST_F(TlsServerTest, NoRequiredSniAcceptsAnyAndNone) {
  Session s = Handshake(Client("127.0.0.1"), Server());
  // The server accepts; the client then refuses the certificate, which has
  // no IP SAN.
  ASSERT_FALSE(s.client.ok());
  EXPECT_EQ(s.client.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.server.status().message()),
              HasSubstr("the client sent alert \"bad certificate\""));
}

// --- Clients that misbehave.

TEST_F(TlsServerTest, ClientsThatDoNotHandshake) {
  struct Case {
    std::function<void(UniqueFd& client_fd)> client;
    absl::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {[](UniqueFd& fd) { testing::SendRaw(fd.get(), Bytes("GET / HTTP/1.1\r\n\r\n")); },
       absl::StatusCode::kFailedPrecondition,
       "TLS handshake with the client failed: the client does not speak TLS (it starts with "
       "\"GET /\")"},
      {[](UniqueFd& fd) { fd.reset(); }, absl::StatusCode::kUnavailable,
       "TLS handshake with the client failed: the client closed the connection without "
       "sending a ClientHello"},
      {[](UniqueFd&) {}, absl::StatusCode::kDeadlineExceeded,
       "TLS handshake with the client timed out after 100ms (no ClientHello)"},
  };
  ServerConfig config = Server();
  config.handshake_timeout = absl::Milliseconds(100);
  for (const Case& c : cases) {
    const absl::Status status = AcceptFrom(config, c.client);
    EXPECT_EQ(status.code(), c.code) << c.message;
    EXPECT_EQ(status.message(), c.message);
  }
}

// --- Configuration errors.

TEST_F(TlsServerTest, CreateRejectsBadConfiguration) {
  auto create = [](const ServerConfig& config) {
    return ServerContext::Create(config, Logger("t")).status();
  };
  ServerConfig config = Server();
  config.cert_file = "";
  EXPECT_EQ(create(config).message(), "TLS certificate file is not set");
  config = Server();
  config.key_file = "";
  EXPECT_EQ(create(config).message(), "TLS key file is not set");

  config = Server();
  config.cert_file = "/nonexistent/chain.pem";
  absl::Status status = create(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(),
            "TLS certificate file /nonexistent/chain.pem: No such file or directory (errno 2)");
  config = Server();
  config.key_file = "/nonexistent/key.pem";
  EXPECT_EQ(create(config).message(),
            "TLS key file /nonexistent/key.pem: No such file or directory (errno 2)");

  const std::string junk = testing::WriteTempFile("junk.pem", "not PEM\n");
  config = Server();
  config.cert_file = junk;
  status = create(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(status.message()),
      ::testing::StartsWith(absl::StrCat("TLS certificate file ", junk, ": no PEM certificate (")));
  config = Server();
  config.key_file = junk;
  EXPECT_THAT(std::string(create(config).message()),
              ::testing::StartsWith(absl::StrCat("TLS key file ", junk, ": no PEM private key (")));

  config = Server();
  config.min_version = TlsVersion::kTls13;
  config.max_version = TlsVersion::kTls12;
  EXPECT_EQ(create(config).message(), "TLS minimum version TLS 1.3 is above the maximum TLS 1.2");
  config = Server();
  config.ciphers = {Cipher::kAes128Gcm, Cipher::kAes128Gcm};
  EXPECT_EQ(create(config).message(), "TLS cipher AES-128-GCM is listed twice");
  config = Server();
  config.handshake_timeout = absl::ZeroDuration();
  EXPECT_EQ(create(config).message(), "TLS handshake timeout 0 is not positive");
  config = Server();
  config.required_sni = "vpn example";
  EXPECT_EQ(create(config).message(), "TLS required SNI \"vpn example\" is not a DNS name");
  config = Server();
  config.keylog_file = "/nonexistent/keys.log";
  EXPECT_EQ(create(config).message(),
            "TLS key log file /nonexistent/keys.log: No such file or directory (errno 2)");
}

TEST_F(TlsServerTest, KeyOfAnotherCertificateIsRefusedNamingBothFiles) {
  const testing::TestCa other = testing::TestCa::Root("other");
  ServerConfig config = Server();
  config.key_file =
      testing::WriteTempFile("other_key.pem", testing::KeyPem(other.Issue().key.get()));
  const absl::Status status = ServerContext::Create(config, Logger("t")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith(absl::StrCat(
                  "TLS key file ", config.key_file, " does not match the certificate in ",
                  config.cert_file, " (subject CN=vpn.example.test: ")));

  // An RSA key for the EC certificate: another key type, same error.
  testing::LeafOptions rsa;
  rsa.key_type = testing::KeyType::kRsa2048;
  config.key_file =
      testing::WriteTempFile("rsa_key.pem", testing::KeyPem(other.Issue(rsa).key.get()));
  EXPECT_THAT(std::string(ServerContext::Create(config, Logger("t")).status().message()),
              HasSubstr(" does not match the certificate in "));
}

// --- Keys and counters.

class TlsServerVersionTest : public TlsServerTest,
                             public ::testing::WithParamInterface<TlsVersion> {
 protected:
  ServerConfig VersionServer() const {
    ServerConfig config = Server();
    config.max_version = GetParam();
    return config;
  }
};

TEST_P(TlsServerVersionTest, ExportedKeysMatchOnBothSides) {
  Session s = Connected(Client(), VersionServer());
  ASSERT_TRUE(s.ok());
  Exchange(s, "ping", "pong");
  absl::StatusOr<KeyMaterial> client = (*s.client)->ExportKeyMaterial();
  absl::StatusOr<KeyMaterial> server = (*s.server)->ExportKeyMaterial();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->version, GetParam());
  EXPECT_EQ(server->cipher_suite, client->cipher_suite);
  EXPECT_EQ(server->client_random, client->client_random);
  EXPECT_EQ(server->server_random, client->server_random);
  EXPECT_EQ(ToHex(server->client_traffic_secret.span()),
            ToHex(client->client_traffic_secret.span()));
  EXPECT_EQ(ToHex(server->server_traffic_secret.span()),
            ToHex(client->server_traffic_secret.span()));
  EXPECT_EQ(ToHex(server->master_secret.span()), ToHex(client->master_secret.span()));
  if (GetParam() == TlsVersion::kTls13) {
    EXPECT_EQ(server->client_traffic_secret.size(), 32u);
    EXPECT_TRUE(server->master_secret.empty());
    // The server's two NewSessionTickets (sent inside its handshake) and
    // "pong" under the server's application key; "ping" under the client's.
    EXPECT_EQ(server->records.tx_seq, 3u);
    EXPECT_EQ(server->records.rx_seq, 1u);
  } else {
    EXPECT_EQ(server->master_secret.size(), 48u);
    EXPECT_TRUE(server->client_traffic_secret.empty());
    // Finished, then one data record each way (RFC 5246 7.1).
    EXPECT_EQ(server->records.tx_seq, 2u);
    EXPECT_EQ(server->records.rx_seq, 2u);
  }
  // The kernel on the server installs the same values with tx and rx
  // swapped (key_material.h), so the counters mirror each other.
  ExpectMirroredCounters(**s.client, **s.server);
}

TEST_P(TlsServerVersionTest, MemoryModeRoundTripBothWays) {
  Session s = InMemoryMode(VersionServer());
  ASSERT_TRUE(s.ok());
  Connection& client = **s.client;
  Connection& server = **s.server;
  std::vector<uint8_t> stream;
  for (int i = 0; i < 20; ++i) {
    const std::string up = absl::StrCat("up ", i, std::string(static_cast<size_t>(i) * 300, 'u'));
    EXPECT_EQ(Deliver(server, Seal(client, up)), up);
    const std::string down = absl::StrCat("down ", i);
    const std::vector<uint8_t> sealed = Seal(server, down);
    stream.insert(stream.end(), sealed.begin(), sealed.end());
  }
  // Many records at once, then byte by byte.
  std::string received = Deliver(client, stream);
  for (uint8_t byte : Seal(server, "one byte at a time")) {
    received += Deliver(client, {byte});
  }
  EXPECT_THAT(received, ::testing::StartsWith("down 0down 1down 2"));
  ASSERT_GE(received.size(), 25u);
  EXPECT_EQ(received.substr(received.size() - 25), "down 19one byte at a time");
  ExpectMirroredCounters(client, server);

  // close_notify from the client reaches the server.
  std::vector<uint8_t> close;
  ASSERT_TRUE(client.EncodeCloseNotify(&close).ok());
  std::vector<uint8_t> plaintext;
  std::vector<uint8_t> to_send;
  absl::StatusOr<DecryptResult> result = server.Decrypt(close, &plaintext, &to_send);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->close_notify);
}

TEST_P(TlsServerVersionTest, DecryptIntoWritesInPlaceAndRefusesTooLittleSpace) {
  Session s = InMemoryMode(VersionServer());
  ASSERT_TRUE(s.ok());
  Connection& client = **s.client;
  Connection& server = **s.server;
  std::vector<uint8_t> stream = Seal(server, std::string(kMaxRecordPlaintext, 'a'));
  Append(&stream, Seal(server, "tail"));
  const size_t cut = stream.size() - 7;  // The second record cut short.
  std::vector<uint8_t> space(client.DecryptSpace(cut));
  std::vector<uint8_t> to_send;

  // One byte too few: refused, nothing consumed.
  absl::StatusOr<DecryptResult> refused = client.DecryptInto(
      absl::MakeConstSpan(stream).first(cut), absl::MakeSpan(space).first(space.size() - 1),
      &to_send);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();

  absl::StatusOr<DecryptResult> first =
      client.DecryptInto(absl::MakeConstSpan(stream).first(cut), absl::MakeSpan(space), &to_send);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->plaintext_size, kMaxRecordPlaintext);
  EXPECT_EQ(std::string(space.begin(), space.begin() + kMaxRecordPlaintext),
            std::string(kMaxRecordPlaintext, 'a'));
  // The cut record waits inside OpenSSL; the space asked for covers it.
  std::vector<uint8_t> rest(client.DecryptSpace(7));
  EXPECT_GE(rest.size(), 7 + kMaxRecordOnWire);
  absl::StatusOr<DecryptResult> second =
      client.DecryptInto(absl::MakeConstSpan(stream).subspan(cut), absl::MakeSpan(rest), &to_send);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(std::string(rest.begin(), rest.begin() + second->plaintext_size), "tail");
  EXPECT_TRUE(to_send.empty());
  EXPECT_TRUE(client.CheckDrained().ok());
}

INSTANTIATE_TEST_SUITE_P(BothVersions, TlsServerVersionTest,
                         ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         testing::VersionParamName);

TEST_F(TlsServerTest, NumTicketsIsWhatTheServerSends) {
  for (size_t tickets : {size_t{0}, size_t{1}, size_t{4}}) {
    ServerConfig config = Server();
    config.num_tickets = tickets;
    Session s = Connected(Client(), config);
    ASSERT_TRUE(s.ok());
    Exchange(s, "ping", "pong");
    EXPECT_EQ((*s.server)->counters().tx_seq, tickets + 1) << tickets;
    EXPECT_EQ((*s.client)->counters().rx_records, tickets + 1) << tickets;
    ExpectMirroredCounters(**s.client, **s.server);
  }
}

// --- Post-handshake messages in memory mode (RFC 8446 4.6).

TEST_F(TlsServerTest, ServerKeyUpdateIsFollowedByTheClient) {
  Session s = InMemoryMode(Server());
  ASSERT_TRUE(s.ok());
  Connection& client = **s.client;
  Connection& server = **s.server;

  // update_requested: the client must update its own key too.
  std::vector<uint8_t> out;
  ASSERT_TRUE(server.EncodeKeyUpdate(/*request_peer_update=*/true, &out).ok());
  EXPECT_EQ(server.counters().tx_key_updates, 1u);
  EXPECT_EQ(server.counters().tx_seq, 0u);
  Append(&out, Seal(server, "after the update"));
  std::vector<uint8_t> client_reply;
  EXPECT_EQ(Deliver(client, out, &client_reply), "after the update");
  EXPECT_EQ(client.counters().rx_key_updates, 1u);
  EXPECT_EQ(client.counters().rx_seq, 1u);

  // The client's KeyUpdate goes out with (before) its next record.
  Append(&client_reply, Seal(client, "client data"));
  EXPECT_EQ(Deliver(server, client_reply), "client data");
  EXPECT_EQ(client.counters().tx_key_updates, 1u);
  EXPECT_EQ(server.counters().rx_key_updates, 1u);
  ExpectMirroredCounters(client, server);

  // A second update, not requested, then data both ways.
  out.clear();
  ASSERT_TRUE(server.EncodeKeyUpdate(/*request_peer_update=*/false, &out).ok());
  Append(&out, Seal(server, "second"));
  EXPECT_EQ(Deliver(client, out), "second");
  EXPECT_EQ(Deliver(server, Seal(client, "still flowing")), "still flowing");
  EXPECT_EQ(client.counters().rx_key_updates, 2u);
  EXPECT_EQ(client.counters().tx_key_updates, 1u);
  ExpectMirroredCounters(client, server);
}

TEST_F(TlsServerTest, ClientKeyUpdateIsFollowedByTheServer) {
  Session s = InMemoryMode(Server());
  ASSERT_TRUE(s.ok());
  std::vector<uint8_t> key_update;
  ASSERT_TRUE((*s.client)->EncodeKeyUpdate(/*request_peer_update=*/true, &key_update).ok());
  std::vector<uint8_t> answer;
  EXPECT_EQ(Deliver(**s.server, key_update, &answer), "");
  Append(&answer, Seal(**s.server, "reply"));
  EXPECT_EQ(Deliver(**s.client, answer), "reply");
  EXPECT_EQ((*s.client)->counters().rx_key_updates, 1u);
  EXPECT_EQ((*s.server)->counters().rx_key_updates, 1u);
  ExpectMirroredCounters(**s.client, **s.server);
}

TEST_F(TlsServerTest, LateNewSessionTicketIsAbsorbedByTheClient) {
  ServerConfig config = Server();
  config.num_tickets = 0;  // None during the handshake: the only one comes late.
  Session s = InMemoryMode(config);
  ASSERT_TRUE(s.ok());
  Connection& client = **s.client;
  Connection& server = **s.server;
  EXPECT_EQ(Deliver(server, Seal(client, "CALL_CONNECT_REQUEST")), "CALL_CONNECT_REQUEST");

  std::vector<uint8_t> out;
  ASSERT_TRUE(server.EncodeNewSessionTicket(&out).ok());
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], 23);  // TLS 1.3: an encrypted record looks like application data.
  const uint64_t rx_before = client.counters().rx_records;
  Append(&out, Seal(server, "CALL_CONNECT_ACK"));
  std::vector<uint8_t> to_send;
  EXPECT_EQ(Deliver(client, out, &to_send), "CALL_CONNECT_ACK");
  EXPECT_TRUE(to_send.empty());
  EXPECT_EQ(client.counters().rx_records, rx_before + 2);
  EXPECT_EQ(Deliver(server, Seal(client, "CALL_CONNECTED")), "CALL_CONNECTED");
  ExpectMirroredCounters(client, server);
}

TEST_F(TlsServerTest, PostHandshakeMessagesAreRefusedWhereTheyDoNotExist) {
  ServerConfig config = Server();
  config.max_version = TlsVersion::kTls12;
  {
    Session s = Connected(Client(), Server());
    ASSERT_TRUE(s.ok());
    std::vector<uint8_t> out;
    EXPECT_EQ((*s.server)->EncodeKeyUpdate(false, &out).message(),
              "TLS EncodeKeyUpdate: only in memory mode; the connection is in socket mode");
    EXPECT_EQ((*s.server)->EncodeNewSessionTicket(&out).message(),
              "TLS EncodeNewSessionTicket: only in memory mode; the connection is in socket "
              "mode");
  }
  Session s = InMemoryMode(config);
  ASSERT_TRUE(s.ok());
  std::vector<uint8_t> out;
  EXPECT_EQ((*s.server)->EncodeKeyUpdate(false, &out).message(),
            "TLS EncodeKeyUpdate: only in TLS 1.3; the connection is TLS 1.2");
  EXPECT_EQ((*s.server)->EncodeNewSessionTicket(&out).message(),
            "TLS EncodeNewSessionTicket: only in TLS 1.3; the connection is TLS 1.2");
  EXPECT_EQ((*s.client)->EncodeNewSessionTicket(&out).message(),
            "TLS EncodeNewSessionTicket: only a server issues session tickets");
  EXPECT_TRUE(out.empty());
}

TEST_F(TlsServerTest, KeylogFileHoldsTheExportedSecrets) {
  ServerConfig config = Server();
  config.keylog_file = testing::TempPath("server_keys.log");
  Session s = Connected(Client(), config);
  ASSERT_TRUE(s.ok());
  Exchange(s, "ping", "pong");
  absl::StatusOr<KeyMaterial> keys = (*s.server)->ExportKeyMaterial();
  ASSERT_TRUE(keys.ok()) << keys.status();
  FILE* file = fopen(config.keylog_file.c_str(), "r");
  ASSERT_NE(file, nullptr);
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  fclose(file);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("CLIENT_TRAFFIC_SECRET_0 ", ToHex(keys->client_random),
                                           " ", ToHex(keys->client_traffic_secret.span()), "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("SERVER_TRAFFIC_SECRET_0 ", ToHex(keys->client_random),
                                           " ", ToHex(keys->server_traffic_secret.span()), "\n")));
  EXPECT_TRUE(log_.Has("server: TLS key log on: session secrets are appended to "));
}

}  // namespace
}  // namespace sstp::tls
