// The vocabulary shared by the SSTP call state machines (client.h, server.h)
// and the part of MS-SSTP 3.1 that both sides run the same way: the Call
// Abort and Call Disconnect sub-machines (3.1.1.1), their timers (3.1.2.1,
// 3.1.2.2) and the Hello timer (3.1.2.3).
//
// The state machines are pure: an event goes in, a list of Actions comes out,
// deterministically. They own no socket, clock or timer. The caller:
//   - writes every SendPacket to the transport, in order;
//   - runs one real timer per TimerId: StartTimer arms it (replacing a timer
//     of the same id that is still running), StopTimer cancels it, and an
//     expiry is fed back with OnTimer(id). An expiry of a timer the machine
//     no longer runs (a stale completion) is ignored;
//   - on CallEnded closes the transport and stops feeding events (later
//     events are ignored and return no actions).
//
// Thread-safety: none; one machine per connection, used from one thread.
#ifndef SSTP_KTLS_DAEMON_SSTP_CALL_H_
#define SSTP_KTLS_DAEMON_SSTP_CALL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "daemon/sstp/crypto_binding.h"
#include "daemon/sstp/hash_protocol.h"
#include "daemon/sstp/packet.h"

namespace sstp::proto {

// The states of MS-SSTP 3.2.1 (client), 3.3.1 (server) and 3.1.1.1 (both),
// spelled as the spec does by CallStateName(). A client only ever enters the
// client and common states, a server the server and common states.
//
// The *_In_Progress_* states are the spec's transient states: the machine
// passes through them inside one event (sending the CALL_ABORT or the
// CALL_DISCONNECT[_ACK] and starting the timer there) and never rests in
// them between events; the log shows them.
enum class CallState {
  // MS-SSTP 3.2.1.
  kClientCallDisconnected,
  kClientConnectRequestSent,
  kClientConnectAckReceived,
  kClientCallConnected,
  // MS-SSTP 3.3.1.
  kServerCallDisconnected,
  kServerConnectRequestPending,
  kServerCallConnectedPending,
  kServerCallConnected,
  // MS-SSTP 3.1.1.1.2 (Call Abort).
  kCallAbortInProgress1,
  kCallAbortInProgress2,
  kCallAbortPending,
  kCallAbortTimeoutPending,
  // MS-SSTP 3.1.1.1.1 (Call Disconnect).
  kCallDisconnectInProgress1,
  kCallDisconnectInProgress2,
  kCallDisconnectAckPending,
  kCallDisconnectTimeoutPending,
};

// "Client_Connect_Request_Sent", "Call_Abort_Pending", ...
absl::string_view CallStateName(CallState state);

// One real timer per id.
enum class TimerId {
  kNegotiation,  // MS-SSTP 3.2.2.1 / 3.3.2.1.
  kHello,        // MS-SSTP 3.1.2.3.
  kAbort,        // TIMER_VAL_ABORT_STATE_TIMER_1 and _2 (3.1.2.1).
  kDisconnect,   // TIMER_VAL_DISCONNECT_STATE_TIMER_1 and _2 (3.1.2.2).
};
absl::string_view TimerIdName(TimerId id);  // "Negotiation", "Hello", ...

// MS-SSTP 3.1.2.1 and 3.1.2.2: "SHOULD be set" values.
inline constexpr absl::Duration kAbortStateTimer1 = absl::Seconds(3);
inline constexpr absl::Duration kAbortStateTimer2 = absl::Seconds(1);
inline constexpr absl::Duration kDisconnectStateTimer1 = absl::Seconds(5);
inline constexpr absl::Duration kDisconnectStateTimer2 = absl::Seconds(1);
// MS-SSTP 3.1.2.3, 3.2.2.1, 3.3.2.1.
inline constexpr absl::Duration kDefaultHelloInterval = absl::Seconds(60);
inline constexpr absl::Duration kDefaultNegotiationTimeout = absl::Seconds(60);

// Write these bytes (one whole SSTP packet) to the transport.
struct SendPacket {
  std::vector<uint8_t> bytes;
};
// Arm timer `id` to expire after `after`, replacing a running one.
struct StartTimer {
  TimerId id = TimerId::kNegotiation;
  absl::Duration after;
};
struct StopTimer {
  TimerId id = TimerId::kNegotiation;
};
// MS-SSTP 3.1.7.1 "Lower Link Up": PPP may start and PPP control frames may
// flow (client: CALL_CONNECT_ACK accepted; server: CALL_CONNECT_REQUEST
// accepted and CALL_CONNECT_ACK sent). Always after the SendPacket that
// precedes it, so that no PPP frame overtakes the ACK.
struct PppMayStart {};
// PPP data frames may flow (client: CALL_CONNECTED sent, after its
// SendPacket; server: a CALL_CONNECTED whose crypto binding verified).
struct CallConnected {};
// The call is over and the transport must be closed now. `reason` is OK for
// an orderly disconnect; otherwise it says what happened, naming the message
// and the state. `by_peer`: the far end ended the call (CALL_ABORT,
// CALL_DISCONNECT, closed transport) rather than this side.
struct CallEnded {
  absl::Status reason;
  bool by_peer = false;
};

using Action = std::variant<SendPacket, StartTimer, StopTimer, PppMayStart,
                            CallConnected, CallEnded>;
using Actions = std::vector<Action>;

// One line for logs and tests, e.g. "stop Negotiation, send
// CALL_ABORT[UNACCEPTED_FRAME_RECEIVED], start Abort 3s". A sent control
// message shows its STATUS_INFOs as STATUS or STATUS/ATTRIBUTE; a data packet
// as data(N); CallEnded as ended(CODE) or ended(CODE, by peer).
std::string DescribeActions(const Actions& actions);

// The server certificate's hashes as Cert Hash fields (MS-SSTP 2.2.7), from
// ComputeCertHash(): the client gets them from its TLS layer
// (ClientCertificateHash, 3.2.1), the server from its configuration
// (ServerCertificateHash, 3.3.1).
struct CertificateHashes {
  CryptoBindingField sha1{};
  CryptoBindingField sha256{};
  const CryptoBindingField& For(HashProtocol hash) const;
};

// "SHA1", "SHA256".
absl::string_view HashProtocolName(HashProtocol hash);

// "ATTRIB_STATUS_VALUE_NOT_SUPPORTED for attribute CRYPTO_BINDING", for
// logs and CallEnded reasons. Unknown values are shown in hex.
std::string FormatStatusInfo(const StatusInfo& info);

// The MS-SSTP 3.1 machinery common to client and server. SstpClient and
// SstpServer each own one and implement their own call establishment on top;
// it is not meant for other users.
//
// It keeps the state, logs every change (info level, "A -> B"), collects the
// actions of the current event, tracks which timers run, runs the abort and
// disconnect sub-machines and the Hello timer, and ends the call.
class CallCore {
 public:
  struct Params {
    CallState idle_state = CallState::kClientCallDisconnected;
    CallState connected_state = CallState::kClientCallConnected;
    absl::string_view peer = "server";  // Who is at the other end, for text.
    absl::Duration hello_interval = kDefaultHelloInterval;
  };
  CallCore(const Params& params, Logger logger);

