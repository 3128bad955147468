// The LCP options of the SSTP client (RFC 1661 6, SSTP-NOTES "PPP framing
// inside SSTP", "Choosing the authentication protocol at LCP").
//
// Our Configure-Request carries MRU and Magic-Number, nothing else: never
// ACFC or PFC (servers drop compressed frames; the data plane always sends
// FF 03 and a 2-octet Protocol). A rejected option is dropped from later
// requests; a Nak'd MRU is taken if it lies in [576, 4091]; a Nak'd
// Magic-Number is replaced by a new random one.
//
// The server's Configure-Request:
//   Ack      MRU (>= 128), ACCM (meaningless without HDLC), Magic-Number,
//            PFC and ACFC (the receive side takes both forms; we still never
//            compress on send), Authentication-Protocol if the profile
//            allows the method (see below);
//   Nak      MRU < 128 (suggesting 128), Magic-Number 0 or equal to ours
//            (RFC 1661 6.4 loop-back check, suggesting a new one; ours
//            changes too), an Authentication-Protocol we will not run
//            (suggesting ours);
//   Reject   Quality-Protocol, Callback, MRRU, Endpoint-Discriminator,
//            anything unknown or malformed, all in one Configure-Reject
//            (RFC 1661 5.4), which takes precedence over a Nak.
//
// Authentication policy (SSTP-NOTES): a method the profile allows is Acked,
// except EAP while plain MS-CHAPv2 is allowed: the first EAP request is
// Nak'd suggesting MS-CHAPv2 (SoftEther's EAP offers only EAP-TLS), and EAP
// is Acked when the server asks for it again (it insists) or when the
// profile allows only EAP methods. A Nak suggests the profile's first
// method, skipping EAP-MSCHAPv2 while MS-CHAPv2 is allowed, for the same
// reason. A server that asks for no authentication is accepted (its choice);
// the client logs it.
//
// Not thread-safe. `random` and `logger` outlive the negotiator.
#ifndef SSTP_KTLS_DAEMON_PPP_LCP_H_
#define SSTP_KTLS_DAEMON_PPP_LCP_H_

#include <cstdint>
#include <optional>
#include <string>
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

inline constexpr uint16_t kDefaultMru = 1500;  // RFC 1661 6.1
// SSTP-NOTES "Packet header": a PPP frame is at most 4091 octets.
inline constexpr uint16_t kMaxMru = 4091;
// The smallest MRU we take from a server's Configure-Nak of ours.
inline constexpr uint16_t kMinNakedMru = 576;
// The smallest MRU we let the server ask for (pppd's MINMRU).
inline constexpr uint16_t kMinPeerMru = 128;

struct LcpSettings {
  uint16_t mru = 1400;
  // In order of preference; not empty.
  std::vector<AuthMethod> auth_methods = {AuthMethod::kMsChapV2,
                                          AuthMethod::kEapMsChapV2};
};

class LcpNegotiator final : public OptionNegotiator {
 public:
  // Draws the first Magic-Number from `random`.
  LcpNegotiator(LcpSettings settings, Random& random, const Logger& logger);

  absl::StatusOr<std::vector<uint8_t>> BuildRequest() override;
  void RequestAcked(absl::Span<const uint8_t> options) override;
  absl::Status RequestNaked(absl::Span<const uint8_t> options) override;
  absl::Status RequestRejected(absl::Span<const uint8_t> options) override;
  absl::StatusOr<RequestVerdict> EvaluateRequest(
      absl::Span<const uint8_t> options) override;

  // Our side, as the server acknowledged it: the MRU it may send us (1500
  // if we sent none) and our Magic-Number (nullopt if it was rejected: then
  // Echo packets carry zero, RFC 1661 5.8).
  uint16_t local_mru() const { return local_mru_; }
  std::optional<uint32_t> local_magic() const { return local_magic_; }
  // The server's side, as we acknowledged it: its MRU (1500 if it sent
  // none; the largest Information field we may send it), its Magic-Number,
  // and the authentication method it asked for (nullopt: none).
  uint16_t peer_mru() const { return peer_mru_; }
  std::optional<uint32_t> peer_magic() const { return peer_magic_; }
  std::optional<AuthMethod> auth_method() const { return auth_method_; }
  // Why that method (or none), for the log.
  const std::string& auth_reason() const { return auth_reason_; }

  // The Magic-Number our next request carries.
  uint32_t magic_number() const { return magic_; }

 private:
  struct AuthDecision {
    bool ack = false;
    AuthMethod method = AuthMethod::kMsChapV2;  // ack: the method; else the
                                                // suggestion
    bool naks_eap = false;  // This is the Nak of the EAP policy.
    std::string reason;
  };
  AuthDecision DecideAuth(const AuthProtocolOption& option) const;
  bool Allows(AuthMethod method) const;
  AuthMethod Suggestion() const;
  std::string AllowedList() const;
  // A random Magic-Number that is neither 0 nor `avoid`.
  uint32_t NewMagic(uint32_t avoid);

  const LcpSettings settings_;
  Random& random_;
  const Logger& logger_;

  uint16_t mru_;
  uint32_t magic_ = 0;
  bool send_mru_ = true;
  bool send_magic_ = true;
  // We have Nak'd EAP once: asking again means the server insists.
  bool eap_naked_ = false;

  uint16_t local_mru_ = kDefaultMru;
  std::optional<uint32_t> local_magic_;
  uint16_t peer_mru_ = kDefaultMru;
  std::optional<uint32_t> peer_magic_;
  std::optional<AuthMethod> auth_method_;
  std::string auth_reason_;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_LCP_H_
