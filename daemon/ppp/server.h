// The server side of PPP for the project's SSTP test server (tools/): LCP,
// authentication (server_auth.h), IPCP and IPv6CP as an RFC 1661 peer that
// can be told to behave like the servers met in the field (SSTP-NOTES "Real
// servers: behaviour to expect"):
//
//   kWindows    RRAS: offers MRU 4091, MS-CHAPv2 (or EAP when EAP-only),
//               Magic, Callback, MRRU, Endpoint Discriminator; follows the
//               client's Nak when it names a method it allows, else asks again.
//   kSoftEther  SoftEther 5.01: offers EAP alone; any Nak or Reject moves it
//               along EAP -> MS-CHAPv2 -> PAP whatever the Nak says; EAP is
//               EAP-TLS only, and a legacy Nak to it ends in the documented
//               stall; rejects ACCM, Magic, PFC, ACFC; MRU 100..1500; drops
//               frames without FF 03; IPCP waits ~1.3 s, gives IP + DNS1 and
//               rejects DNS2.
//   kAccel      accel-ppp: offers Auth, MRU 1452, Magic; walks its method list
//               (PAP, CHAP-MD5, MS-CHAPv2) on Nak or Reject; no EAP; IPv6CP
//               off (Protocol-Reject).
//   kStrict     Windows' offer, and any protocol violation by the client ends
//               the link with a reason naming it.
// Every behaviour is also a field of PppServerConfig, so tests can mix them.
//
// Pure: no I/O, no clock. Events in (Up, OnFrame, OnTimer, Close, Down),
// Actions out, which the caller performs in order: it frames and sends
// SendFrame (EncodeFrame), runs the timers, hands Authenticated's HLAK to the
// SSTP server state machine (OnPppAuthenticated) and tears the call down on
// LinkDown. After LinkDown the object ignores every event.
//
// Randomness (magic number, challenges) comes from the injected Random, in
// this order: the magic number (4 bytes) in Up(); another 4 only if the
// client Naks ours or sends a zero or looped-back Magic-Number; 16 bytes per
// challenge when authentication starts; 16 more for a Windows-style Failure's
// C=. Tests feed a FixedRandom accordingly.
//
// Not thread-safe; one per connection; `random` must outlive the object.
#ifndef SSTP_KTLS_DAEMON_PPP_SERVER_H_
#define SSTP_KTLS_DAEMON_PPP_SERVER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/random.h"
#include "base/secret.h"
#include "daemon/ppp/fsm.h"
#include "daemon/ppp/options.h"
#include "daemon/ppp/packet.h"
#include "daemon/ppp/server_auth.h"

namespace sstp::ppp {

enum class ServerPersonality { kWindows, kSoftEther, kAccel, kStrict };
absl::string_view ServerPersonalityName(ServerPersonality personality);

// How the server reacts to a Configure-Nak or Configure-Reject of its
// Authentication-Protocol option.
enum class ServerAuthNakPolicy {
  // Windows: a Nak naming a method in the list switches to it; any other Nak
  // asks for the same method again (an EAP-only server "keeps asking for
  // EAP", SSTP-NOTES). A Reject ends the link: the client refuses to
  // authenticate.
  kFollowSuggestion,
  // SoftEther and accel-ppp (ppp_auth.c: auth_recv_conf_nak): a Nak or a
  // Reject marks the current method refused, whatever the Nak suggests, and
  // the server offers the next method of its list that was not refused; when
  // none is left it ends the link.
  kNextInList,
};

// RFC 1990 5.1.3 Endpoint Discriminator.
struct EndpointDiscriminator {
  uint8_t discriminator_class = 1;  // 1: locally assigned address
  std::vector<uint8_t> address;
};

// Start from ForPersonality(); the in-class defaults are a plain RFC 1661
// server (no MRU offered, MS-CHAPv2, Magic-Number), not any field server.
struct PppServerConfig {
  // Every knob set as `personality` implies (SetPersonality()); users, pool
  // and timers keep their defaults.
  static PppServerConfig ForPersonality(ServerPersonality personality);

  ServerPersonality personality = ServerPersonality::kWindows;

