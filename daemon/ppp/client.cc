#include "daemon/ppp/client.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

// SSTP carries at most 4091 octets of PPP frame (SSTP-NOTES "Packet
// header"): FF 03 and two octets of Protocol leave this much Information.
constexpr size_t kMaxInformationSize = 4091 - kFrameHeaderSize;

// RFC 1661 5.7-5.9, RFC 1570 2.1-2.2: LCP defines codes up to 13.
constexpr uint8_t kLcpMaxCode = static_cast<uint8_t>(Code::kTimeRemaining);
// RFC 1332 2, RFC 5072 3: the NCPs use codes 1..7 only.
constexpr uint8_t kNcpMaxCode = static_cast<uint8_t>(Code::kCodeReject);

ControlProtocolParams MakeParams(uint16_t protocol, std::string name,
                                 TimerId timer, uint8_t max_code,
                                 const ClientConfig& config) {
  ControlProtocolParams params;
  params.protocol = protocol;
  params.name = std::move(name);
  params.timer = timer;
  params.fsm.max_configure = config.max_configure;
  params.fsm.max_terminate = config.max_terminate;
  params.fsm.restart_timer = config.restart_timer;
  params.max_failure = config.max_failure;
  params.max_code = max_code;
  return params;
}

// RFC 1661 2: Protocol values c000-ffff are link-layer control protocols;
// the rest are network-layer protocols and their control protocols.
bool IsLinkLayerProtocol(uint16_t protocol) { return protocol >= 0xC000; }

bool IsAuthProtocol(uint16_t protocol) {
  return protocol == kProtocolPap || protocol == kProtocolChap ||
         protocol == kProtocolEap;
}

std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

std::string FormatIpv4(const Ipv4Address& a) {
  return absl::StrFormat("%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
}

}  // namespace

absl::Status ValidateClientConfig(const ClientConfig& config) {
  if (config.mru < kMinNakedMru || config.mru > kMaxMru) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PPP MRU %d outside [%d, %d]", config.mru, kMinNakedMru, kMaxMru));
  }
  if (config.auth_methods.empty()) {
    return absl::InvalidArgumentError("no authentication method allowed");
  }
  if (config.user_name.empty()) {
    return absl::InvalidArgumentError("PPP user name is empty");
  }
  if (!config.want_ipv4 && !config.want_ipv6) {
    return absl::InvalidArgumentError("neither IPv4 nor IPv6 wanted");
  }
  if (config.echo_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("LCP echo interval is negative");
  }
  if (config.echo_interval > absl::ZeroDuration() && config.echo_failures < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "LCP echo failures %d < 1", config.echo_failures));
  }
  if (config.restart_timer <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("PPP restart timer must be positive");
  }
  if (config.max_configure < 1 || config.max_terminate < 1 ||
      config.max_failure < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "PPP max-configure %d, max-terminate %d, max-failure %d: each must "
        "be >= 1",
        config.max_configure, config.max_terminate, config.max_failure));
  }
  if (config.auth_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "PPP authentication timeout must be positive");
  }
  return absl::OkStatus();
}

PppClient::PppClient(ClientConfig config, Random& random)
    : config_(std::move(config)),
      config_status_(ValidateClientConfig(config_)),
      random_(random),
      logger_(config_.logger),
      auth_settings_{config_.user_name, config_.password,
                     config_.restart_timer, config_.max_configure},
      lcp_negotiator_(LcpSettings{config_.mru, config_.auth_methods}, random,
                      logger_),
      ipcp_negotiator_(config_.want_dns, logger_),
      ipv6cp_negotiator_(random, logger_),
      lcp_(MakeParams(kProtocolLcp, "LCP", TimerId::kLcpRestart, kLcpMaxCode,
                      config_),
           lcp_negotiator_, *this, sink_, logger_),
      ipcp_(MakeParams(kProtocolIpcp, "IPCP", TimerId::kIpcpRestart,
                       kNcpMaxCode, config_),
            ipcp_negotiator_, *this, sink_, logger_),
      ipv6cp_(MakeParams(kProtocolIpv6cp, "IPv6CP", TimerId::kIpv6cpRestart,
                         kNcpMaxCode, config_),
              ipv6cp_negotiator_, *this, sink_, logger_) {
  ipv4_.name = "IPCP";
  ipv4_.wanted = config_.want_ipv4;
  ipv6_.name = "IPv6CP";
  ipv6_.wanted = config_.want_ipv6;
}

