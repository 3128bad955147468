// The PPP client of the SSTP daemon (no pppd): LCP, authentication, IPCP,
// IPv6CP and LCP keepalive over the PPP frames SSTP carries.
//
// Pure: each event returns the ClientActions to perform (client_actions.h
// says what the caller does with them). No I/O, no clock; randomness is
// injected.
//
//   PppClient ppp(config, random);
//   SSTP CALL_CONNECT_ACK accepted    -> run(ppp.Up());
//   PPP control frame received        -> f = DecodeFrame(bytes);
//                                        run(ppp.OnFrame(f.protocol,
//                                                        f.information));
//   timer expired                     -> run(ppp.OnTimer(id));
//   user disconnect                   -> run(ppp.Close("User request"));
//                                        (then wait for Finished)
//   transport gone                    -> run(ppp.Down());
//
// What the session does with the results:
//   Authenticated   send SSTP CALL_CONNECTED with the crypto binding
//                   (MS-SSTP 3.2.5.2) from its HLAK.
//   Ipv4Up, Ipv6Up  addresses for the TUN device (interface MTU: at most
//                   peer_mru()).
//   NetworkReady    bring the interface up; data may flow.
//   LinkFailed      end the call; do not retry when auth_failure is set.
//   Finished        the orderly Close() is complete.
// After LinkFailed or Finished the client ignores every event.
//
// The link (RFC 1661 3.2 phases):
//   Establish     LCP (lcp.h has the option policy; the server's LCP
//                 frames may be compressed, ours never are).
//   Authenticate  the method the server asked for and we Acked
//                 (auth_client.h), bounded by auth_timeout. A server that
//                 asks for no authentication is accepted: Authenticated with
//                 no method and a zero HLAK, logged as a warning.
//   Network       IPCP and IPv6CP, as wanted (ncp.h). A family the server
//                 Protocol-Rejects, rejects or never agrees on is turned off
//                 (logged); if no wanted family remains: LinkFailed. LCP
//                 Echo-Requests run every echo_interval once LCP is Opened.
//   Terminate     after Close().
// LCP renegotiation started by the server (a Configure-Request in Opened)
// restarts authentication cleanly while it has not succeeded yet (SoftEther
// does this after Protocol-Rejecting an EAP Nak). Once Authenticated was
// emitted it ends the link instead: the SSTP crypto binding is done once and
// cannot follow a second authentication.
//
// Frames of protocols the client does not run are Protocol-Rejected only
// where RFC 1661 allows it: never before LCP is Opened (3.4: discarded),
// during authentication only link-layer protocols (3.5: network-layer
// packets are discarded), and everything unknown in the Network phase. IP
// data of a family still negotiating is discarded, not rejected (a
// Protocol-Reject of IPv4 would make the server close IPCP); IP data of a
// family that is not wanted or turned off is rejected.
//
// Not thread-safe; one per connection. `random` outlives the client.
#ifndef SSTP_KTLS_DAEMON_PPP_CLIENT_H_
#define SSTP_KTLS_DAEMON_PPP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/random.h"
#include "base/secret.h"
#include "daemon/ppp/auth_client.h"
#include "daemon/ppp/client_actions.h"
#include "daemon/ppp/control_protocol.h"
#include "daemon/ppp/fsm.h"
#include "daemon/ppp/lcp.h"
#include "daemon/ppp/ncp.h"

namespace sstp::ppp {

struct ClientConfig {
  std::string user_name;
  SecretString password;  // Never logged.
  // Allowed methods, in order of preference (lcp.h: the EAP policy).
  std::vector<AuthMethod> auth_methods = {AuthMethod::kMsChapV2,
                                          AuthMethod::kEapMsChapV2};
  // Our MRU, requested in every LCP Configure-Request. [576, 4091].
  uint16_t mru = 1400;
  bool want_ipv4 = true;
  bool want_ipv6 = true;
  bool want_dns = true;  // Ask IPCP for Primary- and Secondary-DNS.
  // LCP Echo-Request period once LCP is Opened; zero disables it. After
  // `echo_failures` unanswered requests the link is declared dead.
  absl::Duration echo_interval = absl::Seconds(30);
  int echo_failures = 4;
  // RFC 1661 4.6, for LCP, IPCP and IPv6CP (and PAP retransmission).
  absl::Duration restart_timer = absl::Seconds(3);
  int max_configure = 10;
  int max_terminate = 2;
  int max_failure = 5;
  // The whole Authenticate phase.
  absl::Duration auth_timeout = absl::Seconds(30);
  Logger logger = Logger("ppp");
};

// Checks ranges and consistency, with a message naming the field ("PPP MRU
// 100 outside [576, 4091]", "no authentication method allowed", "neither
// IPv4 nor IPv6 wanted").
absl::Status ValidateClientConfig(const ClientConfig& config);

class PppClient final : private LayerObserver {
 public:
  // An invalid `config` (ValidateClientConfig) makes Up() fail the link
  // with that error.
  PppClient(ClientConfig config, Random& random);
  ~PppClient() override;