  // --- Framing -----------------------------------------------------------
  // SoftEther drops frames without FF 03 without a word (SSTP-NOTES).
  bool drop_frames_without_address_control = false;
  // Any protocol violation by the client ends the link (LCP
  // Terminate-Request carrying the reason, then LinkDown with it): a frame
  // without FF 03, a Configure-Request asking PFC or ACFC, a malformed or
  // unexpected packet, a packet of a phase not reached yet. Otherwise the
  // server does what RFC 1661 says (discard, reject) and logs.
  bool strict = false;

  // --- LCP: the server's Configure-Request -------------------------------
  uint8_t first_lcp_identifier = 1;
  std::optional<uint16_t> offer_mru;
  bool offer_magic_number = true;
  std::optional<uint8_t> offer_callback_operation;  // RFC 1570 2.3; 6: CBCP
  std::optional<uint16_t> offer_mrru;               // RFC 1990 5.1.1
  std::optional<EndpointDiscriminator> offer_endpoint_discriminator;
  // Authentication-Protocol first in the request (accel-ppp, SoftEther) or
  // after MRU (Windows).
  bool auth_option_first = false;

  // --- LCP: the client's Configure-Request -------------------------------
  // MRU outside [min, max] is Nak'd with the nearest bound.
  uint16_t min_peer_mru = 64;
  uint16_t max_peer_mru = 4091;
  bool reject_accm = false;
  bool reject_magic_number = false;
  bool reject_pfc = false;
  bool reject_acfc = false;

  // --- Authentication ----------------------------------------------------
  // Offered in this order; the first one is in the first Configure-Request.
  // Empty: no authentication (Authenticated is never emitted).
  std::vector<AuthProtocol> auth_methods = {AuthProtocol::kMsChapV2};
  ServerAuthNakPolicy auth_nak_policy = ServerAuthNakPolicy::kFollowSuggestion;
  ServerAuthConfig auth;

  // --- IPCP (RFC 1332, RFC 1877) -----------------------------------------
  Ipv4Address server_address = {192, 168, 90, 1};
  Ipv4Address client_address = {192, 168, 90, 2};
  std::optional<Ipv4Address> primary_dns = Ipv4Address{192, 168, 90, 53};
  std::optional<Ipv4Address> secondary_dns = Ipv4Address{192, 168, 90, 54};
  // SoftEther rejects the secondary DNS option even with a second server.
  bool reject_secondary_dns = false;
  // Passive IPCP: the server sends nothing until the client's first IPCP
  // Configure-Request, then waits `ipcp_delay` (SoftEther's DHCP round,
  // ~1.3 s; a StartTimer the caller honours) before sending its own request
  // and answering the client's latest one.
  bool ipcp_wait_for_peer = false;
  absl::Duration ipcp_delay = absl::ZeroDuration();

  // --- IPv6CP (RFC 5072) --------------------------------------------------
  // Disabled: IPv6CP packets are Protocol-Rejected (accel-ppp's default).
  bool enable_ipv6cp = true;
  bool ipv6cp_wait_for_peer = false;
  InterfaceIdentifier server_interface_id = {0x02, 0x00, 0x5e, 0xff,
                                             0xfe, 0x00, 0x00, 0x01};
  InterfaceIdentifier client_interface_id = {0x02, 0x00, 0x5e, 0xff,
                                             0xfe, 0x00, 0x00, 0x02};

  // --- LCP echo (RFC 1661 5.8) -------------------------------------------
  // Zero: the server sends no Echo-Request (it always answers them).
  absl::Duration echo_interval = absl::ZeroDuration();
  std::vector<uint8_t> echo_data;  // after the Magic-Number
  // Unanswered Echo-Requests before the link is declared dead; 0: never
  // (SoftEther ignores Echo-Replies).
  int echo_max_unanswered = 3;

  // Restart timer, Max-Configure, Max-Terminate (RFC 1661 4.6).
  FsmConfig fsm;
  // RFC 1661 4.6 Max-Failure: Configure-Naks sent in a row before the
  // options still unacceptable are Configure-Rejected instead.
  int max_failure = 5;

