#include "daemon/ppp/server_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "daemon/ppp/chap_md5.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/mschapv2.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

// RFC 5216 3.1: the S (EAP-TLS start) flag of the Flags octet.
constexpr uint8_t kEapTlsStartFlag = 0x20;

// RFC 2759 6: the Failure message's error for a bad name or password, and
// the version field servers send.
constexpr uint32_t kMsChapV2FailureVersion = 3;

// Constant-time comparison of two secrets of possibly different lengths:
// comparing their SHA-256 digests keeps both the length and the position of
// the first difference out of the timing.
bool SecretsEqual(absl::string_view a, absl::string_view b) {
  uint8_t digest_a[SHA256_DIGEST_LENGTH];
  uint8_t digest_b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(a.data()), a.size(), digest_a);
  SHA256(reinterpret_cast<const uint8_t*>(b.data()), b.size(), digest_b);
  const bool equal = CRYPTO_memcmp(digest_a, digest_b, sizeof(digest_a)) == 0;
  WipeBytes(digest_a, sizeof(digest_a));
  WipeBytes(digest_b, sizeof(digest_b));
  return equal;
}

uint16_t ProtocolOf(AuthProtocol method) {
  switch (method) {
    case AuthProtocol::kPap:
      return kProtocolPap;
    case AuthProtocol::kChapMd5:
    case AuthProtocol::kMsChapV2:
      return kProtocolChap;
    case AuthProtocol::kEap:
      return kProtocolEap;
  }
  return 0;
}

// Any encoder failure here means a configured string is too long for its
// field (e.g. a 300-octet server name): a configuration error of the test
// server, reported as the failure reason rather than silently truncated.
std::string EncodeError(absl::string_view what, const absl::Status& status) {
  return absl::StrCat("cannot encode ", what, ": ", status.message());
}

}  // namespace

ServerAuthenticator::ServerAuthenticator(const ServerAuthConfig& config,
                                         Random& random, const Logger& logger)
    : config_(config), random_(random), logger_(logger) {}

AuthStep ServerAuthenticator::Start(AuthProtocol method) {
  if (stage_ != Stage::kIdle) {
    return Violation("authentication started twice");
  }
  method_ = method;
  logger_.Info("authenticating the peer with %s", AuthProtocolName(method));
  switch (method) {
    case AuthProtocol::kPap: {
      // RFC 1334 2.1: the peer sends the Authenticate-Request; the server
      // only bounds the wait.
      stage_ = Stage::kWaitPapRequest;
      transmissions_ = 1;
      AuthStep step;
      step.timer = TimerCommand::kStart;
      return step;
    }
    case AuthProtocol::kChapMd5:
    case AuthProtocol::kMsChapV2:
      return SendChapChallenge();
    case AuthProtocol::kEap: {
      // RFC 3748 5.1: the authenticator starts with a Request/Identity.
      AuthStep step;
      ++eap_identifier_;
      absl::StatusOr<std::vector<uint8_t>> request = EncodeEapPacket(
          {EapCode::kRequest, eap_identifier_, EapType::kIdentity,
           AsBytes(config_.eap_identity_prompt)});
      if (!request.ok()) {
        Fail(step, "", EncodeError("EAP Request/Identity", request.status()),
             std::nullopt);
        return step;
      }
      stage_ = Stage::kEapIdentitySent;
      transmissions_ = 0;
      SendRequest(step, kProtocolEap, *std::move(request));
      return step;
    }
  }
  return Violation("unknown authentication method");
}

AuthStep ServerAuthenticator::OnPacket(uint16_t protocol,
                                       absl::Span<const uint8_t> information) {
  if (!method_.has_value()) {
    return Violation(absl::StrCat(ProtocolName(protocol),
                                  " packet before authentication started"));
  }
  if (protocol != ProtocolOf(*method_)) {
    return Violation(absl::StrCat(ProtocolName(protocol), " packet, but ",
                                  AuthProtocolName(*method_),
                                  " was negotiated"));
  }
  switch (*method_) {
    case AuthProtocol::kPap:
      return OnPap(information);
    case AuthProtocol::kChapMd5:
    case AuthProtocol::kMsChapV2:
      return OnChap(information);
    case AuthProtocol::kEap:
      return OnEap(information);
  }
  return Violation("unknown authentication method");
}

