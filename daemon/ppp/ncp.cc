#include "daemon/ppp/ncp.h"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

constexpr uint8_t Type(IpcpOptionType type) {
  return static_cast<uint8_t>(type);
}

bool IsZero(const Ipv4Address& address) {
  return address == Ipv4Address{};
}
bool IsZero(const InterfaceIdentifier& id) { return id == InterfaceIdentifier{}; }

std::string FormatIpv4(const Ipv4Address& a) {
  return absl::StrFormat("%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
}

// Collects the options of a Configure-Reject and why each is rejected.
struct RejectList {
  OptionListBuilder builder;
  std::vector<std::string> reasons;

  void Add(const Option& option, std::string name, absl::string_view why) {
    builder.Add(option);
    reasons.push_back(absl::StrCat(name, " (", why, ")"));
  }
  absl::StatusOr<RequestVerdict> Verdict() const {
    ASSIGN_OR_RETURN(std::vector<uint8_t> data, builder.Build());
    return RequestVerdict{Code::kConfigureReject, std::move(data),
                          absl::StrCat("rejecting ",
                                       absl::StrJoin(reasons, ", "))};
  }
};

}  // namespace

// --- IPCP -------------------------------------------------------------------

IpcpNegotiator::IpcpNegotiator(bool want_dns, const Logger& logger)
    : logger_(logger),
      send_dns1_(want_dns),
      send_dns2_(want_dns) {}

absl::StatusOr<std::vector<uint8_t>> IpcpNegotiator::BuildRequest() {
  OptionListBuilder builder;
  builder.AddIpcp(IpcpAddressOption{IpcpOptionType::kIpAddress, address_});
  if (send_dns1_) {
    builder.AddIpcp(IpcpAddressOption{IpcpOptionType::kPrimaryDns, dns1_});
  }
  if (send_dns2_) {
    builder.AddIpcp(IpcpAddressOption{IpcpOptionType::kSecondaryDns, dns2_});
  }
  return builder.Build();
}

void IpcpNegotiator::RequestAcked(absl::Span<const uint8_t> options) {
  absl::StatusOr<std::vector<IpcpOption>> parsed = ParseIpcpOptions(options);
  if (!parsed.ok()) return;  // Our own request: cannot happen.
  result_.dns1.reset();
  result_.dns2.reset();
  for (const IpcpOption& option : *parsed) {
    const auto* address = std::get_if<IpcpAddressOption>(&option);
    if (address == nullptr) continue;
    switch (address->type) {
      case IpcpOptionType::kIpAddress:
        result_.local = address->address;
        if (IsZero(address->address)) {
          // RFC 1332 3.3: 0.0.0.0 asks the peer to assign an address; an
          // Ack of it leaves us without one.
          SetFatal(absl::FailedPreconditionError(
              "IPCP: the server acknowledged IP-Address 0.0.0.0 instead of "
              "assigning us an address"));
        }
        break;
      case IpcpOptionType::kPrimaryDns:
        if (!IsZero(address->address)) result_.dns1 = address->address;
        break;
      case IpcpOptionType::kSecondaryDns:
        if (!IsZero(address->address)) result_.dns2 = address->address;
        break;
      case IpcpOptionType::kIpCompressionProtocol:
      case IpcpOptionType::kPrimaryNbns:
      case IpcpOptionType::kSecondaryNbns:
        break;
    }
  }
}

