#include "daemon/sstp/server.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/byte_reader.h"

namespace sstp::proto {
namespace {

constexpr uint8_t kKnownHashBits = kHashBitmaskSha1 | kHashBitmaskSha256;

ServerConfig Sanitized(ServerConfig config) {
  const uint8_t bits = config.hash_bitmask & kKnownHashBits;
  if (bits == 0) {
    config.logger.Warning(
        "SSTP server hash bitmask 0x%02x selects no hash protocol: using "
        "0x%02x",
        config.hash_bitmask, kKnownHashBits);
    config.hash_bitmask = kKnownHashBits;
  } else {
    config.hash_bitmask = bits;
  }
  return config;
}

CallCore::Params CoreParams(const ServerConfig& config) {
  CallCore::Params params;
  params.idle_state = CallState::kServerCallDisconnected;
  params.connected_state = CallState::kServerCallConnected;
  params.peer = "client";
  params.hello_interval = config.hello_interval;
  return params;
}

uint8_t HashBit(HashProtocol hash) {
  switch (hash) {
    case HashProtocol::kSha1:
      return kHashBitmaskSha1;
    case HashProtocol::kSha256:
      return kHashBitmaskSha256;
  }
  return 0;
}

// The Message Type of a control packet whose header has been checked, read
// without parsing the rest (which failed).
bool IsCallConnectRequest(absl::Span<const uint8_t> packet) {
  ByteReader reader(packet);
  uint16_t type = 0;
  return reader.Skip(kHeaderSize) && reader.ReadU16(&type) &&
         type == static_cast<uint16_t>(MessageType::kCallConnectRequest);
}

// MS-SSTP 3.3.5.2.2: the STATUS_INFO a NAK carries for a CALL_CONNECT_REQUEST
// that ParsePacket() refused. The codec reports the attribute at fault; the
// spec names STATUS_INFO itself in two cases.
StatusInfo NakStatusForParseError(const ParseErrorDetail& detail) {
  const uint8_t status_info = static_cast<uint8_t>(AttributeId::kStatusInfo);
  if (detail.status == StatusCode::kAttribNotSupportedInMsg &&
      detail.attrib_id == status_info) {
    return StatusInfo{
        status_info, StatusCode::kStatusInfoNotSupportedInMsg, {}};
  }
  if (detail.status == StatusCode::kRequiredAttributeMissing) {
    return StatusInfo{status_info, StatusCode::kRequiredAttributeMissing, {}};
  }
  return StatusInfo{detail.attrib_id, detail.status, {}};
}

}  // namespace

SstpServer::SstpServer(ServerConfig config, Random& random,
                       const CertificateHashes& certificate)
    : config_(Sanitized(std::move(config))),
      random_(random),
      certificate_(certificate),
      core_(CoreParams(config_), config_.logger) {}

bool SstpServer::data_allowed() const {
  return !core_.ended() && core_.state() == CallState::kServerCallConnected;
}

bool SstpServer::ppp_control_allowed() const {
  return !core_.ended() &&
         (core_.state() == CallState::kServerCallConnectedPending ||
          core_.state() == CallState::kServerCallConnected);
}

Actions SstpServer::Start() {
  if (core_.ended() || started_ ||
      core_.state() != CallState::kServerCallDisconnected) {
    core_.logger().Warning("SSTP Start() in %s ignored",
                           CallStateName(core_.state()));
    return {};
  }
  started_ = true;
  // MS-SSTP 3.3.2.1: the negotiation timer runs from the new connection.
  core_.EnterState(CallState::kServerConnectRequestPending);
  core_.StartTimer(TimerId::kNegotiation, config_.negotiation_timeout);
  return core_.TakeActions();
}

Actions SstpServer::OnPacket(absl::Span<const uint8_t> packet) {
  if (core_.ended()) return {};
  // MS-SSTP 3.1.5.1, as in SstpClient::OnPacket().
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
    const std::optional<ParseErrorDetail> detail =
        GetParseErrorDetail(parsed.status());
    // MS-SSTP 3.3.5.2.2: a CALL_CONNECT_REQUEST with unacceptable attributes
    // is NAKed, naming them; a frame that is not understood at all is not
    // a request and goes the 3.1.5.1 way.
    if (core_.state() == CallState::kServerConnectRequestPending &&
        header->control && IsCallConnectRequest(packet) && detail.has_value() &&
        detail->status != StatusCode::kInvalidFrameReceived) {
      RefuseRequest(NakStatusForParseError(*detail), parsed.status().message());
    } else {
      core_.Malformed(parsed.status());
    }
    return core_.TakeActions();
  }
  if (parsed->reserved_bits_set) {
    if (config_.strict && !core_.ShuttingDown()) {
      core_.Abort(
          StatusInfo{kAttribIdNoError, StatusCode::kInvalidFrameReceived, {}},
          absl::InvalidArgumentError(absl::StrFormat(
              "%s from the client has reserved bits set (strict mode, state "
              "%s)",
              parsed->control() ? MessageTypeName(parsed->control()->type)
                                : absl::string_view("data packet"),
              CallStateName(core_.state()))));
      return core_.TakeActions();
    }
    core_.logger().Debug("SSTP packet from the client has reserved bits set");
  }
  if (const ControlMessage* control = parsed->control()) {
    HandleControl(*control, packet);
  } else {
    OnDataReceived();
  }
  return core_.TakeActions();
}