  Logger logger = Logger("ppp-server");
};

// Applies the defaults of `personality` to every knob it implies.
void SetPersonality(PppServerConfig& config, ServerPersonality personality);

class PppServer {
 public:
  enum class TimerId {
    kLcpRestart,
    kAuth,  // retransmission of Challenges / EAP Requests
    kIpcpRestart,
    kIpv6cpRestart,
    kIpcpDelay,  // ipcp_delay
    kEcho,       // echo_interval
  };

  // RFC 1661 3.2 link phases.
  enum class Phase { kDead, kEstablish, kAuthenticate, kNetwork, kTerminate };

  // A PPP frame to send: Protocol and Information field (frame it with
  // EncodeFrame, which adds FF 03).
  struct SendFrame {
    uint16_t protocol = 0;
    std::vector<uint8_t> information;
  };
  struct StartTimer {
    TimerId id = TimerId::kLcpRestart;
    absl::Duration after;
  };
  struct StopTimer {
    TimerId id = TimerId::kLcpRestart;
  };
  // The client authenticated; `hlak` is the SSTP HLAK as the client computes
  // it (see AuthSucceeded), for the SSTP server to check the crypto binding.
  struct Authenticated {
    AuthProtocol method = AuthProtocol::kPap;
    std::string user;
    SecretArray<32> hlak;
  };
  // Authentication failed; the failure packet has been sent and the link is
  // being terminated (LinkDown follows).
  struct AuthFailed {
    AuthProtocol method = AuthProtocol::kPap;
    std::string user;
    std::string reason;
  };
  // IPCP reached Opened. The DNS addresses are those the client asked for
  // and the server acknowledged.
  struct Ipv4Up {
    Ipv4Address server_address{};
    Ipv4Address client_address{};
    std::optional<Ipv4Address> primary_dns;
    std::optional<Ipv4Address> secondary_dns;
  };
  // IPv6CP reached Opened.
  struct Ipv6Up {
    InterfaceIdentifier server_interface_id{};
    InterfaceIdentifier client_interface_id{};
  };
  // An IPv4 (0x0021) or IPv6 (0x0057) datagram received while its NCP is
  // Opened.
  struct DataReceived {
    uint16_t protocol = 0;
    std::vector<uint8_t> payload;
  };
  // The link is finished (RFC 1661 This-Layer-Finished, or the lower layer
  // went down). Last action ever emitted.
  struct LinkDown {
    std::string reason;
  };

  using Action = std::variant<SendFrame, StartTimer, StopTimer, Authenticated,
                              AuthFailed, Ipv4Up, Ipv6Up, DataReceived,
                              LinkDown>;
  using Actions = std::vector<Action>;

  PppServer(PppServerConfig config, Random& random);

  PppServer(const PppServer&) = delete;
  PppServer& operator=(const PppServer&) = delete;

  // The lower layer is up (SSTP: CALL_CONNECT_ACK sent): LCP sends its first
  // Configure-Request (RFC 1661 4.3 Up in Starting).
  Actions Up();
  // One received frame. `had_address_control_field`: whether it began with
  // FF 03 (DecodeFrame accepts both forms; the caller tells).
  Actions OnFrame(uint16_t protocol, absl::Span<const uint8_t> information,
                  bool had_address_control_field);
  Actions OnTimer(TimerId id);
  // Administrative close: LCP Terminate-Request carrying `reason`, LinkDown
  // once the client acknowledges or the restart timer gives up.
  Actions Close(absl::string_view reason);
  // The lower layer is down: LinkDown at once.
  Actions Down();

  Phase phase() const { return phase_; }
  State lcp_state() const { return lcp_.fsm.state(); }
  State ipcp_state() const { return ipcp_.fsm.state(); }
  State ipv6cp_state() const { return ipv6cp_.fsm.state(); }
  bool ended() const { return ended_; }
  // SoftEther's stall: EAP was abandoned and MS-CHAPv2 re-offered at LCP;
  // the server answers LCP but will never send a challenge.
  bool stalled() const { return stalled_; }
  // The method the server currently offers (or authenticates with).
  std::optional<AuthProtocol> offered_auth() const;
  uint32_t magic_number() const { return magic_number_; }
  // The client's MRU as acknowledged (1500 until then, RFC 1661 6.1).
  uint16_t peer_mru() const { return peer_mru_; }
  // The reason the link is ending or ended (empty while it is up).
  const std::string& end_reason() const { return end_reason_; }
  bool data_allowed(uint16_t protocol) const;