  CallState state() const { return state_; }
  // CallEnded has been emitted; every later event is ignored.
  bool ended() const { return ended_; }
  bool timer_running(TimerId id) const;
  // Call_Abort_Pending, Call_Abort_Timeout_Pending,
  // Call_Disconnect_Ack_Pending or Call_Disconnect_Timeout_Pending: the call
  // is going down and most messages are ignored (3.2.5.3, 3.3.5.2).
  bool ShuttingDown() const;
  const Logger& logger() const { return logger_; }
  absl::string_view peer() const { return peer_; }

  // The actions collected since the last call, which are handed out.
  Actions TakeActions();

  void EnterState(CallState next);
  void Send(std::vector<uint8_t> bytes);
  void Emit(Action action);
  void StartTimer(TimerId id, absl::Duration after);
  // Emits StopTimer only if the timer runs.
  void StopTimer(TimerId id);

  // MS-SSTP 3.1.5.1: Call_Abort_In_Progress_1, send CALL_ABORT with
  // `status`, start TIMER_VAL_ABORT_STATE_TIMER_1, Call_Abort_Pending. The
  // call ends with `reason` when the peer's CALL_ABORT and T2, or T1, or the
  // transport close, complete the abort.
  void Abort(std::optional<StatusInfo> status, absl::Status reason);
  // Abort for a message that is valid but not acceptable in this state
  // (STATUS_INFO UNACCEPTED_FRAME_RECEIVED); ignored while shutting down.
  void Unexpected(MessageType type);
  // MS-SSTP 3.1.5.1 / 3.2.5.3.1: a packet that ParsePacket() refused. While
  // shutting down it is ignored (only a valid CALL_ABORT or
  // CALL_DISCONNECT[_ACK] matters then); otherwise the call is aborted with
  // the STATUS_INFO from GetParseErrorDetail().
  void Malformed(const absl::Status& error);
  // MS-SSTP 3.1.5.1: the stream cannot be delineated: end at once, sending
  // nothing.
  void FramingError(const absl::Status& error);

  // MS-SSTP 3.2.4.2 / 3.3.4 disconnect from the higher layer:
  // Call_Disconnect_In_Progress_1, send CALL_DISCONNECT (STATUS_INFO
  // NO_ERROR), TIMER_VAL_DISCONNECT_STATE_TIMER_1,
  // Call_Disconnect_Ack_Pending. Ignored while shutting down.
  void Disconnect();

  // MS-SSTP 3.2.5.3.4-6 / 3.3.5.2.4-6.
  void OnCallAbort(const ControlMessage& message);
  void OnCallDisconnect(const ControlMessage& message);
  void OnCallDisconnectAck();

  // MS-SSTP 3.1.2.3, Hello timer. ArmHello() starts it on entering the
  // connected state. RestartHello(): a control packet was received there.
  // NoteActivity(): a data packet was received; for the data plane this only
  // sets a flag, and the next expiry re-arms the timer instead of sending an
  // ECHO_REQUEST.
  void ArmHello();
  void RestartHello();
  void NoteActivity() { activity_since_hello_ = true; }

  // Timer `id` expired. Returns false if it was not running (stale: ignore)
  // and otherwise marks it stopped and returns true. For kAbort,
  // kDisconnect and kHello it then does what 3.1.6 says; the owner handles
  // kNegotiation.
  bool OnTimer(TimerId id);

  // MS-SSTP 3.1.7.2 "HTTPS connection disconnected": clean up at once.
  void OnTransportClosed();

  // Stops the running timers, emits CallEnded and returns to the idle state.
  void End(absl::Status reason, bool by_peer);

 private:
  void OnHelloExpired();
  void StopTimersExcept(TimerId keep);

  CallState state_;
  const CallState idle_state_;
  const CallState connected_state_;
  const std::string peer_;
  const absl::Duration hello_interval_;
  Logger logger_;
  Actions actions_;
  unsigned running_timers_ = 0;  // Bit per TimerId.
  bool ended_ = false;
  // Why the call ends once the abort or disconnect sequence completes.
  absl::Status pending_reason_;
  bool pending_by_peer_ = false;
  // Hello timer (3.1.2.3).
  bool activity_since_hello_ = false;
  bool echo_outstanding_ = false;
};

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_CALL_H_
