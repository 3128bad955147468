#include "daemon/session/kernel_tls.h"

#include <sys/socket.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::session {
namespace {

// RFC 8446 4: handshake message types seen after the handshake.
constexpr uint8_t kHelloRequest = 0;       // TLS 1.2 renegotiation request.
constexpr uint8_t kNewSessionTicket = 4;
constexpr uint8_t kKeyUpdate = 24;
// How long our KeyUpdate may wait for room in a full socket buffer.
constexpr absl::Duration kKeyUpdateSendWait = absl::Seconds(10);

ktls::Cipher ToKtls(tls::Cipher c) {
  switch (c) {
    case tls::Cipher::kAes128Gcm:
      return ktls::Cipher::kAes128Gcm;
    case tls::Cipher::kAes256Gcm:
      return ktls::Cipher::kAes256Gcm;
    case tls::Cipher::kChacha20Poly1305:
      return ktls::Cipher::kChacha20Poly1305;
  }
  return ktls::Cipher::kAes128Gcm;
}

ktls::TlsVersion ToKtls(tls::TlsVersion v) {
  return v == tls::TlsVersion::kTls13 ? ktls::TlsVersion::kTls13 : ktls::TlsVersion::kTls12;
}

// The secret after `updates` KeyUpdates (RFC 8446 7.2).
absl::StatusOr<ktls::TrafficSecret> Advance(ktls::Cipher cipher, const tls::Secret& secret0,
                                            uint32_t updates) {
  ASSIGN_OR_RETURN(ktls::TrafficSecret secret, ktls::TrafficSecret::FromBytes(secret0.span()));
  for (uint32_t i = 0; i < updates; ++i) {
    ASSIGN_OR_RETURN(secret, ktls::NextTrafficSecret(cipher, secret.span()));
  }
  return secret;
}

}  // namespace

KernelTls::~KernelTls() = default;

absl::StatusOr<std::unique_ptr<KernelTls>> KernelTls::Install(int fd,
                                                             const tls::KeyMaterial& material,
                                                             TlsSide side, Logger log) {
  std::unique_ptr<KernelTls> k(new KernelTls(fd, side, std::move(log)));
  k->version_ = ToKtls(material.version);
  k->cipher_ = ToKtls(material.cipher);
  const tls::RecordCounters& records = material.records;
  const bool client = side == TlsSide::kClient;

  ktls::TrafficKeys tx_keys, rx_keys;
  if (k->version_ == ktls::TlsVersion::kTls13) {
    if (material.client_traffic_secret.empty() || material.server_traffic_secret.empty()) {
      return absl::InternalError("TLS 1.3 traffic secrets were not captured");
    }
    ASSIGN_OR_RETURN(k->tx_secret_,
                     Advance(k->cipher_,
                             client ? material.client_traffic_secret : material.server_traffic_secret,
                             records.tx_key_updates));
    ASSIGN_OR_RETURN(k->rx_secret_,
                     Advance(k->cipher_,
                             client ? material.server_traffic_secret : material.client_traffic_secret,
                             records.rx_key_updates));
    ASSIGN_OR_RETURN(tx_keys, ktls::DeriveTls13Keys(k->cipher_, k->tx_secret_.span()));
    ASSIGN_OR_RETURN(rx_keys, ktls::DeriveTls13Keys(k->cipher_, k->rx_secret_.span()));
  } else {
    if (material.master_secret.empty()) {
      return absl::InternalError("the TLS 1.2 master secret was not captured");
    }
    ASSIGN_OR_RETURN(ktls::Tls12Keys keys,
                     ktls::DeriveTls12Keys(k->cipher_, material.master_secret.span(),
                                           material.client_random, material.server_random));
    tx_keys = client ? keys.client : keys.server;
    rx_keys = client ? keys.server : keys.client;
  }

  RETURN_IF_ERROR(ktls::AttachUlp(fd));
  // The ULP alone changes nothing on the wire: a TX failure still leaves a
  // plain TCP socket that the user-space record layer can use.
  RETURN_IF_ERROR(k->InstallDirection(ktls::Direction::kTx, tx_keys, records.tx_seq));
  if (absl::Status s = k->InstallDirection(ktls::Direction::kRx, rx_keys, records.rx_seq); !s.ok()) {
    // Sends are already the kernel's: there is no way back to OpenSSL.
    return absl::InternalError(absl::StrCat(s.message(),
                                            " (after TLS_TX was installed; set ktls = off)"));
  }
  k->tx_offset_ = -static_cast<int64_t>(records.tx_seq);
  k->rx_offset_ = -static_cast<int64_t>(records.rx_seq);
  if (k->version_ == ktls::TlsVersion::kTls13) {
    // Real servers do not pad; a padded record still decrypts (twice).
    if (absl::Status s = ktls::SetRxExpectNoPad(fd); !s.ok()) {
      k->log_.Debug("TLS_RX_EXPECT_NO_PAD not set: %s", std::string(s.message()));
    }
  }
  return k;
}

