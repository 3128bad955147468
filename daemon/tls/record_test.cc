// Key capture, record counters and the memory-BIO record layer, against an
// in-process OpenSSL server.
//
// The decisive test for the kernel hand-over (ExportedKeysContinueTheSession)
// does what the kernel will do: it derives the record keys from the exported
// secrets with an independent implementation (RFC 8446 7.1/7.3, RFC 5246
// 5/6.3, RFC 5288, RFC 7905), opens the server's next record at sequence
// number rx_seq and seals our next record at tx_seq, which the server's
// OpenSSL must accept.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <fstream>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "base/log.h"
#include "daemon/tls/client.h"
#include "daemon/tls/test_pki.h"
#include "daemon/tls/test_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::tls {
namespace {

using ::testing::HasSubstr;
using testing::Issued;
using testing::ServerConfig;
using testing::TestCa;
using testing::TestServer;

std::vector<uint8_t> Bytes(absl::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}
std::string Text(absl::Span<const uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

// ---------------------------------------------------------------------------
// An independent TLS record layer, enough for application data records.

struct DirectionKeys {
  const EVP_CIPHER* aead = nullptr;
  std::vector<uint8_t> key;
  std::vector<uint8_t> iv;  // 12 bytes, or the 4-byte salt for TLS 1.2 AES-GCM.
};

const EVP_MD* SuiteHash(Cipher cipher) {
  return cipher == Cipher::kAes256Gcm ? EVP_sha384() : EVP_sha256();
}

const EVP_CIPHER* Aead(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
      return EVP_aes_128_gcm();
    case Cipher::kAes256Gcm:
      return EVP_aes_256_gcm();
    case Cipher::kChacha20Poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

std::vector<uint8_t> Kdf(const char* name, std::vector<OSSL_PARAM> params, size_t length) {
  params.push_back(OSSL_PARAM_construct_end());
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, name, nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  std::vector<uint8_t> out(length);
  EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), out.size(), params.data()), 1) << name;
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  return out;
}

// RFC 8446 7.1: HKDF-Expand-Label(Secret, Label, "", Length).
std::vector<uint8_t> HkdfExpandLabel(const EVP_MD* md, absl::Span<const uint8_t> secret,
                                     const std::string& label, size_t length) {
  const std::string full_label = "tls13 " + label;
  std::vector<uint8_t> info = {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length),
                               static_cast<uint8_t>(full_label.size())};
  info.insert(info.end(), full_label.begin(), full_label.end());
  info.push_back(0);  // Empty context.
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  return Kdf("HKDF",
             {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                               const_cast<char*>(EVP_MD_get0_name(md)), 0),
              OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                const_cast<uint8_t*>(secret.data()), secret.size()),
              OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
              OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode)},
             length);
}

// The keys of one direction, as the kernel will derive them.
DirectionKeys DeriveKeys(const KeyMaterial& keys, bool client) {
  DirectionKeys out;
  out.aead = Aead(keys.cipher);
  const size_t key_length = static_cast<size_t>(EVP_CIPHER_get_key_length(out.aead));
  switch (keys.version) {
    case TlsVersion::kTls13: {
      // RFC 8446 7.3.
      const Secret& secret = client ? keys.client_traffic_secret : keys.server_traffic_secret;
      out.key = HkdfExpandLabel(SuiteHash(keys.cipher), secret.span(), "key", key_length);
      out.iv = HkdfExpandLabel(SuiteHash(keys.cipher), secret.span(), "iv", 12);
      break;
    }
    case TlsVersion::kTls12: {
      // RFC 5246 6.3: key_block = PRF(master_secret, "key expansion",
      // server_random + client_random); AEAD suites have no MAC keys; the
      // fixed IV is 4 bytes for AES-GCM (RFC 5288 3), 12 for ChaCha20
      // (RFC 7905 2).
      const size_t iv_length = keys.cipher == Cipher::kChacha20Poly1305 ? 12 : 4;
      std::vector<uint8_t> seed = Bytes("key expansion");
      seed.insert(seed.end(), keys.server_random.begin(), keys.server_random.end());
      seed.insert(seed.end(), keys.client_random.begin(), keys.client_random.end());
      const std::vector<uint8_t> block = Kdf(
          "TLS1-PRF",
          {OSSL_PARAM_construct_utf8_string(
               OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(SuiteHash(keys.cipher))),
               0),
           OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                             const_cast<uint8_t*>(keys.master_secret.span().data()),
                                             keys.master_secret.size()),
           OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size())},
          2 * key_length + 2 * iv_length);
      const size_t key_at = client ? 0 : key_length;
      const size_t iv_at = 2 * key_length + (client ? 0 : iv_length);
      out.key.assign(block.begin() + key_at, block.begin() + key_at + key_length);
      out.iv.assign(block.begin() + iv_at, block.begin() + iv_at + iv_length);
      break;
    }
  }
  return out;
}

std::array<uint8_t, 12> XorNonce(const std::vector<uint8_t>& iv, uint64_t seq) {
  std::array<uint8_t, 12> nonce;
  std::copy(iv.begin(), iv.end(), nonce.begin());
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= static_cast<uint8_t>(seq >> (8 * i));
  return nonce;
}

std::array<uint8_t, 8> SeqBytes(uint64_t seq) {
  std::array<uint8_t, 8> out;
  for (int i = 0; i < 8; ++i) out[7 - i] = static_cast<uint8_t>(seq >> (8 * i));
  return out;
}

