#include "daemon/ppp/auth_client.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/ppp/chap_md5.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

// RFC 2759 6: the error codes of the Failure packet, in words.
absl::string_view MsChapV2ErrorText(uint32_t error) {
  switch (error) {
    case kErrorRestrictedLogonHours:
      return "restricted logon hours";
    case kErrorAcctDisabled:
      return "account disabled";
    case kErrorPasswdExpired:
      return "password expired";
    case kErrorNoDialinPermission:
      return "no dial-in permission";
    case kErrorAuthenticationFailure:
      return "authentication failure";
    case kErrorChangingPassword:
      return "error changing password";
    default:
      return "unknown error";
  }
}

// Account and permission errors, as opposed to wrong credentials.
bool IsPermissionError(uint32_t error) {
  return error == kErrorRestrictedLogonHours || error == kErrorAcctDisabled ||
         error == kErrorNoDialinPermission;
}

// Server-supplied text for a log line or message: printable ASCII only, and
// not too long.
std::string Printable(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace

AuthResult AuthResult::Succeeded(const SecretArray<32>& hlak) {
  AuthResult result;
  result.kind = Kind::kSucceeded;
  result.hlak = hlak;
  return result;
}

AuthResult AuthResult::Failed(absl::Status failure, bool auth_failure) {
  AuthResult result;
  result.kind = Kind::kFailed;
  result.failure = std::move(failure);
  result.auth_failure = auth_failure;
  return result;
}

AuthClient::AuthClient(AuthMethod method, const AuthSettings& settings,
                       Random& random, ActionSink& sink, const Logger& logger)
    : method_(method),
      settings_(settings),
      random_(random),
      sink_(sink),
      logger_(logger),
      name_(AuthMethodName(method)) {}

uint16_t AuthClient::protocol() const {
  switch (method_) {
    case AuthMethod::kPap:
      return kProtocolPap;
    case AuthMethod::kChapMd5:
    case AuthMethod::kMsChapV2:
      return kProtocolChap;
    case AuthMethod::kEapMsChapV2:
      return kProtocolEap;
  }
  return kProtocolChap;
}

AuthResult AuthClient::Start() {
  if (step_ != Step::kIdle) return AuthResult::Pending();
  logger_.Info("%s: authenticating as \"%s\"", name_,
               Printable(settings_.user_name));
  if (method_ == AuthMethod::kPap) return SendPapRequest();
  step_ = Step::kWaiting;
  return AuthResult::Pending();
}

void AuthClient::Stop() { sink_.StopTimer(TimerId::kAuthRetransmit); }

AuthResult AuthClient::Fail(absl::Status failure, bool auth_failure) {
  step_ = Step::kFailed;
  Stop();
  return AuthResult::Failed(std::move(failure), auth_failure);
}

std::string AuthClient::WaitingFor() const {
  switch (step_) {
    case Step::kIdle:
      return "the start of the Authenticate phase";
    case Step::kWaiting:
      if (method_ != AuthMethod::kEapMsChapV2) {
        return "the server's CHAP Challenge";
      }
      switch (eap_step_) {
        case EapStep::kNone:
          return "the server's EAP-MSCHAPv2 Challenge";
        case EapStep::kSentResponse:
          return "the server's EAP-MSCHAPv2 Success or Failure";
        case EapStep::kSentSuccessResponse:
          return "the server's EAP-Success";
      }
      return "the server";
    case Step::kWaitResult:
      return method_ == AuthMethod::kPap
                 ? "the server's Authenticate-Ack or -Nak"
                 : "the server's CHAP Success or Failure";
    case Step::kDone:
    case Step::kFailed:
      return "nothing";
  }
  return "the server";
}

AuthResult AuthClient::Receive(absl::Span<const uint8_t> information) {
  if (step_ == Step::kIdle || step_ == Step::kFailed) {
    logger_.Debug("%s: packet ignored (not authenticating)", name_);
    return AuthResult::Pending();
  }
  switch (method_) {
    case AuthMethod::kPap:
      return ReceivePap(information);
    case AuthMethod::kChapMd5:
    case AuthMethod::kMsChapV2:
      return ReceiveChap(information);
    case AuthMethod::kEapMsChapV2:
      return ReceiveEap(information);
  }
  return AuthResult::Pending();
}

// --- PAP (RFC 1334 2) ---------------------------------------------------------

AuthResult AuthClient::SendPapRequest() {
  const uint8_t id = next_id_++;
  absl::StatusOr<std::vector<uint8_t>> packet = EncodePapAuthenticateRequest(
      id, settings_.user_name, settings_.password.reveal());
  if (!packet.ok()) {
    // The only error: a user name or password longer than 255 octets.
    return Fail(absl::FailedPreconditionError(absl::StrCat(
                    "PAP: ", packet.status().message())),
                false);
  }
  pap_ids_.push_back(id);
  ++requests_sent_;
  step_ = Step::kWaitResult;
  logger_.Debug("PAP: sending Authenticate-Request(%d)", id);
  sink_.Send(kProtocolPap, *std::move(packet), /*holds_secret=*/true);
  sink_.StartTimer(TimerId::kAuthRetransmit, settings_.retransmit);
  return AuthResult::Pending();
}

AuthResult AuthClient::RetransmitTimeout() {
  if (method_ != AuthMethod::kPap || step_ != Step::kWaitResult) {
    return AuthResult::Pending();
  }
  if (requests_sent_ >= settings_.max_requests) {
    return Fail(absl::DeadlineExceededError(absl::StrFormat(
                    "PAP: no reply to %d Authenticate-Requests",
                    requests_sent_)),
                false);
  }
  return SendPapRequest();
}

AuthResult AuthClient::ReceivePap(absl::Span<const uint8_t> information) {
  absl::StatusOr<PapAckNak> reply = ParsePapAckNak(information);
  if (!reply.ok()) {
    logger_.Info("PAP: dropped packet: %s", reply.status().message());
    return AuthResult::Pending();
  }
  if (step_ != Step::kWaitResult) {
    logger_.Debug("PAP: dropped Authenticate-Ack/Nak: not waiting for one");
    return AuthResult::Pending();
  }
  // The reply may answer any of our (re)transmissions.
  if (std::find(pap_ids_.begin(), pap_ids_.end(), reply->identifier) ==
      pap_ids_.end()) {
    logger_.Info("PAP: dropped Authenticate-Ack/Nak(%d): no such request",
                 reply->identifier);
    return AuthResult::Pending();
  }
  Stop();
  if (reply->code == PapCode::kAuthenticateAck) {
    step_ = Step::kDone;
    if (!reply->message.empty()) {
      logger_.Info("PAP: server says: %s", Printable(reply->message));
    }
    return AuthResult::Succeeded(SecretArray<32>());
  }
  return Fail(absl::UnauthenticatedError(absl::StrCat(
                  "PAP: authentication failed: Authenticate-Nak",
                  reply->message.empty() ? "" : ": ",
                  Printable(reply->message))),
              true);
}

// --- CHAP (RFC 1994 4), MS-CHAPv2 (RFC 2759) ------------------------------------

AuthResult AuthClient::ReceiveChap(absl::Span<const uint8_t> information) {
  if (information.empty()) return AuthResult::Pending();
  const uint8_t code = information[0];
  if (code == static_cast<uint8_t>(ChapCode::kChallenge)) {
    return ReceiveChapChallenge(information);
  }
  if (code != static_cast<uint8_t>(ChapCode::kSuccess) &&
      code != static_cast<uint8_t>(ChapCode::kFailure)) {
    logger_.Info("CHAP: dropped packet of code %d", code);
    return AuthResult::Pending();
  }
  absl::StatusOr<ChapResult> result = ParseChapResult(information);
  if (!result.ok()) {
    logger_.Info("%s: dropped packet: %s", name_, result.status().message());
    return AuthResult::Pending();
  }
  // RFC 1994 4.2: Success/Failure copy the Identifier of the Response.
  if (step_ != Step::kWaitResult || result->identifier != answered_id_) {
    logger_.Info("%s: dropped %s(%d): it answers no Response of ours", name_,
                 result->code == ChapCode::kSuccess ? "Success" : "Failure",
                 result->identifier);
    return AuthResult::Pending();
  }
  if (result->code == ChapCode::kFailure) {
    if (method_ == AuthMethod::kMsChapV2) {
      return MsChapV2Failure(result->message);
    }
    return Fail(absl::UnauthenticatedError(absl::StrCat(
                    name_, ": authentication failed: CHAP Failure",
                    result->message.empty() ? "" : ": ",
                    Printable(result->message))),
                true);
  }
  if (method_ == AuthMethod::kMsChapV2) {
    if (absl::Status status = CheckSuccess(result->message); !status.ok()) {
      return Fail(status, false);
    }
    step_ = Step::kDone;
    return AuthResult::Succeeded(mschap_->hlak);
  }
  step_ = Step::kDone;
  if (!result->message.empty()) {
    logger_.Info("%s: server says: %s", name_, Printable(result->message));
  }
  return AuthResult::Succeeded(SecretArray<32>());
}

AuthResult AuthClient::ReceiveChapChallenge(
    absl::Span<const uint8_t> information) {
  absl::StatusOr<ChapChallenge> challenge = ParseChapChallenge(information);
  if (!challenge.ok()) {
    logger_.Info("%s: dropped Challenge: %s", name_,
                 challenge.status().message());
    return AuthResult::Pending();
  }
  // RFC 1994 4.1: a retransmitted Challenge (same Identifier and value)
  // gets the same Response, so that the server's S= still matches ours.
  if (step_ == Step::kWaitResult && answered_id_ == challenge->identifier &&
      std::equal(challenge->value.begin(), challenge->value.end(),
                 answered_challenge_.begin(), answered_challenge_.end())) {
    logger_.Debug("%s: Challenge(%d) retransmitted: same Response", name_,
                  challenge->identifier);
    sink_.Send(kProtocolChap, last_response_);
    return AuthResult::Pending();
  }
  if (step_ == Step::kDone) {
    logger_.Info("%s: the server challenges again (RFC 1994 re-"
                 "authentication)",
                 name_);
  }
  absl::StatusOr<std::vector<uint8_t>> response;
  if (method_ == AuthMethod::kMsChapV2) {
    absl::StatusOr<MsChapV2ChallengePacket> ms =
        ParseMsChapV2Challenge(information);
    if (!ms.ok()) {
      logger_.Info("%s: dropped Challenge: %s", name_, ms.status().message());
      return AuthResult::Pending();
    }
    if (absl::Status status = ComputeMsChapV2(ms->challenge); !status.ok()) {
      return Fail(status, false);
    }
    response = EncodeMsChapV2Response(
        ms->identifier,
        MsChapV2ResponseValue{mschap_peer_challenge_, mschap_->nt_response},
        settings_.user_name);
  } else {
    absl::StatusOr<ChapMd5Response> md5 = ComputeChapMd5Response(
        challenge->identifier, settings_.password.reveal(), challenge->value);
    if (!md5.ok()) {
      return Fail(absl::Status(md5.status().code(),
                               absl::StrCat(name_, ": cannot compute the "
                                                   "Response: ",
                                            md5.status().message())),
                  false);
    }
    response = EncodeChapResponse(challenge->identifier, *md5,
                                  settings_.user_name);
  }
  if (!response.ok()) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
                    name_, ": cannot encode the Response: ",
                    response.status().message())),
                false);
  }
  answered_challenge_.assign(challenge->value.begin(), challenge->value.end());
  step_ = Step::kWaitResult;
  SendResponse(challenge->identifier, *std::move(response));
  return AuthResult::Pending();
}

