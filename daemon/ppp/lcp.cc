#include "daemon/ppp/lcp.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

constexpr uint8_t Type(LcpOptionType type) { return static_cast<uint8_t>(type); }

AuthProtocol ToAuthProtocol(AuthMethod method) {
  switch (method) {
    case AuthMethod::kMsChapV2:
      return AuthProtocol::kMsChapV2;
    case AuthMethod::kEapMsChapV2:
      return AuthProtocol::kEap;
    case AuthMethod::kChapMd5:
      return AuthProtocol::kChapMd5;
    case AuthMethod::kPap:
      return AuthProtocol::kPap;
  }
  return AuthProtocol::kMsChapV2;
}

AuthMethod FromAuthProtocol(AuthProtocol protocol) {
  switch (protocol) {
    case AuthProtocol::kPap:
      return AuthMethod::kPap;
    case AuthProtocol::kChapMd5:
      return AuthMethod::kChapMd5;
    case AuthProtocol::kMsChapV2:
      return AuthMethod::kMsChapV2;
    case AuthProtocol::kEap:
      // EAP-MSCHAPv2 is the only EAP method the client runs.
      return AuthMethod::kEapMsChapV2;
  }
  return AuthMethod::kMsChapV2;
}

// What the server asks for, in words: "MS-CHAPv2", "EAP", "CHAP algorithm
// 0x80 (MS-CHAPv1)", "protocol 0xc481".
std::string DescribeAuthOption(const AuthProtocolOption& option) {
  if (option.known) {
    return std::string(AuthProtocolName(*option.known));
  }
  if (option.protocol == kProtocolChap && option.data.size() == 1) {
    return absl::StrFormat(
        "CHAP algorithm 0x%02x%s", option.data[0],
        option.data[0] == kChapAlgorithmMsChapV1 ? " (MS-CHAPv1)" : "");
  }
  return absl::StrFormat("authentication protocol 0x%04x", option.protocol);
}

}  // namespace

LcpNegotiator::LcpNegotiator(LcpSettings settings, Random& random,
                             const Logger& logger)
    : settings_(std::move(settings)),
      random_(random),
      logger_(logger),
      mru_(settings_.mru) {
  magic_ = NewMagic(0);
}

uint32_t LcpNegotiator::NewMagic(uint32_t avoid) {
  // RFC 1661 6.4: chosen at random; zero is not a valid Magic-Number.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const uint32_t magic = random_.NextU32();
    if (magic != 0 && magic != avoid && magic != magic_) return magic;
  }
  // Only a degenerate Random (a test's FixedRandom) gets here.
  uint32_t magic = ~avoid;
  if (magic == 0 || magic == magic_) magic = avoid + 1 == 0 ? 1 : avoid + 1;
  return magic;
}

bool LcpNegotiator::Allows(AuthMethod method) const {
  return std::find(settings_.auth_methods.begin(), settings_.auth_methods.end(),
                   method) != settings_.auth_methods.end();
}

AuthMethod LcpNegotiator::Suggestion() const {
  for (AuthMethod method : settings_.auth_methods) {
    // SSTP-NOTES: suggest plain MS-CHAPv2 rather than EAP when both are
    // allowed (SoftEther's EAP offers only EAP-TLS).
    if (method == AuthMethod::kEapMsChapV2 && Allows(AuthMethod::kMsChapV2)) {
      continue;
    }
    return method;
  }
  return settings_.auth_methods.empty() ? AuthMethod::kMsChapV2
                                        : settings_.auth_methods.front();
}

std::string LcpNegotiator::AllowedList() const {
  return absl::StrJoin(settings_.auth_methods, ", ",
                       [](std::string* out, AuthMethod method) {
                         absl::StrAppend(out, AuthMethodName(method));
                       });
}