absl::Status KernelTls::InstallDirection(ktls::Direction direction, const ktls::TrafficKeys& keys,
                                         uint64_t sequence) {
  const ktls::KernelCryptoInfo info = ktls::BuildCryptoInfo(version_, keys, sequence);
  RETURN_IF_ERROR(ktls::Install(fd_, direction, info));
  return ktls::VerifyInstalled(fd_, direction, info);
}

std::string KernelTls::Describe() const {
  return absl::StrCat(ktls::TlsVersionName(version_), " ", ktls::CipherName(cipher_));
}

absl::StatusOr<KernelTls::RecordCount> KernelTls::KernelRecords() const {
  ASSIGN_OR_RETURN(ktls::InstalledState tx, ktls::ReadInstalled(fd_, ktls::Direction::kTx));
  ASSIGN_OR_RETURN(ktls::InstalledState rx, ktls::ReadInstalled(fd_, ktls::Direction::kRx));
  RecordCount c;
  c.tx = static_cast<uint64_t>(tx_offset_ + static_cast<int64_t>(tx.record_sequence));
  c.rx = static_cast<uint64_t>(rx_offset_ + static_cast<int64_t>(rx.record_sequence));
  return c;
}

absl::Status KernelTls::SendAlert(uint8_t level, uint8_t description) {
  const uint8_t body[] = {level, description};
  return ktls::SendRecord(fd_, ktls::kAlert, body);
}

absl::StatusOr<RecordEvent> ClassifyRecord(ktls::TlsVersion version, TlsSide side,
                                           uint8_t content_type, absl::Span<const uint8_t> body,
                                           std::optional<uint8_t>* alert_to_send) {
  const char* peer = side == TlsSide::kClient ? "the server" : "the client";
  const bool tls13 = version == ktls::TlsVersion::kTls13;
  auto unexpected = [&](uint8_t alert, std::string why) {
    *alert_to_send = alert;
    return absl::DataLossError(std::move(why));
  };
  RecordEvent event;
  if (content_type == ktls::kAlert) {
    if (body.size() != 2) {
      return unexpected(ktls::kDecodeError,
                        absl::StrCat("malformed TLS alert (", body.size(), " bytes) from ", peer));
    }
    const uint8_t level = body[0], description = body[1];
    if (description == ktls::kCloseNotify) {
      event.kind = RecordEvent::kPeerClosed;
      return event;
    }
    if ((tls13 && description == 90 /* user_canceled */) ||
        (!tls13 && level == ktls::kAlertWarning)) {
      // RFC 8446 6.1: user_canceled announces a close_notify (TLS 1.3
      // ignores the level); TLS 1.2 warnings (no_renegotiation,
      // user_canceled) leave the session open, and its fatal ones end it.
      event.note = absl::StrCat("TLS warning from ", peer, ": ", ktls::AlertName(description));
      return event;
    }
    return absl::AbortedError(absl::StrCat("TLS alert from ", peer, ": ", ktls::AlertName(description)));
  }
  if (content_type != ktls::kHandshake) {
    return unexpected(ktls::kUnexpectedMessage,
                      absl::StrCat("unexpected TLS record of type ", content_type, " from ", peer,
                                   " after the handshake"));
  }
  if (body.empty()) {
    return unexpected(ktls::kDecodeError, absl::StrCat("empty TLS handshake record from ", peer));
  }
  // type(1) length(3) body, possibly several in one record.
  while (!body.empty()) {
    if (event.kind == RecordEvent::kKeyUpdate) {
      return unexpected(ktls::kUnexpectedMessage,
                        absl::StrCat("data after a KeyUpdate in the same record from ", peer));
    }
    if (body.size() < 4) {
      return unexpected(ktls::kDecodeError, absl::StrCat("truncated TLS handshake message from ", peer));
    }
    const uint8_t type = body[0];
    const size_t length = (size_t{body[1]} << 16) | (size_t{body[2]} << 8) | body[3];
    if (body.size() - 4 < length) {
      // Post-handshake messages are small (a ticket is a few hundred
      // bytes) and never split across records in practice: refuse rather
      // than reassemble.
      return unexpected(ktls::kDecodeError,
                        absl::StrCat("TLS handshake message of type ", type, " from ", peer,
                                     " claims ", length, " bytes; the record holds ", body.size() - 4));
    }
    const absl::Span<const uint8_t> message = body.subspan(4, length);
    body.remove_prefix(4 + length);
    if (type == kNewSessionTicket && tls13 && side == TlsSide::kClient) {
      event.note = absl::StrCat("NewSessionTicket from ", peer, " ignored (no resumption)");
    } else if (type == kKeyUpdate && tls13) {
      if (message.size() != 1 || message[0] > 1) {
        return unexpected(ktls::kDecodeError, absl::StrCat("malformed KeyUpdate from ", peer));
      }
      event.kind = RecordEvent::kKeyUpdate;
      event.update_requested = message[0] == 1;
    } else if (type == kHelloRequest && !tls13 && side == TlsSide::kClient) {
      // RFC 5246 7.4.1.1: a client may ignore it; we never renegotiate.
      event.note = "the server asked for TLS renegotiation; ignored";
    } else {
      return unexpected(ktls::kUnexpectedMessage,
                        absl::StrCat("unexpected TLS handshake message of type ", type, " from ",
                                     peer, " after the handshake"));
    }
  }
  return event;
}

