// The authenticator side of the PPP authentication protocols, for the
// project's SSTP test server: PAP (RFC 1334 2), CHAP with MD5 (RFC 1994 4),
// MS-CHAPv2 (RFC 2759) and EAP (RFC 3748) with EAP-MSCHAPv2
// (draft-kamath-pppext-eap-mschapv2-02), plus the EAP-TLS-only offer of
// SoftEther 5.01 (SSTP-NOTES "Choosing the authentication protocol at LCP").
//
// ServerAuthenticator runs one authentication exchange once LCP has agreed on
// the protocol: it sends the Challenge / Request, verifies what the peer
// answers against a table of users, and reports success (with the SSTP HLAK
// as the client computes it, MS-SSTP 3.2.5.2) or failure (after sending the
// protocol's failure packet). Pure: packets in, packets and a verdict out; the
// caller (PppServer) sends, runs the retransmission timer and ends the link.
//
// Secrets: passwords live in SecretString, NT hashes and keys in SecretArray;
// responses are compared in constant time; nothing secret is logged or put in
// a reason string. Not thread-safe; `random` and `logger` must outlive it.
#ifndef SSTP_KTLS_DAEMON_PPP_SERVER_AUTH_H_
#define SSTP_KTLS_DAEMON_PPP_SERVER_AUTH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/random.h"
#include "base/secret.h"
#include "daemon/ppp/auth_packets.h"
#include "daemon/ppp/fsm.h"
#include "daemon/ppp/options.h"

namespace sstp::ppp {

// What the server's EAP proposes after the peer's Identity.
enum class ServerEapMethod {
  // EAP-MSCHAPv2 (Type 26), as Windows RRAS with "EAP-MSCHAPv2" configured.
  kMsChapV2,
  // SoftEther 5.01: an EAP-TLS Start (Type 13, S flag) and nothing else. A
  // legacy Nak to it makes the server give up EAP (AuthEapAbandoned).
  kTlsStartOnly,
};

// The C= field of the MS-CHAPv2 Failure message (RFC 2759 6).
enum class MsChapV2FailureChallenge {
  kOmit,    // accel-ppp: "E=691 R=0 V=3 M=..."
  kNew,     // Windows: a fresh Authenticator-Challenge
  kRepeat,  // SoftEther: the challenge the failed Response answered
};

struct ServerAuthConfig {
  // User name -> password (UTF-8). A user is found by the full name the peer
  // sends, then by the name without "DOMAIN\" (RFC 2759 8.2). MS-CHAPv2 is
  // verified from NtPasswordHash(password), as a server holding only the NT
  // hash would.
  std::map<std::string, SecretString, std::less<>> users;
  // Name field of CHAP and EAP-MSCHAPv2 Challenges (RFC 1994 4.1).
  std::string server_name = "sstp-test-server";
  // Type-Data of the EAP Request/Identity: an optional displayable message
  // (RFC 3748 5.1). SoftEther sends "Welcome to the SoftEther VPN server!"
  // and its NUL.
  std::string eap_identity_prompt;
  ServerEapMethod eap_method = ServerEapMethod::kMsChapV2;
  // " M=<text>" after "S=<authenticator response>" in the MS-CHAPv2 Success
  // message (RFC 2759 5); nullopt: no M= at all (SoftEther).
  std::optional<std::string> mschapv2_success_text = "Welcome";
  // "E=691 R=0 [C=...] V=3 [M=<text>]" (RFC 2759 6).
  MsChapV2FailureChallenge mschapv2_failure_challenge =
      MsChapV2FailureChallenge::kNew;
  std::optional<std::string> mschapv2_failure_text = "Authentication failure";
  // CHAP-MD5 Success / Failure Message fields (RFC 1994 4.2).
  std::string chap_success_text = "Welcome";
  std::string chap_failure_text = "Authentication failure";
  // PAP Authenticate-Ack / -Nak messages (RFC 1334 2.2.2).
  std::string pap_ack_text = "Welcome";
  std::string pap_nak_text = "Authentication failure";
  // SoftEther answers PAP with a bare 4-octet Ack/Nak, without even the
  // Msg-Length octet; false reproduces that.
  bool pap_message_field = true;
  // Challenges and EAP Requests are retransmitted every `retransmit_interval`
  // (RFC 1994 4.1, RFC 3748 4.3) and the exchange fails after
  // `max_transmissions` without an answer. For PAP, where the peer speaks
  // first, the same timer bounds the wait for an Authenticate-Request.
  absl::Duration retransmit_interval = absl::Seconds(3);
  int max_transmissions = 10;
};

// A packet for the caller to send: PPP Protocol + Information field.
struct AuthPacket {
  uint16_t protocol = 0;
  std::vector<uint8_t> information;
};

// The peer proved its identity. `hlak` is the SSTP Higher-Layer
// Authentication Key as the client computes it (MS-SSTP 3.2.5.2, SSTP-NOTES
// "Crypto binding"): for MS-CHAPv2 and EAP-MSCHAPv2 the client's
// MasterSendKey || MasterReceiveKey (RFC 3079 3.4), for PAP and CHAP-MD5 32
// zero bytes.
struct AuthSucceeded {
  AuthProtocol method = AuthProtocol::kPap;
  std::string user;
  SecretArray<32> hlak;
};
// The peer failed (wrong password, unknown user, no answer, a method the
// server cannot run). The failure packet, if the protocol has one, is in the
// same AuthStep.
struct AuthRejected {
  AuthProtocol method = AuthProtocol::kPap;
  std::string user;
  std::string reason;
};
// SoftEther 5.01: the peer answered the EAP-TLS Start with a legacy Nak. The
// server Protocol-Rejects that EAP packet (`rejected_information`, the
// Information field as received) and re-offers MS-CHAPv2 at LCP, then never
// sends a challenge (PppServer reproduces the stall).
struct AuthEapAbandoned {
  std::vector<uint8_t> rejected_information;
};
using AuthOutcome =
    std::variant<std::monostate, AuthSucceeded, AuthRejected, AuthEapAbandoned>;

struct AuthStep {
  std::vector<AuthPacket> packets;
  // The retransmission timer, with ServerAuthConfig::retransmit_interval.
  TimerCommand timer = TimerCommand::kLeave;
  AuthOutcome outcome;
  // Non-empty when the received packet broke the protocol (malformed, wrong
  // code, wrong identifier, another protocol than the one negotiated). The
  // packet was ignored, as RFC 1994 4 and RFC 3748 4 say; a strict server
  // ends the link with this text.
  std::string violation;
};

class ServerAuthenticator {
 public:
  ServerAuthenticator(const ServerAuthConfig& config, Random& random,
                      const Logger& logger);