absl::Status IpcpNegotiator::RequestNaked(absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<IpcpOption> parsed, ParseIpcpOptions(options));
  for (const IpcpOption& option : parsed) {
    const auto* address = std::get_if<IpcpAddressOption>(&option);
    if (address == nullptr) continue;
    switch (address->type) {
      case IpcpOptionType::kIpAddress:
        logger_.Info("IPCP: the server assigns IP-Address %s",
                     FormatIpv4(address->address));
        address_ = address->address;
        break;
      case IpcpOptionType::kPrimaryDns:
        if (send_dns1_) {
          logger_.Info("IPCP: the server gives Primary-DNS %s",
                       FormatIpv4(address->address));
          dns1_ = address->address;
        }
        break;
      case IpcpOptionType::kSecondaryDns:
        if (send_dns2_) {
          logger_.Info("IPCP: the server gives Secondary-DNS %s",
                       FormatIpv4(address->address));
          dns2_ = address->address;
        }
        break;
      case IpcpOptionType::kIpCompressionProtocol:
      case IpcpOptionType::kPrimaryNbns:
      case IpcpOptionType::kSecondaryNbns:
        // RFC 1661 5.3: suggestions of options we did not ask for.
        logger_.Debug("IPCP: ignoring the server's suggestion of %s",
                      IpcpOptionName(static_cast<uint8_t>(address->type)));
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status IpcpNegotiator::RequestRejected(
    absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Option> parsed, ParseOptions(options));
  for (const Option& option : parsed) {
    if (option.type == Type(IpcpOptionType::kIpAddress)) {
      SetFatal(absl::FailedPreconditionError(
          "IPCP: the server rejected the IP-Address option: it will not "
          "assign us an address"));
    } else if (option.type == Type(IpcpOptionType::kPrimaryDns)) {
      send_dns1_ = false;
      logger_.Info("IPCP: the server rejected Primary-DNS: no DNS server "
                   "from it");
    } else if (option.type == Type(IpcpOptionType::kSecondaryDns)) {
      send_dns2_ = false;
      logger_.Info("IPCP: the server rejected Secondary-DNS (RFC 1877): "
                   "asking for the primary only");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RequestVerdict> IpcpNegotiator::EvaluateRequest(
    absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Option> raw_options, ParseOptions(options));
  RejectList rejects;
  std::optional<Ipv4Address> peer;
  for (const Option& raw : raw_options) {
    const std::string name = IpcpOptionName(raw.type);
    absl::StatusOr<IpcpOption> parsed = ParseIpcpOption(raw);
    if (!parsed.ok()) {
      rejects.Add(raw, name, parsed.status().message());
      continue;
    }
    if (const auto* address = std::get_if<IpcpAddressOption>(&*parsed)) {
      if (address->type != IpcpOptionType::kIpAddress) {
        // RFC 1877: the server asking us for name servers.
        rejects.Add(raw, name, "we have none to give");
      } else if (IsZero(address->address)) {
        rejects.Add(raw, name,
                    "0.0.0.0 asks us to assign the server's address; we "
                    "have none to give");
      } else {
        peer = address->address;
      }
    } else if (std::holds_alternative<IpCompressionProtocolOption>(*parsed)) {
      rejects.Add(raw, name, "not implemented");
    } else {
      rejects.Add(raw, name, "unknown");
    }
  }
  if (!rejects.reasons.empty()) return rejects.Verdict();
  result_.peer = peer;
  return RequestVerdict{};
}

// --- IPv6CP -----------------------------------------------------------------

Ipv6cpNegotiator::Ipv6cpNegotiator(Random& random, const Logger& logger)
    : random_(random), logger_(logger) {}

InterfaceIdentifier Ipv6cpNegotiator::NewIdentifier(
    const InterfaceIdentifier& avoid1, const InterfaceIdentifier& avoid2) {
  InterfaceIdentifier id{};
  for (int attempt = 0; attempt < 8; ++attempt) {
    random_.Fill(absl::MakeSpan(id));
    if (!IsZero(id) && id != avoid1 && id != avoid2) return id;
  }
  // Only a degenerate Random (a test's FixedRandom) gets here: derive one
  // that differs from both.
  for (uint8_t last = 1; last != 0; ++last) {
    id = avoid1;
    id[7] ^= last;
    if (!IsZero(id) && id != avoid2) return id;
  }
  return id;
}

absl::StatusOr<std::vector<uint8_t>> Ipv6cpNegotiator::BuildRequest() {
  if (!identifier_) identifier_ = NewIdentifier({}, {});
  OptionListBuilder builder;
  if (send_identifier_) {
    builder.AddIpv6cp(InterfaceIdentifierOption{*identifier_});
  }
  return builder.Build();
}

void Ipv6cpNegotiator::RequestAcked(absl::Span<const uint8_t> options) {
  if (identifier_) result_.local = *identifier_;
  absl::StatusOr<std::vector<Ipv6cpOption>> parsed =
      ParseIpv6cpOptions(options);
  if (!parsed.ok()) return;  // Our own request: cannot happen.
  for (const Ipv6cpOption& option : *parsed) {
    if (const auto* id = std::get_if<InterfaceIdentifierOption>(&option)) {
      result_.local = id->identifier;
    }
  }
}

absl::Status Ipv6cpNegotiator::RequestNaked(
    absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Ipv6cpOption> parsed,
                   ParseIpv6cpOptions(options));
  for (const Ipv6cpOption& option : parsed) {
    const auto* id = std::get_if<InterfaceIdentifierOption>(&option);
    if (id == nullptr) continue;
    const InterfaceIdentifier peer = result_.peer.value_or(InterfaceIdentifier{});
    if (!IsZero(id->identifier) && id->identifier != peer) {
      // RFC 5072 4.1: the Nak suggests an identifier for us.
      logger_.Info("IPv6CP: taking the Interface-Identifier the server "
                   "suggests");
      identifier_ = id->identifier;
    } else {
      identifier_ = NewIdentifier(id->identifier, peer);
      logger_.Info("IPv6CP: the server Nak'd our Interface-Identifier: "
                   "choosing another");
    }
  }
  return absl::OkStatus();
}

absl::Status Ipv6cpNegotiator::RequestRejected(
    absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Option> parsed, ParseOptions(options));
  for (const Option& option : parsed) {
    if (option.type ==
        static_cast<uint8_t>(Ipv6cpOptionType::kInterfaceIdentifier)) {
      send_identifier_ = false;
      logger_.Info("IPv6CP: the server rejected Interface-Identifier: ours "
                   "stays, unnegotiated");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RequestVerdict> Ipv6cpNegotiator::EvaluateRequest(
    absl::Span<const uint8_t> options) {
  if (!identifier_) identifier_ = NewIdentifier({}, {});
  ASSIGN_OR_RETURN(std::vector<Option> raw_options, ParseOptions(options));
  RejectList rejects;
  OptionListBuilder naks;
  std::string nak_reason;
  std::optional<InterfaceIdentifier> peer;
  for (const Option& raw : raw_options) {
    const std::string name = Ipv6cpOptionName(raw.type);
    absl::StatusOr<Ipv6cpOption> parsed = ParseIpv6cpOption(raw);
    if (!parsed.ok()) {
      rejects.Add(raw, name, parsed.status().message());
      continue;
    }
    if (const auto* id = std::get_if<InterfaceIdentifierOption>(&*parsed)) {
      // RFC 5072 4.1: zero asks us for an identifier; one equal to ours
      // must be Nak'd with a different non-zero value.
      if (IsZero(id->identifier) || id->identifier == *identifier_) {
        naks.AddIpv6cp(InterfaceIdentifierOption{
            NewIdentifier(*identifier_, id->identifier)});
        nak_reason = IsZero(id->identifier)
                         ? "the server asks us to choose its "
                           "Interface-Identifier"
                         : "the server's Interface-Identifier equals ours";
      } else {
        peer = id->identifier;
      }
    } else if (std::holds_alternative<IpCompressionProtocolOption>(*parsed)) {
      rejects.Add(raw, name, "not implemented");
    } else {
      rejects.Add(raw, name, "unknown");
    }
  }
  if (!rejects.reasons.empty()) return rejects.Verdict();
  if (!nak_reason.empty()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> data, naks.Build());
    return RequestVerdict{Code::kConfigureNak, std::move(data), nak_reason};
  }
  result_.peer = peer;
  return RequestVerdict{};
}

}  // namespace sstp::ppp