absl::Status KernelTls::OnRecord(uint8_t content_type, absl::Span<const uint8_t> body) {
  ASSIGN_OR_RETURN(RecordEvent event,
                   ClassifyRecord(version_, side_, content_type, body, &alert_to_send_));
  switch (event.kind) {
    case RecordEvent::kIgnore:
      log_.Debug("%s", event.note);
      return absl::OkStatus();
    case RecordEvent::kPeerClosed:
      peer_closed_ = true;
      return absl::UnavailableError(absl::StrCat(peer(), " closed the TLS session (close_notify)"));
    case RecordEvent::kKeyUpdate:
      return FollowKeyUpdate(event.update_requested);
  }
  return absl::OkStatus();
}

absl::Status KernelTls::FollowKeyUpdate(bool update_requested) {
  // RFC 8446 4.6.3: the peer's next records use its next secret. The kernel
  // has stopped receiving at this record; it needs the new TLS_RX now.
  ASSIGN_OR_RETURN(ktls::InstalledState rx_now, ktls::ReadInstalled(fd_, ktls::Direction::kRx));
  ASSIGN_OR_RETURN(ktls::TrafficSecret next_rx, ktls::NextTrafficSecret(cipher_, rx_secret_.span()));
  ASSIGN_OR_RETURN(ktls::TrafficKeys rx_keys, ktls::DeriveTls13Keys(cipher_, next_rx.span()));
  if (absl::Status s = InstallDirection(ktls::Direction::kRx, rx_keys, 0); !s.ok()) {
    if (s.code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(absl::StrCat(
          peer(), " updated its TLS keys (KeyUpdate), and this kernel cannot rekey kernel TLS (",
          s.message(), "); ending the call so that a new connection starts with fresh keys"));
    }
    return s;
  }
  rx_offset_ += static_cast<int64_t>(rx_now.record_sequence);
  rx_secret_ = std::move(next_rx);
  ++rx_rekeys_;
  log_.Info("%s updated its TLS keys; the kernel follows (rekey %d)", peer(), rx_rekeys_);
  if (!update_requested) return absl::OkStatus();
  return UpdateSendKey(/*update_requested_by_peer=*/true);
}

absl::Status KernelTls::UpdateSendKey(bool update_requested_by_peer) {
  // Our KeyUpdate (update_not_requested) goes out under the current key,
  // then our sends switch to the next secret. Nothing else may be sent
  // in between: the engine's sends are io_uring SENDMSGs, and with
  // DEFER_TASKRUN (single issuer) a parked one only runs inside
  // io_uring_enter on this thread, never while this function runs. (Rekeying
  // needs Linux 6.14, and uring::Ring gets DEFER_TASKRUN on any kernel from
  // 6.1.) Under a full upload the socket may have no room: wait for it (a
  // peer that asks for an update when it crosses a volume is most likely to
  // do so then).
  ASSIGN_OR_RETURN(ktls::InstalledState tx_now, ktls::ReadInstalled(fd_, ktls::Direction::kTx));
  const uint8_t key_update[] = {kKeyUpdate, 0, 0, 1, 0};
  RETURN_IF_ERROR(ktls::SendRecord(fd_, ktls::kHandshake, key_update, kKeyUpdateSendWait));
  ASSIGN_OR_RETURN(ktls::TrafficSecret next_tx, ktls::NextTrafficSecret(cipher_, tx_secret_.span()));
  ASSIGN_OR_RETURN(ktls::TrafficKeys tx_keys, ktls::DeriveTls13Keys(cipher_, next_tx.span()));
  RETURN_IF_ERROR(InstallDirection(ktls::Direction::kTx, tx_keys, 0));
  tx_offset_ += static_cast<int64_t>(tx_now.record_sequence) + 1;  // + our KeyUpdate.
  tx_secret_ = std::move(next_tx);
  ++tx_rekeys_;
  log_.Info("our TLS keys updated after %d records (%s; rekey %d)", tx_now.record_sequence + 1,
            update_requested_by_peer ? "the peer asked" : "the AES-GCM limit", tx_rekeys_);
  return absl::OkStatus();
}