 private:
  // One RFC 1661 automaton and what the server keeps for it.
  struct Negotiation {
    Negotiation(uint16_t protocol, TimerId timer, const FsmConfig& config)
        : protocol(protocol), timer(timer), fsm(config) {}
    uint16_t protocol;
    TimerId timer;
    Automaton fsm;
    bool timer_running = false;
    uint8_t next_identifier = 1;
    // The outstanding Configure-Request (RFC 1661 5.2: an Ack must match it
    // exactly).
    bool request_outstanding = false;
    uint8_t request_identifier = 0;
    std::vector<uint8_t> request_options;
    // Prepared before the RCR event; sent on sca / scn.
    std::vector<uint8_t> reply;
    // The last Terminate-Request / unknown-code packet received, for sta and
    // scj.
    uint8_t received_identifier = 0;
    std::vector<uint8_t> rejected_packet;
    std::string terminate_data;
    int naks_in_a_row = 0;
  };

  // The evaluation of a client Configure-Request (RFC 1661 5.1-5.4): the
  // options to Configure-Reject, those to Configure-Nak (with the values the
  // server wants), and what an Ack would make the server record.
  struct Evaluation {
    bool discard = false;   // the option list itself is malformed
    std::string violation;  // ends the link in strict mode
    OptionListBuilder rejects;
    int reject_count = 0;
    OptionListBuilder naks;
    // The Nak'd options as received, for RFC 1661 4.6 Max-Failure.
    OptionListBuilder naks_as_rejects;
    int nak_count = 0;
    int naks_as_rejects_count = 0;
    // Recorded when the request is acknowledged.
    std::optional<uint16_t> peer_mru;
    std::optional<uint32_t> peer_magic;
    std::optional<Ipv4Address> client_address;
    std::optional<Ipv4Address> primary_dns;
    std::optional<Ipv4Address> secondary_dns;
    std::optional<InterfaceIdentifier> client_interface_id;

    void Reject(const Option& option) {
      rejects.Add(option);
      ++reject_count;
    }
    // `received` is null when the server Naks to ask for an option the
    // client left out (RFC 1661 5.3 allows that).
    void Nak(const Option* received, uint8_t type,
             absl::Span<const uint8_t> wanted) {
      naks.Add(type, wanted);
      ++nak_count;
      if (received != nullptr) {
        naks_as_rejects.Add(*received);
        ++naks_as_rejects_count;
      }
    }
  };

  Negotiation& NegotiationFor(uint16_t protocol);
  void Drive(Negotiation& n, Event event, Actions& out);
  void SendConfigureRequest(Negotiation& n, bool retransmission, Actions& out);
  void SendControl(Negotiation& n, Code code, uint8_t identifier,
                   absl::Span<const uint8_t> data, Actions& out);
  void ThisLayerUp(Negotiation& n, Actions& out);
  void ThisLayerDown(Negotiation& n, Actions& out);
  void ThisLayerFinished(Negotiation& n, Actions& out);

  void OnControlPacket(Negotiation& n, absl::Span<const uint8_t> information,
                       Actions& out);
  void OnConfigureRequest(Negotiation& n, const ControlPacket& packet,
                          Actions& out);
  void OnConfigureAck(Negotiation& n, const ControlPacket& packet,
                      Actions& out);
  void OnConfigureNakOrReject(Negotiation& n, const ControlPacket& packet,
                              Actions& out);
  void OnLcpOnlyCode(const ControlPacket& packet, Actions& out);
  std::optional<EchoData> ParseEchoChecked(const ControlPacket& packet,
                                           absl::string_view kind, Actions& out);

