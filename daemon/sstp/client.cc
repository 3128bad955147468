#include "daemon/sstp/client.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace sstp::proto {
namespace {

CallCore::Params CoreParams(const ClientConfig& config) {
  CallCore::Params params;
  params.idle_state = CallState::kClientCallDisconnected;
  params.connected_state = CallState::kClientCallConnected;
  params.peer = "server";
  params.hello_interval = config.hello_interval;
  return params;
}

}  // namespace

SstpClient::SstpClient(ClientConfig config,
                       const CertificateHashes& server_certificate)
    : config_(std::move(config)),
      certificate_(server_certificate),
      core_(CoreParams(config_), config_.logger) {}

bool SstpClient::data_allowed() const {
  return !core_.ended() && core_.state() == CallState::kClientCallConnected;
}

bool SstpClient::ppp_control_allowed() const {
  return !core_.ended() &&
         (core_.state() == CallState::kClientConnectAckReceived ||
          core_.state() == CallState::kClientCallConnected);
}

Actions SstpClient::Start() {
  if (core_.ended() || started_ ||
      core_.state() != CallState::kClientCallDisconnected) {
    core_.logger().Warning("SSTP Start() in %s ignored",
                           CallStateName(core_.state()));
    return {};
  }
  started_ = true;
  // MS-SSTP 3.2.4.1: CALL_CONNECT_REQUEST with the PPP Encapsulated
  // Protocol ID; 3.2.2.1: then the negotiation timer.
  core_.Send(EncodeCallConnectRequest());
  core_.StartTimer(TimerId::kNegotiation, config_.negotiation_timeout);
  core_.EnterState(CallState::kClientConnectRequestSent);
  return core_.TakeActions();
}

Actions SstpClient::OnPacket(absl::Span<const uint8_t> packet) {
  if (core_.ended()) return {};
  // MS-SSTP 3.1.5.1: a packet that cannot be delineated (bad version,
  // length < 4, or a length that is not the size handed in) means the
  // stream is unreliable: drop the connection without a word.
  absl::StatusOr<PacketHeader> header = ParseHeader(packet);
  if (!header.ok()) {
    core_.FramingError(header.status());
    return core_.TakeActions();
  }
  if (header->length != packet.size()) {
    core_.FramingError(absl::InvalidArgumentError(
        absl::StrFormat("SSTP length field %d != %d bytes given",
                        header->length, packet.size())));
    return core_.TakeActions();
  }
  absl::StatusOr<Packet> parsed = ParsePacket(packet);
  if (!parsed.ok()) {
    core_.Malformed(parsed.status());
    return core_.TakeActions();
  }
  if (parsed->reserved_bits_set) {
    // MS-SSTP 2.2.1, 2.2.4: reserved fields are ignored on receipt.
    core_.logger().Debug("SSTP packet from the server has reserved bits set");
  }
  if (const ControlMessage* control = parsed->control()) {
    HandleControl(*control);
  } else {
    OnDataReceived();
  }
  return core_.TakeActions();
}

void SstpClient::OnDataReceived() { core_.NoteActivity(); }

void SstpClient::HandleControl(const ControlMessage& message) {
  core_.logger().Debug("SSTP received %s in %s", MessageTypeName(message.type),
                       CallStateName(core_.state()));
  switch (message.type) {
    case MessageType::kCallConnectAck:
      OnCallConnectAck(message);
      return;
    case MessageType::kCallConnectNak:
      OnCallConnectNak(message);
      return;
    case MessageType::kCallAbort:
      core_.OnCallAbort(message);
      return;
    case MessageType::kCallDisconnect:
      core_.OnCallDisconnect(message);
      return;
    case MessageType::kCallDisconnectAck:
      core_.OnCallDisconnectAck();
      return;
    case MessageType::kEchoRequest:
      OnEchoRequest();
      return;
    case MessageType::kEchoResponse:
      OnEchoResponse();
      return;
    case MessageType::kCallConnectRequest:
    case MessageType::kCallConnected:
      // Messages a client sends and never receives. 3.2.5.3 has no rule for
      // them; they get the rule of every other message that is not
      // acceptable: ignored while going down, otherwise an abort.
      core_.Unexpected(message.type);
      return;
  }
}

