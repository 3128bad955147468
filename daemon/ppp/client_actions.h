// The vocabulary of the PPP client (client.h): its timers, its phases, the
// authentication methods a profile may allow, and the actions it hands to the
// session, plus ActionSink, the collector its parts write those actions to.
//
// The client is pure: an event goes in, a list of ClientActions comes out,
// deterministically. The caller (the session):
//   - sends every SendFrame as one PPP frame (FF 03 + protocol + information,
//     see frame.h), in order;
//   - runs one real timer per TimerId: StartTimer arms it (replacing a running
//     one of the same id), StopTimer cancels it, and an expiry is fed back
//     with PppClient::OnTimer(id). Expiries of timers the client no longer
//     runs (stale completions) are ignored;
//   - acts on the other actions (Authenticated, Ipv4Up, ...) as client.h
//     describes.
//
// Not thread-safe; one per connection.
#ifndef SSTP_KTLS_DAEMON_PPP_CLIENT_ACTIONS_H_
#define SSTP_KTLS_DAEMON_PPP_CLIENT_ACTIONS_H_

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"
#include "daemon/ppp/options.h"

namespace sstp::ppp {

// The authentication methods the client implements, as a profile lists them
// (in order of preference).
enum class AuthMethod {
  kMsChapV2,     // CHAP algorithm 0x81 (RFC 2759)
  kEapMsChapV2,  // EAP (RFC 3748) Type 26 (draft-kamath-pppext-eap-mschapv2)
  kChapMd5,      // CHAP algorithm 5 (RFC 1994)
  kPap,          // RFC 1334
};
// "MS-CHAPv2", "EAP-MSCHAPv2", "CHAP-MD5", "PAP".
absl::string_view AuthMethodName(AuthMethod method);

// RFC 1661 3.2, the phases of a PPP link.
enum class Phase {
  kDead,          // Before Up(), and after the link failed or finished.
  kEstablish,     // LCP negotiating.
  kAuthenticate,  // LCP Opened, authenticating.
  kNetwork,       // Authenticated; IPCP / IPv6CP.
  kTerminate,     // Close(): LCP Terminate-Request sent.
};
absl::string_view PhaseName(Phase phase);  // "Dead", "Establish", ...

// One real timer per id.
enum class TimerId {
  kLcpRestart,       // RFC 1661 4.6 Restart timer of LCP
  kIpcpRestart,      // ... of IPCP
  kIpv6cpRestart,    // ... of IPv6CP
  kAuthRetransmit,   // PAP Authenticate-Request retransmission (RFC 1334 2.2)
  kAuthTimeout,      // the whole Authenticate phase
  kEcho,             // LCP Echo-Request interval
};
inline constexpr int kNumTimerIds = 6;
absl::string_view TimerIdName(TimerId id);  // "LcpRestart", ...

// Send one PPP frame: FF 03 + `protocol` + `information`.
struct SendFrame {
  uint16_t protocol = 0;
  std::vector<uint8_t> information;
  // The information holds a secret in clear (a PAP Authenticate-Request):
  // the caller wipes the bytes (WipeBytes) once they are written, and never
  // logs them.
  bool holds_secret = false;
};
struct StartTimer {
  TimerId id = TimerId::kLcpRestart;
  absl::Duration after;
};
struct StopTimer {
  TimerId id = TimerId::kLcpRestart;
};
// Authentication succeeded (or the server asked for none): the session sends
// SSTP CALL_CONNECTED with the crypto binding computed from `hlak`
// (MS-SSTP 3.2.5.2). MS-CHAPv2 and EAP-MSCHAPv2: MasterSendKey ||
// MasterReceiveKey (RFC 3079); PAP, CHAP-MD5 and no authentication: 32 zero
// bytes. Emitted once per link.
struct Authenticated {
  std::optional<AuthMethod> method;  // nullopt: the server asked for none.
  SecretArray<32> hlak;
};
// IPCP reached Opened (RFC 1332). May come again if the server renegotiates
// IPCP; the latest values hold.
struct Ipv4Up {
  Ipv4Address local{};
  std::optional<Ipv4Address> peer;  // The server's IP-Address, if it sent one.
  std::optional<Ipv4Address> dns1;  // RFC 1877 Primary-DNS, if given.
  std::optional<Ipv4Address> dns2;  // RFC 1877 Secondary-DNS, if given.
};
// IPv6CP reached Opened (RFC 5072): the interface identifiers for the
// link-local addresses fe80::<id>.
struct Ipv6Up {
  InterfaceIdentifier local{};
  std::optional<InterfaceIdentifier> peer;
};
// Every wanted network protocol is either up or given up (at least one is
// up): the session may bring the interface up. Emitted once per link.
struct NetworkReady {};
// The link failed; the client is finished and ignores further events. The
// session tears the call down. `auth_failure`: the server refused our
// credentials or permission (wrong password, account disabled, no dial-in
// permission): do not retry. Otherwise `reason.code()` says what kind of
// failure it was:
//   kFailedPrecondition  configuration mismatch (no common authentication
//                        method, no network protocol): retrying won't help
//   kUnauthenticated     the server failed mutual authentication (S=)
//   kDeadlineExceeded    a negotiation got no answer
//   kUnavailable         LCP echo: the server stopped answering
//   kAborted             the server terminated the link
//   kInvalidArgument     the configuration is invalid (ValidateClientConfig)
struct LinkFailed {
  absl::Status reason;
  bool auth_failure = false;
};
// LCP is closed after Close() (Terminate-Ack received, or its retries ran
// out), or Down() came during a Close(). The client is finished.
struct Finished {};

using ClientAction =
    std::variant<SendFrame, StartTimer, StopTimer, Authenticated, Ipv4Up,
                 Ipv6Up, NetworkReady, LinkFailed, Finished>;
using ClientActions = std::vector<ClientAction>;

// One line for logs and tests, e.g. "send LCP Configure-Request(1), start
// LcpRestart 3s". Never shows frame contents (a PAP request holds the
// password).
std::string DescribeAction(const ClientAction& action);
std::string DescribeActions(const ClientActions& actions);

// Where the client's parts put their actions. Tracks which timers run (so
// that StopTimer is emitted only for a running one and a stale expiry can be
// recognised). Once Seal()ed, nothing more is recorded: the link is over.
class ActionSink {
 public:
  void Send(uint16_t protocol, std::vector<uint8_t> information,
            bool holds_secret = false);
  void StartTimer(TimerId id, absl::Duration after);
  // Emits StopTimer only if the timer runs.
  void StopTimer(TimerId id);
  void StopAllTimers();
  // The timer fired: it no longer runs. Returns false if it was not running
  // (a stale expiry, to be ignored).
  bool Expired(TimerId id);
  bool TimerRunning(TimerId id) const;
  // Any other action.
  void Emit(ClientAction action);

  void Seal() { sealed_ = true; }
  bool sealed() const { return sealed_; }

  // The actions collected since the last call.
  ClientActions Take();

 private:
  ClientActions actions_;
  std::bitset<kNumTimerIds> running_;
  bool sealed_ = false;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_CLIENT_ACTIONS_H_
