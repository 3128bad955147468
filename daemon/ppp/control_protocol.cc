#include "daemon/ppp/control_protocol.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/hex.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/options.h"

namespace sstp::ppp {
namespace {

// SSTP carries at most 4091 octets of PPP frame (SSTP-NOTES "Packet
// header"): FF 03, two octets of Protocol, then the Information field.
constexpr size_t kMaxInformationSize = 4091 - kFrameHeaderSize;

}  // namespace

ControlProtocol::ControlProtocol(ControlProtocolParams params,
                                 OptionNegotiator& negotiator,
                                 LayerObserver& observer, ActionSink& sink,
                                 const Logger& logger)
    : params_(std::move(params)),
      negotiator_(negotiator),
      observer_(observer),
      sink_(sink),
      logger_(logger),
      automaton_(params_.fsm) {}

void ControlProtocol::Open() {
  close_reason_ = absl::OkStatus();
  naks_sent_ = 0;
  naks_received_ = 0;
  ack_rcvd_timeouts_ = 0;
  gave_up_ = false;
  Handle(Event::kOpen);
}

void ControlProtocol::Close(absl::string_view text,
                            absl::Status finish_reason) {
  terminate_text_ = std::string(text);
  close_reason_ = std::move(finish_reason);
  Handle(Event::kClose);
}

void ControlProtocol::Up() { Handle(Event::kUp); }

void ControlProtocol::Down() { Handle(Event::kDown); }

void ControlProtocol::Timeout() {
  const Event event = automaton_.TimeoutEvent();
  // RFC 1661 4.1: Ack-Rcvd -TO+-> Req-Sent and the next Configure-Ack
  // re-initialises the counter, so a peer that acknowledges us but never
  // sends its own Configure-Request would keep us here for ever.
  if (event == Event::kTimeoutPlus && state() == State::kAckRcvd &&
      ++ack_rcvd_timeouts_ >= params_.fsm.max_configure) {
    GiveUp(absl::DeadlineExceededError(absl::StrFormat(
        "%s: the server acknowledged our Configure-Request but sent none of "
        "its own (%d restart timeouts)",
        params_.name, ack_rcvd_timeouts_)));
    return;
  }
  Handle(event);
}

std::optional<ControlPacket> ControlProtocol::Receive(
    absl::Span<const uint8_t> information) {
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(information);
  if (!packet.ok()) {
    // RFC 1661 5: invalid packets are silently discarded.
    logger_.Debug("%s: dropped malformed packet: %s", params_.name,
                  packet.status().message());
    return std::nullopt;
  }
  const uint8_t code = static_cast<uint8_t>(packet->code);
  logger_.Debug("%s: received %s(%d) %s", params_.name,
                CodeName(packet->code), packet->identifier,
                ToHex(packet->data));
  switch (code) {
    case static_cast<uint8_t>(Code::kConfigureRequest):
      OnConfigureRequest(*packet);
      return std::nullopt;
    case static_cast<uint8_t>(Code::kConfigureAck):
      OnConfigureAck(*packet);
      return std::nullopt;
    case static_cast<uint8_t>(Code::kConfigureNak):
    case static_cast<uint8_t>(Code::kConfigureReject):
      OnConfigureNakOrReject(*packet);
      return std::nullopt;
    case static_cast<uint8_t>(Code::kTerminateRequest):
      if (opened()) {
        close_reason_ = absl::AbortedError(
            packet->data.empty()
                ? absl::StrCat(params_.name, ": the server sent Terminate-Request")
                : absl::StrCat(params_.name,
                               ": the server sent Terminate-Request: ",
                               AsText(packet->data)));
      }
      Handle(Event::kRtr, Context{.id = packet->identifier});
      return std::nullopt;
    case static_cast<uint8_t>(Code::kTerminateAck):
      Handle(Event::kRta);
      return std::nullopt;
    case static_cast<uint8_t>(Code::kCodeReject):
      OnCodeReject(*packet);
      return std::nullopt;
    default:
      break;
  }
  if (code > static_cast<uint8_t>(Code::kCodeReject) &&
      code <= params_.max_code) {
    return *packet;
  }
  // RFC 1661 5.6: an unknown Code is answered with Code-Reject (RUC); the
  // rejected packet is the one received, up to its Length.
  logger_.Info("%s: Code-Reject of unknown code %d", params_.name, code);
  Handle(Event::kRuc,
         Context{.packet = information.subspan(
                     0, kControlHeaderSize + packet->data.size())});
  return std::nullopt;
}

bool ControlProtocol::ReceiveEchoOrDiscard() {
  return Handle(Event::kRxr).actions().Contains(Action::kSendEchoReply);
}

void ControlProtocol::ReceiveReject(bool catastrophic, const std::string& why) {
  if (catastrophic) {
    terminate_text_ = why;
    close_reason_ = absl::FailedPreconditionError(why);
  }
  Handle(catastrophic ? Event::kRxjMinus : Event::kRxjPlus);
}

void ControlProtocol::SendTerminateRequestNow(absl::string_view reason) {
  Send(Code::kTerminateRequest, next_id_++, AsBytes(reason));
}

void ControlProtocol::OnConfigureRequest(const ControlPacket& packet) {
  Context context{.id = packet.identifier, .options = packet.data};
  // Only states that answer a Configure-Request with sca or scn evaluate
  // it (RFC 1661 4.1: Closed answers sta, Closing/Stopping ignore it).
  if (!IsNegotiatingOrOpened(state()) && state() != State::kStopped) {
    Handle(Event::kRcrPlus, context);
    return;
  }
  absl::StatusOr<RequestVerdict> verdict =
      negotiator_.EvaluateRequest(packet.data);
  if (!verdict.ok()) {
    logger_.Info("%s: dropped Configure-Request(%d): %s", params_.name,
                 packet.identifier, verdict.status().message());
    return;
  }
  if (!negotiator_.fatal().ok()) {
    GiveUp(negotiator_.fatal());
    return;
  }
  if (verdict->code == Code::kConfigureAck) {
    Handle(Event::kRcrPlus, context);
    return;
  }
  if (naks_sent_ >= params_.max_failure) {
    // RFC 1661 4.6 Max-Failure: the configuration is not converging.
    GiveUp(absl::FailedPreconditionError(absl::StrFormat(
        "%s: the server's Configure-Request is still unacceptable after %d "
        "Configure-Naks/-Rejects: %s",
        params_.name, naks_sent_, verdict->reason)));
    return;
  }
  ++naks_sent_;
  logger_.Info("%s: %s to Configure-Request(%d): %s", params_.name,
               CodeName(verdict->code), packet.identifier, verdict->reason);
  context.verdict = &*verdict;
  Handle(Event::kRcrMinus, context);
}

bool ControlProtocol::MatchesLastRequest(uint8_t id,
                                         absl::string_view what) const {
  // RFC 1661 5.2-5.4: the Identifier must match that of the last
  // Configure-Request sent; invalid packets are silently discarded.
  if (!last_request_ || last_request_->id != id) {
    logger_.Info("%s: dropped %s(%d): it does not answer our last "
                 "Configure-Request%s",
                 params_.name, what, id,
                 last_request_ ? absl::StrFormat("(%d)", last_request_->id)
                               : std::string());
    return false;
  }
  if (last_request_->answered) {
    // RFC 1661 5.1: a valid reply retires the Identifier. A second one (a
    // server that answered our retransmission as well) would restart
    // the negotiation, or bring an open layer down.
    logger_.Info("%s: dropped %s(%d): Configure-Request(%d) was already answered",
                 params_.name, what, id, id);
    return false;
  }
  return true;
}

void ControlProtocol::OnConfigureAck(const ControlPacket& packet) {
  if (!IsNegotiatingOrOpened(state())) {
    Handle(Event::kRca, Context{.id = packet.identifier});
    return;
  }
  if (!MatchesLastRequest(packet.identifier, "Configure-Ack")) return;
  // RFC 1661 5.2: the options must exactly match those of the request.
  if (!std::equal(packet.data.begin(), packet.data.end(),
                  last_request_->options.begin(),
                  last_request_->options.end())) {
    logger_.Info("%s: dropped Configure-Ack(%d): its options differ from "
                 "those of our Configure-Request",
                 params_.name, packet.identifier);
    return;
  }
  last_request_->answered = true;
  negotiator_.RequestAcked(packet.data);
  if (!negotiator_.fatal().ok()) {
    GiveUp(negotiator_.fatal());
    return;
  }
  naks_received_ = 0;
  Handle(Event::kRca);
}

void ControlProtocol::OnConfigureNakOrReject(const ControlPacket& packet) {
  const bool reject = packet.code == Code::kConfigureReject;
  const std::string what = CodeName(packet.code);
  if (!IsNegotiatingOrOpened(state())) {
    Handle(Event::kRcn, Context{.id = packet.identifier});
    return;
  }
  if (!MatchesLastRequest(packet.identifier, what)) return;
  if (reject) {
    // RFC 1661 5.4: the rejected options must be a subset of those of the
    // request, unmodified.
    absl::StatusOr<std::vector<Option>> rejected = ParseOptions(packet.data);
    absl::StatusOr<std::vector<Option>> requested =
        ParseOptions(last_request_->options);
    if (!rejected.ok() || !requested.ok()) {
      logger_.Info("%s: dropped %s(%d): %s", params_.name, what,
                   packet.identifier,
                   (!rejected.ok() ? rejected : requested).status().message());
      return;
    }
    for (const Option& option : *rejected) {
      if (std::find(requested->begin(), requested->end(), option) ==
          requested->end()) {
        logger_.Info("%s: dropped %s(%d): it rejects option type %d, which "
                     "our request did not carry as such",
                     params_.name, what, packet.identifier, option.type);
        return;
      }
    }
  }
  const absl::Status status = reject ? negotiator_.RequestRejected(packet.data)
                                     : negotiator_.RequestNaked(packet.data);
  if (!status.ok()) {
    logger_.Info("%s: dropped %s(%d): %s", params_.name, what,
                 packet.identifier, status.message());
    return;
  }
  last_request_->answered = true;
  if (!negotiator_.fatal().ok()) {
    GiveUp(negotiator_.fatal());
    return;
  }
  if (++naks_received_ >= params_.fsm.max_configure) {
    GiveUp(absl::FailedPreconditionError(absl::StrFormat(
        "%s: the server Nak'd or rejected %d Configure-Requests in a row",
        params_.name, naks_received_)));
    return;
  }
  Handle(Event::kRcn);
}

void ControlProtocol::OnCodeReject(const ControlPacket& packet) {
  // RFC 1661 5.6: a Code-Reject of a code the protocol needs (Configure-*,
  // Terminate-*, Code-Reject) is catastrophic (RXJ-); of an extension code
  // (Echo, Discard, Identification, ...) it is permitted (RXJ+).
  if (packet.data.empty()) {
    logger_.Info("%s: dropped empty Code-Reject(%d)", params_.name,
                 packet.identifier);
    return;
  }
  const uint8_t rejected = packet.data[0];
  const bool catastrophic =
      rejected >= static_cast<uint8_t>(Code::kConfigureRequest) &&
      rejected <= static_cast<uint8_t>(Code::kCodeReject);
  const std::string why =
      absl::StrFormat("%s: the server Code-Rejected %s", params_.name,
                      CodeName(static_cast<Code>(rejected)));
  logger_.Warning("%s", why);
  ReceiveReject(catastrophic, why);
}

Outcome ControlProtocol::Handle(Event event) { return Handle(event, Context{}); }

Outcome ControlProtocol::Handle(Event event, const Context& context) {
  const State from = state();
  const Outcome outcome = automaton_.Handle(event);
  const std::string transition =
      FormatTransition(from, event, outcome.transition);
  if (outcome.illegal()) {
    logger_.Debug("%s: event not expected here: %s", params_.name, transition);
    return outcome;
  }
  if (outcome.transition.crossed_connection) {
    // RFC 1661 4.3 [x]: "this occurance SHOULD be logged".
    logger_.Info("%s: crossed connection or peer error: %s", params_.name,
                 transition);
  } else if (outcome.next() != from) {
    logger_.Info("%s: %s", params_.name, transition);
  } else {
    logger_.Debug("%s: %s", params_.name, transition);
  }
  // The timer first: an observer may drive another layer from tlu/tlf, and
  // nothing after those actions touches this layer's timer.
  switch (outcome.timer) {
    case TimerCommand::kStart:
      sink_.StartTimer(params_.timer, params_.fsm.restart_timer);
      break;
    case TimerCommand::kStop:
      sink_.StopTimer(params_.timer);
      break;
    case TimerCommand::kLeave:
      break;
  }
  absl::Status finish_reason = close_reason_;
  if (event == Event::kTimeoutMinus) {
    switch (from) {
      case State::kReqSent:
        finish_reason = absl::DeadlineExceededError(absl::StrFormat(
            "%s: no reply to %d Configure-Requests", params_.name,
            params_.fsm.max_configure));
        break;
      case State::kAckRcvd:
        finish_reason = absl::DeadlineExceededError(absl::StrFormat(
            "%s: no Configure-Request from the server after %d tries",
            params_.name, params_.fsm.max_configure));
        break;
      case State::kAckSent:
        finish_reason = absl::DeadlineExceededError(absl::StrFormat(
            "%s: no Configure-Ack for %d Configure-Requests", params_.name,
            params_.fsm.max_configure));
        break;
      case State::kClosing:
      case State::kStopping:
        logger_.Info("%s: no Terminate-Ack; closing anyway", params_.name);
        break;
      case State::kInitial:
      case State::kStarting:
      case State::kClosed:
      case State::kStopped:
      case State::kOpened:
        break;
    }
  }
  for (Action action : outcome.actions()) {
    Perform(action, event, context, finish_reason);
  }
  return outcome;
}

void ControlProtocol::Perform(Action action, Event event,
                              const Context& context,
                              const absl::Status& finish_reason) {
  switch (action) {
    case Action::kThisLayerUp:
      naks_sent_ = 0;
      naks_received_ = 0;
      ack_rcvd_timeouts_ = 0;
      observer_.LayerUp(*this);
      break;
    case Action::kThisLayerDown:
      observer_.LayerDown(*this);
      break;
    case Action::kThisLayerStarted:
      // RFC 1661 4.4 tls asks the lower layer to come up: SSTP is up
      // already (Up() follows Open() at once).
      break;
    case Action::kThisLayerFinished:
      observer_.LayerFinished(*this, finish_reason);
      break;
    case Action::kInitRestartCountConfigure:
    case Action::kInitRestartCountTerminate:
    case Action::kZeroRestartCount:
      break;  // The Automaton keeps the counter.
    case Action::kSendConfigureRequest:
      SendConfigureRequest(event == Event::kTimeoutPlus);
      break;
    case Action::kSendConfigureAck:
      naks_sent_ = 0;
      Send(Code::kConfigureAck, context.id, context.options);
      break;
    case Action::kSendConfigureNak:
      if (context.verdict == nullptr) {
        // Only RCR- produces scn, and it always carries a verdict.
        logger_.Error("%s: scn without a verdict", params_.name);
        break;
      }
      Send(context.verdict->code, context.id, context.verdict->options);
      break;
    case Action::kSendTerminateRequest:
      Send(Code::kTerminateRequest, next_id_++, AsBytes(terminate_text_));
      break;
    case Action::kSendTerminateAck:
      Send(Code::kTerminateAck, context.id, {});
      break;
    case Action::kSendCodeReject: {
      absl::StatusOr<std::vector<uint8_t>> reject = EncodeCodeReject(
          next_id_++, context.packet,
          std::min(peer_mru_, kMaxInformationSize));
      if (!reject.ok()) {
        logger_.Error("%s: cannot encode Code-Reject: %s", params_.name,
                      reject.status().message());
        break;
      }
      sink_.Send(params_.protocol, *std::move(reject));
      break;
    }
    case Action::kSendEchoReply:
      break;  // The caller answers (ReceiveEchoOrDiscard()).
  }
}

void ControlProtocol::SendConfigureRequest(bool retransmission) {
  absl::StatusOr<std::vector<uint8_t>> options = negotiator_.BuildRequest();
  if (!options.ok()) {
    logger_.Error("%s: cannot build Configure-Request: %s", params_.name,
                  options.status().message());
    return;
  }
  // RFC 1661 5.1: the Identifier changes with the contents and after a
  // valid reply; a retransmission of the same request may keep it.
  if (!(retransmission && last_request_ && !last_request_->answered &&
        last_request_->options == *options)) {
    last_request_ = SentRequest{next_id_++, *std::move(options)};
  }
  Send(Code::kConfigureRequest, last_request_->id, last_request_->options);
}

void ControlProtocol::Send(Code code, uint8_t id,
                           absl::Span<const uint8_t> data) {
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeControlPacket(code, id, data);
  if (!packet.ok()) {
    logger_.Error("%s: cannot encode %s: %s", params_.name, CodeName(code),
                  packet.status().message());
    return;
  }
  logger_.Debug("%s: sending %s(%d) %s", params_.name, CodeName(code), id,
                ToHex(data));
  sink_.Send(params_.protocol, *std::move(packet));
}

void ControlProtocol::GiveUp(absl::Status why) {
  if (gave_up_) return;
  gave_up_ = true;
  logger_.Warning("%s: giving up: %s", params_.name, why.message());
  observer_.LayerGaveUp(*this, why);
  const std::string text(why.message());
  Close(text, std::move(why));
}

}  // namespace sstp::ppp