absl::Status AuthClient::ComputeMsChapV2(const MsChapV2Challenge& challenge) {
  // RFC 2759 4: the Peer-Challenge is 16 random octets.
  random_.Fill(absl::MakeSpan(mschap_peer_challenge_));
  absl::StatusOr<MsChapV2ClientResult> result =
      ComputeMsChapV2Client(settings_.user_name, settings_.password.reveal(),
                            challenge, mschap_peer_challenge_);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat(name_, ": cannot compute the Response: ",
                                     result.status().message()));
  }
  mschap_ = *std::move(result);
  return absl::OkStatus();
}

absl::Status AuthClient::CheckSuccess(absl::string_view message) const {
  // RFC 2759 5 / 8.8: the server proves it knows the password.
  const absl::Status status =
      CheckAuthenticatorResponse(mschap_->expected_authenticator, message);
  if (absl::IsUnauthenticated(status)) {
    return absl::UnauthenticatedError(absl::StrCat(
        name_,
        ": server failed to prove it knows the password (S= mismatch): "
        "possible man in the middle"));
  }
  if (!status.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        name_, ": malformed Success message, so the server did not prove it "
               "knows the password: ",
        status.message()));
  }
  absl::StatusOr<MsChapV2SuccessMessage> parsed =
      ParseMsChapV2SuccessMessage(message);
  if (parsed.ok() && !parsed->message.empty()) {
    logger_.Info("%s: server says: %s", name_, Printable(parsed->message));
  }
  logger_.Info("%s: the server proved it knows the password (S= matches)",
               name_);
  return absl::OkStatus();
}