AuthStep ServerAuthenticator::OnTimeout() {
  AuthStep step;
  switch (stage_) {
    case Stage::kIdle:
    case Stage::kSucceeded:
    case Stage::kFailed:
    case Stage::kAbandoned:
      return step;
    case Stage::kWaitPapRequest:
      if (transmissions_ >= config_.max_transmissions) {
        Fail(step, "",
             absl::StrFormat("no PAP Authenticate-Request within %s",
                             absl::FormatDuration(config_.retransmit_interval *
                                                  config_.max_transmissions)),
             std::nullopt);
        return step;
      }
      ++transmissions_;
      step.timer = TimerCommand::kStart;
      return step;
    case Stage::kChapChallengeSent:
    case Stage::kEapIdentitySent:
    case Stage::kEapTlsStartSent:
    case Stage::kEapMsChapV2ChallengeSent:
    case Stage::kEapSuccessRequestSent:
    case Stage::kEapFailureRequestSent:
      if (transmissions_ >= config_.max_transmissions) {
        Fail(step, eap_identity_,
             absl::StrFormat("no answer to %d %s requests",
                             transmissions_, AuthProtocolName(*method_)),
             std::nullopt);
        return step;
      }
      // RFC 1994 4.1 / RFC 3748 4.3: retransmit the same packet, same
      // Identifier.
      ++transmissions_;
      step.packets.push_back({request_protocol_, request_});
      step.timer = TimerCommand::kStart;
      return step;
  }
  return step;
}

// --- PAP (RFC 1334 2) --------------------------------------------------------

AuthStep ServerAuthenticator::OnPap(absl::Span<const uint8_t> information) {
  absl::StatusOr<PapAuthenticateRequest> request =
      ParsePapAuthenticateRequest(information);
  if (!request.ok()) return Violation(std::string(request.status().message()));

  if (stage_ == Stage::kSucceeded || stage_ == Stage::kFailed) {
    // RFC 1334 2.2.1: the Ack/Nak may have been lost; the peer retransmits
    // the Authenticate-Request with the same Identifier.
    if (request->identifier == result_identifier_) {
      AuthStep step;
      step.packets.push_back(result_packet_);
      return step;
    }
    return Violation(absl::StrFormat(
        "PAP Authenticate-Request id %d after authentication ended (id %d)",
        request->identifier, result_identifier_));
  }
  if (stage_ != Stage::kWaitPapRequest) {
    return Violation("PAP Authenticate-Request in the wrong state");
  }

  const std::string user(request->peer_id);
  const SecretString* password = FindUser(user);
  const bool ok = password != nullptr &&
                  SecretsEqual(password->reveal(), request->password);
  const PapCode code =
      ok ? PapCode::kAuthenticateAck : PapCode::kAuthenticateNak;
  const std::string& text = ok ? config_.pap_ack_text : config_.pap_nak_text;
  absl::StatusOr<std::vector<uint8_t>> reply =
      config_.pap_message_field
          ? EncodePapAckNak({code, request->identifier, text})
          : EncodePacket(static_cast<uint8_t>(code), request->identifier, {});
  AuthStep step;
  if (!reply.ok()) {
    Fail(step, user, EncodeError("PAP reply", reply.status()), std::nullopt);
    return step;
  }
  AuthPacket packet{kProtocolPap, *std::move(reply)};
  result_identifier_ = request->identifier;
  if (ok) {
    step.packets.push_back(packet);
    result_packet_ = std::move(packet);
    Succeed(step, user, SecretArray<32>());
  } else {
    Fail(step, user,
         password == nullptr
             ? absl::StrFormat("unknown user \"%s\"", user)
             : absl::StrFormat("wrong password for user \"%s\"", user),
         std::move(packet));
  }
  return step;
}

// --- CHAP: MD5 (RFC 1994) and MS-CHAPv2 (RFC 2759) ---------------------------

AuthStep ServerAuthenticator::SendChapChallenge() {
  AuthStep step;
  ++chap_identifier_;
  random_.Fill(absl::MakeSpan(challenge_));
  absl::StatusOr<std::vector<uint8_t>> challenge =
      EncodeChapChallenge(chap_identifier_, challenge_, config_.server_name);
  if (!challenge.ok()) {
    Fail(step, "", EncodeError("CHAP Challenge", challenge.status()),
         std::nullopt);
    return step;
  }
  stage_ = Stage::kChapChallengeSent;
  transmissions_ = 0;
  SendRequest(step, kProtocolChap, *std::move(challenge));
  return step;
}