  PppClient(const PppClient&) = delete;
  PppClient& operator=(const PppClient&) = delete;

  // The lower layer (SSTP, CALL_CONNECT_ACK accepted) is up: LCP Open + Up,
  // the first Configure-Request goes out. Only once.
  ClientActions Up();
  // One received PPP frame, split by DecodeFrame().
  ClientActions OnFrame(uint16_t protocol,
                        absl::Span<const uint8_t> information);
  ClientActions OnTimer(TimerId id);
  // Orderly close: LCP Terminate-Request (with `reason` as its text), then
  // Finished when the server's Terminate-Ack arrives or max_terminate
  // requests went unanswered. Before LCP has started, Finished at once.
  ClientActions Close(absl::string_view reason);
  // The transport is gone: stop every timer; Finished if a Close() was in
  // progress, nothing else otherwise (the session knows). Final.
  ClientActions Down();

  Phase phase() const { return phase_; }
  bool finished() const { return finished_; }
  // LCP values as negotiated (lcp.h).
  uint16_t local_mru() const { return lcp_negotiator_.local_mru(); }
  uint16_t peer_mru() const { return lcp_negotiator_.peer_mru(); }
  std::optional<uint32_t> local_magic() const {
    return lcp_negotiator_.local_magic();
  }
  std::optional<uint32_t> peer_magic() const {
    return lcp_negotiator_.peer_magic();
  }
  // The authentication method agreed at LCP (nullopt: none, or LCP not
  // Opened yet).
  std::optional<AuthMethod> auth_method() const;
  // RFC 1661 automaton states, for status displays and tests.
  State lcp_state() const { return lcp_.state(); }
  State ipcp_state() const { return ipcp_.state(); }
  State ipv6cp_state() const { return ipv6cp_.state(); }

 private:
  // One network-layer family (IPv4 via IPCP, IPv6 via IPv6CP).
  struct Family {
    absl::string_view name;  // "IPCP", "IPv6CP"
    bool wanted = false;
    bool started = false;
    bool up = false;
    bool off = false;
    std::string off_reason;
  };

  // LayerObserver.
  void LayerUp(ControlProtocol& layer) override;
  void LayerDown(ControlProtocol& layer) override;
  void LayerFinished(ControlProtocol& layer, const absl::Status& why) override;
  void LayerGaveUp(ControlProtocol& layer, const absl::Status& why) override;

  void EnterPhase(Phase next);
  void OnLcpFrame(absl::Span<const uint8_t> information);
  void OnProtocolReject(absl::Span<const uint8_t> data);
  void OnAuthFrame(uint16_t protocol, absl::Span<const uint8_t> information);
  void HandleAuthResult(AuthResult result);
  void OnEchoTimer();
  void StartEcho();
  void StartNetworkPhase(std::optional<AuthMethod> method,
                         const SecretArray<32>& hlak);
  void FamilyOff(ControlProtocol& layer, const std::string& reason);
  void CheckNetworkReady();
  // Frames of protocols we do not run (see the header comment).
  void RejectOrDiscard(uint16_t protocol,
                       absl::Span<const uint8_t> information);
  void SendProtocolReject(uint16_t protocol,
                          absl::Span<const uint8_t> information);
  // The link failed: LCP Terminate-Request if LCP is still negotiating or
  // open, every timer stopped, LinkFailed, then nothing more.
  void Fail(absl::Status reason, bool auth_failure);
  void Finish();
  Family& FamilyOf(const ControlProtocol& layer);
  ClientActions TakeActions() { return sink_.Take(); }

  const ClientConfig config_;
  const absl::Status config_status_;
  Random& random_;
  const Logger& logger_;
  ActionSink sink_;
  AuthSettings auth_settings_;

  LcpNegotiator lcp_negotiator_;
  IpcpNegotiator ipcp_negotiator_;
  Ipv6cpNegotiator ipv6cp_negotiator_;
  ControlProtocol lcp_;
  ControlProtocol ipcp_;
  ControlProtocol ipv6cp_;
  Family ipv4_;
  Family ipv6_;
  std::unique_ptr<AuthClient> auth_;

  Phase phase_ = Phase::kDead;
  bool started_ = false;      // Up() was called
  bool closing_ = false;      // Close() was called
  bool finished_ = false;     // LinkFailed or Finished emitted
  bool authenticated_ = false;  // Authenticated emitted
  bool network_ready_ = false;  // NetworkReady emitted
  bool echo_enabled_ = false;
  int echo_outstanding_ = 0;
  uint8_t next_echo_id_ = 1;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_CLIENT_H_