PppClient::~PppClient() = default;

std::optional<AuthMethod> PppClient::auth_method() const {
  return lcp_negotiator_.auth_method();
}

// --- Events -------------------------------------------------------------------

ClientActions PppClient::Up() {
  if (finished_ || started_) {
    logger_.Debug("PPP: Up() ignored (%s)",
                  finished_ ? "finished" : "already up");
    return TakeActions();
  }
  started_ = true;
  if (!config_status_.ok()) {
    Fail(config_status_, false);
    return TakeActions();
  }
  EnterPhase(Phase::kEstablish);
  lcp_.Open();
  lcp_.Up();
  return TakeActions();
}

ClientActions PppClient::OnFrame(uint16_t protocol,
                                 absl::Span<const uint8_t> information) {
  if (finished_) return TakeActions();
  if (!started_) {
    logger_.Debug("PPP: %s frame before Up() dropped",
                  ProtocolName(protocol));
    return TakeActions();
  }
  if (protocol == kProtocolLcp) {
    OnLcpFrame(information);
  } else if (IsAuthProtocol(protocol)) {
    OnAuthFrame(protocol, information);
  } else if (protocol == kProtocolIpcp && ipv4_.wanted &&
             phase_ == Phase::kNetwork) {
    ipcp_.Receive(information);
  } else if (protocol == kProtocolIpv6cp && ipv6_.wanted &&
             phase_ == Phase::kNetwork) {
    ipv6cp_.Receive(information);
  } else {
    RejectOrDiscard(protocol, information);
  }
  return TakeActions();
}

ClientActions PppClient::OnTimer(TimerId id) {
  if (finished_) return TakeActions();
  if (!sink_.Expired(id)) {
    logger_.Debug("PPP: stale %s timer ignored", TimerIdName(id));
    return TakeActions();
  }
  switch (id) {
    case TimerId::kLcpRestart:
      lcp_.Timeout();
      break;
    case TimerId::kIpcpRestart:
      ipcp_.Timeout();
      break;
    case TimerId::kIpv6cpRestart:
      ipv6cp_.Timeout();
      break;
    case TimerId::kAuthRetransmit:
      if (auth_) HandleAuthResult(auth_->RetransmitTimeout());
      break;
    case TimerId::kAuthTimeout:
      if (auth_ && phase_ == Phase::kAuthenticate) {
        Fail(absl::DeadlineExceededError(absl::StrFormat(
                 "%s: no result within %s (waiting for %s)",
                 AuthMethodName(auth_->method()),
                 absl::FormatDuration(config_.auth_timeout),
                 auth_->WaitingFor())),
             false);
      }
      break;
    case TimerId::kEcho:
      OnEchoTimer();
      break;
  }
  return TakeActions();
}

ClientActions PppClient::Close(absl::string_view reason) {
  if (finished_) return TakeActions();
  closing_ = true;
  logger_.Info("PPP: closing: %s", Printable(reason));
  switch (lcp_.state()) {
    case State::kInitial:
    case State::kStarting:
    case State::kClosed:
    case State::kStopped:
      // Nothing to terminate.
      Finish();
      break;
    case State::kClosing:
    case State::kStopping:
    case State::kReqSent:
    case State::kAckRcvd:
    case State::kAckSent:
    case State::kOpened:
      EnterPhase(Phase::kTerminate);
      lcp_.Close(reason);
      break;
  }
  return TakeActions();
}

ClientActions PppClient::Down() {
  if (finished_) return TakeActions();
  logger_.Info("PPP: lower layer down");
  if (auth_) auth_->Stop();
  sink_.StopAllTimers();
  if (closing_) sink_.Emit(Finished{});
  sink_.Seal();
  finished_ = true;
  EnterPhase(Phase::kDead);
  return TakeActions();
}

// --- LCP ---------------------------------------------------------------------