AuthStep ServerAuthenticator::OnChap(absl::Span<const uint8_t> information) {
  absl::StatusOr<ControlPacket> header = ParseControlPacket(information);
  if (!header.ok()) {
    return Violation(absl::StrCat("CHAP: ", header.status().message()));
  }
  const uint8_t code = static_cast<uint8_t>(header->code);
  if (code != static_cast<uint8_t>(ChapCode::kResponse)) {
    // RFC 1994 4: only the authenticator sends Challenge, Success, Failure.
    return Violation(absl::StrFormat(
        "CHAP code %d from the peer; only Response (2) is valid towards the "
        "authenticator",
        code));
  }
  if (stage_ == Stage::kSucceeded || stage_ == Stage::kFailed) {
    // RFC 1994 4.2: "the authenticator MUST allow repeated Response packets"
    // after sending Success, and answers them the same way.
    if (header->identifier == result_identifier_) {
      AuthStep step;
      step.packets.push_back(result_packet_);
      return step;
    }
    return Violation(absl::StrFormat(
        "CHAP Response id %d after authentication ended (id %d)",
        header->identifier, result_identifier_));
  }
  if (stage_ != Stage::kChapChallengeSent) {
    return Violation("CHAP Response while no Challenge is outstanding");
  }
  if (header->identifier != chap_identifier_) {
    return Violation(absl::StrFormat(
        "CHAP Response id %d does not match the Challenge's id %d",
        header->identifier, chap_identifier_));
  }
  absl::StatusOr<ChapResponse> response = ParseChapResponse(information);
  if (!response.ok()) return Violation(std::string(response.status().message()));

  Verdict verdict;
  if (*method_ == AuthProtocol::kMsChapV2) {
    absl::StatusOr<MsChapV2ResponseValue> value =
        ParseMsChapV2ResponseValue(response->value);
    if (!value.ok()) return Violation(std::string(value.status().message()));
    verdict = VerifyMsChapV2(response->name, *value);
  } else {
    verdict = VerifyChapMd5(header->identifier, response->name,
                            response->value);
  }

  AuthStep step;
  absl::StatusOr<std::vector<uint8_t>> result = EncodeChapResult(
      {verdict.ok ? ChapCode::kSuccess : ChapCode::kFailure,
       header->identifier, verdict.message});
  if (!result.ok()) {
    Fail(step, verdict.user, EncodeError("CHAP result", result.status()),
         std::nullopt);
    return step;
  }
  AuthPacket packet{kProtocolChap, *std::move(result)};
  result_identifier_ = header->identifier;
  if (verdict.ok) {
    step.packets.push_back(packet);
    result_packet_ = std::move(packet);
    Succeed(step, verdict.user, verdict.hlak);
  } else {
    Fail(step, verdict.user, verdict.reason, std::move(packet));
  }
  return step;
}

ServerAuthenticator::Verdict ServerAuthenticator::VerifyMsChapV2(
    absl::string_view name, const MsChapV2ResponseValue& response) {
  Verdict verdict;
  verdict.user = std::string(name);
  const SecretString* password = FindUser(name);
  if (password == nullptr) {
    verdict.reason = absl::StrFormat("unknown user \"%s\"", name);
    verdict.message = MsChapV2FailureText();
    return verdict;
  }
  // RFC 2759 8.2: ChallengeHash() takes the name without the domain.
  const absl::string_view hash_name = UserNameWithoutDomain(name);
  absl::StatusOr<NtHash> hash = NtPasswordHash(password->reveal());
  absl::StatusOr<NtResponse> expected =
      hash.ok() ? GenerateNtResponse(challenge_, response.peer_challenge,
                                     hash_name, *hash)
                : absl::StatusOr<NtResponse>(hash.status());
  if (!expected.ok()) {
    verdict.reason = absl::StrFormat("cannot verify user \"%s\": %s", name,
                                     expected.status().message());
    verdict.message = MsChapV2FailureText();
    return verdict;
  }
  // RFC 2759 8.1: the server recomputes the NT-Response; compared in
  // constant time.
  const bool match = CRYPTO_memcmp(expected->data(),
                                   response.nt_response.data(),
                                   expected->size()) == 0;
  if (!match) {
    verdict.reason = absl::StrFormat("wrong password for user \"%s\"", name);
    verdict.message = MsChapV2FailureText();
    return verdict;
  }
  absl::StatusOr<AuthenticatorResponse> authenticator =
      GenerateAuthenticatorResponse(*hash, *expected, response.peer_challenge,
                                    challenge_, hash_name);
  // RFC 3079 3.4 keys, MS-SSTP 3.2.5.2 HLAK (the client's order).
  absl::StatusOr<SecretArray<16>> master_key =
      GetMasterKey(HashNtPasswordHash(*hash), *expected);
  absl::StatusOr<SecretArray<32>> hlak =
      master_key.ok() ? ClientHlak(*master_key)
                      : absl::StatusOr<SecretArray<32>>(master_key.status());
  if (!authenticator.ok() || !hlak.ok()) {
    const absl::Status& status =
        !authenticator.ok() ? authenticator.status() : hlak.status();
    verdict.reason = absl::StrCat("MS-CHAPv2 key derivation failed: ",
                                  status.message());
    verdict.message = MsChapV2FailureText();
    return verdict;
  }
  verdict.ok = true;
  verdict.hlak = *hlak;
  // RFC 2759 5: "S=<auth_string> M=<message>".
  verdict.message = FormatAuthenticatorResponse(*authenticator);
  if (config_.mschapv2_success_text.has_value()) {
    absl::StrAppend(&verdict.message, " M=", *config_.mschapv2_success_text);
  }
  return verdict;
}