LcpNegotiator::AuthDecision LcpNegotiator::DecideAuth(
    const AuthProtocolOption& option) const {
  AuthDecision decision;
  const std::string asked = DescribeAuthOption(option);
  if (!option.known) {
    decision.method = Suggestion();
    decision.reason = absl::StrFormat(
        "the server asks for %s, which this client does not implement; "
        "suggesting %s",
        asked, AuthMethodName(decision.method));
    return decision;
  }
  const AuthMethod method = FromAuthProtocol(*option.known);
  if (!Allows(method)) {
    decision.method = Suggestion();
    decision.reason = absl::StrFormat(
        "the server asks for %s, which the profile does not allow (allowed: "
        "%s); suggesting %s",
        AuthMethodName(method), AllowedList(),
        AuthMethodName(decision.method));
    return decision;
  }
  if (method == AuthMethod::kEapMsChapV2 && Allows(AuthMethod::kMsChapV2)) {
    if (!eap_naked_) {
      decision.method = AuthMethod::kMsChapV2;
      decision.naks_eap = true;
      decision.reason =
          "the server asks for EAP; suggesting MS-CHAPv2 first (SSTP-NOTES: "
          "some servers' EAP offers only EAP-TLS); EAP will be accepted if "
          "the server insists";
      return decision;
    }
    decision.ack = true;
    decision.method = method;
    decision.reason =
        "the server insists on EAP after our Nak suggesting MS-CHAPv2; the "
        "profile allows EAP-MSCHAPv2";
    return decision;
  }
  decision.ack = true;
  decision.method = method;
  decision.reason =
      method == AuthMethod::kEapMsChapV2
          ? std::string("the server asks for EAP and the profile allows only "
                        "EAP methods")
          : absl::StrFormat("the server asks for %s and the profile allows it",
                            AuthMethodName(method));
  return decision;
}

absl::StatusOr<std::vector<uint8_t>> LcpNegotiator::BuildRequest() {
  OptionListBuilder builder;
  if (send_mru_) builder.AddLcp(MruOption{mru_});
  if (send_magic_) builder.AddLcp(MagicNumberOption{magic_});
  return builder.Build();
}

void LcpNegotiator::RequestAcked(absl::Span<const uint8_t> options) {
  local_mru_ = kDefaultMru;
  local_magic_.reset();
  absl::StatusOr<std::vector<LcpOption>> parsed = ParseLcpOptions(options);
  if (!parsed.ok()) return;  // Our own request: cannot happen.
  for (const LcpOption& option : *parsed) {
    if (const auto* mru = std::get_if<MruOption>(&option)) {
      local_mru_ = mru->mru;
    } else if (const auto* magic = std::get_if<MagicNumberOption>(&option)) {
      local_magic_ = magic->magic_number;
    }
  }
}

absl::Status LcpNegotiator::RequestNaked(absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Option> raw_options, ParseOptions(options));
  for (const Option& raw : raw_options) {
    ASSIGN_OR_RETURN(LcpOption option, ParseLcpOption(raw));
    if (const auto* mru = std::get_if<MruOption>(&option)) {
      if (mru->mru >= kMinNakedMru && mru->mru <= kMaxMru) {
        logger_.Info("LCP: the server suggests MRU %d instead of %d: taken",
                     mru->mru, mru_);
        mru_ = mru->mru;
      } else {
        logger_.Info("LCP: the server suggests MRU %d, outside [%d, %d]: "
                     "keeping %d",
                     mru->mru, kMinNakedMru, kMaxMru, mru_);
      }
    } else if (const auto* magic = std::get_if<MagicNumberOption>(&option)) {
      // RFC 1661 6.4: a Nak'd Magic-Number is replaced by a new one.
      magic_ = NewMagic(magic->magic_number);
      logger_.Info("LCP: the server Nak'd our Magic-Number: choosing another");
    } else {
      // RFC 1661 5.3 lets the peer suggest options we did not include; we
      // ask for nothing more (never ACFC or PFC, see the header).
      logger_.Debug("LCP: ignoring the server's suggestion of %s",
                    LcpOptionName(raw.type));
    }
  }
  return absl::OkStatus();
}

