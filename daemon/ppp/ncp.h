// The network control protocols of the SSTP client: IPCP (RFC 1332, with
// the RFC 1877 DNS options) and IPv6CP (RFC 5072), as OptionNegotiators
// for ControlProtocol.
//
// IPCP. Our request: IP-Address 0.0.0.0 (the server assigns it), and, if DNS
// is wanted, Primary-DNS 0.0.0.0 and Secondary-DNS 0.0.0.0. A Nak's values
// are taken; a rejected DNS option is dropped (SoftEther rejects
// Secondary-DNS); a rejected IP-Address, or an Ack of IP-Address 0.0.0.0,
// makes IPv4 impossible (fatal()). The server's request: its own
// IP-Address is Acked (0.0.0.0, asking us to name its address, is
// rejected: we have none to give); IP-Compression-Protocol, the RFC 1877
// options (the server asking *us* for DNS/NBNS servers) and anything
// unknown or malformed are rejected.
//
// IPv6CP. Our request: a random non-zero Interface-Identifier. A Nak's
// identifier is taken (unless zero or equal to the server's: then a new
// random one); a Reject drops the option (our identifier stays, unnegotiated).
// The server's request: its Interface-Identifier is Acked unless it is zero
// or equals ours, then Nak'd with a fresh random one (RFC 5072 4.1);
// IPv6-Compression-Protocol and anything unknown are rejected.
//
// Not thread-safe. `random` and `logger` outlive the negotiators.
#ifndef SSTP_KTLS_DAEMON_PPP_NCP_H_
#define SSTP_KTLS_DAEMON_PPP_NCP_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/random.h"
#include "daemon/ppp/client_actions.h"
#include "daemon/ppp/control_protocol.h"
#include "daemon/ppp/options.h"

namespace sstp::ppp {

class IpcpNegotiator final : public OptionNegotiator {
 public:
  IpcpNegotiator(bool want_dns, const Logger& logger);

  absl::StatusOr<std::vector<uint8_t>> BuildRequest() override;
  void RequestAcked(absl::Span<const uint8_t> options) override;
  absl::Status RequestNaked(absl::Span<const uint8_t> options) override;
  absl::Status RequestRejected(absl::Span<const uint8_t> options) override;
  absl::StatusOr<RequestVerdict> EvaluateRequest(
      absl::Span<const uint8_t> options) override;

  // The negotiated values, once both sides acknowledged.
  Ipv4Up result() const { return result_; }

 private:
  const Logger& logger_;
  Ipv4Address address_{};
  Ipv4Address dns1_{};
  Ipv4Address dns2_{};
  bool send_dns1_;
  bool send_dns2_;
  Ipv4Up result_;
};

class Ipv6cpNegotiator final : public OptionNegotiator {
 public:
  // The Interface-Identifier is drawn from `random` by the first
  // BuildRequest().
  Ipv6cpNegotiator(Random& random, const Logger& logger);

  absl::StatusOr<std::vector<uint8_t>> BuildRequest() override;
  void RequestAcked(absl::Span<const uint8_t> options) override;
  absl::Status RequestNaked(absl::Span<const uint8_t> options) override;
  absl::Status RequestRejected(absl::Span<const uint8_t> options) override;
  absl::StatusOr<RequestVerdict> EvaluateRequest(
      absl::Span<const uint8_t> options) override;

  Ipv6Up result() const { return result_; }

 private:
  // A random identifier that is neither zero nor `avoid1` / `avoid2`.
  InterfaceIdentifier NewIdentifier(const InterfaceIdentifier& avoid1,
                                    const InterfaceIdentifier& avoid2);

  Random& random_;
  const Logger& logger_;
  std::optional<InterfaceIdentifier> identifier_;
  bool send_identifier_ = true;
  Ipv6Up result_;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_NCP_H_