// AEAD seal/open with a 16-byte tag appended to the ciphertext.
std::vector<uint8_t> AeadSeal(const DirectionKeys& keys, absl::Span<const uint8_t> nonce,
                              absl::Span<const uint8_t> aad, absl::Span<const uint8_t> plain) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::vector<uint8_t> out(plain.size() + 16);
  int n = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, keys.aead, nullptr, keys.key.data(), nonce.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, out.data(), &n, plain.data(), static_cast<int>(plain.size())),
            1);
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, out.data() + n, &n), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + plain.size()), 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

std::optional<std::vector<uint8_t>> AeadOpen(const DirectionKeys& keys,
                                             absl::Span<const uint8_t> nonce,
                                             absl::Span<const uint8_t> aad,
                                             absl::Span<const uint8_t> sealed) {
  if (sealed.size() < 16) return std::nullopt;
  const size_t size = sealed.size() - 16;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::vector<uint8_t> out(size);
  int n = 0;
  bool ok = EVP_DecryptInit_ex(ctx, keys.aead, nullptr, keys.key.data(), nonce.data()) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &n, sealed.data(), static_cast<int>(size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16,
                                const_cast<uint8_t*>(sealed.data() + size)) == 1 &&
            EVP_DecryptFinal_ex(ctx, out.data() + n, &n) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

// Seals one application_data record with sequence number `seq`.
std::vector<uint8_t> SealRecord(TlsVersion version, Cipher cipher, const DirectionKeys& keys,
                                uint64_t seq, absl::Span<const uint8_t> plain) {
  std::vector<uint8_t> record = {23, 3, 3, 0, 0};
  std::vector<uint8_t> body;
  if (version == TlsVersion::kTls13) {
    // RFC 8446 5.2: TLSInnerPlaintext = content || type; AAD = the header.
    std::vector<uint8_t> inner(plain.begin(), plain.end());
    inner.push_back(23);
    const size_t length = inner.size() + 16;
    record[3] = static_cast<uint8_t>(length >> 8);
    record[4] = static_cast<uint8_t>(length);
    body = AeadSeal(keys, XorNonce(keys.iv, seq), record, inner);
  } else {
    // RFC 5246 6.2.3.3: AAD = seq_num + type + version + length.
    const std::array<uint8_t, 8> seq_bytes = SeqBytes(seq);
    std::vector<uint8_t> aad(seq_bytes.begin(), seq_bytes.end());
    aad.insert(aad.end(), {23, 3, 3, static_cast<uint8_t>(plain.size() >> 8),
                           static_cast<uint8_t>(plain.size())});
    if (cipher == Cipher::kChacha20Poly1305) {
      body = AeadSeal(keys, XorNonce(keys.iv, seq), aad, plain);  // RFC 7905 2.
    } else {
      // RFC 5288 3: nonce = salt(4) || explicit(8); explicit = seq here.
      const std::array<uint8_t, 8> explicit_nonce = SeqBytes(seq);
      std::array<uint8_t, 12> nonce;
      std::copy(keys.iv.begin(), keys.iv.end(), nonce.begin());
      std::copy(explicit_nonce.begin(), explicit_nonce.end(), nonce.begin() + 4);
      body.assign(explicit_nonce.begin(), explicit_nonce.end());
      const std::vector<uint8_t> sealed = AeadSeal(keys, nonce, aad, plain);
      body.insert(body.end(), sealed.begin(), sealed.end());
    }
    record[3] = static_cast<uint8_t>(body.size() >> 8);
    record[4] = static_cast<uint8_t>(body.size());
  }
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

// Opens one application_data record sealed with sequence number `seq`.
std::optional<std::string> OpenRecord(TlsVersion version, Cipher cipher,
                                      const DirectionKeys& keys, uint64_t seq,
                                      const std::vector<uint8_t>& record) {
  if (record.size() < 5 || record[0] != 23) return std::nullopt;
  const absl::Span<const uint8_t> header(record.data(), 5);
  const absl::Span<const uint8_t> body(record.data() + 5, record.size() - 5);
  if (version == TlsVersion::kTls13) {
    std::optional<std::vector<uint8_t>> inner = AeadOpen(keys, XorNonce(keys.iv, seq), header, body);
    if (!inner.has_value()) return std::nullopt;
    while (!inner->empty() && inner->back() == 0) inner->pop_back();  // Padding.
    if (inner->empty() || inner->back() != 23) return std::nullopt;
    inner->pop_back();
    return Text(*inner);
  }
  const bool chacha = cipher == Cipher::kChacha20Poly1305;
  const size_t overhead = (chacha ? 0 : 8) + 16;
  if (body.size() < overhead) return std::nullopt;
  const size_t plain_size = body.size() - overhead;
  const std::array<uint8_t, 8> seq_bytes = SeqBytes(seq);
  std::vector<uint8_t> aad(seq_bytes.begin(), seq_bytes.end());
  aad.insert(aad.end(),
             {23, 3, 3, static_cast<uint8_t>(plain_size >> 8), static_cast<uint8_t>(plain_size)});
  std::optional<std::vector<uint8_t>> plain;
  if (chacha) {
    plain = AeadOpen(keys, XorNonce(keys.iv, seq), aad, body);
  } else {
    std::array<uint8_t, 12> nonce;
    std::copy(keys.iv.begin(), keys.iv.end(), nonce.begin());
    std::copy(body.begin(), body.begin() + 8, nonce.begin() + 4);
    plain = AeadOpen(keys, nonce, aad, body.subspan(8));
  }
  if (!plain.has_value()) return std::nullopt;
  return Text(*plain);
}

// Reads one whole record from the socket.
std::vector<uint8_t> RecvRecord(int fd) {
  std::vector<uint8_t> record = testing::RecvAll(fd, 5);
  if (record.size() != 5) return record;
  const size_t length = static_cast<size_t>(record[3]) << 8 | record[4];
  const std::vector<uint8_t> body = testing::RecvAll(fd, length);
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

// Splits a byte stream into TLS records (5-byte header + length).
std::vector<std::vector<uint8_t>> SplitRecords(const std::vector<uint8_t>& stream) {
  std::vector<std::vector<uint8_t>> records;
  size_t at = 0;
  while (at + 5 <= stream.size()) {
    const size_t length = static_cast<size_t>(stream[at + 3]) << 8 | stream[at + 4];
    if (at + 5 + length > stream.size()) break;
    records.emplace_back(stream.begin() + at, stream.begin() + at + 5 + length);
    at += 5 + length;
  }
  EXPECT_EQ(at, stream.size()) << "trailing partial record";
  return records;
}

// ---------------------------------------------------------------------------

class CapturingSink : public LogSink {
 public:
  void Write(LogLevel, absl::string_view, absl::string_view message) override {
    lines.emplace_back(message);
  }
  std::vector<std::string> lines;
};

class TlsRecordTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TestCa(TestCa::Root("sstp-ktls test root"));
    ca_file_ = new std::string(root_->WritePem());
    leaf_ = new Issued(root_->Issue());
  }
  static void TearDownTestSuite() {
    delete root_;
    delete ca_file_;
    delete leaf_;
  }

  static ClientConfig Config() {
    ClientConfig config;
    config.server_name = "vpn.example.test";
    config.ca_file = *ca_file_;
    config.handshake_timeout = absl::Seconds(10);
    return config;
  }

  static ServerConfig Server(TlsVersion version) {
    ServerConfig server{.identity = *leaf_};
    server.max_version = version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    return server;
  }

  static std::unique_ptr<Connection> Connect(const ClientConfig& config, const TestServer& server) {
    absl::StatusOr<std::unique_ptr<ClientContext>> context =
        ClientContext::Create(config, Logger("office"));
    EXPECT_TRUE(context.ok()) << context.status();
    if (!context.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        (*context)->Handshake(server.client_fd());
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? std::move(*connection) : nullptr;
  }

  // The client's "ping"/"pong" exchange in socket mode.
  static void PingPong(Connection& connection) {
    ASSERT_TRUE(connection.Write(Bytes("ping"), absl::Seconds(5)).ok());
    std::vector<uint8_t> buffer(kMaxRecordPlaintext);
    absl::StatusOr<size_t> read = connection.Read(absl::MakeSpan(buffer), absl::Seconds(5));
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(Text(absl::MakeSpan(buffer).first(*read)), "pong");
  }

 private:
  static TestCa* root_;
  static std::string* ca_file_;
  static Issued* leaf_;
};

TestCa* TlsRecordTest::root_ = nullptr;
std::string* TlsRecordTest::ca_file_ = nullptr;
Issued* TlsRecordTest::leaf_ = nullptr;

void ServerPingPong(SSL* ssl) {
  EXPECT_EQ(testing::ServerReadExactly(ssl, 4), "ping");
  testing::ServerWrite(ssl, "pong");
}

// Parses the server's key log into label -> (client random hex, secret hex).
std::map<std::string, std::pair<std::string, std::string>> ParseServerKeylog(
    const std::vector<std::string>& lines) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const std::string& line : lines) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() == 3) out[fields[0]] = {fields[1], fields[2]};
  }
  return out;
}

