#include "daemon/session/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "daemon/sstp/http.h"

namespace sstp::session {
namespace {

std::string AddressText(const sockaddr* sa) {
  char host[NI_MAXHOST] = "?";
  getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in), host,
              sizeof(host), nullptr, 0, NI_NUMERICHOST);
  return host;
}

int MillisecondsLeft(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

// Non-blocking connect bounded by `deadline`; returns 0 or an errno.
int ConnectOne(int fd, const addrinfo* ai, absl::Time deadline) {
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int err = 0;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n;
      do {
        n = poll(&p, 1, MillisecondsLeft(deadline));
      } while (n < 0 && errno == EINTR);
      if (n == 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
  }
  fcntl(fd, F_SETFL, flags);
  return err;
}

}  // namespace

absl::StatusOr<SecretString> ReadSecretFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return LastErrnoStatus(absl::StrCat("secret file ", path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return LastErrnoStatus(absl::StrCat("secret file ", path));
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return absl::PermissionDeniedError(
        absl::StrCat("secret file ", path, " is readable by group or others; chmod 600 it"));
  }
  std::string text(4096, '\0');
  const ssize_t n = read(fd.get(), text.data(), text.size());
  if (n < 0) return LastErrnoStatus(absl::StrCat("secret file ", path));
  text.resize(static_cast<size_t>(n));
  SecretString all(std::move(text));
  absl::string_view line = all.reveal().substr(0, all.reveal().find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return absl::InvalidArgumentError(absl::StrCat("secret file ", path, " is empty"));
  return SecretString(std::string(line));
}

absl::StatusOr<UniqueFd> ConnectTcp(absl::string_view host, uint16_t port, absl::Duration timeout,
                                    const Logger& log) {
  const absl::Time deadline = absl::Now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const std::string host_text(host);
  const std::string port_text = absl::StrCat(port);
  const int rc = getaddrinfo(host_text.c_str(), port_text.c_str(), &hints, &list);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host, ": ", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc)));
  }
  std::vector<std::string> failures;
  absl::StatusOr<UniqueFd> result = absl::UnavailableError("no address");
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    const std::string address = AddressText(ai->ai_addr);
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      failures.push_back(absl::StrCat(address, ": ", strerror(errno)));
      continue;
    }
    log.Debug("connecting to %s port %d", address, port);
    const int err = ConnectOne(fd.get(), ai, deadline);
    if (err == 0) {
      const int one = 1;
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      log.Info("TCP connected to %s port %d", address, port);
      result = std::move(fd);
      break;
    }
    failures.push_back(absl::StrCat(address, ": ", strerror(err)));
    if (MillisecondsLeft(deadline) == 0) break;
  }
  freeaddrinfo(list);
  if (result.ok()) return result;
  return absl::UnavailableError(absl::StrCat("cannot connect to ", host, " port ", port, " (",
                                             absl::StrJoin(failures, "; "), ")"));
}

SocketBufferPlan PlanSocketBuffers(uint32_t rtt_us, uint64_t rate_bits_per_second,
                                   uint64_t autotune_limit) {
  constexpr uint64_t kMaxBuffer = 64u << 20;
  SocketBufferPlan plan;
  plan.bdp_bytes = rate_bits_per_second / 8 * rtt_us / 1000000;
  if (2 * plan.bdp_bytes > autotune_limit) {
    plan.override_kernel = true;
    plan.buffer_bytes = static_cast<int>(std::min(2 * plan.bdp_bytes, kMaxBuffer));
  }
  return plan;
}

namespace {

// The third field of /proc/sys/net/ipv4/tcp_wmem or tcp_rmem; 0 if unknown.
uint64_t AutotuneLimit(const char* path) {
  std::ifstream in(path);
  uint64_t min = 0, initial = 0, max = 0;
  in >> min >> initial >> max;
  return in ? max : 0;
}

}  // namespace

void TuneDataSocket(int fd, uint64_t rate_bits_per_second, const Logger& log) {
  // Unsent data the kernel may hold: enough to keep a fast path busy between
  // two batches of the ring, small enough that an SSTP hello or LCP echo
  // is not stuck behind seconds of bulk data.
  const int lowat = 256 * 1024;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat)) != 0) {
    log.Debug("%s", std::string(LastErrnoStatus("TCP_NOTSENT_LOWAT").message()));
  }
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
    log.Debug("%s", std::string(LastErrnoStatus("TCP_INFO").message()));
    return;
  }
  const struct {
    const char* sysctl;
    int option;
    const char* name;
  } kSides[] = {{"/proc/sys/net/ipv4/tcp_wmem", SO_SNDBUFFORCE, "send"},
                {"/proc/sys/net/ipv4/tcp_rmem", SO_RCVBUFFORCE, "receive"}};
  for (const auto& side : kSides) {
    const uint64_t limit = AutotuneLimit(side.sysctl);
    const SocketBufferPlan plan = PlanSocketBuffers(info.tcpi_rtt, rate_bits_per_second, limit);
    if (!plan.override_kernel) {
      log.Debug("%s buffer: autotuning up to %d bytes covers the BDP (%d bytes at RTT %d us)",
                side.name, limit, plan.bdp_bytes, info.tcpi_rtt);
      continue;
    }
    // The kernel doubles the value it is given for its own bookkeeping.
    const int value = plan.buffer_bytes / 2;
    if (setsockopt(fd, SOL_SOCKET, side.option, &value, sizeof(value)) != 0) {
      log.Warning("%s buffer for a BDP of %d bytes (RTT %d us) not set: %s", side.name,
                  plan.bdp_bytes, info.tcpi_rtt, std::string(LastErrnoStatus("setsockopt").message()));
    } else {
      log.Info("%s buffer %d bytes for a BDP of %d bytes (RTT %d us, autotuning stops at %d)",
               side.name, plan.buffer_bytes, plan.bdp_bytes, info.tcpi_rtt, limit);
    }
  }
}