ServerAuthenticator::Verdict ServerAuthenticator::VerifyChapMd5(
    uint8_t identifier, absl::string_view name,
    absl::Span<const uint8_t> value) {
  Verdict verdict;
  verdict.user = std::string(name);
  verdict.message = config_.chap_failure_text;
  const SecretString* password = FindUser(name);
  if (password == nullptr) {
    verdict.reason = absl::StrFormat("unknown user \"%s\"", name);
    return verdict;
  }
  if (value.size() != kChapMd5ResponseLength) {
    verdict.reason = absl::StrFormat(
        "CHAP-MD5 Response Value-Size %d != %d for user \"%s\"", value.size(),
        kChapMd5ResponseLength, name);
    return verdict;
  }
  // RFC 1994 4.1: MD5(Identifier || secret || Challenge).
  absl::StatusOr<ChapMd5Response> expected =
      ComputeChapMd5Response(identifier, password->reveal(), challenge_);
  if (!expected.ok()) {
    verdict.reason = std::string(expected.status().message());
    return verdict;
  }
  if (CRYPTO_memcmp(expected->data(), value.data(), expected->size()) != 0) {
    verdict.reason = absl::StrFormat("wrong password for user \"%s\"", name);
    return verdict;
  }
  verdict.ok = true;
  verdict.message = config_.chap_success_text;
  return verdict;  // RFC 1994 has no keys: the HLAK stays zero.
}

std::string ServerAuthenticator::MsChapV2FailureText() {
  // RFC 2759 6: "E=691 R=0 C=<challenge> V=3 M=<message>".
  MsChapV2FailureMessage failure;
  failure.error = kErrorAuthenticationFailure;
  failure.retry = false;
  switch (config_.mschapv2_failure_challenge) {
    case MsChapV2FailureChallenge::kOmit:
      break;
    case MsChapV2FailureChallenge::kNew: {
      MsChapV2Challenge fresh{};
      random_.Fill(absl::MakeSpan(fresh));
      failure.challenge = fresh;
      break;
    }
    case MsChapV2FailureChallenge::kRepeat:
      failure.challenge = challenge_;
      break;
  }
  failure.version = kMsChapV2FailureVersion;
  if (config_.mschapv2_failure_text.has_value()) {
    failure.message = *config_.mschapv2_failure_text;
  }
  return FormatMsChapV2FailureMessage(failure);
}

// --- EAP (RFC 3748) and EAP-MSCHAPv2 -----------------------------------------

AuthStep ServerAuthenticator::OnEap(absl::Span<const uint8_t> information) {
  absl::StatusOr<EapPacket> eap = ParseEapPacket(information);
  if (!eap.ok()) return Violation(std::string(eap.status().message()));
  switch (eap->code) {
    case EapCode::kResponse:
      return OnEapResponse(*eap, information);
    case EapCode::kRequest:
    case EapCode::kSuccess:
    case EapCode::kFailure:
      // RFC 3748 4: Requests, Success and Failure go from the authenticator
      // to the peer only.
      return Violation(absl::StrFormat(
          "EAP code %d from the peer; only Response (2) is valid towards the "
          "authenticator",
          static_cast<int>(eap->code)));
  }
  return Violation("EAP code unknown");
}

