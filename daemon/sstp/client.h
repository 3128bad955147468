// The SSTP client call state machine (MS-SSTP 3.2, with the common parts of
// 3.1 in call.h): CALL_CONNECT_REQUEST / ACK / NAK, the crypto binding in
// CALL_CONNECTED, echo, abort and disconnect.
//
// Pure: each event returns the Actions to perform (call.h says what the
// caller does with them). No I/O, no clock.
//
//   SstpClient client(config, cert_hashes);   // after TLS: the certificate
//   run(client.Start());                      // after the HTTP 200
//   for each SSTP packet received:            // from PacketReassembler
//     control -> run(client.OnPacket(packet));
//     data    -> client.OnDataReceived(); deliver the PPP frame if
//                ppp_control_allowed() / data_allowed() allow its kind
//   PPP authenticated -> run(client.OnPppAuthenticated(hlak));
//   timer expired     -> run(client.OnTimer(id));
//   user disconnect   -> run(client.Disconnect());
//   transport closed  -> run(client.OnTransportClosed());
//
// Not thread-safe; one per connection.
#ifndef SSTP_KTLS_DAEMON_SSTP_CLIENT_H_
#define SSTP_KTLS_DAEMON_SSTP_CLIENT_H_

#include <array>
#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "daemon/sstp/call.h"
#include "daemon/sstp/crypto_binding.h"
#include "daemon/sstp/hash_protocol.h"
#include "daemon/sstp/packet.h"

namespace sstp::proto {

struct ClientConfig {
  // MS-SSTP 3.2.2.1, armed after CALL_CONNECT_REQUEST and again after
  // CALL_CONNECT_ACK (until CALL_CONNECTED is sent).
  absl::Duration negotiation_timeout = kDefaultNegotiationTimeout;
  // MS-SSTP 3.1.2.3.
  absl::Duration hello_interval = kDefaultHelloInterval;
  // MS-SSTP 3.2.5.3.3, <10>: how many times CALL_CONNECT_REQUEST is resent
  // after a CALL_CONNECT_NAK (Windows: 3). The NAK after the last retry
  // aborts the call with RETRY_COUNT_EXCEEDED.
  int nak_retry_limit = 3;
  // ClientHashProtocolSupported (MS-SSTP 3.2.1): CRYPTO_BINDING_REQ
  // bitmask bits this client accepts. SHA256 is chosen when both sides
  // support it (2.2.10: the stronger one).
  uint8_t hash_protocols = kHashBitmaskSha1 | kHashBitmaskSha256;
  Logger logger = Logger("sstp");
};

class SstpClient {
 public:
  // `server_certificate`: hashes of the server's leaf certificate as the TLS
  // layer saw it (ClientCertificateHash, 3.2.4.1).
  SstpClient(ClientConfig config, const CertificateHashes& server_certificate);

  SstpClient(const SstpClient&) = delete;
  SstpClient& operator=(const SstpClient&) = delete;

  // MS-SSTP 3.2.4.1: the HTTPS session is up (HTTP 200 received): send
  // CALL_CONNECT_REQUEST, start the negotiation timer,
  // Client_Connect_Request_Sent. Only once, from Client_Call_Disconnected.
  Actions Start();

  // One whole SSTP packet (header included, as PacketReassembler hands it
  // out). Parsed here. A data packet only counts as activity for the Hello
  // timer (as OnDataReceived()); delivering its PPP frame is the caller's
  // job, subject to ppp_control_allowed() / data_allowed().
  Actions OnPacket(absl::Span<const uint8_t> packet);

  // A data packet was received (cheap; no parsing, no actions): keeps the
  // Hello timer from sending ECHO_REQUESTs on a busy link.
  void OnDataReceived();

  Actions OnTimer(TimerId id);

  // MS-SSTP 3.2.7.1 Inner Authentication Completed: build and send
  // CALL_CONNECTED with the crypto binding (3.2.5.2), Client_Call_Connected,
  // CallConnected. `hlak` is 32 zero bytes for PAP/CHAP. Only in
  // Client_Connect_Ack_Received; ignored (logged) elsewhere.
  Actions OnPppAuthenticated(const Hlak& hlak);

  // MS-SSTP 3.2.4.2: orderly disconnect (CALL_DISCONNECT with STATUS_INFO
  // NO_ERROR, wait for CALL_DISCONNECT_ACK up to 5 s, then CallEnded OK).
  // Before Start() there is no SSTP call yet: CallEnded OK at once.
  Actions Disconnect();

  // MS-SSTP 3.1.7.2: the transport is gone; CallEnded at once.
  Actions OnTransportClosed();

  CallState state() const { return core_.state(); }
  bool ended() const { return core_.ended(); }
  // MS-SSTP 3.2.7.2: PPP data frames pass only in Client_Call_Connected;
  // PPP control frames from Client_Connect_Ack_Received on.
  bool data_allowed() const;
  bool ppp_control_allowed() const;
  // ClientHashProtocolChosen, once a CALL_CONNECT_ACK was accepted.
  std::optional<HashProtocol> negotiated_hash() const { return hash_; }
  // CALL_CONNECT_NAKs received so far.
  int naks_received() const { return naks_received_; }

 private:
  void HandleControl(const ControlMessage& message);
  void OnCallConnectAck(const ControlMessage& message);
  void OnCallConnectNak(const ControlMessage& message);
  void OnEchoRequest();
  void OnEchoResponse();
  void OnNegotiationTimeout();
  void SendCallConnected(const Hlak& hlak);

  const ClientConfig config_;
  const CertificateHashes certificate_;
  CallCore core_;
  bool started_ = false;
  int naks_received_ = 0;
  std::optional<HashProtocol> hash_;         // ClientHashProtocolChosen.
  std::array<uint8_t, kNonceSize> nonce_{};  // ClientNonce.
};

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_CLIENT_H_
