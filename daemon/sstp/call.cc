#include "daemon/sstp/call.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sstp::proto {
namespace {

unsigned Bit(TimerId id) { return 1u << static_cast<unsigned>(id); }

constexpr TimerId kAllTimers[] = {TimerId::kNegotiation, TimerId::kHello,
                                  TimerId::kAbort, TimerId::kDisconnect};

// What the peer's CALL_ABORT or CALL_DISCONNECT said (MS-SSTP 2.2.13,
// 2.2.14: zero or one STATUS_INFO).
std::string DescribeStatus(const ControlMessage& message) {
  if (message.status_info.empty()) return "no STATUS_INFO";
  return FormatStatusInfo(message.status_info.front());
}

}  // namespace

absl::string_view CallStateName(CallState state) {
  switch (state) {
    case CallState::kClientCallDisconnected:
      return "Client_Call_Disconnected";
    case CallState::kClientConnectRequestSent:
      return "Client_Connect_Request_Sent";
    case CallState::kClientConnectAckReceived:
      return "Client_Connect_Ack_Received";
    case CallState::kClientCallConnected:
      return "Client_Call_Connected";
    case CallState::kServerCallDisconnected:
      return "Server_Call_Disconnected";
    case CallState::kServerConnectRequestPending:
      return "Server_Connect_Request_Pending";
    case CallState::kServerCallConnectedPending:
      return "Server_Call_Connected_Pending";
    case CallState::kServerCallConnected:
      return "Server_Call_Connected";
    case CallState::kCallAbortInProgress1:
      return "Call_Abort_In_Progress_1";
    case CallState::kCallAbortInProgress2:
      return "Call_Abort_In_Progress_2";
    case CallState::kCallAbortPending:
      return "Call_Abort_Pending";
    case CallState::kCallAbortTimeoutPending:
      return "Call_Abort_Timeout_Pending";
    case CallState::kCallDisconnectInProgress1:
      return "Call_Disconnect_In_Progress_1";
    case CallState::kCallDisconnectInProgress2:
      return "Call_Disconnect_In_Progress_2";
    case CallState::kCallDisconnectAckPending:
      return "Call_Disconnect_Ack_Pending";
    case CallState::kCallDisconnectTimeoutPending:
      return "Call_Disconnect_Timeout_Pending";
  }
  return "UNKNOWN";
}

absl::string_view TimerIdName(TimerId id) {
  switch (id) {
    case TimerId::kNegotiation:
      return "Negotiation";
    case TimerId::kHello:
      return "Hello";
    case TimerId::kAbort:
      return "Abort";
    case TimerId::kDisconnect:
      return "Disconnect";
  }
  return "UNKNOWN";
}

const CryptoBindingField& CertificateHashes::For(HashProtocol hash) const {
  switch (hash) {
    case HashProtocol::kSha1:
      return sha1;
    case HashProtocol::kSha256:
      return sha256;
  }
  return sha256;
}

absl::string_view HashProtocolName(HashProtocol hash) {
  switch (hash) {
    case HashProtocol::kSha1:
      return "SHA1";
    case HashProtocol::kSha256:
      return "SHA256";
  }
  return "UNKNOWN";
}

std::string FormatStatusInfo(const StatusInfo& info) {
  const absl::string_view name = StatusCodeName(info.status);
  std::string out = absl::StrCat("ATTRIB_STATUS_", name);
  if (name == "UNKNOWN") {
    absl::StrAppendFormat(&out, " (0x%08x)",
                          static_cast<uint32_t>(info.status));
  }
  if (info.attrib_id != kAttribIdNoError) {
    absl::StrAppend(&out, " for attribute ", AttribIdName(info.attrib_id));
    if (AttribIdName(info.attrib_id) == "UNKNOWN") {
      absl::StrAppendFormat(&out, " (%d)", info.attrib_id);
    }
  }
  return out;
}

