#include "daemon/ppp/client_actions.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

size_t Bit(TimerId id) { return static_cast<size_t>(id); }

constexpr TimerId kAllTimers[] = {
    TimerId::kLcpRestart,      TimerId::kIpcpRestart,
    TimerId::kIpv6cpRestart,   TimerId::kAuthRetransmit,
    TimerId::kAuthTimeout,     TimerId::kEcho,
};

// "Configure-Request(1)", "Challenge(3)", "Request/Identity(1)": the kind of
// packet and its Identifier, never its contents.
std::string DescribePacket(uint16_t protocol,
                           const std::vector<uint8_t>& information) {
  if (information.size() < 2) return "(short)";
  const uint8_t code = information[0];
  const uint8_t id = information[1];
  std::string kind;
  switch (protocol) {
    case kProtocolLcp:
    case kProtocolIpcp:
    case kProtocolIpv6cp:
      kind = CodeName(static_cast<Code>(code));
      break;
    case kProtocolPap:
      kind = code == 1   ? "Authenticate-Request"
             : code == 2 ? "Authenticate-Ack"
             : code == 3 ? "Authenticate-Nak"
                         : absl::StrCat("code ", code);
      break;
    case kProtocolChap:
      kind = code == 1   ? "Challenge"
             : code == 2 ? "Response"
             : code == 3 ? "Success"
             : code == 4 ? "Failure"
                         : absl::StrCat("code ", code);
      break;
    case kProtocolEap:
      kind = code == 1   ? "Request"
             : code == 2 ? "Response"
             : code == 3 ? "Success"
             : code == 4 ? "Failure"
                         : absl::StrCat("code ", code);
      if ((code == 1 || code == 2) && information.size() > 4) {
        absl::StrAppend(&kind, "/",
                        EapTypeName(static_cast<EapType>(information[4])));
      }
      break;
    default:
      kind = absl::StrCat("code ", code);
      break;
  }
  return absl::StrFormat("%s(%d)", kind, id);
}

std::string FormatIpv4(const Ipv4Address& a) {
  return absl::StrFormat("%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
}

std::string FormatInterfaceId(const InterfaceIdentifier& id) {
  return absl::StrFormat("%02x%02x:%02x%02x:%02x%02x:%02x%02x", id[0], id[1],
                         id[2], id[3], id[4], id[5], id[6], id[7]);
}

}  // namespace

absl::string_view AuthMethodName(AuthMethod method) {
  switch (method) {
    case AuthMethod::kMsChapV2:
      return "MS-CHAPv2";
    case AuthMethod::kEapMsChapV2:
      return "EAP-MSCHAPv2";
    case AuthMethod::kChapMd5:
      return "CHAP-MD5";
    case AuthMethod::kPap:
      return "PAP";
  }
  return "?";
}

absl::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kDead:
      return "Dead";
    case Phase::kEstablish:
      return "Establish";
    case Phase::kAuthenticate:
      return "Authenticate";
    case Phase::kNetwork:
      return "Network";
    case Phase::kTerminate:
      return "Terminate";
  }
  return "?";
}

absl::string_view TimerIdName(TimerId id) {
  switch (id) {
    case TimerId::kLcpRestart:
      return "LcpRestart";
    case TimerId::kIpcpRestart:
      return "IpcpRestart";
    case TimerId::kIpv6cpRestart:
      return "Ipv6cpRestart";
    case TimerId::kAuthRetransmit:
      return "AuthRetransmit";
    case TimerId::kAuthTimeout:
      return "AuthTimeout";
    case TimerId::kEcho:
      return "Echo";
  }
  return "?";
}

std::string DescribeAction(const ClientAction& action) {
  struct Visitor {
    std::string operator()(const SendFrame& a) const {
      return absl::StrCat("send ", ProtocolName(a.protocol), " ",
                          DescribePacket(a.protocol, a.information));
    }
    std::string operator()(const StartTimer& a) const {
      return absl::StrCat("start ", TimerIdName(a.id), " ",
                          absl::FormatDuration(a.after));
    }
    std::string operator()(const StopTimer& a) const {
      return absl::StrCat("stop ", TimerIdName(a.id));
    }
    std::string operator()(const Authenticated& a) const {
      return absl::StrCat("authenticated(",
                          a.method ? AuthMethodName(*a.method) : "none", ")");
    }
    std::string operator()(const Ipv4Up& a) const {
      std::string out = absl::StrCat("ipv4-up(", FormatIpv4(a.local));
      if (a.peer) absl::StrAppend(&out, " peer ", FormatIpv4(*a.peer));
      if (a.dns1) absl::StrAppend(&out, " dns ", FormatIpv4(*a.dns1));
      if (a.dns2) absl::StrAppend(&out, " dns ", FormatIpv4(*a.dns2));
      return absl::StrCat(out, ")");
    }
    std::string operator()(const Ipv6Up& a) const {
      std::string out = absl::StrCat("ipv6-up(", FormatInterfaceId(a.local));
      if (a.peer) absl::StrAppend(&out, " peer ", FormatInterfaceId(*a.peer));
      return absl::StrCat(out, ")");
    }
    std::string operator()(const NetworkReady&) const {
      return "network-ready";
    }
    std::string operator()(const LinkFailed& a) const {
      return absl::StrCat("link-failed(",
                          absl::StatusCodeToString(a.reason.code()),
                          a.auth_failure ? ", auth" : "", ")");
    }
    std::string operator()(const Finished&) const { return "finished"; }
  };
  return std::visit(Visitor{}, action);
}

std::string DescribeActions(const ClientActions& actions) {
  return absl::StrJoin(actions, ", ",
                       [](std::string* out, const ClientAction& action) {
                         absl::StrAppend(out, DescribeAction(action));
                       });
}

void ActionSink::Send(uint16_t protocol, std::vector<uint8_t> information,
                      bool holds_secret) {
  if (sealed_) {
    if (holds_secret) WipeBytes(information.data(), information.size());
    return;
  }
  actions_.emplace_back(
      std::in_place_type<SendFrame>,
      SendFrame{protocol, std::move(information), holds_secret});
}

void ActionSink::StartTimer(TimerId id, absl::Duration after) {
  if (sealed_) return;
  running_.set(Bit(id));
  actions_.emplace_back(std::in_place_type<::sstp::ppp::StartTimer>,
                        ::sstp::ppp::StartTimer{id, after});
}

void ActionSink::StopTimer(TimerId id) {
  if (sealed_ || !running_.test(Bit(id))) return;
  running_.reset(Bit(id));
  actions_.emplace_back(std::in_place_type<::sstp::ppp::StopTimer>,
                        ::sstp::ppp::StopTimer{id});
}

void ActionSink::StopAllTimers() {
  for (TimerId id : kAllTimers) StopTimer(id);
}

bool ActionSink::Expired(TimerId id) {
  if (!running_.test(Bit(id))) return false;
  running_.reset(Bit(id));
  return true;
}

bool ActionSink::TimerRunning(TimerId id) const {
  return running_.test(Bit(id));
}

void ActionSink::Emit(ClientAction action) {
  if (sealed_) return;
  actions_.push_back(std::move(action));
}

ClientActions ActionSink::Take() {
  ClientActions out;
  out.swap(actions_);
  return out;
}

}  // namespace sstp::ppp
