// The steps that come before the data plane: the TCP connection, the SSTP
// HTTP exchange over TLS, and the adapter that lets the data plane use the
// TLS connection as its user-space record layer.
#ifndef SSTP_KTLS_DAEMON_SESSION_TRANSPORT_H_
#define SSTP_KTLS_DAEMON_SESSION_TRANSPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/secret.h"
#include "base/unique_fd.h"
#include "daemon/dataplane/engine.h"
#include "daemon/sstp/http.h"
#include "daemon/tls/client.h"

namespace sstp::session {

// The first line of a file holding a secret (password-file,
// proxy-password-file). A file that group or others may read is refused,
// naming the fix; an empty one too.
absl::StatusOr<SecretString> ReadSecretFile(const std::string& path);

// Resolves `host` and connects to each address in turn (IPv6 and IPv4, in
// the resolver's order) until one answers within `timeout` overall. The
// socket is blocking, close-on-exec, with TCP_NODELAY. The error names the
// host, port and every address tried with its errno.
absl::StatusOr<UniqueFd> ConnectTcp(absl::string_view host, uint16_t port, absl::Duration timeout,
                                    const Logger& log);

// How the outer socket's buffers should be sized for the data phase.
struct SocketBufferPlan {
  uint64_t bdp_bytes = 0;       // rate x RTT.
  bool override_kernel = false; // Autotuning's limit is below 2 x BDP.
  int buffer_bytes = 0;         // What to set when override_kernel.
};

// Pure. The kernel's TCP autotuning grows each buffer up to its limit
// (net.ipv4.tcp_wmem / tcp_rmem, third field) as the flow needs, which is
// the right behaviour as long as that limit holds twice the
// bandwidth-delay product (the doubling covers the kernel's overhead
// accounting); beyond that, fixed buffers of 2 x BDP (at most 64 MiB) are
// better.
SocketBufferPlan PlanSocketBuffers(uint32_t rtt_us, uint64_t rate_bits_per_second,
                                   uint64_t autotune_limit);

// Readies the connected socket for the data phase: TCP_NOTSENT_LOWAT (so
// that control packets never queue behind megabytes of unsent bulk data),
// and buffers per PlanSocketBuffers() from the measured RTT (TCP_INFO) and
// the kernel's limits. Logs what it did; failures are logged, not fatal.
void TuneDataSocket(int fd, uint64_t rate_bits_per_second, const Logger& log);

// MS-SSTP 4.5: asks the HTTP proxy on `fd` for a tunnel to host:port
// (CONNECT, with Basic credentials when given) and reads its reply within
// `timeout`. Anything but a 2xx is an error naming the proxy's status line
// (407: the proxy wants credentials or refused them).
absl::Status ProxyConnect(int fd, absl::string_view host, uint16_t port,
                          const std::optional<proto::ProxyCredentials>& credentials,
                          absl::Duration timeout);

// MS-SSTP 3.2.4.1: sends SSTP_DUPLEX_POST and reads the reply header within
// `timeout` (the spec's 60 s). Anything but 200 is an error naming the
// status line. Returns the bytes that followed the header in the same
// records (normally none: the server waits for CALL_CONNECT_REQUEST).
absl::StatusOr<std::vector<uint8_t>> SstpHttpExchange(tls::Connection& tls,
                                                      absl::string_view host, uint16_t port,
                                                      absl::string_view correlation_id,
                                                      absl::Duration timeout);

// The data plane's user-space record layer over an OpenSSL connection in
// memory-BIO mode (tls::Connection::SwitchToMemoryBios() done). Does not
// own the connection.
class TlsRecordCodec final : public dataplane::RecordCodec {
 public:
  explicit TlsRecordCodec(tls::Connection& tls) : tls_(tls) {}
  absl::Status Seal(absl::Span<const uint8_t> plaintext, std::vector<uint8_t>* ciphertext) override;
  absl::StatusOr<Opened> Open(absl::Span<const uint8_t> ciphertext, absl::Span<uint8_t> plaintext,
                              std::vector<uint8_t>* to_send) override;

 private:
  tls::Connection& tls_;
};

}  // namespace sstp::session

#endif  // SSTP_KTLS_DAEMON_SESSION_TRANSPORT_H_