namespace {

std::string DescribePacket(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<Packet> packet = ParsePacket(bytes);
  if (!packet.ok()) return absl::StrFormat("bytes(%d)", bytes.size());
  const ControlMessage* control = packet->control();
  if (control == nullptr) {
    return absl::StrFormat("data(%d)", packet->data()->payload.size());
  }
  std::string out(MessageTypeName(control->type));
  if (!control->status_info.empty()) {
    std::vector<std::string> parts;
    for (const StatusInfo& info : control->status_info) {
      std::string part(StatusCodeName(info.status));
      if (info.attrib_id != kAttribIdNoError) {
        absl::StrAppend(&part, "/", AttribIdName(info.attrib_id));
      }
      parts.push_back(std::move(part));
    }
    absl::StrAppend(&out, "[", absl::StrJoin(parts, ","), "]");
  }
  return out;
}

struct ActionDescriber {
  std::string operator()(const SendPacket& a) const {
    return absl::StrCat("send ", DescribePacket(a.bytes));
  }
  std::string operator()(const StartTimer& a) const {
    return absl::StrCat("start ", TimerIdName(a.id), " ",
                        absl::FormatDuration(a.after));
  }
  std::string operator()(const StopTimer& a) const {
    return absl::StrCat("stop ", TimerIdName(a.id));
  }
  std::string operator()(const PppMayStart&) const { return "ppp-may-start"; }
  std::string operator()(const CallConnected&) const {
    return "call-connected";
  }
  std::string operator()(const CallEnded& a) const {
    return absl::StrCat("ended(", absl::StatusCodeToString(a.reason.code()),
                        a.by_peer ? ", by peer" : "", ")");
  }
};

}  // namespace

std::string DescribeActions(const Actions& actions) {
  std::vector<std::string> parts;
  for (const Action& action : actions) {
    parts.push_back(std::visit(ActionDescriber{}, action));
  }
  return absl::StrJoin(parts, ", ");
}

CallCore::CallCore(const Params& params, Logger logger)
    : state_(params.idle_state),
      idle_state_(params.idle_state),
      connected_state_(params.connected_state),
      peer_(params.peer),
      hello_interval_(params.hello_interval),
      logger_(std::move(logger)) {}

bool CallCore::timer_running(TimerId id) const {
  return (running_timers_ & Bit(id)) != 0;
}

bool CallCore::ShuttingDown() const {
  return state_ == CallState::kCallAbortPending ||
         state_ == CallState::kCallAbortTimeoutPending ||
         state_ == CallState::kCallDisconnectAckPending ||
         state_ == CallState::kCallDisconnectTimeoutPending;
}

Actions CallCore::TakeActions() {
  Actions out = std::move(actions_);
  actions_.clear();
  return out;
}

void CallCore::EnterState(CallState next) {
  logger_.Info("SSTP %s -> %s", CallStateName(state_), CallStateName(next));
  state_ = next;
}

void CallCore::Send(std::vector<uint8_t> bytes) {
  actions_.push_back(SendPacket{std::move(bytes)});
}

void CallCore::Emit(Action action) { actions_.push_back(std::move(action)); }

void CallCore::StartTimer(TimerId id, absl::Duration after) {
  running_timers_ |= Bit(id);
  actions_.push_back(proto::StartTimer{id, after});
}

void CallCore::StopTimer(TimerId id) {
  if (!timer_running(id)) return;
  running_timers_ &= ~Bit(id);
  actions_.push_back(proto::StopTimer{id});
}

void CallCore::StopTimersExcept(TimerId keep) {
  for (TimerId id : kAllTimers) {
    if (id != keep) StopTimer(id);
  }
}

void CallCore::Abort(std::optional<StatusInfo> status, absl::Status reason) {
  logger_.Warning("SSTP aborting the call in %s: %s", CallStateName(state_),
                  reason.message());
  // The timers of the state being left no longer apply; the abort timer is
  // (re)started below.
  StopTimersExcept(TimerId::kAbort);
  EnterState(CallState::kCallAbortInProgress1);
  Send(EncodeCallAbort(status));
  StartTimer(TimerId::kAbort, kAbortStateTimer1);
  EnterState(CallState::kCallAbortPending);
  pending_reason_ = std::move(reason);
  pending_by_peer_ = false;
}