void SstpServer::OnDataReceived() { core_.NoteActivity(); }

void SstpServer::HandleControl(const ControlMessage& message,
                               absl::Span<const uint8_t> packet) {
  core_.logger().Debug("SSTP received %s in %s", MessageTypeName(message.type),
                       CallStateName(core_.state()));
  switch (message.type) {
    case MessageType::kCallConnectRequest:
      OnCallConnectRequest(message);
      return;
    case MessageType::kCallConnected:
      OnCallConnected(message, packet);
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
    case MessageType::kCallConnectAck:
    case MessageType::kCallConnectNak:
      // Server-to-client messages; 3.3.5.2 has no rule for receiving them.
      core_.Unexpected(message.type);
      return;
  }
}

// MS-SSTP 3.3.5.2.2.
void SstpServer::OnCallConnectRequest(const ControlMessage& message) {
  if (core_.state() != CallState::kServerConnectRequestPending) {
    core_.Unexpected(message.type);
    return;
  }
  const uint16_t protocol = message.encapsulated_protocol->protocol;
  const StatusInfo not_supported{
      static_cast<uint8_t>(AttributeId::kEncapsulatedProtocolId),
      StatusCode::kValueNotSupported,
      {static_cast<uint8_t>(protocol >> 8), static_cast<uint8_t>(protocol)}};
  if (protocol != kEncapsulatedProtocolPpp) {
    RefuseRequest(
        not_supported,
        absl::StrFormat("encapsulated protocol 0x%04x is not PPP", protocol));
    return;
  }
  if (naks_sent_ < config_.nak_first_requests) {
    RefuseRequest(not_supported,
                  absl::StrFormat("configured to NAK the first %d requests",
                                  config_.nak_first_requests));
    return;
  }
  AcceptRequest();
}

void SstpServer::RefuseRequest(StatusInfo status, absl::string_view why) {
  if (naks_sent_ >= config_.nak_retry_limit) {
    core_.Abort(StatusInfo{static_cast<uint8_t>(AttributeId::kStatusInfo),
                           StatusCode::kRetryCountExceeded,
                           {}},
                absl::UnavailableError(absl::StrFormat(
                    "client's CALL_CONNECT_REQUEST still unacceptable after %d "
                    "CALL_CONNECT_NAKs (limit %d): %s",
                    naks_sent_, config_.nak_retry_limit, why)));
    return;
  }
  ++naks_sent_;
  core_.logger().Info("SSTP CALL_CONNECT_NAK %d (%s): %s", naks_sent_,
                      FormatStatusInfo(status), why);
  // Cannot fail: one STATUS_INFO of at most 2 bytes of value.
  core_.Send(*EncodeCallConnectNak({std::move(status)}));
}