// --- Secrets.

TEST_F(TlsRecordTest, Tls13SecretsEqualTheServersKeyLog) {
  TestServer server(Server(TlsVersion::kTls13), [](SSL* ssl, int) { ServerPingPong(ssl); });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  PingPong(*connection);
  absl::StatusOr<KeyMaterial> keys = connection->ExportKeyMaterial();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->version, TlsVersion::kTls13);
  EXPECT_TRUE(keys->master_secret.empty());
  server.Join();
  auto logged = ParseServerKeylog(server.keylog_lines());
  ASSERT_EQ(logged.count("CLIENT_TRAFFIC_SECRET_0"), 1u);
  ASSERT_EQ(logged.count("SERVER_TRAFFIC_SECRET_0"), 1u);
  EXPECT_EQ(logged["CLIENT_TRAFFIC_SECRET_0"].first, ToHex(keys->client_random));
  EXPECT_EQ(logged["CLIENT_TRAFFIC_SECRET_0"].second, ToHex(keys->client_traffic_secret.span()));
  EXPECT_EQ(logged["SERVER_TRAFFIC_SECRET_0"].second, ToHex(keys->server_traffic_secret.span()));
  EXPECT_EQ(keys->client_traffic_secret.size(), 32u);
}

TEST_F(TlsRecordTest, Tls12SecretsEqualTheServersKeyLog) {
  TestServer server(Server(TlsVersion::kTls12), [](SSL* ssl, int) { ServerPingPong(ssl); });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  PingPong(*connection);
  absl::StatusOr<KeyMaterial> keys = connection->ExportKeyMaterial();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->version, TlsVersion::kTls12);
  EXPECT_TRUE(keys->client_traffic_secret.empty());
  server.Join();
  auto logged = ParseServerKeylog(server.keylog_lines());
  ASSERT_EQ(logged.count("CLIENT_RANDOM"), 1u);
  EXPECT_EQ(logged["CLIENT_RANDOM"].first, ToHex(keys->client_random));
  EXPECT_EQ(logged["CLIENT_RANDOM"].second, ToHex(keys->master_secret.span()));
  EXPECT_EQ(keys->master_secret.size(), 48u);
}