AuthResult AuthClient::MsChapV2Failure(absl::string_view message) {
  absl::StatusOr<MsChapV2FailureMessage> failure =
      ParseMsChapV2FailureMessage(message);
  if (!failure.ok()) {
    return Fail(absl::UnauthenticatedError(absl::StrCat(
                    name_, ": authentication failed (unparsable Failure "
                           "message: ",
                    failure.status().message(), ")")),
                true);
  }
  if (failure->retry.value_or(false)) {
    // RFC 2759 6 allows a retry with a new challenge; a wrong password
    // stays wrong, so no retry (no retry storms, no account lock-outs).
    logger_.Info("%s: the server allows a retry (R=1): not retrying", name_);
  }
  std::string text = absl::StrCat(name_, ": authentication failed");
  if (failure->error) {
    absl::StrAppendFormat(&text, ": E=%d (%s)", *failure->error,
                          MsChapV2ErrorText(*failure->error));
  }
  if (!failure->message.empty()) {
    absl::StrAppend(&text, failure->error ? " M=" : ": M=",
                    Printable(failure->message));
  }
  const bool permission = failure->error && IsPermissionError(*failure->error);
  return Fail(permission ? absl::PermissionDeniedError(text)
                         : absl::UnauthenticatedError(text),
              true);
}