// MS-SSTP 3.2.5.3.2.
void SstpClient::OnCallConnectAck(const ControlMessage& message) {
  if (core_.state() != CallState::kClientConnectRequestSent) {
    core_.Unexpected(message.type);
    return;
  }
  // ParsePacket() guarantees the CRYPTO_BINDING_REQ and at least one known
  // hash bit; what is left is whether this client accepts one of them.
  const CryptoBindingReq& request = *message.crypto_binding_req;
  const uint8_t usable = request.hash_bitmask & config_.hash_protocols;
  if (usable == 0) {
    // MS-SSTP 2.2.8: AttribValue holds the offending attribute's value
    // (Reserved1, bitmask, nonce).
    StatusInfo status{static_cast<uint8_t>(AttributeId::kCryptoBindingReq),
                      StatusCode::kValueNotSupported,
                      {0, 0, 0, request.hash_bitmask}};
    status.value.insert(status.value.end(), request.nonce.begin(),
                        request.nonce.end());
    core_.Abort(std::move(status),
                absl::FailedPreconditionError(absl::StrFormat(
                    "CALL_CONNECT_ACK offers hash protocol bitmask 0x%02x but "
                    "this client accepts only 0x%02x (MS-SSTP 3.2.5.3.2)",
                    request.hash_bitmask, config_.hash_protocols)));
    return;
  }
  // MS-SSTP 2.2.10: if more than one is offered, the stronger one.
  hash_ = (usable & kHashBitmaskSha256) != 0 ? HashProtocol::kSha256
                                             : HashProtocol::kSha1;
  nonce_ = request.nonce;
  core_.logger().Info("SSTP server offers hash bitmask 0x%02x: using %s",
                      request.hash_bitmask, HashProtocolName(*hash_));
  core_.EnterState(CallState::kClientConnectAckReceived);
  core_.StartTimer(TimerId::kNegotiation, config_.negotiation_timeout);
  core_.Emit(PppMayStart{});
}

// MS-SSTP 3.2.5.3.3.
void SstpClient::OnCallConnectNak(const ControlMessage& message) {
  if (core_.state() != CallState::kClientConnectRequestSent) {
    core_.Unexpected(message.type);
    return;
  }
  ++naks_received_;
  std::vector<std::string> reasons;
  for (const StatusInfo& info : message.status_info) {
    reasons.push_back(FormatStatusInfo(info));
  }
  const std::string why = absl::StrJoin(reasons, "; ");
  if (naks_received_ > config_.nak_retry_limit) {
    // MS-SSTP 2.2.8: RETRY_COUNT_EXCEEDED; as in the server's abort for the
    // same case (3.3.5.2.2), the AttribID is STATUS_INFO.
    core_.Abort(
        StatusInfo{static_cast<uint8_t>(AttributeId::kStatusInfo),
                   StatusCode::kRetryCountExceeded,
                   {}},
        absl::UnavailableError(absl::StrFormat(
            "server refused CALL_CONNECT_REQUEST %d times (retry limit %d); "
            "last CALL_CONNECT_NAK: %s",
            naks_received_, config_.nak_retry_limit, why)));
    return;
  }
  core_.logger().Warning(
      "SSTP server sent CALL_CONNECT_NAK (%s): retry %d of %d", why,
      naks_received_, config_.nak_retry_limit);
  core_.Send(EncodeCallConnectRequest());
  core_.StartTimer(TimerId::kNegotiation, config_.negotiation_timeout);
}

// MS-SSTP 3.2.5.3.7.
void SstpClient::OnEchoRequest() {
  switch (core_.state()) {
    case CallState::kClientCallConnected:
      core_.RestartHello();
      core_.Send(EncodeEchoResponse());
      return;
    case CallState::kClientConnectAckReceived:
      // Leniency: 3.2.5.3.7 would abort here, but servers (SoftEther) probe
      // with ECHO_REQUEST from the start, while PPP is still negotiating.
      // The call exists from CALL_CONNECT_ACK on, so answer.
      core_.Send(EncodeEchoResponse());
      return;
    case CallState::kClientCallDisconnected:
    case CallState::kClientConnectRequestSent:
    case CallState::kServerCallDisconnected:
    case CallState::kServerConnectRequestPending:
    case CallState::kServerCallConnectedPending:
    case CallState::kServerCallConnected:
    case CallState::kCallAbortInProgress1:
    case CallState::kCallAbortInProgress2:
    case CallState::kCallAbortPending:
    case CallState::kCallAbortTimeoutPending:
    case CallState::kCallDisconnectInProgress1:
    case CallState::kCallDisconnectInProgress2:
    case CallState::kCallDisconnectAckPending:
    case CallState::kCallDisconnectTimeoutPending:
      core_.Unexpected(MessageType::kEchoRequest);
      return;
  }
}