TEST_F(TlsRecordTest, KeylogFileHoldsWhatTheServerLogged) {
  ClientConfig config = Config();
  config.keylog_file = testing::TempPath("keys.log");
  CapturingSink sink;
  LogSink* previous = SetLogSink(&sink);
  TestServer server(Server(TlsVersion::kTls13), [](SSL* ssl, int) { ServerPingPong(ssl); });
  std::unique_ptr<Connection> connection = Connect(config, server);
  SetLogSink(previous);
  ASSERT_NE(connection, nullptr);
  PingPong(*connection);
  server.Join();

  std::ifstream in(config.keylog_file);
  std::set<std::string> file_lines;
  for (std::string line; std::getline(in, line);) file_lines.insert(line);
  const std::vector<std::string> server_lines = server.keylog_lines();
  EXPECT_EQ(file_lines, std::set<std::string>(server_lines.begin(), server_lines.end()));
  EXPECT_EQ(file_lines.size(), 5u);  // Two handshake, two traffic, one exporter secret.
  struct stat st;
  ASSERT_EQ(stat(config.keylog_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_FALSE(sink.lines.empty());
  EXPECT_THAT(sink.lines[0], HasSubstr("TLS key log on: session secrets are appended to " +
                                       config.keylog_file));
}

TEST_F(TlsRecordTest, SecretsNeverReachTheLog) {
  CapturingSink sink;
  LogSink* previous = SetLogSink(&sink);
  const LogLevel previous_level = GetLogLevel();
  SetLogLevel(LogLevel::kDebug);
  for (TlsVersion version : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    ClientConfig config = Config();
    config.insecure_skip_verify = true;  // The noisiest path.
    TestServer server(Server(version), [](SSL* ssl, int) { ServerPingPong(ssl); });
    std::unique_ptr<Connection> connection = Connect(config, server);
    ASSERT_NE(connection, nullptr);
    PingPong(*connection);
    server.Join();
    for (const auto& [label, value] : ParseServerKeylog(server.keylog_lines())) {
      for (const std::string& line : sink.lines) {
        EXPECT_EQ(line.find(value.second), std::string::npos) << label << " leaked: " << line;
      }
    }
  }
  SetLogSink(previous);
  SetLogLevel(previous_level);
  EXPECT_GE(sink.lines.size(), 4u);  // Handshake and insecure lines were written.
}

// --- Forced ciphers and the kernel hand-over.

class CipherTest : public TlsRecordTest,
                   public ::testing::WithParamInterface<std::tuple<TlsVersion, Cipher>> {};

TEST_P(CipherTest, ExportedKeysContinueTheSession) {
  const auto [version, cipher] = GetParam();
  ServerConfig server_config = Server(version);
  server_config.tls13_suites =
      "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
  server_config.tls12_ciphers =
      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256";
  TestServer server(server_config, [](SSL* ssl, int) {
    ServerPingPong(ssl);
    testing::ServerWrite(ssl, "from-openssl");
    EXPECT_EQ(testing::ServerReadExactly(ssl, 14), "sealed-by-test");
    testing::ServerWrite(ssl, "done");
  });
  ClientConfig config = Config();
  config.ciphers = {cipher};
  std::unique_ptr<Connection> connection = Connect(config, server);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->info().version, version);
  EXPECT_EQ(connection->info().cipher, cipher);
  PingPong(*connection);

  absl::StatusOr<KeyMaterial> keys = connection->ExportKeyMaterial();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->cipher, cipher);
  EXPECT_EQ(keys->cipher_suite, connection->info().cipher_suite);
  // Once the record layer is chosen our copies go; the export keeps its own.
  connection->ForgetCapturedSecrets();
  const absl::StatusOr<KeyMaterial> again = connection->ExportKeyMaterial();
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("forgotten"));
  const RecordCounters& records = keys->records;
  if (version == TlsVersion::kTls13) {
    // "ping"; two NewSessionTickets and "pong".
    EXPECT_EQ(records.tx_seq, 1u);
    EXPECT_EQ(records.rx_seq, 3u);
    EXPECT_EQ(keys->client_traffic_secret.size(), CipherHashLength(cipher));
  } else {
    // Finished, then "ping"; Finished, then "pong".
    EXPECT_EQ(records.tx_seq, 2u);
    EXPECT_EQ(records.rx_seq, 2u);
  }

  // The kernel's view: open the server's next record at rx_seq ...
  const DirectionKeys server_keys = DeriveKeys(*keys, /*client=*/false);
  const DirectionKeys client_keys = DeriveKeys(*keys, /*client=*/true);
  const std::vector<uint8_t> record = RecvRecord(server.client_fd());
  EXPECT_EQ(OpenRecord(version, cipher, server_keys, records.rx_seq, record), "from-openssl");
  EXPECT_EQ(server.counts().tx, records.rx_seq + 1);
  // ... and seal ours at tx_seq, which OpenSSL on the server accepts.
  testing::SendRaw(server.client_fd(),
                   SealRecord(version, cipher, client_keys, records.tx_seq, Bytes("sealed-by-test")));
  EXPECT_EQ(OpenRecord(version, cipher, server_keys, records.rx_seq + 1,
                       RecvRecord(server.client_fd())),
            "done");
  server.Join();
  EXPECT_EQ(server.counts().rx, records.tx_seq + 1);
}

INSTANTIATE_TEST_SUITE_P(
    AllAeads, CipherTest,
    ::testing::Combine(::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                       ::testing::Values(Cipher::kAes128Gcm, Cipher::kAes256Gcm,
                                         Cipher::kChacha20Poly1305)),
    [](const ::testing::TestParamInfo<std::tuple<TlsVersion, Cipher>>& info) {
      const char* version = std::get<0>(info.param) == TlsVersion::kTls13 ? "Tls13" : "Tls12";
      switch (std::get<1>(info.param)) {
        case Cipher::kAes128Gcm:
          return absl::StrCat(version, "Aes128Gcm");
        case Cipher::kAes256Gcm:
          return absl::StrCat(version, "Aes256Gcm");
        case Cipher::kChacha20Poly1305:
          return absl::StrCat(version, "Chacha20Poly1305");
      }
      return std::string("unknown");
    });