void PppClient::OnLcpFrame(absl::Span<const uint8_t> information) {
  // Two packets matter to the client as well as to the automaton.
  const absl::StatusOr<ControlPacket> peek = ParseControlPacket(information);
  const bool terminate_request =
      peek.ok() && peek->code == Code::kTerminateRequest;
  if (peek.ok() && peek->code == Code::kCodeReject && !peek->data.empty() &&
      peek->data[0] == static_cast<uint8_t>(Code::kEchoRequest) &&
      echo_enabled_) {
    // RFC 1661 5.6: a permitted Code-Reject; stop sending what it rejects.
    logger_.Warning("LCP: the server Code-Rejects Echo-Request: LCP echo off");
    echo_enabled_ = false;
    sink_.StopTimer(TimerId::kEcho);
  }

  const std::optional<ControlPacket> extension = lcp_.Receive(information);

  if (terminate_request && !closing_) {
    // The automaton has answered with Terminate-Ack.
    Fail(absl::AbortedError(absl::StrCat(
             "the server terminated the link (LCP Terminate-Request)",
             peek->data.empty() ? "" : ": ", Printable(AsText(peek->data)))),
         false);
    return;
  }
  if (!extension) return;
  const ControlPacket& packet = *extension;
  switch (packet.code) {
    case Code::kProtocolReject:
      OnProtocolReject(packet.data);
      break;
    case Code::kEchoRequest: {
      absl::StatusOr<EchoData> echo = ParseEchoData(packet.data);
      if (!echo.ok()) {
        logger_.Debug("LCP: dropped Echo-Request: %s",
                      echo.status().message());
        break;
      }
      if (!lcp_.ReceiveEchoOrDiscard()) break;
      // RFC 1661 5.8: our Magic-Number (zero if not negotiated) and the
      // request's data.
      absl::StatusOr<std::vector<uint8_t>> reply = EncodeEchoReply(
          packet.identifier, lcp_negotiator_.local_magic().value_or(0),
          echo->data.subspan(
              0, std::min<size_t>(echo->data.size(),
                                  std::min<size_t>(peer_mru(),
                                                   kMaxInformationSize) -
                                      8)));
      if (reply.ok()) sink_.Send(kProtocolLcp, *std::move(reply));
      break;
    }
    case Code::kEchoReply: {
      lcp_.ReceiveEchoOrDiscard();
      if (!lcp_.opened()) break;
      echo_outstanding_ = 0;
      absl::StatusOr<EchoData> echo = ParseEchoData(packet.data);
      if (echo.ok() && echo->magic_number != 0 &&
          echo->magic_number == lcp_negotiator_.local_magic().value_or(0)) {
        // RFC 1661 6.4: our own Magic-Number coming back.
        logger_.Warning("LCP: Echo-Reply carries our own Magic-Number: the "
                        "link may be looped back");
      }
      break;
    }
    case Code::kDiscardRequest:
      lcp_.ReceiveEchoOrDiscard();
      break;
    case Code::kIdentification: {
      absl::StatusOr<IdentificationData> id = ParseIdentification(packet.data);
      if (id.ok()) {
        logger_.Info("LCP: server identification: %s",
                     Printable(id->message));
      }
      break;
    }
    case Code::kTimeRemaining: {
      absl::StatusOr<TimeRemainingData> remaining =
          ParseTimeRemaining(packet.data);
      if (remaining.ok()) {
        logger_.Notice("LCP: the server says %d s remain: %s",
                       remaining->seconds_remaining,
                       Printable(remaining->message));
      }
      break;
    }
    case Code::kConfigureRequest:
    case Code::kConfigureAck:
    case Code::kConfigureNak:
    case Code::kConfigureReject:
    case Code::kTerminateRequest:
    case Code::kTerminateAck:
    case Code::kCodeReject:
      break;  // Handled by ControlProtocol, never returned.
  }
}

void PppClient::OnProtocolReject(absl::Span<const uint8_t> data) {
  absl::StatusOr<ProtocolRejectData> reject = ParseProtocolReject(data);
  if (!reject.ok()) {
    logger_.Debug("LCP: dropped Protocol-Reject: %s",
                  reject.status().message());
    return;
  }
  const uint16_t protocol = reject->rejected_protocol;
  const std::string name = ProtocolName(protocol);
  // RFC 1661 5.7: stop sending the protocol; for a control protocol this is
  // RXJ- in its automaton.
  if (protocol == kProtocolIpcp) {
    ipcp_.ReceiveReject(true, "IPCP: rejected by the server (Protocol-Reject)");
  } else if (protocol == kProtocolIpv6cp) {
    ipv6cp_.ReceiveReject(true,
                          "IPv6CP: rejected by the server (Protocol-Reject)");
  } else if (protocol == kProtocolLcp) {
    lcp_.ReceiveReject(true, "LCP: the server Protocol-Rejected LCP");
  } else if (IsAuthProtocol(protocol)) {
    // SSTP-NOTES: SoftEther Protocol-Rejects an EAP Nak and then sends a
    // new LCP Configure-Request; the auth timeout covers a server that does
    // nothing.
    logger_.Warning("LCP: the server Protocol-Rejected %s: waiting for it "
                    "to renegotiate LCP",
                    name);
  } else {
    logger_.Info("LCP: the server Protocol-Rejected %s", name);
  }
}