void SstpServer::AcceptRequest() {
  random_.Fill(absl::MakeSpan(nonce_));
  // The ACK goes out before PPP may start, so that no PPP frame overtakes
  // it (the client drops PPP frames before the ACK, 3.2.7.2).
  core_.Send(
      EncodeCallConnectAck(CryptoBindingReq{config_.hash_bitmask, nonce_}));
  core_.StartTimer(TimerId::kNegotiation, config_.negotiation_timeout);
  core_.EnterState(CallState::kServerCallConnectedPending);
  core_.Emit(PppMayStart{});
}

// MS-SSTP 3.3.5.2.3.
void SstpServer::OnCallConnected(const ControlMessage& message,
                                 absl::Span<const uint8_t> packet) {
  if (core_.state() != CallState::kServerCallConnectedPending) {
    core_.Unexpected(message.type);
    return;
  }
  if (pending_connected_.has_value()) {
    core_.Abort(
        StatusInfo{kAttribIdNoError, StatusCode::kUnacceptedFrameReceived, {}},
        absl::FailedPreconditionError(
            "second CALL_CONNECTED from the client while the first awaits "
            "PPP authentication"));
    return;
  }
  pending_connected_ =
      PendingCallConnected{*message.crypto_binding,
                           std::vector<uint8_t>(packet.begin(), packet.end())};
  if (!hlak_.has_value()) {
    core_.logger().Info(
        "SSTP CALL_CONNECTED before PPP authentication completed: check "
        "deferred until the HLAK is known");
    return;
  }
  VerifyCallConnected();
}

void SstpServer::VerifyCallConnected() {
  const PendingCallConnected pending = std::move(*pending_connected_);
  pending_connected_.reset();
  const CryptoBinding& binding = pending.binding;
  std::string failure;
  absl::StatusCode code = absl::StatusCode::kPermissionDenied;
  // The checks in the order 3.3.5.2.3 lists them.
  if (binding.nonce != nonce_) {
    failure = "nonce differs from the one sent in CALL_CONNECT_ACK";
  } else if (binding.cert_hash != certificate_.For(binding.hash)) {
    failure = absl::StrFormat(
        "certificate hash is not the %s hash of this server's certificate",
        HashProtocolName(binding.hash));
  } else if ((config_.hash_bitmask & HashBit(binding.hash)) == 0) {
    failure = absl::StrFormat(
        "hash protocol %s was not offered (CALL_CONNECT_ACK bitmask 0x%02x)",
        HashProtocolName(binding.hash), config_.hash_bitmask);
  } else {
    std::vector<uint8_t> zeroed = pending.message;
    std::fill_n(zeroed.begin() + kCompoundMacOffset, kCompoundMacSize, 0);
    absl::StatusOr<Cmk> cmk = ComputeCmk(binding.hash, *hlak_);
    const absl::Status verified =
        cmk.ok() ? VerifyCompoundMac(binding.hash, *cmk, zeroed,
                                     binding.compound_mac)
                 : cmk.status();
    if (absl::IsPermissionDenied(verified)) {
      failure = absl::StrFormat(
          "Compound MAC (%s) does not verify: wrong HLAK or altered message",
          HashProtocolName(binding.hash));
    } else if (!verified.ok()) {
      failure =
          absl::StrCat("cannot verify the Compound MAC: ", verified.message());
      code = absl::StatusCode::kInternal;
    }
  }
  if (!failure.empty()) {
    // 3.3.5.2.3: CALL_ABORT with {CRYPTO_BINDING, VALUE_NOT_SUPPORTED} when
    // the nonce, the certificate, the hash or the MAC does not match.
    core_.Abort(
        StatusInfo{static_cast<uint8_t>(AttributeId::kCryptoBinding),
                   StatusCode::kValueNotSupported,
                   {}},
        absl::Status(code, absl::StrCat("CALL_CONNECTED crypto binding "
                                        "rejected: ",
                                        failure, " (MS-SSTP 3.3.5.2.3)")));
    return;
  }
  core_.logger().Info("SSTP crypto binding verified (%s)",
                      HashProtocolName(binding.hash));
  core_.StopTimer(TimerId::kNegotiation);
  core_.EnterState(CallState::kServerCallConnected);
  core_.ArmHello();
  core_.Emit(CallConnected{});
}

