#include "daemon/ppp/server.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/byte_reader.h"
#include "daemon/ppp/frame.h"

namespace sstp::ppp {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// RFC 1661 5.8: Echo-Request/-Reply = Code, Identifier, Length, Magic-Number.
constexpr size_t kEchoHeaderSize = kControlHeaderSize + 4;

// A client that Naks the Authentication-Protocol this many times in a row
// is not going to agree (Windows' "keep asking" would loop for ever).
constexpr int kMaxAuthNaks = 10;

// The Endpoint Discriminator a Windows server offers: class 1 (locally
// assigned) with 20 octets, a GUID and four zero octets as seen in RRAS
// captures. The GUID here is the test server's own.
constexpr uint8_t kWindowsEndpointAddress[20] = {
    0x5a, 0x1f, 0x3c, 0x77, 0x0e, 0x42, 0x4b, 0x9d, 0x8c, 0x61,
    0x27, 0xd4, 0xb3, 0x90, 0x15, 0xe8, 0x00, 0x00, 0x00, 0x00};

// SoftEther's Request/Identity text and Echo-Request data, NUL included
// (Proto_PPP.c).
constexpr char kSoftEtherIdentityPrompt[] =
    "Welcome to the SoftEther VPN server!";
constexpr char kSoftEtherEchoData[] = "Aho Baka Manuke";

std::string IpText(const Ipv4Address& a) {
  return absl::StrFormat("%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
}


uint16_t ReadU16(absl::Span<const uint8_t> bytes) {
  ByteReader reader(bytes);
  uint16_t value = 0;
  reader.ReadU16(&value);
  return value;
}

std::array<uint8_t, 2> U16Bytes(uint16_t value) {
  return {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

std::array<uint8_t, 4> U32Bytes(uint32_t value) {
  return {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

// Constructs the action in place: a temporary variant moved into the vector
// trips GCC 12's -Wmaybe-uninitialized on the inactive alternatives.
template <typename T>
void Emit(PppServer::Actions& out, T&& action) {
  out.emplace_back(std::in_place_type<std::decay_t<T>>,
                   std::forward<T>(action));
}

bool IsFinished(State state) {
  return state == State::kClosed || state == State::kStopped;
}

// RFC 1661 5.4: every option of a Configure-Reject must come from the
// Configure-Request, unmodified.
bool AllOptionsIn(absl::Span<const Option> rejected,
                  absl::Span<const uint8_t> request) {
  absl::StatusOr<std::vector<Option>> sent = ParseOptions(request);
  if (!sent.ok()) return false;
  for (const Option& option : rejected) {
    const bool found =
        std::any_of(sent->begin(), sent->end(), [&](const Option& mine) {
          return mine.type == option.type &&
                 std::equal(mine.value.begin(), mine.value.end(),
                            option.value.begin(), option.value.end());
        });
    if (!found) return false;
  }
  return true;
}

}  // namespace

absl::string_view ServerPersonalityName(ServerPersonality personality) {
  switch (personality) {
    case ServerPersonality::kWindows:
      return "windows";
    case ServerPersonality::kSoftEther:
      return "softether";
    case ServerPersonality::kAccel:
      return "accel-ppp";
    case ServerPersonality::kStrict:
      return "strict";
  }
  return "?";
}

absl::string_view TimerIdName(PppServer::TimerId id) {
  switch (id) {
    case PppServer::TimerId::kLcpRestart:
      return "LCP restart";
    case PppServer::TimerId::kAuth:
      return "authentication";
    case PppServer::TimerId::kIpcpRestart:
      return "IPCP restart";
    case PppServer::TimerId::kIpv6cpRestart:
      return "IPv6CP restart";
    case PppServer::TimerId::kIpcpDelay:
      return "IPCP delay";
    case PppServer::TimerId::kEcho:
      return "LCP echo";
  }
  return "?";
}

void SetPersonality(PppServerConfig& c, ServerPersonality personality) {
  c.personality = personality;
  // The Windows-like baseline; the other personalities change from it.
  c.drop_frames_without_address_control = false;
  c.strict = false;
  c.first_lcp_identifier = 0;
  c.offer_mru = 4091;
  c.offer_magic_number = true;
  c.offer_callback_operation = 6;  // RFC 1570 2.3: Microsoft CBCP
  c.offer_mrru = 1614;
  c.offer_endpoint_discriminator = EndpointDiscriminator{
      1, std::vector<uint8_t>(std::begin(kWindowsEndpointAddress),
                              std::end(kWindowsEndpointAddress))};
  c.auth_option_first = false;
  c.min_peer_mru = 64;
  c.max_peer_mru = 4091;  // SSTP: 4095-octet packets, 4-octet header
  c.reject_accm = false;
  c.reject_magic_number = false;
  c.reject_pfc = false;
  c.reject_acfc = false;
  c.auth_methods = {AuthProtocol::kMsChapV2};
  c.auth_nak_policy = ServerAuthNakPolicy::kFollowSuggestion;
  c.auth.eap_identity_prompt.clear();
  c.auth.eap_method = ServerEapMethod::kMsChapV2;
  c.auth.mschapv2_success_text = "Welcome";
  c.auth.mschapv2_failure_challenge = MsChapV2FailureChallenge::kNew;
  c.auth.mschapv2_failure_text = "Authentication failure";
  c.auth.chap_success_text = "Welcome";
  c.auth.chap_failure_text = "Authentication failure";
  c.auth.pap_ack_text = "Welcome";
  c.auth.pap_nak_text = "Authentication failure";
  c.auth.pap_message_field = true;
  c.reject_secondary_dns = false;
  c.ipcp_wait_for_peer = false;
  c.ipcp_delay = absl::ZeroDuration();
  c.enable_ipv6cp = true;
  c.ipv6cp_wait_for_peer = false;
  c.echo_interval = absl::ZeroDuration();
  c.echo_data.clear();
  c.echo_max_unanswered = 3;

  switch (personality) {
    case ServerPersonality::kWindows:
      break;
    case ServerPersonality::kStrict:
      c.strict = true;
      break;
    case ServerPersonality::kSoftEther:
      // Proto_PPP.c: the first request carries Authentication-Protocol EAP
      // alone, Identifier 0.
      c.drop_frames_without_address_control = true;
      c.offer_mru.reset();
      c.offer_magic_number = false;
      c.offer_callback_operation.reset();
      c.offer_mrru.reset();
      c.offer_endpoint_discriminator.reset();
      c.auth_option_first = true;
      c.min_peer_mru = 100;   // PPP_MRU_MIN
      c.max_peer_mru = 1500;  // PPP_MRU_MAX
      c.reject_accm = true;
      c.reject_magic_number = true;
      c.reject_pfc = true;
      c.reject_acfc = true;
      c.auth_methods = {AuthProtocol::kEap, AuthProtocol::kMsChapV2,
                        AuthProtocol::kPap};
      c.auth_nak_policy = ServerAuthNakPolicy::kNextInList;
      c.auth.eap_identity_prompt.assign(kSoftEtherIdentityPrompt,
                                        sizeof(kSoftEtherIdentityPrompt));
      c.auth.eap_method = ServerEapMethod::kTlsStartOnly;
      c.auth.mschapv2_success_text.reset();
      c.auth.mschapv2_failure_challenge = MsChapV2FailureChallenge::kRepeat;
      c.auth.mschapv2_failure_text.reset();
      c.auth.pap_message_field = false;
      c.reject_secondary_dns = true;
      c.ipcp_wait_for_peer = true;
      c.ipcp_delay = absl::Milliseconds(1300);
      c.ipv6cp_wait_for_peer = true;
      c.echo_interval = absl::Milliseconds(4792);  // PPP_ECHO_SEND_INTERVAL
      c.echo_data.assign(kSoftEtherEchoData,
                         kSoftEtherEchoData + sizeof(kSoftEtherEchoData));
      c.echo_max_unanswered = 0;
      break;
    case ServerPersonality::kAccel:
      // accel-ppp's SSTP log: "ConfReq <auth PAP> <mru 1452> <magic ...>";
      // pcomp, accomp and callback rejected; MRU above ppp-max-mtu Nak'd.
      c.first_lcp_identifier = 1;
      c.offer_mru = 1452;
      c.offer_callback_operation.reset();
      c.offer_mrru.reset();
      c.offer_endpoint_discriminator.reset();
      c.auth_option_first = true;
      c.min_peer_mru = 100;
      c.max_peer_mru = 1452;
      c.reject_accm = true;
      c.reject_pfc = true;
      c.reject_acfc = true;
      c.auth_methods = {AuthProtocol::kPap, AuthProtocol::kChapMd5,
                        AuthProtocol::kMsChapV2};
      c.auth_nak_policy = ServerAuthNakPolicy::kNextInList;
      // auth_mschap_v2.c: "S=... M=Authentication succeeded" and
      // "E=691 R=0 V=3 M=Authentication failure" (no C=).
      c.auth.mschapv2_success_text = "Authentication succeeded";
      c.auth.mschapv2_failure_challenge = MsChapV2FailureChallenge::kOmit;
      c.auth.mschapv2_failure_text = "Authentication failure";
      c.auth.chap_success_text = "Authentication succeeded";
      c.auth.chap_failure_text = "Authentication failed";
      c.auth.pap_ack_text = "Authentication succeeded";
      c.auth.pap_nak_text = "Authentication failed";
      c.ipcp_wait_for_peer = true;
      c.enable_ipv6cp = false;
      break;
  }
}

PppServerConfig PppServerConfig::ForPersonality(ServerPersonality personality) {
  PppServerConfig config;
  SetPersonality(config, personality);
  return config;
}

// --- Construction and events ---------------------------------------------------

PppServer::PppServer(PppServerConfig config, Random& random)
    : config_(std::move(config)),
      random_(random),
      logger_(config_.logger),
      lcp_(kProtocolLcp, TimerId::kLcpRestart, config_.fsm),
      ipcp_(kProtocolIpcp, TimerId::kIpcpRestart, config_.fsm),
      ipv6cp_(kProtocolIpv6cp, TimerId::kIpv6cpRestart, config_.fsm) {
  lcp_.next_identifier = config_.first_lcp_identifier;
  mru_offered_ = config_.offer_mru.has_value();
  offered_mru_ = config_.offer_mru.value_or(0);
  magic_offered_ = config_.offer_magic_number;
  callback_offered_ = config_.offer_callback_operation.has_value();
  mrru_offered_ = config_.offer_mrru.has_value();
  endpoint_offered_ = config_.offer_endpoint_discriminator.has_value();
  auth_offered_ = !config_.auth_methods.empty();
  auth_refused_.assign(config_.auth_methods.size(), false);
  server_interface_id_ = config_.server_interface_id;
  // RFC 1661 4.3: the administrative Open; every automaton waits in Starting
  // for its lower layer (LCP: Up(); the NCPs: the network phase). tls needs
  // no action here: the SSTP call is the lower layer and is already coming.
  lcp_.fsm.Handle(Event::kOpen);
  ipcp_.fsm.Handle(Event::kOpen);
  ipv6cp_.fsm.Handle(Event::kOpen);
  logger_.Info("PPP server personality %s",
               ServerPersonalityName(config_.personality));
}

PppServer::Actions PppServer::Up() {
  Actions out;
  if (ended_ || up_called_) return out;
  up_called_ = true;
  phase_ = Phase::kEstablish;
  if (magic_offered_) {
    magic_number_ = random_.NextU32();
    if (magic_number_ == 0) magic_number_ = 1;  // RFC 1661 6.4: never zero
  }
  Drive(lcp_, Event::kUp, out);
  return out;
}

PppServer::Actions PppServer::OnFrame(uint16_t protocol,
                                      absl::Span<const uint8_t> information,
                                      bool had_address_control_field) {
  Actions out;
  if (ended_) return out;
  if (!had_address_control_field) {
    if (config_.drop_frames_without_address_control) {
      logger_.Debug("dropped a %s frame without FF 03",
                    ProtocolName(protocol));
      return out;
    }
    // RFC 1661 6.6: the Address and Control fields may be omitted only once
    // ACFC is negotiated, which a strict server never lets happen (a request
    // for ACFC already ends the link). Otherwise the frame is accepted.
    if (config_.strict) {
      Violation("frame without Address/Control field FF 03 (ACFC was not "
                "negotiated)",
                out);
      return out;
    }
  }
  if (!up_called_) {
    logger_.Info("%s frame before the lower layer is up: dropped",
                 ProtocolName(protocol));
    return out;
  }

  const bool lcp_opened = lcp_.fsm.state() == State::kOpened;
  switch (protocol) {
    case kProtocolLcp:
      if (stalled_ && phase_ != Phase::kTerminate) {
        absl::StatusOr<ControlPacket> packet = ParseControlPacket(information);
        if (!packet.ok()) {
          Violation(absl::StrCat("LCP: ", packet.status().message()), out);
          return out;
        }
        OnStalledLcp(*packet, out);
        return out;
      }
      OnControlPacket(lcp_, information, out);
      return out;
    case kProtocolPap:
    case kProtocolChap:
    case kProtocolEap:
      if (phase_ == Phase::kTerminate) return out;
      // RFC 1994 4.2: Responses may be repeated after Success, during the
      // network phase; the authenticator answers them.
      if (authenticator_.has_value() &&
          (phase_ == Phase::kAuthenticate || authenticated_)) {
        HandleAuthStep(authenticator_->OnPacket(protocol, information), out);
        return out;
      }
      if (stalled_) {
        logger_.Info("%s packet while stalled: ignored",
                     ProtocolName(protocol));
        return out;
      }
      // RFC 1661 3.4: nothing but LCP before the Authenticate phase.
      Violation(absl::StrCat(ProtocolName(protocol),
                             " packet before the Authenticate phase"),
                out);
      return out;
    case kProtocolIpcp:
    case kProtocolIpv6cp: {
      if (phase_ == Phase::kTerminate) return out;
      if (protocol == kProtocolIpv6cp && !config_.enable_ipv6cp) {
        if (lcp_opened) {
          // accel-ppp without IPv6: "send [LCP ProtoRej <8057>]".
          absl::StatusOr<std::vector<uint8_t>> reject = EncodeProtocolReject(
              lcp_.next_identifier++, protocol, information, peer_mru_);
          if (reject.ok()) {
            Emit(out, SendFrame{kProtocolLcp, *std::move(reject)});
          }
        }
        return out;
      }
      if (phase_ != Phase::kNetwork) {
        // RFC 1661 3.5: NCP packets before the Network phase are silently
        // discarded.
        Violation(absl::StrCat(ProtocolName(protocol),
                               " packet before authentication completed"),
                  out);
        return out;
      }
      OnNcpFrame(protocol == kProtocolIpcp ? ipcp_ : ipv6cp_, information,
                 out);
      return out;
    }
    case kProtocolIpv4:
    case kProtocolIpv6:
      if (data_allowed(protocol)) {
        Emit(out, DataReceived{
            protocol,
            std::vector<uint8_t>(information.begin(), information.end())});
        return out;
      }
      Violation(absl::StrFormat("%s data frame before %s reached Opened",
                                ProtocolName(protocol),
                                protocol == kProtocolIpv4 ? "IPCP" : "IPv6CP"),
                out);
      return out;
    default:
      break;
  }
  if (!lcp_opened) {
    Violation(absl::StrCat(ProtocolName(protocol),
                           " packet before LCP reached Opened"),
              out);
    return out;
  }
  if (config_.strict) {
    Violation(absl::StrCat("unexpected protocol ", ProtocolName(protocol)),
              out);
    return out;
  }
  // RFC 1661 5.7: an unsupported protocol is answered with Protocol-Reject,
  // in the Opened state only.
  logger_.Info("Protocol-Reject %s", ProtocolName(protocol));
  absl::StatusOr<std::vector<uint8_t>> reject = EncodeProtocolReject(
      lcp_.next_identifier++, protocol, information, peer_mru_);
  if (reject.ok()) Emit(out, SendFrame{kProtocolLcp, *std::move(reject)});
  return out;
}

PppServer::Actions PppServer::OnTimer(TimerId id) {
  Actions out;
  if (ended_) return out;
  switch (id) {
    case TimerId::kLcpRestart:
      lcp_.timer_running = false;
      if (stalled_ && phase_ != Phase::kTerminate) {
        // SoftEther retransmits its MS-CHAPv2 request until acknowledged
        // (PPPSendAndRetransmitRequest), and still sends no challenge.
        if (!stall_request_acked_ &&
            stall_transmissions_ < config_.fsm.max_configure) {
          ++stall_transmissions_;
          SendControl(lcp_, Code::kConfigureRequest,
                      stall_request_identifier_, stall_request_, out);
          StartTimerAction(TimerId::kLcpRestart, config_.fsm.restart_timer,
                           out);
          lcp_.timer_running = true;
        }
        return out;
      }
      if (lcp_.fsm.TimeoutEvent() == Event::kTimeoutMinus &&
          end_reason_.empty()) {
        end_reason_ = absl::StrFormat(
            "LCP: no agreement after %d Configure-Requests (RFC 1661 4.6 "
            "Max-Configure)",
            config_.fsm.max_configure);
      }
      Drive(lcp_, lcp_.fsm.TimeoutEvent(), out);
      return out;
    case TimerId::kIpcpRestart:
      ipcp_.timer_running = false;
      Drive(ipcp_, ipcp_.fsm.TimeoutEvent(), out);
      return out;
    case TimerId::kIpv6cpRestart:
      ipv6cp_.timer_running = false;
      Drive(ipv6cp_, ipv6cp_.fsm.TimeoutEvent(), out);
      return out;
    case TimerId::kAuth:
      auth_timer_running_ = false;
      if (authenticator_.has_value() && phase_ == Phase::kAuthenticate) {
        HandleAuthStep(authenticator_->OnTimeout(), out);
      }
      return out;
    case TimerId::kIpcpDelay: {
      if (!ipcp_delay_running_) return out;
      ipcp_delay_running_ = false;
      if (phase_ != Phase::kNetwork) return out;
      // SoftEther sends its own request once its DHCP round is done, then
      // answers the client's latest request.
      StartNcp(ipcp_, out);
      std::vector<uint8_t> held = std::move(held_ipcp_request_);
      held_ipcp_request_.clear();
      if (!held.empty() && !ended_) OnControlPacket(ipcp_, held, out);
      return out;
    }
    case TimerId::kEcho:
      echo_timer_running_ = false;
      if (lcp_.fsm.state() != State::kOpened || phase_ == Phase::kTerminate ||
          config_.echo_interval <= absl::ZeroDuration()) {
        return out;
      }
      if (config_.echo_max_unanswered > 0 &&
          echo_unanswered_ >= config_.echo_max_unanswered) {
        EndLink(absl::StrFormat("client did not answer %d LCP Echo-Requests",
                                echo_unanswered_),
                out);
        return out;
      }
      SendEchoRequest(out);
      return out;
  }
  return out;
}

PppServer::Actions PppServer::Close(absl::string_view reason) {
  Actions out;
  EndLink(std::string(reason), out);
  return out;
}

PppServer::Actions PppServer::Down() {
  Actions out;
  if (ended_) return out;
  if (end_reason_.empty()) end_reason_ = "lower layer down";
  // No Terminate exchange is possible any more; entering the Terminate phase
  // first keeps This-Layer-Down from asking for one.
  phase_ = Phase::kTerminate;
  Drive(lcp_, Event::kDown, out);
  EmitLinkDown(out);
  return out;
}

std::optional<AuthProtocol> PppServer::offered_auth() const {
  if (stalled_) return AuthProtocol::kMsChapV2;
  if (!auth_offered_ || auth_index_ >= config_.auth_methods.size()) {
    return std::nullopt;
  }
  return config_.auth_methods[auth_index_];
}

bool PppServer::data_allowed(uint16_t protocol) const {
  if (ended_) return false;
  if (protocol == kProtocolIpv4) return ipcp_.fsm.state() == State::kOpened;
  if (protocol == kProtocolIpv6) return ipv6cp_.fsm.state() == State::kOpened;
  return false;
}

// --- The automata ----------------------------------------------------------------

PppServer::Negotiation& PppServer::NegotiationFor(uint16_t protocol) {
  if (protocol == kProtocolIpcp) return ipcp_;
  if (protocol == kProtocolIpv6cp) return ipv6cp_;
  return lcp_;
}

void PppServer::Drive(Negotiation& n, Event event, Actions& out) {
  const Outcome outcome = n.fsm.Handle(event);
  const std::string name = ProtocolName(n.protocol);
  if (outcome.illegal()) {
    logger_.Debug("%s: %s", name,
                  FormatTransition(outcome.from, event, outcome.transition));
    return;
  }
  logger_.Debug("%s: %s", name,
                FormatTransition(outcome.from, event, outcome.transition));
  if (outcome.transition.crossed_connection) {
    // RFC 1661 4.3 [x]: "this occurance SHOULD be logged".
    logger_.Info("%s: %s in %s (crossed connection or peer bug)", name,
                 EventName(event), StateName(outcome.from));
  }
  ++drive_depth_;
  for (ppp::Action action : outcome.actions()) {
    switch (action) {
      case ppp::Action::kThisLayerUp:
        ThisLayerUp(n, out);
        break;
      case ppp::Action::kThisLayerDown:
        ThisLayerDown(n, out);
        break;
      case ppp::Action::kThisLayerStarted:
        break;  // the lower layer (the SSTP call / LCP) is already coming up
      case ppp::Action::kThisLayerFinished:
        ThisLayerFinished(n, out);
        break;
      case ppp::Action::kInitRestartCountConfigure:
      case ppp::Action::kInitRestartCountTerminate:
      case ppp::Action::kZeroRestartCount:
        break;  // kept by the Automaton
      case ppp::Action::kSendConfigureRequest:
        SendConfigureRequest(n, event == Event::kTimeoutPlus, out);
        break;
      case ppp::Action::kSendConfigureAck:
      case ppp::Action::kSendConfigureNak:
      case ppp::Action::kSendEchoReply:
        // Prepared by the packet handler before the event.
        Emit(out, SendFrame{n.protocol, n.reply});
        break;
      case ppp::Action::kSendTerminateRequest: {
        absl::StatusOr<std::vector<uint8_t>> request = EncodeTerminateRequest(
            n.next_identifier++, AsBytes(n.terminate_data));
        if (request.ok()) {
          Emit(out, SendFrame{n.protocol, *std::move(request)});
        }
        break;
      }
      case ppp::Action::kSendTerminateAck:
        SendControl(n, Code::kTerminateAck, n.received_identifier, {}, out);
        break;
      case ppp::Action::kSendCodeReject: {
        absl::StatusOr<std::vector<uint8_t>> reject = EncodeCodeReject(
            n.next_identifier++, n.rejected_packet, peer_mru_);
        if (reject.ok()) {
          Emit(out, SendFrame{n.protocol, *std::move(reject)});
        }
        break;
      }
    }
  }
  switch (outcome.timer) {
    case TimerCommand::kStart:
      StartTimerAction(n.timer, config_.fsm.restart_timer, out);
      n.timer_running = true;
      break;
    case TimerCommand::kStop:
      if (n.timer_running) {
        StopTimerAction(n.timer, out);
        n.timer_running = false;
      }
      break;
    case TimerCommand::kLeave:
      break;
  }
  --drive_depth_;
  if (drive_depth_ == 0 && deferred_end_.has_value()) {
    std::string reason = *std::move(deferred_end_);
    deferred_end_.reset();
    EndLink(std::move(reason), out);
  }
}

void PppServer::SendConfigureRequest(Negotiation& n, bool retransmission,
                                     Actions& out) {
  // RFC 1661 5.1: a new Identifier whenever the options change or a reply
  // came; a retransmission may keep it (and does, with the same options).
  if (!retransmission || !n.request_outstanding) {
    n.request_identifier = n.next_identifier++;
    if (&n == &lcp_) {
      n.request_options = BuildLcpRequest();
    } else if (&n == &ipcp_) {
      n.request_options = BuildIpcpRequest();
    } else {
      n.request_options = BuildIpv6cpRequest();
    }
  }
  n.request_outstanding = true;
  SendControl(n, Code::kConfigureRequest, n.request_identifier,
              n.request_options, out);
}

void PppServer::SendControl(Negotiation& n, Code code, uint8_t identifier,
                            absl::Span<const uint8_t> data, Actions& out) {
  absl::StatusOr<std::vector<uint8_t>> packet =
      EncodeControlPacket(code, identifier, data);
  if (!packet.ok()) {
    logger_.Error("%s %s: %s", ProtocolName(n.protocol), CodeName(code),
                  packet.status().message());
    return;
  }
  Emit(out, SendFrame{n.protocol, *std::move(packet)});
}

void PppServer::ThisLayerUp(Negotiation& n, Actions& out) {
  if (&n == &lcp_) {
    logger_.Info("LCP opened (client MRU %d, magic %s)", peer_mru_,
                 magic_acked_ ? absl::StrFormat("0x%08x", magic_number_)
                              : std::string("none"));
    auth_naks_ = 0;
    echo_unanswered_ = 0;
    if (config_.echo_interval > absl::ZeroDuration()) {
      StartTimerAction(TimerId::kEcho, config_.echo_interval, out);
      echo_timer_running_ = true;
    }
    StartAuthentication(out);
    return;
  }
  if (&n == &ipcp_) {
    Ipv4Up up;
    up.server_address = config_.server_address;
    up.client_address = acked_client_address_;
    up.primary_dns = acked_primary_dns_;
    up.secondary_dns = acked_secondary_dns_;
    logger_.Notice("IPCP opened: server %s, client %s",
                   IpText(up.server_address), IpText(up.client_address));
    Emit(out, up);
    return;
  }
  logger_.Notice("IPv6CP opened");
  Emit(out, Ipv6Up{server_interface_id_, acked_client_interface_id_});
}

void PppServer::ThisLayerDown(Negotiation& n, Actions& out) {
  if (&n != &lcp_) {
    logger_.Info("%s left Opened", ProtocolName(n.protocol));
    return;
  }
  if (echo_timer_running_) {
    StopTimerAction(TimerId::kEcho, out);
    echo_timer_running_ = false;
  }
  if (ipcp_delay_running_) {
    StopTimerAction(TimerId::kIpcpDelay, out);
    ipcp_delay_running_ = false;
  }
  // RFC 1661 4.4 tld: the upper layers go down with LCP.
  Drive(ipcp_, Event::kDown, out);
  Drive(ipv6cp_, Event::kDown, out);
  if (auth_timer_running_) {
    StopTimerAction(TimerId::kAuth, out);
    auth_timer_running_ = false;
  }
  if (phase_ == Phase::kTerminate || phase_ == Phase::kDead) return;
  if (authenticated_) {
    // The SSTP call is bound to this authentication (crypto binding): the
    // test server does not renegotiate under it.
    EndLink("LCP renegotiation after authentication is not supported by the "
            "test server",
            out);
    return;
  }
  // RFC 1661 3.2: back to Establish; authentication restarts when LCP
  // reopens.
  authenticator_.reset();
  phase_ = Phase::kEstablish;
}

void PppServer::ThisLayerFinished(Negotiation& n, Actions& out) {
  if (&n == &lcp_) {
    EmitLinkDown(out);
    return;
  }
  logger_.Info("%s finished", ProtocolName(n.protocol));
  if (phase_ != Phase::kNetwork) return;
  const bool ipcp_done = IsFinished(ipcp_.fsm.state());
  const bool ipv6cp_done =
      !config_.enable_ipv6cp || IsFinished(ipv6cp_.fsm.state());
  if (ipcp_done && ipv6cp_done) {
    EndLink("no network protocol reached Opened (IPCP and IPv6CP finished)",
            out);
  }
}

// --- Received control packets ------------------------------------------------

void PppServer::OnControlPacket(Negotiation& n,
                                absl::Span<const uint8_t> information,
                                Actions& out) {
  const std::string name = ProtocolName(n.protocol);
  absl::StatusOr<ControlPacket> parsed = ParseControlPacket(information);
  if (!parsed.ok()) {
    Violation(absl::StrCat(name, ": ", parsed.status().message()), out);
    return;
  }
  const ControlPacket& packet = *parsed;
  if (phase_ == Phase::kTerminate && &n != &lcp_) return;
  switch (packet.code) {
    case Code::kConfigureRequest:
      OnConfigureRequest(n, packet, out);
      return;
    case Code::kConfigureAck:
      OnConfigureAck(n, packet, out);
      return;
    case Code::kConfigureNak:
    case Code::kConfigureReject:
      OnConfigureNakOrReject(n, packet, out);
      return;
    case Code::kTerminateRequest:
      n.received_identifier = packet.identifier;
      if (&n == &lcp_) {
        if (end_reason_.empty()) {
          end_reason_ = packet.data.empty()
                            ? "client sent LCP Terminate-Request"
                            : absl::StrFormat(
                                  "client sent LCP Terminate-Request \"%s\"",
                                  AsText(packet.data));
        }
        if (phase_ != Phase::kDead) phase_ = Phase::kTerminate;
      }
      Drive(n, Event::kRtr, out);
      return;
    case Code::kTerminateAck:
      Drive(n, Event::kRta, out);
      return;
    case Code::kCodeReject: {
      if (packet.data.empty()) {
        Violation(absl::StrCat(name, " Code-Reject without a rejected packet"),
                  out);
        return;
      }
      // RFC 1661 5.6: rejecting one of the Configure/Terminate/Code-Reject
      // codes is catastrophic (RXJ-); Echo, Discard and the RFC 1570 codes
      // may be rejected (RXJ+).
      const uint8_t rejected = packet.data[0];
      const bool catastrophic = rejected >= 1 && rejected <= 7;
      logger_.Info("%s Code-Reject of code %d", name, rejected);
      Drive(n, catastrophic ? Event::kRxjMinus : Event::kRxjPlus, out);
      return;
    }
    case Code::kProtocolReject:
    case Code::kEchoRequest:
    case Code::kEchoReply:
    case Code::kDiscardRequest:
    case Code::kIdentification:
    case Code::kTimeRemaining:
      if (&n == &lcp_) {
        OnLcpOnlyCode(packet, out);
        return;
      }
      break;  // RFC 1332 2, RFC 5072 3: the NCPs use codes 1..7 only.
  }
  // RFC 1661 5.6: an unknown Code is answered with Code-Reject (RUC).
  if (config_.strict) {
    Violation(absl::StrFormat("unknown %s code %d", name,
                              static_cast<int>(packet.code)),
              out);
    return;
  }
  const size_t length = kControlHeaderSize + packet.data.size();
  n.rejected_packet.assign(information.begin(), information.begin() + length);
  Drive(n, Event::kRuc, out);
}

void PppServer::OnLcpOnlyCode(const ControlPacket& packet, Actions& out) {
  switch (packet.code) {
    case Code::kProtocolReject: {
      absl::StatusOr<ProtocolRejectData> reject =
          ParseProtocolReject(packet.data);
      if (!reject.ok()) {
        Violation(absl::StrCat("LCP ", reject.status().message()), out);
        return;
      }
      const uint16_t rejected = reject->rejected_protocol;
      logger_.Info("client Protocol-Rejected %s", ProtocolName(rejected));
      // RFC 1661 5.7: RXJ+ for LCP itself; the rejected protocol's own
      // automaton gets RXJ- (it can never come up).
      if (rejected == kProtocolLcp) {
        Drive(lcp_, Event::kRxjMinus, out);
        return;
      }
      Drive(lcp_, Event::kRxjPlus, out);
      if (rejected == kProtocolIpcp || rejected == kProtocolIpv6cp) {
        Drive(NegotiationFor(rejected), Event::kRxjMinus, out);
      } else if (rejected == kProtocolPap || rejected == kProtocolChap ||
                 rejected == kProtocolEap) {
        if (phase_ == Phase::kAuthenticate) {
          EndLink(absl::StrCat("client Protocol-Rejected ",
                               ProtocolName(rejected),
                               " during authentication"),
                  out);
        }
      }
      return;
    }
    case Code::kEchoRequest: {
      if (lcp_.fsm.state() != State::kOpened) return;  // RFC 1661 5.8
      std::optional<EchoData> echo = ParseEchoChecked(packet, "Echo-Request", out);
      if (!echo) return;
      // RFC 1661 5.8: our own Magic-Number (zero if not negotiated), the
      // data copied, truncated to the peer's MRU.
      const size_t room = peer_mru_ > kEchoHeaderSize
                              ? peer_mru_ - kEchoHeaderSize
                              : 0;
      const absl::Span<const uint8_t> data =
          echo->data.subspan(0, std::min(room, echo->data.size()));
      absl::StatusOr<std::vector<uint8_t>> reply = EncodeEchoReply(
          packet.identifier, magic_acked_ ? magic_number_ : 0, data);
      if (!reply.ok()) return;
      lcp_.reply = *std::move(reply);
      Drive(lcp_, Event::kRxr, out);
      return;
    }
    case Code::kEchoReply: {
      if (!ParseEchoChecked(packet, "Echo-Reply", out)) return;
      echo_unanswered_ = 0;
      return;
    }
    case Code::kDiscardRequest:
    case Code::kIdentification:
    case Code::kTimeRemaining:
      // RFC 1661 5.9, RFC 1570 2.1/2.2: informational, nothing to answer
      // (Windows clients send Identification).
      logger_.Debug("LCP %s ignored", CodeName(packet.code));
      return;
    case Code::kConfigureRequest:
    case Code::kConfigureAck:
    case Code::kConfigureNak:
    case Code::kConfigureReject:
    case Code::kTerminateRequest:
    case Code::kTerminateAck:
    case Code::kCodeReject:
      return;  // handled by OnControlPacket
  }
}

// An Echo-Request or Echo-Reply's data (RFC 1661 5.8): malformed data is a
// violation; in strict mode so is a Magic-Number other than the client's.
std::optional<EchoData> PppServer::ParseEchoChecked(const ControlPacket& packet,
                                                    absl::string_view kind,
                                                    Actions& out) {
  absl::StatusOr<EchoData> echo = ParseEchoData(packet.data);
  if (!echo.ok()) {
    Violation(absl::StrCat("LCP ", kind, ": ", echo.status().message()), out);
    return std::nullopt;
  }
  if (config_.strict && echo->magic_number != peer_magic_) {
    Violation(absl::StrFormat("%s Magic-Number 0x%08x is not the client's "
                              "negotiated 0x%08x",
                              kind, echo->magic_number, peer_magic_),
              out);
    return std::nullopt;
  }
  return *std::move(echo);
}

void PppServer::OnConfigureRequest(Negotiation& n, const ControlPacket& packet,
                                   Actions& out) {
  Evaluation e = &n == &lcp_    ? EvaluateLcp(packet.data)
                 : &n == &ipcp_ ? EvaluateIpcp(packet.data)
                                : EvaluateIpv6cp(packet.data);
  if (!e.violation.empty()) {
    Violation(absl::StrCat(ProtocolName(n.protocol), " Configure-Request: ",
                           e.violation),
              out);
    if (ended_ || phase_ == Phase::kTerminate) return;
  }
  if (e.discard) return;

  Code code = Code::kConfigureAck;
  absl::StatusOr<std::vector<uint8_t>> options =
      std::vector<uint8_t>(packet.data.begin(), packet.data.end());
  if (e.reject_count > 0) {
    code = Code::kConfigureReject;
    options = e.rejects.Build();
  } else if (e.nak_count > 0) {
    // RFC 1661 4.6 Max-Failure: after that many Naks, what is still
    // unacceptable is rejected, so that negotiation converges.
    if (n.naks_in_a_row >= config_.max_failure &&
        e.naks_as_rejects_count > 0) {
      code = Code::kConfigureReject;
      options = e.naks_as_rejects.Build();
    } else {
      code = Code::kConfigureNak;
      options = e.naks.Build();
    }
  }
  if (!options.ok()) {
    logger_.Error("%s: %s", ProtocolName(n.protocol),
                  options.status().message());
    return;
  }
  n.naks_in_a_row = code == Code::kConfigureNak ? n.naks_in_a_row + 1 : 0;
  absl::StatusOr<std::vector<uint8_t>> reply =
      EncodeControlPacket(code, packet.identifier, *options);
  if (!reply.ok()) return;
  n.reply = *std::move(reply);

  if (code == Code::kConfigureAck) {
    // Recorded now: This-Layer-Up may follow within this event.
    if (e.peer_mru) peer_mru_ = *e.peer_mru;
    if (e.peer_magic) peer_magic_ = *e.peer_magic;
    if (e.client_address) acked_client_address_ = *e.client_address;
    if (&n == &ipcp_) {
      acked_primary_dns_ = e.primary_dns;
      acked_secondary_dns_ = e.secondary_dns;
    }
    if (e.client_interface_id) {
      acked_client_interface_id_ = *e.client_interface_id;
    }
  }
  Drive(n, code == Code::kConfigureAck ? Event::kRcrPlus : Event::kRcrMinus,
        out);
}

void PppServer::OnConfigureAck(Negotiation& n, const ControlPacket& packet,
                               Actions& out) {
  const std::string name = ProtocolName(n.protocol);
  // RFC 1661 5.2: the Identifier must match the last Configure-Request and
  // the options must be exactly those sent; otherwise silently discard.
  if (!n.request_outstanding || packet.identifier != n.request_identifier) {
    Violation(absl::StrFormat(
                  "%s Configure-Ack id %d does not match the outstanding "
                  "Configure-Request id %d",
                  name, packet.identifier, n.request_identifier),
              out);
    return;
  }
  if (!std::equal(packet.data.begin(), packet.data.end(),
                  n.request_options.begin(), n.request_options.end())) {
    Violation(absl::StrCat(name,
                           " Configure-Ack options differ from the "
                           "Configure-Request (RFC 1661 5.2)"),
              out);
    return;
  }
  n.request_outstanding = false;
  if (&n == &lcp_) ApplyLcpAck();
  Drive(n, Event::kRca, out);
}

void PppServer::OnConfigureNakOrReject(Negotiation& n,
                                       const ControlPacket& packet,
                                       Actions& out) {
  const std::string name = ProtocolName(n.protocol);
  const bool reject = packet.code == Code::kConfigureReject;
  if (!n.request_outstanding || packet.identifier != n.request_identifier) {
    Violation(absl::StrFormat(
                  "%s Configure-%s id %d does not match the outstanding "
                  "Configure-Request id %d",
                  name, reject ? "Reject" : "Nak", packet.identifier,
                  n.request_identifier),
              out);
    return;
  }
  absl::StatusOr<std::vector<Option>> options = ParseOptions(packet.data);
  if (!options.ok()) {
    Violation(absl::StrCat(name, " Configure-", reject ? "Reject" : "Nak",
                           ": ", options.status().message()),
              out);
    return;
  }
  if (reject && !AllOptionsIn(*options, n.request_options)) {
    Violation(absl::StrCat(name,
                           " Configure-Reject lists an option that was not "
                           "in the Configure-Request (RFC 1661 5.4)"),
              out);
    if (ended_ || phase_ == Phase::kTerminate) return;
  }
  n.request_outstanding = false;
  if (&n == &lcp_) {
    lcp_nak_fatal_.reset();
    ApplyLcpNakOrReject(packet.code, packet.data);
    if (lcp_nak_fatal_.has_value()) {
      std::string reason = *std::move(lcp_nak_fatal_);
      lcp_nak_fatal_.reset();
      EndLink(std::move(reason), out);
      return;
    }
  } else if (&n == &ipcp_) {
    ApplyIpcpNakOrReject(packet.code, packet.data);
  } else {
    ApplyIpv6cpNakOrReject(packet.code, packet.data);
  }
  Drive(n, Event::kRcn, out);
}

// --- LCP options ------------------------------------------------------------------

std::vector<uint8_t> PppServer::BuildLcpRequest() const {
  OptionListBuilder builder;
  auto add_auth = [&] {
    if (const std::optional<AuthProtocol> method = offered_auth()) {
      builder.AddLcp(MakeAuthProtocolOption(*method));
    }
  };
  if (config_.auth_option_first) add_auth();
  if (mru_offered_) builder.AddLcp(MruOption{offered_mru_});
  if (!config_.auth_option_first) add_auth();
  if (magic_offered_) builder.AddLcp(MagicNumberOption{magic_number_});
  if (callback_offered_) {
    builder.AddLcp(CallbackOption{*config_.offer_callback_operation, {}});
  }
  if (mrru_offered_) builder.AddLcp(MrruOption{*config_.offer_mrru});
  if (endpoint_offered_) {
    const EndpointDiscriminator& ed = *config_.offer_endpoint_discriminator;
    builder.AddLcp(
        EndpointDiscriminatorOption{ed.discriminator_class, ed.address});
  }
  absl::StatusOr<std::vector<uint8_t>> options = builder.Build();
  if (!options.ok()) {
    logger_.Error("LCP Configure-Request: %s", options.status().message());
    return {};
  }
  return *std::move(options);
}

PppServer::Evaluation PppServer::EvaluateLcp(
    absl::Span<const uint8_t> options) {
  Evaluation e;
  absl::StatusOr<std::vector<Option>> parsed = ParseOptions(options);
  if (!parsed.ok()) {
    e.discard = true;
    e.violation = std::string(parsed.status().message());
    return e;
  }
  for (const Option& option : *parsed) {
    absl::StatusOr<LcpOption> lcp = ParseLcpOption(option);
    if (!lcp.ok()) {
      // A known option with a malformed value: refuse it.
      if (e.violation.empty()) e.violation = std::string(lcp.status().message());
      e.Reject(option);
      continue;
    }
    std::visit(
        Overloaded{
            [&](const MruOption& o) {
              // RFC 1661 6.1; SoftEther: MAKESURE(value, 100, 1500) in a Nak.
              if (o.mru < config_.min_peer_mru ||
                  o.mru > config_.max_peer_mru) {
                const uint16_t wanted =
                    std::clamp(o.mru, config_.min_peer_mru,
                               config_.max_peer_mru);
                e.Nak(&option, option.type, U16Bytes(wanted));
              } else {
                e.peer_mru = o.mru;
              }
            },
            [&](const AccmOption&) {
              if (config_.reject_accm) e.Reject(option);
            },
            [&](const AuthProtocolOption&) {
              // RFC 1661 6.2: the server does not authenticate itself to the
              // client.
              e.Reject(option);
            },
            [&](const QualityProtocolOption&) { e.Reject(option); },
            [&](const MagicNumberOption& o) {
              if (config_.reject_magic_number) {
                e.Reject(option);
              } else if (o.magic_number == 0 ||
                         (magic_offered_ && o.magic_number == magic_number_)) {
                // RFC 1661 6.4: zero is invalid; our own value means a
                // looped-back link or a peer copying ours. Suggest another.
                uint32_t other = random_.NextU32();
                if (other == 0 || other == magic_number_) other ^= 0x5A5A5A5A;
                e.Nak(&option, option.type, U32Bytes(other));
              } else {
                e.peer_magic = o.magic_number;
              }
            },
            [&](const ProtocolFieldCompressionOption&) {
              if (config_.strict) {
                e.violation =
                    "client asked for Protocol-Field-Compression (PFC)";
              }
              if (config_.reject_pfc) e.Reject(option);
            },
            [&](const AddressAndControlFieldCompressionOption&) {
              if (config_.strict) {
                e.violation =
                    "client asked for Address-and-Control-Field-"
                    "Compression (ACFC)";
              }
              if (config_.reject_acfc) e.Reject(option);
            },
            [&](const CallbackOption&) { e.Reject(option); },
            [&](const MrruOption&) { e.Reject(option); },
            [&](const EndpointDiscriminatorOption&) { e.Reject(option); },
            [&](const UnknownOption&) { e.Reject(option); },
        },
        *lcp);
  }
  return e;
}

void PppServer::ApplyLcpAck() {
  // The Ack repeats our request exactly (checked by the caller): whatever we
  // offered is now agreed.
  magic_acked_ = magic_offered_;
}

void PppServer::ApplyLcpNakOrReject(Code code,
                                    absl::Span<const uint8_t> options) {
  const bool reject = code == Code::kConfigureReject;
  absl::StatusOr<std::vector<Option>> parsed = ParseOptions(options);
  if (!parsed.ok()) return;  // checked by the caller
  for (const Option& option : *parsed) {
    switch (static_cast<LcpOptionType>(option.type)) {
      case LcpOptionType::kMaximumReceiveUnit:
        if (reject) {
          mru_offered_ = false;
        } else if (option.value.size() == 2) {
          // RFC 1661 6.1: the Nak names an MRU the client can send.
          offered_mru_ = ReadU16(option.value);
          logger_.Info("client Nak'd MRU: offering %d", offered_mru_);
        }
        break;
      case LcpOptionType::kAuthenticationProtocol:
        OnAuthNakOrReject(code, option.value);
        break;
      case LcpOptionType::kMagicNumber:
        if (reject) {
          magic_offered_ = false;
        } else {
          // RFC 1661 6.4: choose a new random Magic-Number.
          magic_number_ = random_.NextU32();
          if (magic_number_ == 0) magic_number_ = 1;
        }
        break;
      case LcpOptionType::kCallback:
        callback_offered_ = false;
        break;
      case LcpOptionType::kMultilinkMrru:
        mrru_offered_ = false;
        break;
      case LcpOptionType::kEndpointDiscriminator:
        endpoint_offered_ = false;
        break;
      case LcpOptionType::kAsyncControlCharacterMap:
      case LcpOptionType::kQualityProtocol:
      case LcpOptionType::kProtocolFieldCompression:
      case LcpOptionType::kAddressAndControlFieldCompression:
        // Not in our request: a Nak may suggest them (RFC 1661 5.3); the
        // server does not want them.
        break;
    }
  }
}

void PppServer::OnAuthNakOrReject(Code code,
                                  absl::Span<const uint8_t> value) {
  const std::optional<AuthProtocol> current = offered_auth();
  if (!current.has_value()) return;
  const bool reject = code == Code::kConfigureReject;
  if (++auth_naks_ > kMaxAuthNaks) {
    lcp_nak_fatal_ = absl::StrFormat(
        "no authentication protocol agreed after %d Configure-Naks",
        kMaxAuthNaks);
    return;
  }
  std::optional<AuthProtocol> suggested;
  if (!reject) {
    absl::StatusOr<AuthProtocolOption> option = ParseAuthProtocolValue(value);
    if (option.ok()) suggested = option->known;
  }
  const std::string suggestion_text =
      reject ? "Configure-Reject"
             : suggested.has_value()
                   ? absl::StrCat("Nak suggesting ",
                                  AuthProtocolName(*suggested))
                   : std::string("Nak suggesting a method the server does not "
                                 "know");
  switch (config_.auth_nak_policy) {
    case ServerAuthNakPolicy::kFollowSuggestion: {
      if (reject) {
        lcp_nak_fatal_ =
            absl::StrCat("client Configure-Rejected authentication (",
                         AuthProtocolName(*current), ")");
        return;
      }
      if (suggested.has_value()) {
        const auto it = std::find(config_.auth_methods.begin(),
                                  config_.auth_methods.end(), *suggested);
        if (it != config_.auth_methods.end()) {
          auth_index_ = static_cast<size_t>(it - config_.auth_methods.begin());
          logger_.Info("%s: offering %s", suggestion_text,
                       AuthProtocolName(*suggested));
          return;
        }
      }
      logger_.Info("%s: not allowed, asking for %s again", suggestion_text,
                   AuthProtocolName(*current));
      return;
    }
    case ServerAuthNakPolicy::kNextInList: {
      auth_refused_[auth_index_] = true;
      for (size_t i = 0; i < config_.auth_methods.size(); ++i) {
        if (!auth_refused_[i]) {
          auth_index_ = i;
          logger_.Info("%s for %s: offering %s", suggestion_text,
                       AuthProtocolName(*current),
                       AuthProtocolName(config_.auth_methods[i]));
          return;
        }
      }
      std::vector<std::string> names;
      for (AuthProtocol method : config_.auth_methods) {
        names.emplace_back(AuthProtocolName(method));
      }
      lcp_nak_fatal_ = absl::StrCat(
          "client refused every authentication method offered (",
          absl::StrJoin(names, ", "), ")");
      return;
    }
  }
}

// --- IPCP and IPv6CP options -----------------------------------------------------

std::vector<uint8_t> PppServer::BuildIpcpRequest() const {
  OptionListBuilder builder;
  if (ipcp_address_offered_) {
    builder.AddIpcp(
        IpcpAddressOption{IpcpOptionType::kIpAddress, config_.server_address});
  }
  absl::StatusOr<std::vector<uint8_t>> options = builder.Build();
  return options.ok() ? *std::move(options) : std::vector<uint8_t>();
}

std::vector<uint8_t> PppServer::BuildIpv6cpRequest() const {
  OptionListBuilder builder;
  if (interface_id_offered_) {
    builder.AddIpv6cp(InterfaceIdentifierOption{server_interface_id_});
  }
  absl::StatusOr<std::vector<uint8_t>> options = builder.Build();
  return options.ok() ? *std::move(options) : std::vector<uint8_t>();
}

PppServer::Evaluation PppServer::EvaluateIpcp(
    absl::Span<const uint8_t> options) {
  Evaluation e;
  absl::StatusOr<std::vector<Option>> parsed = ParseOptions(options);
  if (!parsed.ok()) {
    e.discard = true;
    e.violation = std::string(parsed.status().message());
    return e;
  }
  bool saw_address = false;
  // Acks the option if it holds `wanted`, Naks it with `wanted` otherwise.
  auto ack_or_nak = [&](const Option& option, const Ipv4Address& given,
                        const Ipv4Address& wanted) {
    if (given == wanted) return true;
    e.Nak(&option, option.type, wanted);
    return false;
  };
  for (const Option& option : *parsed) {
    absl::StatusOr<IpcpOption> ipcp = ParseIpcpOption(option);
    if (!ipcp.ok()) {
      if (e.violation.empty()) {
        e.violation = std::string(ipcp.status().message());
      }
      e.Reject(option);
      continue;
    }
    std::visit(
        Overloaded{
            [&](const IpcpAddressOption& o) {
              switch (o.type) {
                case IpcpOptionType::kIpAddress:
                  // RFC 1332 3.3: 0.0.0.0 asks the server for an address;
                  // anything else is Nak'd with the pool's.
                  saw_address = true;
                  if (ack_or_nak(option, o.address, config_.client_address)) {
                    e.client_address = o.address;
                  }
                  return;
                case IpcpOptionType::kPrimaryDns:
                  // RFC 1877 1.1.
                  if (!config_.primary_dns.has_value()) {
                    e.Reject(option);
                  } else if (ack_or_nak(option, o.address,
                                        *config_.primary_dns)) {
                    e.primary_dns = o.address;
                  }
                  return;
                case IpcpOptionType::kSecondaryDns:
                  // RFC 1877 1.3; SoftEther rejects it.
                  if (config_.reject_secondary_dns ||
                      !config_.secondary_dns.has_value()) {
                    e.Reject(option);
                  } else if (ack_or_nak(option, o.address,
                                        *config_.secondary_dns)) {
                    e.secondary_dns = o.address;
                  }
                  return;
                case IpcpOptionType::kPrimaryNbns:
                case IpcpOptionType::kSecondaryNbns:
                case IpcpOptionType::kIpCompressionProtocol:
                  e.Reject(option);  // no WINS server
                  return;
              }
              e.Reject(option);
            },
            [&](const IpCompressionProtocolOption&) { e.Reject(option); },
            [&](const UnknownOption&) { e.Reject(option); },
        },
        *ipcp);
  }
  if (!saw_address) {
    // RFC 1661 5.3: a Nak may add an option the server wants negotiated.
    e.Nak(nullptr, static_cast<uint8_t>(IpcpOptionType::kIpAddress),
          config_.client_address);
  }
  return e;
}

void PppServer::ApplyIpcpNakOrReject(Code code,
                                     absl::Span<const uint8_t> options) {
  absl::StatusOr<std::vector<Option>> parsed = ParseOptions(options);
  if (!parsed.ok()) return;
  for (const Option& option : *parsed) {
    if (option.type != static_cast<uint8_t>(IpcpOptionType::kIpAddress)) {
      continue;
    }
    if (code == Code::kConfigureReject) {
      // RFC 1332 3.3: the client does not want to learn our address.
      ipcp_address_offered_ = false;
    } else {
      // The server's address is not the client's to choose: ask again.
      logger_.Info("client Nak'd the server's IP address: keeping %s",
                   IpText(config_.server_address));
    }
  }
}

PppServer::Evaluation PppServer::EvaluateIpv6cp(
    absl::Span<const uint8_t> options) {
  Evaluation e;
  absl::StatusOr<std::vector<Option>> parsed = ParseOptions(options);
  if (!parsed.ok()) {
    e.discard = true;
    e.violation = std::string(parsed.status().message());
    return e;
  }
  bool saw_identifier = false;
  for (const Option& option : *parsed) {
    absl::StatusOr<Ipv6cpOption> ipv6cp = ParseIpv6cpOption(option);
    if (!ipv6cp.ok()) {
      if (e.violation.empty()) {
        e.violation = std::string(ipv6cp.status().message());
      }
      e.Reject(option);
      continue;
    }
    std::visit(
        Overloaded{
            [&](const InterfaceIdentifierOption& o) {
              // RFC 5072 4.1: a zero identifier, or one equal to ours, is
              // Nak'd with a different, non-zero one.
              saw_identifier = true;
              const InterfaceIdentifier zero{};
              if (o.identifier == zero ||
                  o.identifier == server_interface_id_) {
                e.Nak(&option, option.type, config_.client_interface_id);
              } else {
                e.client_interface_id = o.identifier;
              }
            },
            [&](const IpCompressionProtocolOption&) { e.Reject(option); },
            [&](const UnknownOption&) { e.Reject(option); },
        },
        *ipv6cp);
  }
  if (!saw_identifier) {
    e.Nak(nullptr,
          static_cast<uint8_t>(Ipv6cpOptionType::kInterfaceIdentifier),
          config_.client_interface_id);
  }
  return e;
}

void PppServer::ApplyIpv6cpNakOrReject(Code code,
                                       absl::Span<const uint8_t> options) {
  absl::StatusOr<std::vector<Option>> parsed = ParseOptions(options);
  if (!parsed.ok()) return;
  for (const Option& option : *parsed) {
    if (option.type !=
        static_cast<uint8_t>(Ipv6cpOptionType::kInterfaceIdentifier)) {
      continue;
    }
    if (code == Code::kConfigureReject) {
      interface_id_offered_ = false;
    } else if (option.value.size() == server_interface_id_.size()) {
      // RFC 5072 4.1: on a Nak, use the suggested identifier if acceptable.
      InterfaceIdentifier suggested{};
      std::copy(option.value.begin(), option.value.end(), suggested.begin());
      const InterfaceIdentifier zero{};
      if (suggested != zero && suggested != acked_client_interface_id_) {
        server_interface_id_ = suggested;
      }
    }
  }
}

// --- Phases ----------------------------------------------------------------------

void PppServer::StartAuthentication(Actions& out) {
  const std::optional<AuthProtocol> method = offered_auth();
  if (!method.has_value()) {
    EnterNetworkPhase(out);
    return;
  }
  phase_ = Phase::kAuthenticate;
  authenticator_.emplace(config_.auth, random_, logger_);
  HandleAuthStep(authenticator_->Start(*method), out);
}

void PppServer::HandleAuthStep(AuthStep step, Actions& out) {
  for (AuthPacket& packet : step.packets) {
    Emit(out, SendFrame{packet.protocol, std::move(packet.information)});
  }
  switch (step.timer) {
    case TimerCommand::kStart:
      StartTimerAction(TimerId::kAuth, config_.auth.retransmit_interval, out);
      auth_timer_running_ = true;
      break;
    case TimerCommand::kStop:
      if (auth_timer_running_) {
        StopTimerAction(TimerId::kAuth, out);
        auth_timer_running_ = false;
      }
      break;
    case TimerCommand::kLeave:
      break;
  }
  if (!step.violation.empty()) {
    Violation(step.violation, out);
    if (ended_ || phase_ == Phase::kTerminate) return;
  }
  std::visit(
      Overloaded{
          [&](std::monostate) {},
          [&](AuthSucceeded& success) {
            if (authenticated_) return;
            authenticated_ = true;
            Authenticated authenticated;
            authenticated.method = success.method;
            authenticated.user = success.user;
            authenticated.hlak = success.hlak;
            Emit(out, std::move(authenticated));
            EnterNetworkPhase(out);
          },
          [&](AuthRejected& rejected) {
            Emit(out, AuthFailed{rejected.method, rejected.user,
                                     rejected.reason});
            EndLink(absl::StrCat("authentication failed: ", rejected.reason),
                    out);
          },
          [&](AuthEapAbandoned& abandoned) {
            OnSoftEtherStall(abandoned, out);
          },
      },
      step.outcome);
}

void PppServer::EnterNetworkPhase(Actions& out) {
  phase_ = Phase::kNetwork;
  logger_.Info("network phase");
  if (!config_.ipcp_wait_for_peer) StartNcp(ipcp_, out);
  if (config_.enable_ipv6cp && !config_.ipv6cp_wait_for_peer) {
    StartNcp(ipv6cp_, out);
  }
}

void PppServer::StartNcp(Negotiation& n, Actions& out) {
  if (n.fsm.state() != State::kStarting) return;
  Drive(n, Event::kUp, out);
}

void PppServer::OnNcpFrame(Negotiation& n,
                           absl::Span<const uint8_t> information,
                           Actions& out) {
  if (n.fsm.state() != State::kStarting) {
    OnControlPacket(n, information, out);
    return;
  }
  // A passive NCP that has not started: only the client's Configure-Request
  // starts it.
  absl::StatusOr<ControlPacket> packet = ParseControlPacket(information);
  if (!packet.ok()) {
    Violation(absl::StrCat(ProtocolName(n.protocol), ": ",
                           packet.status().message()),
              out);
    return;
  }
  if (packet->code != Code::kConfigureRequest) {
    Violation(absl::StrCat(ProtocolName(n.protocol), " ",
                           CodeName(packet->code),
                           " before any Configure-Request"),
              out);
    return;
  }
  if (&n == &ipcp_ && config_.ipcp_delay > absl::ZeroDuration()) {
    // SoftEther answers only after its DHCP round: keep the latest request.
    held_ipcp_request_.assign(information.begin(), information.end());
    if (!ipcp_delay_running_) {
      ipcp_delay_running_ = true;
      StartTimerAction(TimerId::kIpcpDelay, config_.ipcp_delay, out);
    }
    return;
  }
  StartNcp(n, out);
  OnControlPacket(n, information, out);
}

void PppServer::OnSoftEtherStall(const AuthEapAbandoned& abandoned,
                                 Actions& out) {
  // SSTP-NOTES "Choosing the authentication protocol at LCP": SoftEther 5.01
  // Protocol-Rejects the Nak, re-sends an LCP Configure-Request for
  // MS-CHAPv2, and then never sends a challenge.
  absl::StatusOr<std::vector<uint8_t>> reject =
      EncodeProtocolReject(lcp_.next_identifier++, kProtocolEap,
                           abandoned.rejected_information, peer_mru_);
  if (reject.ok()) Emit(out, SendFrame{kProtocolLcp, *std::move(reject)});
  absl::StatusOr<std::vector<uint8_t>> options =
      OptionListBuilder()
          .AddLcp(MakeAuthProtocolOption(AuthProtocol::kMsChapV2))
          .Build();
  if (!options.ok()) return;
  stalled_ = true;
  phase_ = Phase::kEstablish;
  authenticator_.reset();
  stall_request_ = *std::move(options);
  stall_request_identifier_ = lcp_.next_identifier++;
  stall_request_acked_ = false;
  stall_transmissions_ = 1;
  SendControl(lcp_, Code::kConfigureRequest, stall_request_identifier_,
              stall_request_, out);
  StartTimerAction(TimerId::kLcpRestart, config_.fsm.restart_timer, out);
  lcp_.timer_running = true;
  logger_.Notice("EAP abandoned after the client's Nak: MS-CHAPv2 re-offered "
                 "at LCP; no challenge will follow (SoftEther 5.01 stall)");
}

void PppServer::OnStalledLcp(const ControlPacket& packet, Actions& out) {
  switch (packet.code) {
    case Code::kConfigureRequest: {
      // SoftEther answers option by option (PPPProcessLCPRequestPacket),
      // outside any automaton.
      Evaluation e = EvaluateLcp(packet.data);
      if (e.discard) return;
      Code code = Code::kConfigureAck;
      absl::StatusOr<std::vector<uint8_t>> options =
          std::vector<uint8_t>(packet.data.begin(), packet.data.end());
      if (e.reject_count > 0) {
        code = Code::kConfigureReject;
        options = e.rejects.Build();
      } else if (e.nak_count > 0) {
        code = Code::kConfigureNak;
        options = e.naks.Build();
      } else if (e.peer_mru) {
        peer_mru_ = *e.peer_mru;
      }
      if (options.ok()) {
        SendControl(lcp_, code, packet.identifier, *options, out);
      }
      return;
    }
    case Code::kConfigureAck:
      if (packet.identifier == stall_request_identifier_ &&
          !stall_request_acked_) {
        // PPPProcessLCPResponsePacket: the Ack of MS-CHAPv2 finds
        // AuthProtocol already set (EAP) and changes nothing: the stall.
        stall_request_acked_ = true;
        if (lcp_.timer_running) {
          StopTimerAction(TimerId::kLcpRestart, out);
          lcp_.timer_running = false;
        }
        logger_.Info("client acknowledged MS-CHAPv2; stalled");
      }
      return;
    case Code::kEchoRequest: {
      absl::StatusOr<EchoData> echo = ParseEchoData(packet.data);
      if (!echo.ok()) return;
      absl::StatusOr<std::vector<uint8_t>> reply =
          EncodeEchoReply(packet.identifier, 0, echo->data);
      if (reply.ok()) Emit(out, SendFrame{kProtocolLcp, *std::move(reply)});
      return;
    }
    case Code::kTerminateRequest:
      SendControl(lcp_, Code::kTerminateAck, packet.identifier, {}, out);
      if (end_reason_.empty()) {
        end_reason_ = "client sent LCP Terminate-Request while stalled";
      }
      EmitLinkDown(out);
      return;
    case Code::kConfigureNak:
    case Code::kConfigureReject:
    case Code::kTerminateAck:
    case Code::kCodeReject:
    case Code::kProtocolReject:
    case Code::kEchoReply:
    case Code::kDiscardRequest:
    case Code::kIdentification:
    case Code::kTimeRemaining:
      logger_.Debug("LCP %s while stalled: ignored", CodeName(packet.code));
      return;
  }
}

void PppServer::SendEchoRequest(Actions& out) {
  absl::StatusOr<std::vector<uint8_t>> request =
      EncodeEchoRequest(lcp_.next_identifier++,
                        magic_acked_ ? magic_number_ : 0, config_.echo_data);
  if (request.ok()) Emit(out, SendFrame{kProtocolLcp, *std::move(request)});
  ++echo_unanswered_;
  StartTimerAction(TimerId::kEcho, config_.echo_interval, out);
  echo_timer_running_ = true;
}

// --- Ending ------------------------------------------------------------------------

void PppServer::EndLink(std::string reason, Actions& out) {
  if (ended_) return;
  if (drive_depth_ > 0) {
    if (!deferred_end_.has_value()) deferred_end_ = std::move(reason);
    return;
  }
  if (phase_ == Phase::kTerminate) return;  // already ending
  if (end_reason_.empty()) end_reason_ = reason;
  logger_.Notice("ending the link: %s", reason);
  phase_ = Phase::kTerminate;
  if (auth_timer_running_) {
    StopTimerAction(TimerId::kAuth, out);
    auth_timer_running_ = false;
  }
  if (echo_timer_running_) {
    StopTimerAction(TimerId::kEcho, out);
    echo_timer_running_ = false;
  }
  if (ipcp_delay_running_) {
    StopTimerAction(TimerId::kIpcpDelay, out);
    ipcp_delay_running_ = false;
  }
  // RFC 1661 5.5: the Terminate-Request may carry data; the reason helps the
  // client's log.
  lcp_.terminate_data = reason;
  Drive(lcp_, Event::kClose, out);
  // Close in Stopped, Closed or Initial sends nothing and finishes nothing:
  // the link is already down as far as LCP goes.
  const State state = lcp_.fsm.state();
  if (!ended_ && (state == State::kClosed || state == State::kInitial)) {
    EmitLinkDown(out);
  }
}

void PppServer::Violation(std::string what, Actions& out) {
  if (!config_.strict) {
    logger_.Info("client protocol error (ignored): %s", what);
    return;
  }
  logger_.Notice("client protocol violation: %s", what);
  EndLink(absl::StrCat("protocol violation: ", what), out);
}

void PppServer::EmitLinkDown(Actions& out) {
  if (ended_) return;
  for (Negotiation* n : {&lcp_, &ipcp_, &ipv6cp_}) {
    if (n->timer_running) {
      StopTimerAction(n->timer, out);
      n->timer_running = false;
    }
  }
  if (auth_timer_running_) StopTimerAction(TimerId::kAuth, out);
  if (echo_timer_running_) StopTimerAction(TimerId::kEcho, out);
  if (ipcp_delay_running_) StopTimerAction(TimerId::kIpcpDelay, out);
  auth_timer_running_ = echo_timer_running_ = ipcp_delay_running_ = false;
  ended_ = true;
  phase_ = Phase::kDead;
  if (end_reason_.empty()) end_reason_ = "LCP finished";
  logger_.Notice("link down: %s", end_reason_);
  Emit(out, LinkDown{end_reason_});
}

void PppServer::StartTimerAction(TimerId id, absl::Duration after,
                                 Actions& out) {
  Emit(out, StartTimer{id, after});
}

void PppServer::StopTimerAction(TimerId id, Actions& out) {
  Emit(out, StopTimer{id});
}

}  // namespace sstp::ppp