absl::Status KernelTls::CheckSendKeyUsage() {
  if (version_ != ktls::TlsVersion::kTls13 || cipher_ == ktls::Cipher::kChacha20Poly1305 ||
      key_update_records_ == 0) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(ktls::InstalledState tx_now, ktls::ReadInstalled(fd_, ktls::Direction::kTx));
  if (tx_now.record_sequence < key_update_records_) return absl::OkStatus();
  absl::StatusOr<ktls::TlsStat> stat = ktls::ReadTlsStat();
  if (!stat.ok() || !stat->can_rekey) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sent ", tx_now.record_sequence, " TLS records under one AES-GCM key ([tls] "
        "key-update-records = ", key_update_records_, "; RFC 8446 5.5 allows at most 2^24.5), and "
        "this kernel cannot rekey kernel TLS (Linux 6.14 or later can); ending the call so that "
        "a new connection starts with fresh keys"));
  }
  return UpdateSendKey(/*update_requested_by_peer=*/false);
}

absl::StatusOr<RecordLayer> StartRecordLayer(tls::Connection& tls, int fd, KernelTlsPolicy policy,
                                             TlsSide side, const Logger& log) {
  RecordLayer layer;
  if (policy == KernelTlsPolicy::kNever) {
    layer.user_space_reason = "kernel TLS off by configuration";
  } else {
    // Not drained, or no secrets captured: a bug, not a kernel limit.
    absl::StatusOr<tls::KeyMaterial> material = tls.ExportKeyMaterial();
    if (!material.ok()) return Annotate(material.status(), "kernel TLS hand-over");
    absl::StatusOr<std::unique_ptr<KernelTls>> kernel = KernelTls::Install(fd, *material, side, log);
    // From here the kernel, or OpenSSL's own state, has what it needs.
    tls.ForgetCapturedSecrets();
    if (kernel.ok()) {
      // The same wear limit for our key as the user-space record layer's.
      (*kernel)->set_key_update_records(tls.key_update_records());
      const tls::RecordCounters c = tls.counters();
      log.Info("record layer: kernel TLS (%s) both directions, from record %d sent / %d received",
               (*kernel)->Describe(), c.tx_seq, c.rx_seq);
      layer.kernel = std::move(*kernel);
      return layer;
    }
    if (kernel.status().code() != absl::StatusCode::kUnavailable) {
      return Annotate(kernel.status(), "kernel TLS hand-over");
    }
    if (policy == KernelTlsPolicy::kRequire) {
      return absl::UnavailableError(
          absl::StrCat("kernel TLS required but unavailable: ", kernel.status().message()));
    }
    layer.user_space_reason = std::string(kernel.status().message());
  }
  tls.ForgetCapturedSecrets();  // Also with ktls = off, where none were exported.
  log.Notice("record layer: user space (OpenSSL): %s", layer.user_space_reason);
  RETURN_IF_ERROR(tls.SwitchToMemoryBios());
  layer.codec = std::make_unique<TlsRecordCodec>(tls);
  return layer;
}

bool ShapeForNicOffload(const netlink::TlsOffloadFeatures& nic, tls::ClientConfig* config) {
  if (!nic.tx_capable && !nic.tx_active) return false;
  const std::vector<tls::Cipher> offered =
      config->ciphers.empty()
          ? std::vector<tls::Cipher>{tls::Cipher::kAes128Gcm, tls::Cipher::kAes256Gcm}
          : config->ciphers;
  std::vector<tls::Cipher> aes;
  for (tls::Cipher c : offered) {
    if (c != tls::Cipher::kChacha20Poly1305) aes.push_back(c);
  }
  if (aes.empty() || config->min_version == tls::TlsVersion::kTls13) return false;
  config->max_version = tls::TlsVersion::kTls12;
  config->ciphers = std::move(aes);
  return true;
}

void SendGoodbye(int fd, tls::Connection& tls, KernelTls* kernel, bool transport_failed,
                 const Logger& log) {
  absl::Status s;
  if (kernel != nullptr && kernel->alert_to_send()) {
    s = kernel->SendAlert(ktls::kAlertFatal, *kernel->alert_to_send());
  } else if (transport_failed) {
    return;
  } else if (kernel != nullptr) {
    s = kernel->SendAlert(ktls::kAlertWarning, ktls::kCloseNotify);
  } else {
    std::vector<uint8_t> record;
    s = tls.EncodeCloseNotify(&record);
    if (s.ok() && send(fd, record.data(), record.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      s = LastErrnoStatus("send");
    }
  }
  if (!s.ok()) log.Debug("closing TLS alert not sent: %s", std::string(s.message()));
}

}  // namespace sstp::session