void PppClient::StartEcho() {
  echo_outstanding_ = 0;
  echo_enabled_ = config_.echo_interval > absl::ZeroDuration();
  if (echo_enabled_) sink_.StartTimer(TimerId::kEcho, config_.echo_interval);
}

void PppClient::OnEchoTimer() {
  if (!echo_enabled_ || !lcp_.opened()) return;
  if (echo_outstanding_ >= config_.echo_failures) {
    Fail(absl::UnavailableError(absl::StrFormat(
             "LCP echo: no reply for %d intervals of %s",
             echo_outstanding_, absl::FormatDuration(config_.echo_interval))),
         false);
    return;
  }
  // RFC 1661 5.8: Magic-Number (zero if not negotiated), no data.
  absl::StatusOr<std::vector<uint8_t>> request = EncodeEchoRequest(
      next_echo_id_++, lcp_negotiator_.local_magic().value_or(0), {});
  if (request.ok()) sink_.Send(kProtocolLcp, *std::move(request));
  ++echo_outstanding_;
  sink_.StartTimer(TimerId::kEcho, config_.echo_interval);
}

// --- Authentication ---------------------------------------------------------------

void PppClient::OnAuthFrame(uint16_t protocol,
                            absl::Span<const uint8_t> information) {
  if (!auth_ || auth_->protocol() != protocol ||
      (phase_ != Phase::kAuthenticate && phase_ != Phase::kNetwork)) {
    // Not the method agreed at LCP (or none yet): the handler of an
    // implemented protocol drops what it does not expect, as pppd does.
    logger_.Debug("PPP: %s frame dropped: not the authentication in "
                  "progress",
                  ProtocolName(protocol));
    return;
  }
  HandleAuthResult(auth_->Receive(information));
}

void PppClient::HandleAuthResult(AuthResult result) {
  switch (result.kind) {
    case AuthResult::Kind::kPending:
      return;
    case AuthResult::Kind::kSucceeded:
      if (phase_ != Phase::kAuthenticate) {
        logger_.Info("%s: re-authentication succeeded",
                     AuthMethodName(auth_->method()));
        return;
      }
      sink_.StopTimer(TimerId::kAuthTimeout);
      logger_.Notice("PPP: authenticated with %s",
                     AuthMethodName(auth_->method()));
      StartNetworkPhase(auth_->method(), result.hlak);
      return;
    case AuthResult::Kind::kFailed:
      Fail(result.failure, result.auth_failure);
      return;
  }
}

void PppClient::StartNetworkPhase(std::optional<AuthMethod> method,
                                  const SecretArray<32>& hlak) {
  authenticated_ = true;
  sink_.Emit(Authenticated{method, hlak});
  EnterPhase(Phase::kNetwork);
  if (ipv4_.wanted) {
    ipv4_.started = true;
    ipcp_.Open();
    ipcp_.Up();
  }
  if (finished_) return;
  if (ipv6_.wanted) {
    ipv6_.started = true;
    ipv6cp_.Open();
    ipv6cp_.Up();
  }
}

// --- Network phase ---------------------------------------------------------------

PppClient::Family& PppClient::FamilyOf(const ControlProtocol& layer) {
  return &layer == &ipcp_ ? ipv4_ : ipv6_;
}

void PppClient::FamilyOff(ControlProtocol& layer, const std::string& reason) {
  Family& family = FamilyOf(layer);
  if (family.off || finished_) return;
  family.off = true;
  family.up = false;
  family.off_reason = reason;
  logger_.Warning("PPP: %s off: %s", &family == &ipv4_ ? "IPv4" : "IPv6",
                  reason);
  std::vector<std::string> reasons;
  for (const Family* f : {&ipv4_, &ipv6_}) {
    if (!f->wanted) continue;
    if (!f->off) {
      CheckNetworkReady();
      return;
    }
    reasons.push_back(f->off_reason);
  }
  Fail(absl::FailedPreconditionError(
           absl::StrCat("no network protocol could be negotiated (",
                        absl::StrJoin(reasons, "; "), ")")),
       false);
}