void CallCore::Unexpected(MessageType type) {
  if (ShuttingDown()) {
    logger_.Debug("SSTP ignoring %s in %s", MessageTypeName(type),
                  CallStateName(state_));
    return;
  }
  const std::string text =
      absl::StrFormat("unexpected %s from the %s in state %s",
                      MessageTypeName(type), peer_, CallStateName(state_));
  Abort(StatusInfo{kAttribIdNoError, StatusCode::kUnacceptedFrameReceived, {}},
        absl::FailedPreconditionError(text));
}

void CallCore::Malformed(const absl::Status& error) {
  if (ShuttingDown()) {
    logger_.Debug("SSTP ignoring a malformed packet in %s: %s",
                  CallStateName(state_), error.message());
    return;
  }
  const ParseErrorDetail detail =
      GetParseErrorDetail(error).value_or(ParseErrorDetail{});
  Abort(StatusInfo{detail.attrib_id, detail.status, {}},
        absl::InvalidArgumentError(
            absl::StrFormat("malformed packet from the %s in state %s: %s",
                            peer_, CallStateName(state_), error.message())));
}

void CallCore::FramingError(const absl::Status& error) {
  End(absl::InvalidArgumentError(absl::StrFormat(
          "SSTP stream from the %s cannot be delineated in state %s: %s", peer_,
          CallStateName(state_), error.message())),
      /*by_peer=*/false);
}

void CallCore::Disconnect() {
  if (ShuttingDown()) {
    logger_.Debug("SSTP disconnect request ignored in %s: already going down",
                  CallStateName(state_));
    return;
  }
  logger_.Info("SSTP disconnecting the call in %s", CallStateName(state_));
  StopTimersExcept(TimerId::kDisconnect);
  EnterState(CallState::kCallDisconnectInProgress1);
  // MS-SSTP 2.2.14, <4>: Windows always sends a STATUS_INFO; NO_ERROR for a
  // disconnect nobody is to blame for.
  Send(EncodeCallDisconnect(
      StatusInfo{kAttribIdNoError, StatusCode::kNoError, {}}));
  StartTimer(TimerId::kDisconnect, kDisconnectStateTimer1);
  EnterState(CallState::kCallDisconnectAckPending);
  pending_reason_ = absl::OkStatus();
  pending_by_peer_ = false;
}

void CallCore::OnCallAbort(const ControlMessage& message) {
  switch (state_) {
    case CallState::kCallAbortPending:
      // 3.2.5.3.4 / 3.3.5.2.4: stop T1, start T2 (StartTimer replaces T1).
      // The call still ends with the reason this side aborted for.
      logger_.Info("SSTP the %s answered the CALL_ABORT (%s)", peer_,
                   DescribeStatus(message));
      StartTimer(TimerId::kAbort, kAbortStateTimer2);
      EnterState(CallState::kCallAbortTimeoutPending);
      return;
    case CallState::kCallAbortTimeoutPending:
    case CallState::kCallDisconnectTimeoutPending:
    case CallState::kCallAbortInProgress2:
      logger_.Debug("SSTP ignoring CALL_ABORT in %s", CallStateName(state_));
      return;
    case CallState::kClientCallDisconnected:
    case CallState::kClientConnectRequestSent:
    case CallState::kClientConnectAckReceived:
    case CallState::kClientCallConnected:
    case CallState::kServerCallDisconnected:
    case CallState::kServerConnectRequestPending:
    case CallState::kServerCallConnectedPending:
    case CallState::kServerCallConnected:
    case CallState::kCallAbortInProgress1:
    case CallState::kCallDisconnectInProgress1:
    case CallState::kCallDisconnectInProgress2:
    case CallState::kCallDisconnectAckPending:
      break;
  }
  pending_reason_ = absl::AbortedError(
      absl::StrFormat("%s aborted the call: %s (in state %s)", peer_,
                      DescribeStatus(message), CallStateName(state_)));
  pending_by_peer_ = true;
  logger_.Warning("SSTP %s", pending_reason_.message());
  StopTimersExcept(TimerId::kAbort);
  EnterState(CallState::kCallAbortInProgress2);
  // MS-SSTP 2.2.13, <3>: Windows always sends a STATUS_INFO.
  Send(EncodeCallAbort(StatusInfo{kAttribIdNoError, StatusCode::kNoError, {}}));
  StartTimer(TimerId::kAbort, kAbortStateTimer2);
  EnterState(CallState::kCallAbortTimeoutPending);
}