absl::Status ProxyConnect(int fd, absl::string_view host, uint16_t port,
                          const std::optional<proto::ProxyCredentials>& credentials,
                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  ASSIGN_OR_RETURN(SecretString request, proto::BuildProxyConnectRequest(host, port, credentials));
  absl::string_view rest = request.reveal();
  while (!rest.empty()) {
    const ssize_t n = send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return LastErrnoStatus("send CONNECT to the proxy");
    rest.remove_prefix(static_cast<size_t>(n));
  }
  // Read byte by byte up to the end of the reply header: nothing of the TLS
  // stream that follows may be consumed here.
  std::string reply;
  while (true) {
    ASSIGN_OR_RETURN(std::optional<size_t> end, proto::FindHeaderEnd(absl::string_view(reply)));
    if (end.has_value()) break;
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, MillisecondsLeft(deadline));
    if (n == 0) return absl::DeadlineExceededError("no reply from the HTTP proxy in time");
    if (n < 0 && errno == EINTR) continue;
    char c;
    const ssize_t got = recv(fd, &c, 1, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return LastErrnoStatus("read the HTTP proxy's reply");
    if (got == 0) return absl::UnavailableError("the HTTP proxy closed the connection");
    reply.push_back(c);
  }
  ASSIGN_OR_RETURN(proto::HttpResponse response, proto::ParseHttpResponse(absl::string_view(reply)));
  if (response.status_code / 100 != 2) {
    return absl::PermissionDeniedError(absl::StrCat("the HTTP proxy refused CONNECT ", host, ":",
                                                    port, ": HTTP ", response.status_code, " ",
                                                    response.reason));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> SstpHttpExchange(tls::Connection& tls,
                                                      absl::string_view host, uint16_t port,
                                                      absl::string_view correlation_id,
                                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  ASSIGN_OR_RETURN(std::string request, proto::BuildDuplexPostRequest(host, correlation_id, port));
  RETURN_IF_ERROR(tls.Write(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(request.data()),
                                                request.size()),
                            timeout));
  std::vector<uint8_t> received;
  std::vector<uint8_t> buffer(tls::kMaxRecordPlaintext);
  while (true) {
    ASSIGN_OR_RETURN(std::optional<size_t> end, proto::FindHeaderEnd(received));
    if (end.has_value()) {
      ASSIGN_OR_RETURN(proto::HttpResponse response,
                       proto::ParseHttpResponse(absl::MakeConstSpan(received).first(*end)));
      if (response.status_code != 200) {
        return absl::PermissionDeniedError(absl::StrCat("the server refused SSTP_DUPLEX_POST: HTTP ",
                                                        response.status_code, " ", response.reason));
      }
      return std::vector<uint8_t>(received.begin() + *end, received.end());
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("no HTTP reply to SSTP_DUPLEX_POST in time");
    }
    absl::StatusOr<size_t> n = tls.Read(absl::MakeSpan(buffer), left);
    if (!n.ok()) return Annotate(n.status(), "reading the HTTP reply");
    if (*n == 0) return absl::UnavailableError("the server closed the connection before the HTTP reply");
    received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<long>(*n));
  }
}

absl::Status TlsRecordCodec::Seal(absl::Span<const uint8_t> plaintext, std::vector<uint8_t>* ciphertext) {
  return tls_.Encrypt(plaintext, ciphertext);
}

// The engine's room for a held-back record (dataplane cannot see tls) is
// what DecryptInto asks for beyond the ciphertext.
static_assert(dataplane::RecordCodec::kMaxHeldCiphertext == tls::kMaxRecordOnWire);

absl::StatusOr<dataplane::RecordCodec::Opened> TlsRecordCodec::Open(
    absl::Span<const uint8_t> ciphertext, absl::Span<uint8_t> plaintext,
    std::vector<uint8_t>* to_send) {
  ASSIGN_OR_RETURN(tls::DecryptResult result, tls_.DecryptInto(ciphertext, plaintext, to_send));
  return Opened{.plaintext = result.plaintext_size, .closed = result.close_notify};
}

}  // namespace sstp::session