AuthStep ServerAuthenticator::OnEapResponse(
    const EapPacket& eap, absl::Span<const uint8_t> information) {
  if (stage_ == Stage::kSucceeded || stage_ == Stage::kFailed) {
    if (eap.identifier == result_identifier_) {
      AuthStep step;
      step.packets.push_back(result_packet_);
      return step;
    }
    return Violation(absl::StrFormat(
        "EAP Response id %d after authentication ended", eap.identifier));
  }
  if (stage_ == Stage::kAbandoned) {
    return Violation("EAP Response after EAP was abandoned");
  }
  // RFC 3748 4.1: a Response whose Identifier does not match the current
  // Request is silently discarded.
  if (eap.identifier != eap_identifier_) {
    return Violation(absl::StrFormat(
        "EAP Response id %d does not match the Request's id %d",
        eap.identifier, eap_identifier_));
  }

  AuthStep step;
  switch (stage_) {
    case Stage::kEapIdentitySent: {
      if (eap.type != EapType::kIdentity) {
        return Violation(absl::StrFormat(
            "EAP Response of type %s to the Request/Identity",
            EapTypeName(eap.type)));
      }
      eap_identity_ = std::string(AsText(eap.type_data));
      logger_.Info("EAP identity \"%s\"", eap_identity_);
      if (config_.eap_method == ServerEapMethod::kMsChapV2) {
        return SendEapMsChapV2Challenge();
      }
      // SoftEther looks the user up at the Identity and fails unknown users
      // at once, with an EAP-Failure of the Response's Identifier.
      if (FindUser(eap_identity_) == nullptr) {
        result_identifier_ = eap.identifier;
        absl::StatusOr<std::vector<uint8_t>> failure =
            EncodeEapPacket({EapCode::kFailure, eap.identifier});
        Fail(step, eap_identity_,
             absl::StrFormat("unknown user \"%s\"", eap_identity_),
             failure.ok() ? std::optional<AuthPacket>(
                                AuthPacket{kProtocolEap, *std::move(failure)})
                          : std::nullopt);
        return step;
      }
      ++eap_identifier_;
      const uint8_t flags[1] = {kEapTlsStartFlag};
      absl::StatusOr<std::vector<uint8_t>> start = EncodeEapPacket(
          {EapCode::kRequest, eap_identifier_, EapType::kTls, flags});
      if (!start.ok()) {
        Fail(step, eap_identity_, EncodeError("EAP-TLS Start", start.status()),
             std::nullopt);
        return step;
      }
      stage_ = Stage::kEapTlsStartSent;
      transmissions_ = 0;
      SendRequest(step, kProtocolEap, *std::move(start));
      return step;
    }
    case Stage::kEapTlsStartSent: {
      if (eap.type == EapType::kNak) {
        // SSTP-NOTES: SoftEther 5.01 Protocol-Rejects the Nak and falls back
        // to LCP, where it stalls.
        logger_.Info("peer Nak'd EAP-TLS: abandoning EAP");
        stage_ = Stage::kAbandoned;
        step.timer = TimerCommand::kStop;
        step.outcome = AuthEapAbandoned{
            std::vector<uint8_t>(information.begin(), information.end())};
        return step;
      }
      if (eap.type == EapType::kTls) {
        result_identifier_ = eap.identifier;
        absl::StatusOr<std::vector<uint8_t>> failure =
            EncodeEapPacket({EapCode::kFailure, eap.identifier});
        Fail(step, eap_identity_,
             "EAP-TLS is not implemented by the test server",
             failure.ok() ? std::optional<AuthPacket>(
                                AuthPacket{kProtocolEap, *std::move(failure)})
                          : std::nullopt);
        return step;
      }
      return Violation(absl::StrFormat(
          "EAP Response of type %s to an EAP-TLS Request",
          EapTypeName(eap.type)));
    }
    case Stage::kEapMsChapV2ChallengeSent: {
      if (eap.type == EapType::kNak) {
        absl::StatusOr<std::vector<uint8_t>> desired =
            ParseEapNak(eap.type_data);
        if (!desired.ok()) {
          return Violation(std::string(desired.status().message()));
        }
        result_identifier_ = eap.identifier;
        absl::StatusOr<std::vector<uint8_t>> failure =
            EncodeEapPacket({EapCode::kFailure, eap.identifier});
        Fail(step, eap_identity_,
             absl::StrFormat(
                 "peer refused EAP-MSCHAPv2 (legacy Nak desiring types %s)",
                 absl::StrJoin(*desired, ", ")),
             failure.ok() ? std::optional<AuthPacket>(
                                AuthPacket{kProtocolEap, *std::move(failure)})
                          : std::nullopt);
        return step;
      }
      if (eap.type != EapType::kMsChapV2) {
        return Violation(absl::StrFormat(
            "EAP Response of type %s to an EAP-MSCHAPv2 Request",
            EapTypeName(eap.type)));
      }
      return OnEapMsChapV2(eap);
    }
    case Stage::kEapSuccessRequestSent:
    case Stage::kEapFailureRequestSent:
      if (eap.type != EapType::kMsChapV2) {
        return Violation(absl::StrFormat(
            "EAP Response of type %s to an EAP-MSCHAPv2 Request",
            EapTypeName(eap.type)));
      }
      return OnEapMsChapV2(eap);
    case Stage::kIdle:
    case Stage::kWaitPapRequest:
    case Stage::kChapChallengeSent:
    case Stage::kSucceeded:
    case Stage::kFailed:
    case Stage::kAbandoned:
      break;
  }
  return Violation("EAP Response in the wrong state");
}