void AuthClient::SendResponse(uint8_t id, std::vector<uint8_t> packet) {
  answered_id_ = id;
  last_response_ = packet;
  sink_.Send(protocol(), std::move(packet));
}

// --- EAP (RFC 3748), EAP-MSCHAPv2 -----------------------------------------------

AuthResult AuthClient::ReceiveEap(absl::Span<const uint8_t> information) {
  absl::StatusOr<EapPacket> packet = ParseEapPacket(information);
  if (!packet.ok()) {
    logger_.Info("EAP: dropped packet: %s", packet.status().message());
    return AuthResult::Pending();
  }
  switch (packet->code) {
    case EapCode::kRequest:
      if (step_ == Step::kDone) {
        logger_.Info("EAP: Request after success ignored");
        return AuthResult::Pending();
      }
      return ReceiveEapRequest(*packet);
    case EapCode::kResponse:
      logger_.Info("EAP: dropped a Response (we are the peer)");
      return AuthResult::Pending();
    case EapCode::kSuccess:
      if (step_ == Step::kDone) return AuthResult::Pending();
      if (eap_step_ != EapStep::kSentSuccessResponse) {
        // RFC 3748 4.2 / 7.2: EAP-Success alone proves nothing; only the
        // method's mutual authentication does.
        return Fail(absl::UnauthenticatedError(
                        "EAP-MSCHAPv2: EAP-Success before EAP-MSCHAPv2 "
                        "completed: the server did not prove it knows the "
                        "password"),
                    false);
      }
      step_ = Step::kDone;
      return AuthResult::Succeeded(mschap_->hlak);
    case EapCode::kFailure:
      if (step_ == Step::kDone) {
        logger_.Info("EAP: Failure after success ignored");
        return AuthResult::Pending();
      }
      return Fail(absl::UnauthenticatedError(
                      "EAP-MSCHAPv2: authentication failed: EAP-Failure"),
                  true);
  }
  return AuthResult::Pending();
}