  // Option lists.
  std::vector<uint8_t> BuildLcpRequest() const;
  std::vector<uint8_t> BuildIpcpRequest() const;
  std::vector<uint8_t> BuildIpv6cpRequest() const;
  Evaluation EvaluateLcp(absl::Span<const uint8_t> options);
  Evaluation EvaluateIpcp(absl::Span<const uint8_t> options);
  Evaluation EvaluateIpv6cp(absl::Span<const uint8_t> options);
  // Apply the client's Nak/Reject to the next request. LCP sets
  // lcp_nak_fatal_ when no authentication method is left.
  void ApplyLcpNakOrReject(Code code, absl::Span<const uint8_t> options);
  void ApplyIpcpNakOrReject(Code code, absl::Span<const uint8_t> options);
  void ApplyIpv6cpNakOrReject(Code code, absl::Span<const uint8_t> options);
  void ApplyLcpAck();
  void OnAuthNakOrReject(Code code, absl::Span<const uint8_t> value);

  // Phases.
  void StartAuthentication(Actions& out);
  void HandleAuthStep(AuthStep step, Actions& out);
  void EnterNetworkPhase(Actions& out);
  void StartNcp(Negotiation& n, Actions& out);
  void OnNcpFrame(Negotiation& n, absl::Span<const uint8_t> information,
                  Actions& out);
  void OnSoftEtherStall(const AuthEapAbandoned& abandoned, Actions& out);
  void OnStalledLcp(const ControlPacket& packet, Actions& out);
  void SendEchoRequest(Actions& out);

  // Ends the link with `reason`: LCP Close (Terminate-Request), or LinkDown
  // at once when LCP has nothing to terminate.
  void EndLink(std::string reason, Actions& out);
  // A protocol violation by the client: ends the link in strict mode, logs
  // otherwise.
  void Violation(std::string what, Actions& out);
  void EmitLinkDown(Actions& out);
  void StartTimerAction(TimerId id, absl::Duration after, Actions& out);
  void StopTimerAction(TimerId id, Actions& out);

  PppServerConfig config_;
  Random& random_;
  const Logger& logger_;

  Phase phase_ = Phase::kDead;
  bool ended_ = false;
  bool up_called_ = false;
  std::string end_reason_;

  Negotiation lcp_;
  Negotiation ipcp_;
  Negotiation ipv6cp_;

  // LCP values.
  uint32_t magic_number_ = 0;
  bool magic_offered_ = false;  // still in our request
  bool magic_acked_ = false;    // our request with Magic-Number was acked
  uint32_t peer_magic_ = 0;     // the client's, as acknowledged
  uint16_t offered_mru_ = 0;
  bool mru_offered_ = false;
  bool callback_offered_ = false;
  bool mrru_offered_ = false;
  bool endpoint_offered_ = false;
  uint16_t peer_mru_ = 1500;
  size_t auth_index_ = 0;
  std::vector<bool> auth_refused_;
  int auth_naks_ = 0;
  bool auth_offered_ = false;

  // Authentication.
  std::optional<ServerAuthenticator> authenticator_;
  bool authenticated_ = false;
  bool stalled_ = false;
  uint8_t stall_request_identifier_ = 0;
  std::vector<uint8_t> stall_request_;
  bool stall_request_acked_ = false;
  int stall_transmissions_ = 0;

  // IPCP values.
  bool ipcp_address_offered_ = true;
  Ipv4Address acked_client_address_{};
  std::optional<Ipv4Address> acked_primary_dns_;
  std::optional<Ipv4Address> acked_secondary_dns_;
  bool ipcp_delay_running_ = false;
  std::vector<uint8_t> held_ipcp_request_;
  // IPv6CP values.
  bool interface_id_offered_ = true;
  InterfaceIdentifier server_interface_id_{};
  InterfaceIdentifier acked_client_interface_id_{};

  // Echo.
  int echo_unanswered_ = 0;
  bool echo_timer_running_ = false;

  bool auth_timer_running_ = false;
  // EndLink() called while an automaton runs its actions is deferred to the
  // end of that run, so that the rest of the RFC 1661 cell's actions are not
  // interleaved with the Close.
  int drive_depth_ = 0;
  std::optional<std::string> deferred_end_;
  // Set by the LCP Nak/Reject handling when no authentication is left.
  std::optional<std::string> lcp_nak_fatal_;
};

absl::string_view TimerIdName(PppServer::TimerId id);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_SERVER_H_