AuthStep ServerAuthenticator::SendEapMsChapV2Challenge() {
  AuthStep step;
  ++eap_identifier_;
  random_.Fill(absl::MakeSpan(challenge_));
  // draft-kamath-pppext-eap-mschapv2-02 2.1: Windows uses the EAP Identifier
  // as the MS-CHAPv2-ID too.
  EapMsChapV2Packet ms;
  ms.op_code = EapMsChapV2OpCode::kChallenge;
  ms.ms_chapv2_id = eap_identifier_;
  ms.value = challenge_;
  ms.name = config_.server_name;
  absl::StatusOr<std::vector<uint8_t>> request =
      EncodeEapMsChapV2(EapCode::kRequest, eap_identifier_, ms);
  if (!request.ok()) {
    Fail(step, eap_identity_,
         EncodeError("EAP-MSCHAPv2 Challenge", request.status()),
         std::nullopt);
    return step;
  }
  chap_identifier_ = eap_identifier_;
  stage_ = Stage::kEapMsChapV2ChallengeSent;
  transmissions_ = 0;
  SendRequest(step, kProtocolEap, *std::move(request));
  return step;
}

AuthStep ServerAuthenticator::OnEapMsChapV2(const EapPacket& eap) {
  absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(eap);
  if (!ms.ok()) return Violation(std::string(ms.status().message()));
  AuthStep step;
  switch (stage_) {
    case Stage::kEapMsChapV2ChallengeSent: {
      if (ms->op_code != EapMsChapV2OpCode::kResponse) {
        return Violation("EAP-MSCHAPv2 answer to the Challenge is not a "
                         "Response");
      }
      if (ms->ms_chapv2_id != chap_identifier_) {
        return Violation(absl::StrFormat(
            "EAP-MSCHAPv2 Response MS-CHAPv2-ID %d does not match the "
            "Challenge's %d",
            ms->ms_chapv2_id, chap_identifier_));
      }
      absl::StatusOr<MsChapV2ResponseValue> value =
          ParseMsChapV2ResponseValue(ms->value);
      if (!value.ok()) return Violation(std::string(value.status().message()));
      Verdict verdict = VerifyMsChapV2(ms->name, *value);
      // draft-kamath 2.4 / 2.5: Success or Failure Request with the
      // MS-CHAPv2 message; the verdict is reported once the peer answers it.
      EapMsChapV2Packet reply;
      reply.op_code = verdict.ok ? EapMsChapV2OpCode::kSuccess
                                 : EapMsChapV2OpCode::kFailure;
      reply.ms_chapv2_id = chap_identifier_;
      reply.message = verdict.message;
      ++eap_identifier_;
      absl::StatusOr<std::vector<uint8_t>> request =
          EncodeEapMsChapV2(EapCode::kRequest, eap_identifier_, reply);
      if (!request.ok()) {
        Fail(step, verdict.user,
             EncodeError("EAP-MSCHAPv2 result", request.status()),
             std::nullopt);
        return step;
      }
      pending_user_ = verdict.user;
      pending_reason_ = verdict.reason;
      pending_hlak_ = verdict.hlak;
      stage_ = verdict.ok ? Stage::kEapSuccessRequestSent
                          : Stage::kEapFailureRequestSent;
      transmissions_ = 0;
      SendRequest(step, kProtocolEap, *std::move(request));
      return step;
    }
    case Stage::kEapSuccessRequestSent:
    case Stage::kEapFailureRequestSent: {
      const bool success_stage = stage_ == Stage::kEapSuccessRequestSent;
      if (!ms->header_only) {
        return Violation(absl::StrFormat(
            "EAP-MSCHAPv2 answer to the %s Request is not a bare %s Response",
            success_stage ? "Success" : "Failure",
            success_stage ? "Success" : "Failure"));
      }
      const bool peer_accepts = ms->op_code == EapMsChapV2OpCode::kSuccess;
      const bool succeeded = success_stage && peer_accepts;
      // RFC 3748 4.2: Success/Failure carry the Identifier of the Response
      // they answer.
      absl::StatusOr<std::vector<uint8_t>> final_packet = EncodeEapPacket(
          {succeeded ? EapCode::kSuccess : EapCode::kFailure, eap.identifier});
      if (!final_packet.ok()) {
        Fail(step, pending_user_,
             EncodeError("EAP Success/Failure", final_packet.status()),
             std::nullopt);
        return step;
      }
      AuthPacket packet{kProtocolEap, *std::move(final_packet)};
      result_identifier_ = eap.identifier;
      if (succeeded) {
        step.packets.push_back(packet);
        result_packet_ = std::move(packet);
        Succeed(step, pending_user_, pending_hlak_);
      } else {
        Fail(step, pending_user_,
             success_stage
                 ? "peer refused the server's MS-CHAPv2 authenticator "
                   "response"
                 : pending_reason_,
             std::move(packet));
      }
      return step;
    }
    case Stage::kIdle:
    case Stage::kWaitPapRequest:
    case Stage::kChapChallengeSent:
    case Stage::kEapIdentitySent:
    case Stage::kEapTlsStartSent:
    case Stage::kSucceeded:
    case Stage::kFailed:
    case Stage::kAbandoned:
      break;
  }
  return Violation("EAP-MSCHAPv2 packet in the wrong state");
}