AuthResult AuthClient::ReceiveEapRequest(const EapPacket& packet) {
  // RFC 3748 4.1: "If a peer receives a valid duplicate Request for which it
  // has already sent a Response, it MUST resend its original Response
  // without reprocessing the Request."
  if (answered_id_ == packet.identifier && !last_response_.empty()) {
    logger_.Debug("EAP: Request(%d) retransmitted: same Response",
                  packet.identifier);
    sink_.Send(kProtocolEap, last_response_);
    return AuthResult::Pending();
  }
  absl::StatusOr<std::vector<uint8_t>> response;
  // Not a switch: the Type may be any octet, not only an EapType enumerator.
  if (packet.type == EapType::kIdentity) {
    logger_.Info("EAP: Identity requested: answering the user name");
    response = EncodeEapIdentityResponse(packet.identifier, settings_.user_name);
  } else if (packet.type == EapType::kNotification) {
    // RFC 3748 5.2: displayable text; the peer must answer.
    logger_.Notice("EAP: server notification: %s",
                   Printable(AsText(packet.type_data)));
    response = EncodeEapPacket(EapPacket{EapCode::kResponse, packet.identifier,
                                         EapType::kNotification, {}});
  } else if (packet.type == EapType::kMsChapV2) {
    return ReceiveEapMsChapV2(packet);
  } else if (packet.type == EapType::kNak) {
    logger_.Info("EAP: dropped a Nak in a Request (Nak is a Response)");
    return AuthResult::Pending();
  } else {
    // RFC 3748 5.3.1: a legacy Nak names the method we want instead.
    logger_.Info("EAP: the server proposes %s; answering with a Nak asking "
                 "for EAP-MSCHAPv2 (26)",
                 EapTypeName(packet.type));
    const uint8_t desired[] = {static_cast<uint8_t>(EapType::kMsChapV2)};
    response = EncodeEapNak(packet.identifier, desired);
  }
  if (!response.ok()) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
                    "EAP: cannot encode the Response: ",
                    response.status().message())),
                false);
  }
  SendResponse(packet.identifier, *std::move(response));
  return AuthResult::Pending();
}

AuthResult AuthClient::ReceiveEapMsChapV2(const EapPacket& packet) {
  absl::StatusOr<EapMsChapV2Packet> ms = ParseEapMsChapV2(packet);
  if (!ms.ok()) {
    logger_.Info("EAP-MSCHAPv2: dropped Request: %s", ms.status().message());
    return AuthResult::Pending();
  }
  absl::StatusOr<std::vector<uint8_t>> response;
  switch (ms->op_code) {
    case EapMsChapV2OpCode::kChallenge: {
      MsChapV2Challenge challenge{};
      std::copy(ms->value.begin(), ms->value.end(), challenge.begin());
      if (absl::Status status = ComputeMsChapV2(challenge); !status.ok()) {
        return Fail(status, false);
      }
      // The MS-CHAPv2-ID is echoed (draft-kamath 2.2).
      response = EncodeEapMsChapV2Response(
          packet.identifier, ms->ms_chapv2_id,
          MsChapV2ResponseValue{mschap_peer_challenge_, mschap_->nt_response},
          settings_.user_name);
      eap_step_ = EapStep::kSentResponse;
      break;
    }
    case EapMsChapV2OpCode::kSuccess:
      if (eap_step_ != EapStep::kSentResponse) {
        logger_.Info("EAP-MSCHAPv2: dropped Success: no Response sent");
        return AuthResult::Pending();
      }
      if (absl::Status status = CheckSuccess(ms->message); !status.ok()) {
        return Fail(status, false);
      }
      // draft-kamath 2.4: the peer acknowledges with a Success Response and
      // waits for EAP-Success.
      response = EncodeEapMsChapV2SuccessResponse(packet.identifier);
      eap_step_ = EapStep::kSentSuccessResponse;
      break;
    case EapMsChapV2OpCode::kFailure: {
      if (absl::StatusOr<std::vector<uint8_t>> ack =
              EncodeEapMsChapV2FailureResponse(packet.identifier);
          ack.ok()) {
        SendResponse(packet.identifier, *std::move(ack));
      }
      return MsChapV2Failure(ms->message);
    }
    case EapMsChapV2OpCode::kResponse:
    case EapMsChapV2OpCode::kChangePassword:
      // ParseEapMsChapV2 refuses these in a Request.
      return AuthResult::Pending();
  }
  if (!response.ok()) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
                    "EAP-MSCHAPv2: cannot encode the Response: ",
                    response.status().message())),
                false);
  }
  SendResponse(packet.identifier, *std::move(response));
  return AuthResult::Pending();
}

}  // namespace sstp::ppp
