// The authenticating peer's side of PAP (RFC 1334), CHAP-MD5 (RFC 1994),
// MS-CHAPv2 (RFC 2759) and EAP (RFC 3748) with EAP-MSCHAPv2
// (draft-kamath-pppext-eap-mschapv2-02), for one method agreed at LCP.
//
//   PAP           Start() sends Authenticate-Request and retransmits it on
//                 kAuthRetransmit (a new Identifier each time, RFC 1334
//                 2.2.1) up to max_requests times. Ack: success; Nak:
//                 failure.
//   CHAP-MD5,     wait for the Challenge, answer it (a retransmitted
//   MS-CHAPv2     Challenge gets the same Response); Success ends it, after
//                 checking S= for MS-CHAPv2 (RFC 2759 5: a mismatch means
//                 the server does not know the password: failure, possible
//                 man in the middle). Failure ends it; an MS-CHAPv2 retry
//                 (R=1) is never taken, so that a wrong password cannot turn
//                 into a retry storm. A later Challenge (RFC 1994 re-
//                 authentication) is answered again.
//   EAP           Identity answers the user name; Notification is logged and
//                 acknowledged; EAP-MSCHAPv2 Challenge / Success (S= checked,
//                 then the Success Response) / Failure; any other method is
//                 answered with a legacy Nak asking for EAP-MSCHAPv2 (26). A
//                 duplicate Request gets the original Response again
//                 (RFC 3748 4.1). EAP-Success counts only after EAP-MSCHAPv2
//                 proved the server (an early one is a failure).
//
// The user name and password come from AuthSettings, which outlives the
// client; the password is only read, never logged, never copied except into
// the PAP packet (SendFrame::holds_secret) and the hash functions.
//
// Not thread-safe. `random`, `sink` and `logger` outlive the client.
#ifndef SSTP_KTLS_DAEMON_PPP_AUTH_CLIENT_H_
#define SSTP_KTLS_DAEMON_PPP_AUTH_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/random.h"
#include "base/secret.h"
#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/client_actions.h"
#include "daemon/ppp/mschapv2.h"

namespace sstp::ppp {

struct AuthSettings {
  std::string user_name;
  SecretString password;
  // PAP retransmission: RFC 1334 2.2 uses the LCP restart timer and
  // Max-Configure.
  absl::Duration retransmit = absl::Seconds(3);
  int max_requests = 10;
};

// What an event did to the authentication.
struct AuthResult {
  enum class Kind { kPending, kSucceeded, kFailed };
  Kind kind = Kind::kPending;
  SecretArray<32> hlak;        // kSucceeded: see Authenticated::hlak.
  absl::Status failure;        // kFailed: why, naming the method.
  bool auth_failure = false;   // kFailed: the server refused us.

  static AuthResult Pending() { return AuthResult{}; }
  static AuthResult Succeeded(const SecretArray<32>& hlak);
  static AuthResult Failed(absl::Status failure, bool auth_failure);
};

class AuthClient {
 public:
  AuthClient(AuthMethod method, const AuthSettings& settings, Random& random,
             ActionSink& sink, const Logger& logger);

  AuthClient(const AuthClient&) = delete;
  AuthClient& operator=(const AuthClient&) = delete;

  AuthMethod method() const { return method_; }
  // The PPP protocol this method runs on: PAP, CHAP or EAP.
  uint16_t protocol() const;

  // The Authenticate phase begins.
  AuthResult Start();
  // A frame of protocol(): its Information field. Malformed or unexpected
  // packets are dropped (logged) and leave the result pending.
  AuthResult Receive(absl::Span<const uint8_t> information);
  // kAuthRetransmit expired.
  AuthResult RetransmitTimeout();
  // The phase ends early (LCP went down): stops the retransmission timer.
  void Stop();

  // What the client is waiting for, for a timeout message.
  std::string WaitingFor() const;

 private:
  enum class Step {
    kIdle,        // before Start()
    kWaiting,     // CHAP: for a Challenge; EAP: for a Request
    kWaitResult,  // PAP: Ack/Nak; CHAP: Success/Failure
    kDone,        // succeeded
    kFailed,
  };
  // EAP-MSCHAPv2 progress inside kWaiting.
  enum class EapStep { kNone, kSentResponse, kSentSuccessResponse };

  AuthResult SendPapRequest();
  AuthResult ReceivePap(absl::Span<const uint8_t> information);
  AuthResult ReceiveChap(absl::Span<const uint8_t> information);
  AuthResult ReceiveChapChallenge(absl::Span<const uint8_t> information);
  AuthResult ReceiveEap(absl::Span<const uint8_t> information);
  AuthResult ReceiveEapRequest(const EapPacket& packet);
  AuthResult ReceiveEapMsChapV2(const EapPacket& packet);

  // MS-CHAPv2 (both transports): computes NT-Response, the expected S= and
  // the HLAK into mschap_ for `challenge`.
  absl::Status ComputeMsChapV2(const MsChapV2Challenge& challenge);
  // Checks the Success message's S= against mschap_.
  absl::Status CheckSuccess(absl::string_view message) const;
  AuthResult MsChapV2Failure(absl::string_view message);

  AuthResult Fail(absl::Status failure, bool auth_failure);
  void SendResponse(uint8_t id, std::vector<uint8_t> packet);

  const AuthMethod method_;
  const AuthSettings& settings_;
  Random& random_;
  ActionSink& sink_;
  const Logger& logger_;
  const std::string name_;  // AuthMethodName(method_), for messages

  Step step_ = Step::kIdle;
  // PAP.
  uint8_t next_id_ = 1;
  int requests_sent_ = 0;
  std::vector<uint8_t> pap_ids_;  // Identifiers of our Authenticate-Requests
  // CHAP / EAP: the last request answered and our answer, for duplicates.
  std::optional<uint8_t> answered_id_;
  std::vector<uint8_t> answered_challenge_;  // CHAP: its Value
  std::vector<uint8_t> last_response_;
  EapStep eap_step_ = EapStep::kNone;
  // MS-CHAPv2: our Peer-Challenge and what it gave.
  MsChapV2Challenge mschap_peer_challenge_{};
  std::optional<MsChapV2ClientResult> mschap_;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_AUTH_CLIENT_H_