// MS-SSTP 3.2.5.3.8.
void SstpClient::OnEchoResponse() {
  if (core_.state() == CallState::kClientCallConnected) {
    core_.RestartHello();
    return;
  }
  core_.Unexpected(MessageType::kEchoResponse);
}

Actions SstpClient::OnTimer(TimerId id) {
  if (!core_.OnTimer(id)) return {};
  if (id == TimerId::kNegotiation) OnNegotiationTimeout();
  return core_.TakeActions();
}

// MS-SSTP 3.2.6.1. The timer runs only in Client_Connect_Request_Sent and
// Client_Connect_Ack_Received.
void SstpClient::OnNegotiationTimeout() {
  const bool waiting_for_ack =
      core_.state() == CallState::kClientConnectRequestSent;
  const std::string text =
      waiting_for_ack
          ? absl::StrFormat(
                "no CALL_CONNECT_ACK from the server within %s of "
                "CALL_CONNECT_REQUEST (negotiation timer, state %s)",
                absl::FormatDuration(config_.negotiation_timeout),
                CallStateName(core_.state()))
          : absl::StrFormat(
                "PPP authentication did not complete within %s of "
                "CALL_CONNECT_ACK (negotiation timer, state %s)",
                absl::FormatDuration(config_.negotiation_timeout),
                CallStateName(core_.state()));
  core_.Abort(StatusInfo{kAttribIdNoError, StatusCode::kNegotiationTimeout, {}},
              absl::DeadlineExceededError(text));
}

Actions SstpClient::OnPppAuthenticated(const Hlak& hlak) {
  if (core_.ended()) return {};
  if (core_.state() != CallState::kClientConnectAckReceived) {
    core_.logger().Warning(
        "SSTP PPP authentication completion in %s ignored (expected in %s)",
        CallStateName(core_.state()),
        CallStateName(CallState::kClientConnectAckReceived));
    return {};
  }
  SendCallConnected(hlak);
  return core_.TakeActions();
}

// MS-SSTP 3.2.5.2 and 3.2.7.1.
void SstpClient::SendCallConnected(const Hlak& hlak) {
  const HashProtocol hash = *hash_;
  CryptoBinding binding;
  binding.hash = hash;
  binding.nonce = nonce_;                      // ClientNonce.
  binding.cert_hash = certificate_.For(hash);  // ClientCertificateHash.
  binding.compound_mac.fill(0);
  // 3.2.5.2.1 / 3.2.5.2.3: the MAC covers the whole 112-byte message with
  // the Compound MAC field zeroed; then it is written into that field.
  std::vector<uint8_t> message = EncodeCallConnected(binding);
  absl::StatusOr<Cmk> cmk = ComputeCmk(hash, hlak);
  absl::StatusOr<CryptoBindingField> mac =
      cmk.ok() ? ComputeCompoundMac(hash, *cmk, message)
               : absl::StatusOr<CryptoBindingField>(cmk.status());
  if (!mac.ok()) {
    core_.Abort(std::nullopt,
                absl::InternalError(absl::StrCat(
                    "cannot compute the CALL_CONNECTED crypto binding: ",
                    mac.status().message())));
    return;
  }
  std::copy(mac->begin(), mac->end(), message.begin() + kCompoundMacOffset);
  core_.logger().Info("SSTP sending CALL_CONNECTED (crypto binding %s)",
                      HashProtocolName(hash));
  core_.StopTimer(TimerId::kNegotiation);
  core_.Send(std::move(message));
  core_.EnterState(CallState::kClientCallConnected);
  core_.ArmHello();
  core_.Emit(CallConnected{});
}

Actions SstpClient::Disconnect() {
  if (core_.ended()) return {};
  if (!started_ && core_.state() == CallState::kClientCallDisconnected) {
    // 3.2.4.1: the SSTP state machine starts with Start(); before it there
    // is no call to take down.
    core_.End(absl::OkStatus(), /*by_peer=*/false);
    return core_.TakeActions();
  }
  core_.Disconnect();
  return core_.TakeActions();
}

Actions SstpClient::OnTransportClosed() {
  core_.OnTransportClosed();
  return core_.TakeActions();
}

}  // namespace sstp::proto