void CallCore::OnCallDisconnect(const ControlMessage& message) {
  bool crossed = false;  // Both ends asked to disconnect.
  switch (state_) {
    case CallState::kCallAbortPending:
    case CallState::kCallAbortTimeoutPending:
    case CallState::kCallDisconnectTimeoutPending:
    case CallState::kCallDisconnectInProgress2:
      logger_.Debug("SSTP ignoring CALL_DISCONNECT in %s",
                    CallStateName(state_));
      return;
    case CallState::kCallDisconnectAckPending:
      crossed = true;
      break;
    case CallState::kClientCallDisconnected:
    case CallState::kClientConnectRequestSent:
    case CallState::kClientConnectAckReceived:
    case CallState::kClientCallConnected:
    case CallState::kServerCallDisconnected:
    case CallState::kServerConnectRequestPending:
    case CallState::kServerCallConnectedPending:
    case CallState::kServerCallConnected:
    case CallState::kCallAbortInProgress1:
    case CallState::kCallAbortInProgress2:
    case CallState::kCallDisconnectInProgress1:
      break;
  }
  if (crossed) {
    // This side asked for the disconnect too: it ends as requested.
    pending_reason_ = absl::OkStatus();
    pending_by_peer_ = false;
  } else {
    // A disconnect with a STATUS_INFO other than NO_ERROR is an orderly
    // end that still carries a complaint: report it.
    const bool clean =
        message.status_info.empty() ||
        message.status_info.front().status == StatusCode::kNoError;
    pending_reason_ =
        clean ? absl::OkStatus()
              : absl::UnavailableError(absl::StrFormat(
                    "%s disconnected the call: %s (in state %s)", peer_,
                    DescribeStatus(message), CallStateName(state_)));
    pending_by_peer_ = true;
  }
  logger_.Info("SSTP the %s disconnects the call (%s) in %s", peer_,
               DescribeStatus(message), CallStateName(state_));
  // Call_Disconnect_Ack_Pending: stop T1; T2 replaces it below.
  StopTimersExcept(TimerId::kDisconnect);
  EnterState(CallState::kCallDisconnectInProgress2);
  Send(EncodeCallDisconnectAck());
  StartTimer(TimerId::kDisconnect, kDisconnectStateTimer2);
  EnterState(CallState::kCallDisconnectTimeoutPending);
}

void CallCore::OnCallDisconnectAck() {
  switch (state_) {
    case CallState::kCallDisconnectAckPending:
      // 3.2.5.3.6 / 3.3.5.2.6: clear the connection state at once.
      End(absl::OkStatus(), /*by_peer=*/false);
      return;
    case CallState::kCallAbortPending:
    case CallState::kCallAbortTimeoutPending:
    case CallState::kCallDisconnectTimeoutPending:
      logger_.Debug("SSTP ignoring CALL_DISCONNECT_ACK in %s",
                    CallStateName(state_));
      return;
    case CallState::kClientCallDisconnected:
    case CallState::kClientConnectRequestSent:
    case CallState::kClientConnectAckReceived:
    case CallState::kClientCallConnected:
    case CallState::kServerCallDisconnected:
    case CallState::kServerConnectRequestPending:
    case CallState::kServerCallConnectedPending:
    case CallState::kServerCallConnected:
    case CallState::kCallAbortInProgress1:
    case CallState::kCallAbortInProgress2:
    case CallState::kCallDisconnectInProgress1:
    case CallState::kCallDisconnectInProgress2:
      Unexpected(MessageType::kCallDisconnectAck);
      return;
  }
}