  ServerAuthenticator(const ServerAuthenticator&) = delete;
  ServerAuthenticator& operator=(const ServerAuthenticator&) = delete;

  // Begins authenticating with the protocol LCP agreed on: sends the CHAP
  // Challenge or the EAP Request/Identity, or (PAP) starts waiting for the
  // peer's Authenticate-Request. Only once.
  AuthStep Start(AuthProtocol method);

  // A PAP, CHAP or EAP packet (the PPP Information field) from the peer.
  // After success, a retransmitted Response / Authenticate-Request with the
  // same Identifier gets the same answer again (RFC 1994 4.2, RFC 1334 2.2.1).
  AuthStep OnPacket(uint16_t protocol, absl::Span<const uint8_t> information);

  // The retransmission timer expired.
  AuthStep OnTimeout();

  std::optional<AuthProtocol> method() const { return method_; }
  // A verdict has been given (success, failure or abandon).
  bool finished() const { return stage_ == Stage::kSucceeded ||
                                 stage_ == Stage::kFailed ||
                                 stage_ == Stage::kAbandoned; }
  bool succeeded() const { return stage_ == Stage::kSucceeded; }

 private:
  enum class Stage {
    kIdle,
    kWaitPapRequest,
    kChapChallengeSent,
    kEapIdentitySent,
    kEapTlsStartSent,
    kEapMsChapV2ChallengeSent,
    kEapSuccessRequestSent,  // waiting for the peer's Success Response
    kEapFailureRequestSent,  // waiting for the peer's Failure Response
    kSucceeded,
    kFailed,
    kAbandoned,
  };

  // The verdict on a CHAP-family response.
  struct Verdict {
    bool ok = false;
    std::string user;
    std::string reason;               // when !ok
    std::string message;              // Success/Failure Message to send
    SecretArray<32> hlak;             // when ok
  };

  AuthStep OnPap(absl::Span<const uint8_t> information);
  AuthStep OnChap(absl::Span<const uint8_t> information);
  AuthStep OnEap(absl::Span<const uint8_t> information);
  AuthStep OnEapResponse(const EapPacket& eap,
                         absl::Span<const uint8_t> information);
  AuthStep OnEapMsChapV2(const EapPacket& eap);

  // Sends `request` (and keeps it for retransmission), starting the timer.
  void SendRequest(AuthStep& step, uint16_t protocol,
                   std::vector<uint8_t> request);
  AuthStep SendChapChallenge();
  AuthStep SendEapMsChapV2Challenge();
  void Succeed(AuthStep& step, std::string user, const SecretArray<32>& hlak);
  // Reports failure; `failure_packet` (the protocol's Failure / Nak) is sent
  // and kept to answer retransmissions.
  void Fail(AuthStep& step, std::string user, std::string reason,
            std::optional<AuthPacket> failure_packet);
  AuthStep Violation(std::string what) const;

  // Looks `name` up (full name, then without the domain); nullptr if absent.
  const SecretString* FindUser(absl::string_view name) const;
  Verdict VerifyMsChapV2(absl::string_view name,
                         const MsChapV2ResponseValue& response);
  Verdict VerifyChapMd5(uint8_t identifier, absl::string_view name,
                        absl::Span<const uint8_t> value);
  std::string MsChapV2FailureText();

  const ServerAuthConfig& config_;
  Random& random_;
  const Logger& logger_;

  Stage stage_ = Stage::kIdle;
  std::optional<AuthProtocol> method_;
  int transmissions_ = 0;
  // The outstanding Challenge / EAP Request, for retransmission.
  uint16_t request_protocol_ = 0;
  std::vector<uint8_t> request_;
  uint8_t chap_identifier_ = 0;
  uint8_t eap_identifier_ = 0;
  MsChapV2Challenge challenge_{};  // MS-CHAPv2 / CHAP-MD5 challenge value
  std::string eap_identity_;
  // Between the EAP-MSCHAPv2 Success Request and the peer's Success
  // Response: the verdict waiting to be reported.
  std::string pending_user_;
  std::string pending_reason_;
  SecretArray<32> pending_hlak_;
  // The answer to the peer's final packet, repeated for its retransmissions.
  uint8_t result_identifier_ = 0;
  AuthPacket result_packet_;
};

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_SERVER_AUTH_H_
