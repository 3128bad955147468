// Test helper: an OpenSSL TLS server in a thread, on one end of an AF_UNIX
// socketpair; the code under test gets the other end. No network is
// touched. The server side uses plain blocking OpenSSL calls.
#ifndef SSTP_KTLS_DAEMON_TLS_TEST_SERVER_H_
#define SSTP_KTLS_DAEMON_TLS_TEST_SERVER_H_

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "daemon/tls/key_material.h"
#include "daemon/tls/test_pki.h"
#include "gtest/gtest.h"

namespace sstp::tls::testing {

struct ServerConfig {
  Issued identity;              // The leaf key and certificate.
  std::vector<CertRef> chain;   // Sent after the leaf (intermediates, root).
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string tls13_suites;     // Empty: OpenSSL's default.
  std::string tls12_ciphers;    // Empty: OpenSSL's default.
  int num_tickets = 2;          // TLS 1.3 NewSessionTickets (OpenSSL's default).
};

// Records the server protected (tx) and removed protection from (rx) under
// the application keys. Counted from other events than the client's
// RecordCounters: from the record after the server's own Finished message
// (TLS 1.3: RFC 8446 7.3, Finished is the last record under the handshake
// keys) or ChangeCipherSpec (TLS 1.2), restarting after a KeyUpdate.
struct ServerCounts {
  uint64_t tx = 0;
  uint64_t rx = 0;
};

class TestServer {
 public:
  // Runs after a successful SSL_accept, in the server thread. `fd` is the
  // server's socket.
  using Script = std::function<void(SSL* ssl, int fd)>;

  TestServer(ServerConfig config, Script script);
  // A server that does not speak TLS: runs `raw(fd)` in the thread.
  explicit TestServer(std::function<void(int fd)> raw);
  // Shuts the socket pair down (unblocking the server) and joins.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int client_fd() const { return client_.get(); }
  void Join();

  // After Join().
  bool handshake_ok() const { return handshake_ok_; }
  const std::string& handshake_error() const { return handshake_error_; }
  const std::string& sni() const { return sni_; }

  // Thread-safe.
  std::vector<std::string> keylog_lines() const;
  ServerCounts counts() const { return {tx_.load(), rx_.load()}; }

 private:
  void RunTls(ServerConfig config, Script script);
  static void KeylogCallback(const SSL* ssl, const char* line);
  static void MsgCallback(int write_p, int version, int content_type, const void* buf,
                          size_t len, SSL* ssl, void* arg);

  UniqueFd client_;
  UniqueFd server_;
  std::thread thread_;
  bool handshake_ok_ = false;
  std::string handshake_error_;
  std::string sni_;
  mutable std::mutex mutex_;
  std::vector<std::string> keylog_lines_;
  std::atomic<uint64_t> tx_{0};
  std::atomic<uint64_t> rx_{0};
  std::atomic<bool> app_keys_{false};
};

// Server-script helpers (blocking; EXPECT failures are reported).
std::string ServerRead(SSL* ssl, size_t max = 16384);
std::string ServerReadExactly(SSL* ssl, size_t size);
void ServerWrite(SSL* ssl, const std::string& data);

// Makes the server's SSL write its records into memory from now on, so a
// script can send them in pieces with SendRaw().
void UseMemoryWbio(SSL* ssl);
std::vector<uint8_t> TakeWbio(SSL* ssl);
void SendRaw(int fd, const std::vector<uint8_t>& bytes);

// Text <-> bytes, for data sent through a Connection.
std::vector<uint8_t> Bytes(absl::string_view text);
std::string Text(absl::Span<const uint8_t> bytes);

// Test names for tests parameterized by the TLS version: "Tls13", "Tls12".
std::string VersionParamName(const ::testing::TestParamInfo<TlsVersion>& info);

// Captures log lines (all levels) while it lives, from any thread, and
// restores the previous sink and level when destroyed.
class LogCapture : public LogSink {
 public:
  LogCapture();
  ~LogCapture() override;
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  void Write(LogLevel level, absl::string_view context, absl::string_view message) override;
  // Whether a line "<context>: <message>" contains `needle`.
  bool Has(absl::string_view needle) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  LogSink* previous_sink_;
  LogLevel previous_level_;
};

// Reads from a socket until `size` bytes arrived or the timeout passed.
std::vector<uint8_t> RecvAll(int fd, size_t size, int timeout_ms = 5000);
// Waits up to `timeout_ms` for data and returns what one recv() gives, at
// most `max` bytes; empty at end of stream or timeout.
std::vector<uint8_t> RecvSome(int fd, size_t max, int timeout_ms = 5000);
// Reads whatever arrives until the peer closes or `idle_ms` pass quietly.
std::vector<uint8_t> RecvUntilIdle(int fd, int idle_ms = 200);

}  // namespace sstp::tls::testing

#endif  // SSTP_KTLS_DAEMON_TLS_TEST_SERVER_H_
