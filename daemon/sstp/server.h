// The SSTP server call state machine (MS-SSTP 3.3, with the common parts of
// 3.1 in call.h), for the project's test server (tools/): it accepts or NAKs
// CALL_CONNECT_REQUEST, sends CALL_CONNECT_ACK with a fresh nonce, checks the
// crypto binding of CALL_CONNECTED strictly, and can be configured to behave
// like the servers met in the field (SHA256-only offer, no answer to
// ECHO_REQUEST, NAKs to exercise the client's retries, strict reserved
// bits).
//
// Pure, like SstpClient: events in, Actions out (see call.h).
//
//   SstpServer server(config, random, cert_hashes);
//   run(server.Start());                      // after sending HTTP 200
//   control packet -> run(server.OnPacket(packet));
//   data packet    -> server.OnDataReceived(); deliver if allowed
//   PPP authenticated the peer -> run(server.OnPppAuthenticated(hlak));
//   ...
//
// Not thread-safe; one per connection. `random` must outlive the object.
#ifndef SSTP_KTLS_DAEMON_SSTP_SERVER_H_
#define SSTP_KTLS_DAEMON_SSTP_SERVER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/random.h"
#include "daemon/sstp/call.h"
#include "daemon/sstp/crypto_binding.h"
#include "daemon/sstp/hash_protocol.h"
#include "daemon/sstp/packet.h"

namespace sstp::proto {

struct ServerConfig {
  // MS-SSTP 3.3.2.1: for the CALL_CONNECT_REQUEST and again, after the
  // CALL_CONNECT_ACK, for a valid CALL_CONNECTED.
  absl::Duration negotiation_timeout = kDefaultNegotiationTimeout;
  absl::Duration hello_interval = kDefaultHelloInterval;
  // ServerHashProtocolSupported (3.3.1), sent as the CALL_CONNECT_ACK's
  // Hash Protocol Bitmask: 0x03 both, 0x02 SHA256 only (SoftEther), 0x01
  // SHA1 only. Must hold bit 0 or 1 (otherwise 0x03 is used, with a
  // warning); other bits are dropped.
  uint8_t hash_bitmask = kHashBitmaskSha1 | kHashBitmaskSha256;
  // MS-SSTP 3.3.5.2.7 says to answer; SoftEther never does.
  bool answer_echo_requests = true;
  // Abort (INVALID_FRAME_RECEIVED) on any packet with a reserved bit set
  // (Packet::reserved_bits_set) instead of ignoring them as 2.2 allows.
  bool strict = false;
  // Test behaviour: NAK (VALUE_NOT_SUPPORTED for ENCAPSULATED_PROTOCOL_ID)
  // the first N acceptable CALL_CONNECT_REQUESTs, to exercise the client's
  // retries.
  int nak_first_requests = 0;
  // MS-SSTP 3.3.5.2.2, <16>: NAKs sent before an unacceptable request is
  // answered with CALL_ABORT (RETRY_COUNT_EXCEEDED) instead. Windows: 3.
  int nak_retry_limit = 3;
  Logger logger = Logger("sstp-server");
};

class SstpServer {
 public:
  // `certificate`: hashes of the certificate this server presents in TLS
  // (ServerCertificateHash, 3.3.1).
  SstpServer(ServerConfig config, Random& random,
             const CertificateHashes& certificate);

  SstpServer(const SstpServer&) = delete;
  SstpServer& operator=(const SstpServer&) = delete;

  // MS-SSTP 3.3.7.2 New HTTPS Connection Received (HTTP 200 sent):
  // Server_Connect_Request_Pending, negotiation timer. Only once.
  Actions Start();

  // One whole SSTP packet, parsed here; as SstpClient::OnPacket().
  Actions OnPacket(absl::Span<const uint8_t> packet);
  void OnDataReceived();
  Actions OnTimer(TimerId id);

  // MS-SSTP 3.3.7.1 Inner Authentication Completed: stores the HLAK
  // (ServerHLAKKey; 32 zero bytes for PAP/CHAP). A CALL_CONNECTED that
  // arrived before it was kept and is verified now (accel-ppp's behaviour:
  // the binding cannot be checked before the HLAK exists).
  Actions OnPppAuthenticated(const Hlak& hlak);

  // MS-SSTP 3.3.4: orderly disconnect, as the client's (3.2.4.2).
  Actions Disconnect();
  // Management abort: CALL_ABORT with STATUS_INFO `status`, then the abort
  // sequence (3.1.5.1). For tests of the client's abort handling.
  Actions Abort(StatusCode status);
  Actions OnTransportClosed();

  CallState state() const { return core_.state(); }
  bool ended() const { return core_.ended(); }
  // MS-SSTP 3.3.7.2: PPP data frames only in Server_Call_Connected, PPP
  // control frames from Server_Call_Connected_Pending on.
  bool data_allowed() const;
  bool ppp_control_allowed() const;
  // The nonce sent in CALL_CONNECT_ACK (zero before).
  const std::array<uint8_t, kNonceSize>& nonce() const { return nonce_; }
  int naks_sent() const { return naks_sent_; }
  // A CALL_CONNECTED is held until OnPppAuthenticated().
  bool call_connected_deferred() const {
    return pending_connected_.has_value();
  }

 private:
  struct PendingCallConnected {
    CryptoBinding binding;
    std::vector<uint8_t> message;  // The 112 bytes as received.
  };

  void HandleControl(const ControlMessage& message,
                     absl::Span<const uint8_t> packet);
  void OnCallConnectRequest(const ControlMessage& message);
  void RefuseRequest(StatusInfo status, absl::string_view why);
  void AcceptRequest();
  void OnCallConnected(const ControlMessage& message,
                       absl::Span<const uint8_t> packet);
  void VerifyCallConnected();
  void OnEchoRequest();
  void OnEchoResponse();
  void OnNegotiationTimeout();

  const ServerConfig config_;
  Random& random_;
  const CertificateHashes certificate_;
  CallCore core_;
  bool started_ = false;
  int naks_sent_ = 0;
  std::array<uint8_t, kNonceSize> nonce_{};
  std::optional<Hlak> hlak_;  // ServerHLAKKey.
  std::optional<PendingCallConnected> pending_connected_;
};

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_SERVER_H_