// --- Record counters.

class CounterTest : public TlsRecordTest, public ::testing::WithParamInterface<TlsVersion> {};

TEST_P(CounterTest, CountersMatchWhatTheServerSentAndReceived) {
  const TlsVersion version = GetParam();
  ServerConfig server_config = Server(version);
  server_config.num_tickets = 3;
  TestServer server(server_config, [](SSL* ssl, int) {
    EXPECT_EQ(testing::ServerReadExactly(ssl, 3 * 5), "aaaaabbbbbccccc");
    for (int i = 0; i < 5; ++i) testing::ServerWrite(ssl, std::string(100 + i, 'x'));
    EXPECT_EQ(testing::ServerReadExactly(ssl, 3), "end");
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  const uint64_t base = version == TlsVersion::kTls13 ? 0 : 1;  // TLS 1.2: Finished.
  EXPECT_EQ(connection->counters().tx_seq, base);
  EXPECT_EQ(connection->counters().rx_seq, base);
  for (const char* chunk : {"aaaaa", "bbbbb", "ccccc"}) {
    ASSERT_TRUE(connection->Write(Bytes(chunk), absl::Seconds(5)).ok());
  }
  size_t received = 0;
  std::vector<uint8_t> buffer(kMaxRecordPlaintext);
  while (received < 5 * 100 + 10) {
    absl::StatusOr<size_t> read = connection->Read(absl::MakeSpan(buffer), absl::Seconds(5));
    ASSERT_TRUE(read.ok()) << read.status();
    received += *read;
  }
  const RecordCounters counters = connection->counters();
  const uint64_t tickets = version == TlsVersion::kTls13 ? 3 : 0;
  EXPECT_EQ(counters.tx_records, 3u);
  EXPECT_EQ(counters.rx_records, tickets + 5);
  EXPECT_EQ(counters.tx_seq, base + 3);
  EXPECT_EQ(counters.rx_seq, base + tickets + 5);
  EXPECT_EQ(counters.tx_key_updates, 0u);
  EXPECT_EQ(counters.rx_key_updates, 0u);
  EXPECT_EQ(server.counts().tx, counters.rx_seq);
  ASSERT_TRUE(connection->Write(Bytes("end"), absl::Seconds(5)).ok());
  server.Join();
  EXPECT_EQ(server.counts().rx, counters.tx_seq + 1);
}

INSTANTIATE_TEST_SUITE_P(BothVersions, CounterTest,
                         ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         [](const ::testing::TestParamInfo<TlsVersion>& info) {
                           return std::string(info.param == TlsVersion::kTls13 ? "Tls13"
                                                                               : "Tls12");
                         });

// --- Hand-over preconditions.

TEST_F(TlsRecordTest, UnreadPlaintextBlocksTheSwitch) {
  TestServer server(Server(TlsVersion::kTls13), [](SSL* ssl, int) {
    testing::ServerWrite(ssl, std::string(100, 'p'));
    testing::ServerRead(ssl);
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  std::array<uint8_t, 10> small;
  absl::StatusOr<size_t> read = connection->Read(absl::MakeSpan(small), absl::Seconds(5));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, 10u);
  const std::string expected = "TLS: 90 bytes of received application data are still in OpenSSL";
  EXPECT_EQ(connection->CheckDrained().message(), expected);
  EXPECT_EQ(connection->ExportKeyMaterial().status().message(), expected);
  const absl::Status refused = connection->SwitchToMemoryBios();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), expected);
  std::vector<uint8_t> rest(kMaxRecordPlaintext);
  read = connection->Read(absl::MakeSpan(rest), absl::Seconds(5));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, 90u);
  EXPECT_TRUE(connection->CheckDrained().ok());
  EXPECT_TRUE(connection->SwitchToMemoryBios().ok());
}