void PppClient::CheckNetworkReady() {
  if (network_ready_ || finished_ || phase_ != Phase::kNetwork) return;
  for (const Family* f : {&ipv4_, &ipv6_}) {
    if (f->wanted && !f->up && !f->off) return;
  }
  if (!ipv4_.up && !ipv6_.up) return;
  network_ready_ = true;
  logger_.Notice("PPP: network ready (IPv4 %s, IPv6 %s)",
                 ipv4_.up ? "up" : "off", ipv6_.up ? "up" : "off");
  sink_.Emit(NetworkReady{});
}

void PppClient::RejectOrDiscard(uint16_t protocol,
                                absl::Span<const uint8_t> information) {
  const std::string name = ProtocolName(protocol);
  // RFC 1661 3.4: before LCP is Opened, non-LCP packets are discarded;
  // 3.5: during authentication, network-layer packets too. Protocol-Reject
  // is only sent in the LCP Opened state (5.7).
  if (!lcp_.opened() ||
      (phase_ != Phase::kAuthenticate && phase_ != Phase::kNetwork)) {
    logger_.Debug("PPP: %s frame dropped in the %s phase", name,
                  PhaseName(phase_));
    return;
  }
  if (phase_ == Phase::kAuthenticate && !IsLinkLayerProtocol(protocol)) {
    logger_.Debug("PPP: %s frame dropped during authentication", name);
    return;
  }
  const Family* family = protocol == kProtocolIpv4   ? &ipv4_
                         : protocol == kProtocolIpv6 ? &ipv6_
                                                     : nullptr;
  if (family != nullptr && family->wanted && !family->off) {
    // Data of a family still negotiating (or misrouted to the control
    // path): a Protocol-Reject would make the server close the NCP.
    logger_.Debug("PPP: %s data frame dropped (%s %s)", name, family->name,
                  family->up ? "up" : "not up yet");
    return;
  }
  SendProtocolReject(protocol, information);
}

void PppClient::SendProtocolReject(uint16_t protocol,
                                   absl::Span<const uint8_t> information) {
  // RFC 1661 5.7: the Rejected-Information is truncated to the peer's MRU.
  absl::StatusOr<std::vector<uint8_t>> reject = EncodeProtocolReject(
      lcp_.NextIdentifier(), protocol, information,
      std::min<size_t>(peer_mru(), kMaxInformationSize));
  if (!reject.ok()) {
    logger_.Error("LCP: cannot encode Protocol-Reject: %s",
                  reject.status().message());
    return;
  }
  logger_.Info("LCP: Protocol-Reject of %s", ProtocolName(protocol));
  sink_.Send(kProtocolLcp, *std::move(reject));
}

// --- Layer events (LayerObserver) -----------------------------------------------

void PppClient::LayerUp(ControlProtocol& layer) {
  if (finished_) return;
  if (&layer == &lcp_) {
    for (ControlProtocol* l : {&lcp_, &ipcp_, &ipv6cp_}) {
      l->set_peer_mru(peer_mru());
    }
    logger_.Info("LCP: opened: we receive up to %d octets, the server up to "
                 "%d",
                 local_mru(), peer_mru());
    StartEcho();
    const std::optional<AuthMethod> method = lcp_negotiator_.auth_method();
    if (!method) {
      logger_.Warning(
          "PPP: the server asks for no authentication: none done, the "
          "crypto binding uses a zero HLAK");
      StartNetworkPhase(std::nullopt, SecretArray<32>());
      return;
    }
    logger_.Info("PPP: authentication method %s: %s", AuthMethodName(*method),
                 lcp_negotiator_.auth_reason());
    EnterPhase(Phase::kAuthenticate);
    auth_ = std::make_unique<AuthClient>(*method, auth_settings_, random_,
                                         sink_, logger_);
    sink_.StartTimer(TimerId::kAuthTimeout, config_.auth_timeout);
    HandleAuthResult(auth_->Start());
    return;
  }
  Family& family = FamilyOf(layer);
  if (family.off) {
    logger_.Info("PPP: %s came up after all", family.name);
    family.off = false;
  }
  family.up = true;
  if (&layer == &ipcp_) {
    const Ipv4Up up = ipcp_negotiator_.result();
    logger_.Notice("IPCP: up: local %s, peer %s, DNS %s %s",
                   FormatIpv4(up.local),
                   up.peer ? FormatIpv4(*up.peer) : "none",
                   up.dns1 ? FormatIpv4(*up.dns1) : "none",
                   up.dns2 ? FormatIpv4(*up.dns2) : "none");
    sink_.Emit(up);
  } else {
    logger_.Notice("IPv6CP: up");
    sink_.Emit(ipv6cp_negotiator_.result());
  }
  CheckNetworkReady();
}

