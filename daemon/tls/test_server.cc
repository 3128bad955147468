#include "daemon/tls/test_server.h"

#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sstp::tls::testing {
namespace {

void MakePair(UniqueFd* client, UniqueFd* server) {
  // Writing to a socket whose peer is gone must be an error, not a kill.
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  client->reset(fds[0]);
  server->reset(fds[1]);
}

std::string OpenSslErrors() {
  std::string out;
  unsigned long code;
  char buf[256];
  while ((code = ERR_get_error()) != 0) {
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace

TestServer::TestServer(ServerConfig config, Script script) {
  MakePair(&client_, &server_);
  thread_ = std::thread(
      [this, config = std::move(config), script = std::move(script)]() mutable {
        RunTls(std::move(config), std::move(script));
      });
}

TestServer::TestServer(std::function<void(int fd)> raw) {
  MakePair(&client_, &server_);
  thread_ = std::thread([this, raw = std::move(raw)] { raw(server_.get()); });
}

TestServer::~TestServer() {
  if (client_) shutdown(client_.get(), SHUT_RDWR);
  Join();
}

void TestServer::Join() {
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> TestServer::keylog_lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return keylog_lines_;
}

void TestServer::KeylogCallback(const SSL* ssl, const char* line) {
  auto* server = static_cast<TestServer*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  std::lock_guard<std::mutex> lock(server->mutex_);
  server->keylog_lines_.emplace_back(line);
}

void TestServer::MsgCallback(int write_p, int /*version*/, int content_type, const void* buf,
                             size_t len, SSL* ssl, void* arg) {
  auto* server = static_cast<TestServer*>(arg);
  std::atomic<uint64_t>& counter = write_p ? server->tx_ : server->rx_;
  const auto* bytes = static_cast<const uint8_t*>(buf);
  const bool tls13 = SSL_version(ssl) == TLS1_3_VERSION;
  switch (content_type) {
    case SSL3_RT_HEADER:
      // TLS 1.2: the record after ChangeCipherSpec is the first under the
      // new keys (OpenSSL 3.0 reports a received CCS only as a header).
      if (!tls13 && len >= 1 && bytes[0] == SSL3_RT_CHANGE_CIPHER_SPEC) {
        counter = 0;
      } else {
        ++counter;
      }
      break;
    case SSL3_RT_HANDSHAKE:
      if (len >= 1 && tls13 &&
          (bytes[0] == SSL3_MT_FINISHED || bytes[0] == SSL3_MT_KEY_UPDATE)) {
        counter = 0;
      }
      break;
    default:
      break;
  }
}

void TestServer::RunTls(ServerConfig config, Script script) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) std::abort();
  SSL_CTX_set_app_data(ctx, this);
  SSL_CTX_set_keylog_callback(ctx, KeylogCallback);
  SSL_CTX_set_min_proto_version(ctx, config.min_version);
  SSL_CTX_set_max_proto_version(ctx, config.max_version);
  SSL_CTX_set_num_tickets(ctx, static_cast<size_t>(config.num_tickets));
  bool ok = SSL_CTX_use_certificate(ctx, config.identity.cert.get()) == 1 &&
            SSL_CTX_use_PrivateKey(ctx, config.identity.key.get()) == 1;
  for (const CertRef& extra : config.chain) {
    ok = ok && SSL_CTX_add1_chain_cert(ctx, extra.get()) == 1;
  }
  if (!config.tls13_suites.empty()) {
    ok = ok && SSL_CTX_set_ciphersuites(ctx, config.tls13_suites.c_str()) == 1;
  }
  if (!config.tls12_ciphers.empty()) {
    ok = ok && SSL_CTX_set_cipher_list(ctx, config.tls12_ciphers.c_str()) == 1;
  }
  if (!ok) {
    ADD_FAILURE() << "test server setup: " << OpenSslErrors();
    SSL_CTX_free(ctx);
    return;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, server_.get());
  SSL_set_msg_callback(ssl, MsgCallback);
  SSL_set_msg_callback_arg(ssl, this);
  if (SSL_accept(ssl) == 1) {
    handshake_ok_ = true;
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    sni_ = sni != nullptr ? sni : "";
    script(ssl, server_.get());
  } else {
    handshake_error_ = OpenSslErrors();
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
}

std::string ServerRead(SSL* ssl, size_t max) {
  std::string data(max, '\0');
  size_t n = 0;
  if (SSL_read_ex(ssl, data.data(), max, &n) != 1) return "";
  data.resize(n);
  return data;
}

std::string ServerReadExactly(SSL* ssl, size_t size) {
  std::string data;
  while (data.size() < size) {
    std::string chunk = ServerRead(ssl, size - data.size());
    if (chunk.empty()) {
      ADD_FAILURE() << "server: stream ended after " << data.size() << " of " << size
                    << " bytes";
      break;
    }
    data += chunk;
  }
  return data;
}

void ServerWrite(SSL* ssl, const std::string& data) {
  size_t written = 0;
  EXPECT_EQ(SSL_write_ex(ssl, data.data(), data.size(), &written), 1) << OpenSslErrors();
}

void UseMemoryWbio(SSL* ssl) {
  BIO* mem = BIO_new(BIO_s_mem());
  if (mem == nullptr) std::abort();
  SSL_set0_wbio(ssl, mem);
}

std::vector<uint8_t> TakeWbio(SSL* ssl) {
  BIO* wbio = SSL_get_wbio(ssl);
  std::vector<uint8_t> out(BIO_ctrl_pending(wbio));
  size_t n = 0;
  if (!out.empty() && BIO_read_ex(wbio, out.data(), out.size(), &n) == 1) out.resize(n);
  return out;
}

void SendRaw(int fd, const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ADD_FAILURE() << "send: errno " << errno;
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

std::vector<uint8_t> Bytes(absl::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::string Text(absl::Span<const uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

std::string VersionParamName(const ::testing::TestParamInfo<TlsVersion>& info) {
  return info.param == TlsVersion::kTls13 ? "Tls13" : "Tls12";
}

LogCapture::LogCapture() : previous_sink_(SetLogSink(this)), previous_level_(GetLogLevel()) {
  SetLogLevel(LogLevel::kDebug);
}

LogCapture::~LogCapture() {
  SetLogSink(previous_sink_);
  SetLogLevel(previous_level_);
}

void LogCapture::Write(LogLevel /*level*/, absl::string_view context, absl::string_view message) {
  std::lock_guard<std::mutex> lock(mutex_);
  lines_.push_back(absl::StrCat(context, ": ", message));
}

bool LogCapture::Has(absl::string_view needle) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::string& line : lines_) {
    if (absl::StrContains(line, needle)) return true;
  }
  return false;
}

std::vector<uint8_t> RecvAll(int fd, size_t size, int timeout_ms) {
  std::vector<uint8_t> out;
  while (out.size() < size) {
    pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) break;
    uint8_t buf[65536];
    const ssize_t n = recv(fd, buf, std::min(sizeof(buf), size - out.size()), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

std::vector<uint8_t> RecvSome(int fd, size_t max, int timeout_ms) {
  while (true) {
    pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) return {};
    std::vector<uint8_t> out(max);
    const ssize_t n = recv(fd, out.data(), max, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }
}

std::vector<uint8_t> RecvUntilIdle(int fd, int idle_ms) {
  std::vector<uint8_t> out;
  while (true) {
    pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, idle_ms) <= 0) break;
    uint8_t buf[65536];
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

}  // namespace sstp::tls::testing