void CallCore::ArmHello() {
  activity_since_hello_ = false;
  echo_outstanding_ = false;
  StartTimer(TimerId::kHello, hello_interval_);
}

void CallCore::RestartHello() {
  if (state_ != connected_state_) return;
  ArmHello();
}

bool CallCore::OnTimer(TimerId id) {
  if (ended_ || !timer_running(id)) {
    logger_.Debug("SSTP stale %s timer expiry ignored in %s", TimerIdName(id),
                  CallStateName(state_));
    return false;
  }
  running_timers_ &= ~Bit(id);
  switch (id) {
    case TimerId::kNegotiation:
      break;  // The owner's business.
    case TimerId::kHello:
      OnHelloExpired();
      break;
    case TimerId::kAbort:
      // 3.1.6.1: T1 (no answer to our CALL_ABORT) or T2: clean up now.
      if (state_ == CallState::kCallAbortPending) {
        logger_.Info("SSTP no CALL_ABORT from the %s within %s", peer_,
                     absl::FormatDuration(kAbortStateTimer1));
      }
      End(pending_reason_, pending_by_peer_);
      break;
    case TimerId::kDisconnect:
      // 3.1.6.2: T1 (no CALL_DISCONNECT_ACK: forceful cleanup) or T2.
      if (state_ == CallState::kCallDisconnectAckPending) {
        logger_.Warning("SSTP no CALL_DISCONNECT_ACK from the %s within %s",
                        peer_, absl::FormatDuration(kDisconnectStateTimer1));
      }
      End(pending_reason_, pending_by_peer_);
      break;
  }
  return true;
}

void CallCore::OnHelloExpired() {
  if (activity_since_hello_) {
    // Data arrived during the interval: the link is alive.
    ArmHello();
    return;
  }
  if (echo_outstanding_) {
    // MS-SSTP 3.1.2.3: nothing within the next interval after the Echo
    // Request: abort the connection without sending a Call Abort.
    End(absl::DeadlineExceededError(absl::StrFormat(
            "%s silent for 2 hello intervals (%s): no answer to the "
            "ECHO_REQUEST",
            peer_, absl::FormatDuration(2 * hello_interval_))),
        /*by_peer=*/false);
    return;
  }
  logger_.Debug("SSTP hello timer: sending ECHO_REQUEST");
  Send(EncodeEchoRequest());
  StartTimer(TimerId::kHello, hello_interval_);
  echo_outstanding_ = true;
}

void CallCore::OnTransportClosed() {
  if (ended_) return;
  if (ShuttingDown()) {
    // 3.1.1.1: the lower layer going down completes an abort or
    // disconnect in progress.
    End(pending_reason_, pending_by_peer_);
    return;
  }
  End(absl::UnavailableError(absl::StrFormat("transport closed in state %s",
                                             CallStateName(state_))),
      /*by_peer=*/true);
}

void CallCore::End(absl::Status reason, bool by_peer) {
  if (ended_) return;
  for (TimerId id : kAllTimers) StopTimer(id);
  if (reason.ok()) {
    logger_.Info("SSTP call ended in %s", CallStateName(state_));
  } else {
    logger_.Warning("SSTP call ended in %s: %s", CallStateName(state_),
                    reason.message());
  }
  Emit(CallEnded{std::move(reason), by_peer});
  if (state_ != idle_state_) EnterState(idle_state_);
  ended_ = true;
}

}  // namespace sstp::proto