// MS-SSTP 3.3.5.2.7.
void SstpServer::OnEchoRequest() {
  if (core_.state() != CallState::kServerCallConnected) {
    core_.Unexpected(MessageType::kEchoRequest);
    return;
  }
  core_.RestartHello();
  if (config_.answer_echo_requests) {
    core_.Send(EncodeEchoResponse());
  } else {
    core_.logger().Debug("SSTP ECHO_REQUEST not answered (configured)");
  }
}

// MS-SSTP 3.3.5.2.8.
void SstpServer::OnEchoResponse() {
  if (core_.state() != CallState::kServerCallConnected) {
    core_.Unexpected(MessageType::kEchoResponse);
    return;
  }
  core_.RestartHello();
}

Actions SstpServer::OnTimer(TimerId id) {
  if (!core_.OnTimer(id)) return {};
  if (id == TimerId::kNegotiation) OnNegotiationTimeout();
  return core_.TakeActions();
}

// MS-SSTP 3.3.6.1. The timer runs only in Server_Connect_Request_Pending and
// Server_Call_Connected_Pending.
void SstpServer::OnNegotiationTimeout() {
  std::string text;
  if (core_.state() == CallState::kServerConnectRequestPending) {
    text = absl::StrFormat(
        "no acceptable CALL_CONNECT_REQUEST from the client within %s "
        "(negotiation timer, state %s)",
        absl::FormatDuration(config_.negotiation_timeout),
        CallStateName(core_.state()));
  } else {
    text = absl::StrFormat(
        "no valid CALL_CONNECTED from the client within %s of "
        "CALL_CONNECT_ACK%s (negotiation timer, state %s)",
        absl::FormatDuration(config_.negotiation_timeout),
        pending_connected_.has_value()
            ? "; one arrived but PPP authentication never completed"
            : "",
        CallStateName(core_.state()));
  }
  pending_connected_.reset();
  core_.Abort(StatusInfo{kAttribIdNoError, StatusCode::kNegotiationTimeout, {}},
              absl::DeadlineExceededError(text));
}

Actions SstpServer::OnPppAuthenticated(const Hlak& hlak) {
  if (core_.ended()) return {};
  hlak_ = hlak;
  if (core_.state() == CallState::kServerCallConnectedPending &&
      pending_connected_.has_value()) {
    VerifyCallConnected();
  }
  return core_.TakeActions();
}

Actions SstpServer::Disconnect() {
  if (core_.ended()) return {};
  if (!started_ && core_.state() == CallState::kServerCallDisconnected) {
    core_.End(absl::OkStatus(), /*by_peer=*/false);
    return core_.TakeActions();
  }
  core_.Disconnect();
  return core_.TakeActions();
}

Actions SstpServer::Abort(StatusCode status) {
  if (core_.ended()) return {};
  if (core_.ShuttingDown()) {
    core_.logger().Debug("SSTP abort request ignored in %s: already going down",
                         CallStateName(core_.state()));
    return {};
  }
  const StatusInfo info{kAttribIdNoError, status, {}};
  core_.Abort(info, absl::AbortedError(absl::StrFormat(
                        "server aborted the call on request: %s (in state %s)",
                        FormatStatusInfo(info), CallStateName(core_.state()))));
  return core_.TakeActions();
}

Actions SstpServer::OnTransportClosed() {
  core_.OnTransportClosed();
  return core_.TakeActions();
}

}  // namespace sstp::proto