TEST_F(TlsRecordTest, PartialRecordBlocksTheSwitch) {
  std::promise<void> header_part_checked;
  std::promise<void> header_checked;
  TestServer server(Server(TlsVersion::kTls13), [&](SSL* ssl, int fd) {
    testing::UseMemoryWbio(ssl);
    testing::ServerWrite(ssl, "hello");
    const std::vector<uint8_t> record = testing::TakeWbio(ssl);
    ASSERT_GT(record.size(), 5u);
    // Bounded waits: if the client side fails early, the server still ends.
    testing::SendRaw(fd, {record.begin(), record.begin() + 3});
    header_part_checked.get_future().wait_for(std::chrono::seconds(10));
    testing::SendRaw(fd, {record.begin() + 3, record.begin() + 5});
    header_checked.get_future().wait_for(std::chrono::seconds(10));
    testing::SendRaw(fd, {record.begin() + 5, record.end()});
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  std::vector<uint8_t> buffer(kMaxRecordPlaintext);
  const std::string expected =
      "TLS: OpenSSL holds part of a received record; the stream cannot be handed over between "
      "records";
  // 3 bytes of the header.
  EXPECT_EQ(connection->Read(absl::MakeSpan(buffer), absl::Milliseconds(300)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(connection->CheckDrained().message(), expected);
  EXPECT_EQ(connection->SwitchToMemoryBios().message(), expected);
  header_part_checked.set_value();
  // The whole header, no body.
  EXPECT_EQ(connection->Read(absl::MakeSpan(buffer), absl::Milliseconds(300)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(connection->CheckDrained().message(), expected);
  header_checked.set_value();
  absl::StatusOr<size_t> read = connection->Read(absl::MakeSpan(buffer), absl::Seconds(5));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Text(absl::MakeSpan(buffer).first(*read)), "hello");
  EXPECT_TRUE(connection->CheckDrained().ok());
}

TEST_F(TlsRecordTest, ModeMismatchesAreRefused) {
  TestServer server(Server(TlsVersion::kTls13), [](SSL* ssl, int) { testing::ServerRead(ssl); });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  std::vector<uint8_t> out;
  EXPECT_EQ(connection->Encrypt(Bytes("x"), &out).message(),
            "TLS Encrypt: only in memory mode; the connection is in socket mode");
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  EXPECT_EQ(connection->SwitchToMemoryBios().message(),
            "TLS SwitchToMemoryBios: only in socket mode; the connection is in memory mode");
  std::array<uint8_t, 8> buffer;
  EXPECT_EQ(connection->Read(absl::MakeSpan(buffer), absl::Seconds(1)).status().message(),
            "TLS Read: only in socket mode; the connection is in memory mode");
  EXPECT_EQ(connection->Write(Bytes("x"), absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
}

// --- Memory mode.

TEST_F(TlsRecordTest, EncryptMakesOneRecordPerCall) {
  TestServer server(Server(TlsVersion::kTls13), [](SSL* ssl, int) {
    EXPECT_EQ(testing::ServerReadExactly(ssl, 1 + kMaxRecordPlaintext), "a" + std::string(kMaxRecordPlaintext, 'b'));
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  std::vector<uint8_t> out;
  EXPECT_TRUE(connection->Encrypt({}, &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(connection->Encrypt(Bytes("a"), &out).ok());
  // TLS 1.3 AES-128-GCM: header 5 + plaintext + content type 1 + tag 16.
  EXPECT_EQ(out.size(), 5u + 1 + 1 + 16);
  ASSERT_TRUE(connection->Encrypt(std::vector<uint8_t>(kMaxRecordPlaintext, 'b'), &out).ok());
  EXPECT_EQ(out.size(), 23u + 5 + kMaxRecordPlaintext + 1 + 16);
  EXPECT_EQ(SplitRecords(out).size(), 2u);
  EXPECT_EQ(connection->counters().tx_seq, 2u);
  const absl::Status too_big =
      connection->Encrypt(std::vector<uint8_t>(kMaxRecordPlaintext + 1, 'c'), &out);
  EXPECT_EQ(too_big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(too_big.message(), "TLS record plaintext of 16385 bytes > 16384");
  testing::SendRaw(server.client_fd(), out);
  server.Join();
}

class MemoryModeTest : public TlsRecordTest, public ::testing::WithParamInterface<TlsVersion> {};

TEST_P(MemoryModeTest, RoundTripOfManyRecordsInRandomChunks) {
  // 100 records of 1 to 16384 bytes, about 0.5 MiB each way.
  std::vector<size_t> sizes;
  for (size_t i = 0; i < 98; ++i) sizes.push_back(1 + (i * 2897) % 9000);
  sizes.push_back(kMaxRecordPlaintext);
  sizes.push_back(kMaxRecordPlaintext - 1);
  TestServer server(Server(GetParam()), [sizes](SSL* ssl, int) {
    for (size_t size : sizes) testing::ServerWrite(ssl, testing::ServerReadExactly(ssl, size));
    EXPECT_EQ(SSL_shutdown(ssl), 0);
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());

  std::mt19937 random(42);
  std::vector<uint8_t> sent;
  std::vector<uint8_t> ciphertext;
  for (size_t size : sizes) {
    std::vector<uint8_t> message(size);
    for (uint8_t& b : message) b = static_cast<uint8_t>(random());
    sent.insert(sent.end(), message.begin(), message.end());
    const size_t before = ciphertext.size();
    ASSERT_TRUE(connection->Encrypt(message, &ciphertext).ok());
    EXPECT_EQ(SplitRecords({ciphertext.begin() + before, ciphertext.end()}).size(), 1u);
  }
  EXPECT_EQ(connection->counters().tx_records, sizes.size());
  // Send from another thread while this one reads the echo, so neither
  // direction of the socket pair can fill up and stall both sides.
  std::future<void> sender = std::async(std::launch::async, [&] {
    testing::SendRaw(server.client_fd(), ciphertext);
  });

  // Feed the server's stream (NewSessionTickets, echoes, close_notify) in
  // chunks of random size, each as it arrives.
  std::vector<uint8_t> received;
  std::vector<uint8_t> to_send;
  bool closed = false;
  while (!closed) {
    std::vector<uint8_t> chunk = testing::RecvSome(server.client_fd(), 1 + random() % 3000);
    if (chunk.empty()) {
      ADD_FAILURE() << "stream ended before close_notify";
      break;
    }
    absl::StatusOr<DecryptResult> result = connection->Decrypt(chunk, &received, &to_send);
    if (!result.ok()) {
      ADD_FAILURE() << result.status();
      break;
    }
    closed = result->close_notify;
  }
  // On failure, unblock the sender before waiting for it.
  if (!closed) shutdown(server.client_fd(), SHUT_RDWR);
  sender.get();
  EXPECT_EQ(received, sent);
  EXPECT_TRUE(to_send.empty());
  server.Join();
  // Every record each side protected was removed by the other.
  EXPECT_EQ(server.counts().tx, connection->counters().rx_seq);
  EXPECT_EQ(server.counts().rx, connection->counters().tx_seq);
}

TEST_P(MemoryModeTest, ByteByByteFeedingFindsEveryRecordBoundary) {
  TestServer server(Server(GetParam()), [](SSL* ssl, int fd) {
    EXPECT_EQ(testing::ServerReadExactly(ssl, 4), "ping");
    for (const char* text : {"one", "", "three", "four!"}) {
      if (*text != '\0') testing::ServerWrite(ssl, text);
    }
    EXPECT_EQ(SSL_shutdown(ssl), 0);
    shutdown(fd, SHUT_WR);
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  std::vector<uint8_t> ciphertext;
  ASSERT_TRUE(connection->Encrypt(Bytes("ping"), &ciphertext).ok());
  testing::SendRaw(server.client_fd(), ciphertext);
  const std::vector<uint8_t> stream = testing::RecvUntilIdle(server.client_fd(), 5000);
  const std::vector<std::vector<uint8_t>> records = SplitRecords(stream);
  ASSERT_GE(records.size(), 4u);

  std::vector<uint8_t> plaintext;
  std::vector<uint8_t> to_send;
  size_t record_end = records[0].size();
  size_t record_index = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    absl::StatusOr<DecryptResult> result =
        connection->Decrypt(absl::MakeConstSpan(&stream[i], 1), &plaintext, &to_send);
    ASSERT_TRUE(result.ok()) << "at byte " << i << ": " << result.status();
    // close_notify shows exactly when its record's last byte arrives.
    EXPECT_EQ(result->close_notify, i + 1 == stream.size()) << "at byte " << i;
    if (i + 1 == record_end) {
      // A record completes only with its last byte: before it, nothing
      // from that record is released.
      EXPECT_TRUE(connection->CheckDrained().ok()) << "after record " << record_index;
      if (++record_index < records.size()) record_end += records[record_index].size();
    } else {
      EXPECT_FALSE(connection->CheckDrained().ok()) << "inside record " << record_index;
    }
  }
  EXPECT_EQ(Text(plaintext), "onethreefour!");
  EXPECT_TRUE(to_send.empty());
}

TEST_P(MemoryModeTest, EverySplitPointOfASmallStream) {
  auto run = [&](std::optional<size_t> split) -> size_t {
    ServerConfig config = Server(GetParam());
    config.num_tickets = 0;  // Keep the stream small: one record and close_notify.
    TestServer server(config, [](SSL* ssl, int fd) {
      testing::ServerWrite(ssl, "split me anywhere");
      EXPECT_EQ(SSL_shutdown(ssl), 0);
      shutdown(fd, SHUT_WR);
    });
    std::unique_ptr<Connection> connection = Connect(Config(), server);
    EXPECT_NE(connection, nullptr);
    if (connection == nullptr) return 0;
    EXPECT_TRUE(connection->SwitchToMemoryBios().ok());
    const std::vector<uint8_t> stream = testing::RecvUntilIdle(server.client_fd(), 5000);
    if (!split.has_value()) return stream.size();
    std::vector<uint8_t> plaintext;
    std::vector<uint8_t> to_send;
    absl::StatusOr<DecryptResult> first = connection->Decrypt(
        absl::MakeConstSpan(stream).first(*split), &plaintext, &to_send);
    EXPECT_TRUE(first.ok()) << first.status();
    absl::StatusOr<DecryptResult> second = connection->Decrypt(
        absl::MakeConstSpan(stream).subspan(*split), &plaintext, &to_send);
    EXPECT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(Text(plaintext), "split me anywhere") << "split at " << *split;
    EXPECT_TRUE(second.ok() && second->close_notify) << "split at " << *split;
    return stream.size();
  };
  const size_t size = run(std::nullopt);
  ASSERT_GT(size, 40u);
  for (size_t split = 0; split <= size; ++split) {
    EXPECT_EQ(run(split), size);
  }
}

TEST_P(MemoryModeTest, CloseNotifyWeSendReachesTheServer) {
  std::promise<int> server_result;
  TestServer server(Server(GetParam()), [&](SSL* ssl, int) {
    char byte;
    size_t n;
    const int ret = SSL_read_ex(ssl, &byte, 1, &n);
    server_result.set_value(SSL_get_error(ssl, ret));
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  std::vector<uint8_t> out;
  ASSERT_TRUE(connection->EncodeCloseNotify(&out).ok());
  ASSERT_FALSE(out.empty());
  testing::SendRaw(server.client_fd(), out);
  EXPECT_EQ(server_result.get_future().get(), SSL_ERROR_ZERO_RETURN);
}

TEST_P(MemoryModeTest, CorruptRecordIsDataLossAndAnAlertIsQueued) {
  TestServer server(Server(GetParam()), [](SSL* ssl, int fd) {
    testing::UseMemoryWbio(ssl);
    testing::ServerWrite(ssl, "tamper with me");
    std::vector<uint8_t> record = testing::TakeWbio(ssl);
    record[record.size() - 3] ^= 0x40;  // Inside the tag.
    testing::SendRaw(fd, record);
    shutdown(fd, SHUT_WR);
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  // NewSessionTickets (TLS 1.3) precede the record; take everything.
  std::vector<uint8_t> stream = testing::RecvUntilIdle(server.client_fd(), 500);
  std::vector<uint8_t> plaintext;
  std::vector<uint8_t> to_send;
  absl::StatusOr<DecryptResult> result = connection->Decrypt(stream, &plaintext, &to_send);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(result.status().message(), "TLS decrypt: decryption failed or bad record mac");
  EXPECT_TRUE(plaintext.empty());
  EXPECT_FALSE(to_send.empty());  // Our bad_record_mac alert.
}

TEST_P(MemoryModeTest, AlertFromTheServerIsAborted) {
  TestServer server(Server(GetParam()), [](SSL* ssl, int fd) {
    char byte;
    size_t n;
    EXPECT_EQ(SSL_read_ex(ssl, &byte, 1, &n), 0);  // The tampered record.
    shutdown(fd, SHUT_WR);
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  std::vector<uint8_t> record;
  ASSERT_TRUE(connection->Encrypt(Bytes("tampered"), &record).ok());
  record.back() ^= 0x01;
  testing::SendRaw(server.client_fd(), record);
  const std::vector<uint8_t> stream = testing::RecvUntilIdle(server.client_fd(), 5000);
  std::vector<uint8_t> plaintext;
  std::vector<uint8_t> to_send;
  absl::StatusOr<DecryptResult> result = connection->Decrypt(stream, &plaintext, &to_send);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(result.status().message(), "TLS alert from peer: bad record mac");
}

INSTANTIATE_TEST_SUITE_P(BothVersions, MemoryModeTest,
                         ::testing::Values(TlsVersion::kTls13, TlsVersion::kTls12),
                         [](const ::testing::TestParamInfo<TlsVersion>& info) {
                           return std::string(info.param == TlsVersion::kTls13 ? "Tls13"
                                                                               : "Tls12");
                         });

TEST_F(TlsRecordTest, KeyUpdateIsHandledAndCounted) {
  TestServer server(Server(TlsVersion::kTls13), [](SSL* ssl, int) {
    EXPECT_EQ(SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED), 1);
    testing::ServerWrite(ssl, "after update");
    EXPECT_EQ(testing::ServerReadExactly(ssl, 5), "reply");
    testing::ServerWrite(ssl, "bye");
  });
  std::unique_ptr<Connection> connection = Connect(Config(), server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());

  std::vector<uint8_t> plaintext;
  std::vector<uint8_t> to_send;
  while (Text(plaintext) != "after update") {
    std::vector<uint8_t> chunk = testing::RecvAll(server.client_fd(), 1, 5000);
    ASSERT_FALSE(chunk.empty());
    ASSERT_TRUE(connection->Decrypt(chunk, &plaintext, &to_send).ok());
  }
  RecordCounters counters = connection->counters();
  EXPECT_EQ(counters.rx_key_updates, 1u);
  EXPECT_EQ(counters.rx_seq, 1u);  // "after update" is the first under the new key.
  EXPECT_EQ(counters.rx_records, 2u + 2);  // Two tickets, KeyUpdate, data.

  // Our KeyUpdate answer (RFC 8446 4.6.3: update_requested) goes out before
  // or with the next record.
  std::vector<uint8_t> out = to_send;
  ASSERT_TRUE(connection->Encrypt(Bytes("reply"), &out).ok());
  counters = connection->counters();
  EXPECT_EQ(counters.tx_key_updates, 1u);
  EXPECT_EQ(counters.tx_seq, 1u);
  testing::SendRaw(server.client_fd(), out);
  plaintext.clear();
  while (Text(plaintext) != "bye") {
    std::vector<uint8_t> chunk = testing::RecvAll(server.client_fd(), 1, 5000);
    ASSERT_FALSE(chunk.empty());
    ASSERT_TRUE(connection->Decrypt(chunk, &plaintext, &to_send).ok());
  }
  server.Join();
  EXPECT_EQ(server.counts().tx, connection->counters().rx_seq);
  EXPECT_EQ(server.counts().rx, connection->counters().tx_seq);
}

// RFC 8446 5.5: AES-GCM keys wear out; ours is updated after the configured
// number of records (2^24 by default), ChaCha20-Poly1305's and TLS 1.2's
// never.
struct KeyUpdateLimitCase {
  std::string name;
  TlsVersion version;
  Cipher cipher;
  uint32_t updates;  // After 10 records, one update per 3.
};

class KeyUpdateLimitTest : public TlsRecordTest,
                           public ::testing::WithParamInterface<KeyUpdateLimitCase> {};

TEST_P(KeyUpdateLimitTest, OurKeyIsUpdatedAfterTheConfiguredRecords) {
  const KeyUpdateLimitCase& c = GetParam();
  constexpr int kRecords = 10;
  TestServer server(Server(c.version), [](SSL* ssl, int) {
    for (int i = 0; i < kRecords; ++i) {
      EXPECT_EQ(testing::ServerReadExactly(ssl, 2), absl::StrCat("r", i));
    }
  });
  ClientConfig config = Config();
  config.ciphers = {c.cipher};
  config.min_version = c.version;
  config.max_version = c.version;
  std::unique_ptr<Connection> connection = Connect(config, server);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->SwitchToMemoryBios().ok());
  connection->set_key_update_records(3);
  const uint64_t start = connection->counters().tx_seq;  // TLS 1.2: Finished counts.
  std::vector<uint8_t> out;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(connection->Encrypt(Bytes(absl::StrCat("r", i)), &out).ok());
  }
  testing::SendRaw(server.client_fd(), out);
  server.Join();  // The server read every record: each key was the one it expected.
  const RecordCounters counters = connection->counters();
  EXPECT_EQ(counters.tx_key_updates, c.updates);
  if (c.updates > 0) {
    // Updates before records 4, 7 and 10: the last key protected one.
    EXPECT_EQ(counters.tx_seq, 1u);
    EXPECT_EQ(server.counts().rx, 1u);
  } else {
    EXPECT_EQ(counters.tx_seq, start + kRecords);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ciphers, KeyUpdateLimitTest,
    ::testing::Values(KeyUpdateLimitCase{"Tls13Aes128Gcm", TlsVersion::kTls13, Cipher::kAes128Gcm, 3},
                      KeyUpdateLimitCase{"Tls13Aes256Gcm", TlsVersion::kTls13, Cipher::kAes256Gcm, 3},
                      KeyUpdateLimitCase{"Tls13Chacha20", TlsVersion::kTls13, Cipher::kChacha20Poly1305, 0},
                      KeyUpdateLimitCase{"Tls12Aes128Gcm", TlsVersion::kTls12, Cipher::kAes128Gcm, 0}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sstp::tls