void PppClient::LayerDown(ControlProtocol& layer) {
  if (finished_) return;
  if (&layer != &lcp_) {
    FamilyOf(layer).up = false;
    logger_.Info("%s: down", layer.name());
    return;
  }
  sink_.StopTimer(TimerId::kEcho);
  echo_enabled_ = false;
  if (auth_) {
    auth_->Stop();
    auth_.reset();
  }
  sink_.StopTimer(TimerId::kAuthTimeout);
  if (ipv4_.started) ipcp_.Down();
  if (ipv6_.started) ipv6cp_.Down();
  if (finished_) return;
  // tld towards Req-Sent/Ack-Sent is a renegotiation (RFC 1661 4.1: RCR,
  // RCA, RCN, RTA in Opened); towards Closing/Stopping the link is ending
  // and LayerFinished (or the Terminate-Request handling) follows.
  const bool renegotiating = lcp_.state() == State::kReqSent ||
                             lcp_.state() == State::kAckSent;
  if (!renegotiating) {
    EnterPhase(Phase::kTerminate);
    return;
  }
  if (authenticated_) {
    Fail(absl::AbortedError(
             "the server renegotiated LCP after authentication; the SSTP "
             "crypto binding cannot be redone"),
         false);
    return;
  }
  logger_.Info("LCP: the server renegotiates; authentication restarts when "
               "LCP reopens");
  EnterPhase(Phase::kEstablish);
}

void PppClient::LayerFinished(ControlProtocol& layer, const absl::Status& why) {
  if (finished_) return;
  if (&layer == &lcp_) {
    if (closing_) {
      Finish();
      return;
    }
    Fail(why.ok() ? absl::AbortedError("LCP closed") : why, false);
    return;
  }
  FamilyOff(layer, why.ok() ? absl::StrCat(layer.name(), ": closed")
                            : std::string(why.message()));
}

void PppClient::LayerGaveUp(ControlProtocol& layer, const absl::Status& why) {
  if (finished_) return;
  if (&layer == &lcp_) {
    Fail(why, false);
    return;
  }
  FamilyOff(layer, std::string(why.message()));
}

// --- Phases and the end ---------------------------------------------------------

void PppClient::EnterPhase(Phase next) {
  if (next == phase_) return;
  logger_.Info("PPP: phase %s -> %s", PhaseName(phase_), PhaseName(next));
  phase_ = next;
}

void PppClient::Fail(absl::Status reason, bool auth_failure) {
  if (finished_) return;
  // The phase tells where it broke; a configuration error has none.
  const absl::Status status =
      phase_ == Phase::kDead
          ? reason
          : absl::Status(reason.code(), absl::StrCat(PhaseName(phase_),
                                                     " phase: ",
                                                     reason.message()));
  logger_.Error("PPP: link failed: %s", status.message());
  // LCP is sending and answering packets: a Terminate-Request still makes
  // sense to the server.
  if (IsNegotiatingOrOpened(lcp_.state())) {
    // Tell the server why; the session ends the call right after, so there
    // is no waiting for the Terminate-Ack.
    lcp_.SendTerminateRequestNow(status.message());
  }
  if (auth_) auth_->Stop();
  sink_.StopAllTimers();
  sink_.Emit(LinkFailed{status, auth_failure});
  sink_.Seal();
  finished_ = true;
  EnterPhase(Phase::kDead);
}

void PppClient::Finish() {
  if (finished_) return;
  logger_.Info("PPP: link closed");
  if (auth_) auth_->Stop();
  sink_.StopAllTimers();
  sink_.Emit(Finished{});
  sink_.Seal();
  finished_ = true;
  EnterPhase(Phase::kDead);
}

}  // namespace sstp::ppp