absl::Status LcpNegotiator::RequestRejected(absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Option> parsed, ParseOptions(options));
  for (const Option& option : parsed) {
    if (option.type == Type(LcpOptionType::kMaximumReceiveUnit)) {
      send_mru_ = false;
      logger_.Info("LCP: the server rejected MRU: not sending it (the "
                   "server may send us up to %d octets)",
                   kDefaultMru);
    } else if (option.type == Type(LcpOptionType::kMagicNumber)) {
      // SoftEther rejects Magic-Number (SSTP-NOTES "Real servers").
      send_magic_ = false;
      logger_.Info("LCP: the server rejected Magic-Number: not sending it");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RequestVerdict> LcpNegotiator::EvaluateRequest(
    absl::Span<const uint8_t> options) {
  ASSIGN_OR_RETURN(std::vector<Option> raw_options, ParseOptions(options));

  OptionListBuilder rejects;
  std::vector<std::string> rejected_names;
  OptionListBuilder naks;
  std::vector<std::string> nak_reasons;
  auto reject = [&](const Option& option, absl::string_view why) {
    rejects.Add(option);
    rejected_names.push_back(
        absl::StrCat(LcpOptionName(option.type), " (", why, ")"));
  };

  // What an Ack would commit.
  uint16_t peer_mru = kDefaultMru;
  std::optional<uint32_t> peer_magic;
  std::optional<AuthMethod> auth_method;
  std::string auth_reason = "the server asks for no authentication";
  // Side effects that hold only if a Nak goes out.
  bool naks_eap = false;
  std::optional<uint32_t> own_magic_collision;

  for (const Option& raw : raw_options) {
    absl::StatusOr<LcpOption> parsed = ParseLcpOption(raw);
    if (!parsed.ok()) {
      reject(raw, parsed.status().message());
      continue;
    }
    const LcpOption& option = *parsed;
    if (const auto* mru = std::get_if<MruOption>(&option)) {
      if (mru->mru < kMinPeerMru) {
        naks.AddLcp(MruOption{kMinPeerMru});
        nak_reasons.push_back(absl::StrFormat(
            "MRU %d is below %d", mru->mru, kMinPeerMru));
      } else {
        peer_mru = mru->mru;
      }
    } else if (std::holds_alternative<AccmOption>(option)) {
      // RFC 1662 7.1: only meaningful with HDLC-like framing, which SSTP
      // does not use (SSTP-NOTES); harmless to accept.
    } else if (const auto* auth = std::get_if<AuthProtocolOption>(&option)) {
      const AuthDecision decision = DecideAuth(*auth);
      if (decision.ack) {
        auth_method = decision.method;
        auth_reason = decision.reason;
      } else {
        naks.Add(Type(LcpOptionType::kAuthenticationProtocol),
                 EncodeAuthProtocolValue(ToAuthProtocol(decision.method)));
        nak_reasons.push_back(decision.reason);
        naks_eap = naks_eap || decision.naks_eap;
      }
    } else if (const auto* magic = std::get_if<MagicNumberOption>(&option)) {
      if (magic->magic_number == 0) {
        // RFC 1661 6.4: zero "MUST always be Nak'd".
        naks.AddLcp(MagicNumberOption{NewMagic(magic_)});
        nak_reasons.push_back("Magic-Number 0 is not valid");
      } else if (send_magic_ && magic->magic_number == magic_) {
        // RFC 1661 6.4: equal Magic-Numbers: the link may be looped back.
        // Nak with a different number; ours changes too, so that a genuine
        // collision resolves.
        naks.AddLcp(MagicNumberOption{NewMagic(magic_)});
        nak_reasons.push_back(
            "the server's Magic-Number equals ours: the link may be looped "
            "back");
        own_magic_collision = magic->magic_number;
      } else {
        peer_magic = magic->magic_number;
      }
    } else if (std::holds_alternative<ProtocolFieldCompressionOption>(
                   option) ||
               std::holds_alternative<AddressAndControlFieldCompressionOption>(
                   option)) {
      // The server may send compressed frames: DecodeFrame takes both
      // forms. We still never compress what we send (frame.h).
    } else if (std::holds_alternative<QualityProtocolOption>(option) ||
               std::holds_alternative<CallbackOption>(option) ||
               std::holds_alternative<MrruOption>(option) ||
               std::holds_alternative<EndpointDiscriminatorOption>(option)) {
      reject(raw, "not implemented");
    } else {
      reject(raw, "unknown");
    }
  }

  if (!rejected_names.empty()) {
    // RFC 1661 5.4: Reject takes precedence; only the rejected options go.
    ASSIGN_OR_RETURN(std::vector<uint8_t> data, rejects.Build());
    return RequestVerdict{Code::kConfigureReject, std::move(data),
                          absl::StrCat("rejecting ",
                                       absl::StrJoin(rejected_names, ", "))};
  }
  if (!nak_reasons.empty()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> data, naks.Build());
    if (naks_eap) eap_naked_ = true;
    if (own_magic_collision) magic_ = NewMagic(*own_magic_collision);
    return RequestVerdict{Code::kConfigureNak, std::move(data),
                          absl::StrJoin(nak_reasons, "; ")};
  }
  peer_mru_ = peer_mru;
  peer_magic_ = peer_magic;
  auth_method_ = auth_method;
  auth_reason_ = std::move(auth_reason);
  return RequestVerdict{};
}

}  // namespace sstp::ppp