// --- Helpers ------------------------------------------------------------------

void ServerAuthenticator::SendRequest(AuthStep& step, uint16_t protocol,
                                      std::vector<uint8_t> request) {
  request_protocol_ = protocol;
  request_ = std::move(request);
  ++transmissions_;
  step.packets.push_back({request_protocol_, request_});
  step.timer = TimerCommand::kStart;
}

void ServerAuthenticator::Succeed(AuthStep& step, std::string user,
                                  const SecretArray<32>& hlak) {
  stage_ = Stage::kSucceeded;
  step.timer = TimerCommand::kStop;
  logger_.Notice("peer authenticated as \"%s\" with %s", user,
                 AuthProtocolName(*method_));
  AuthSucceeded success;
  success.method = *method_;
  success.user = std::move(user);
  success.hlak = hlak;
  step.outcome = std::move(success);
}

void ServerAuthenticator::Fail(AuthStep& step, std::string user,
                               std::string reason,
                               std::optional<AuthPacket> failure_packet) {
  stage_ = Stage::kFailed;
  step.timer = TimerCommand::kStop;
  if (failure_packet.has_value()) {
    step.packets.push_back(*failure_packet);
    result_packet_ = *std::move(failure_packet);
  }
  logger_.Notice("%s authentication failed: %s",
                 method_.has_value() ? AuthProtocolName(*method_) : "", reason);
  step.outcome = AuthRejected{method_.value_or(AuthProtocol::kPap),
                              std::move(user), std::move(reason)};
}

AuthStep ServerAuthenticator::Violation(std::string what) const {
  logger_.Info("ignored authentication packet: %s", what);
  AuthStep step;
  step.violation = std::move(what);
  return step;
}

const SecretString* ServerAuthenticator::FindUser(
    absl::string_view name) const {
  auto it = config_.users.find(name);
  if (it == config_.users.end()) {
    it = config_.users.find(UserNameWithoutDomain(name));
  }
  return it == config_.users.end() ? nullptr : &it->second;
}

}  // namespace sstp::ppp
