// Hands an established TLS session to the kernel (kTLS) and keeps it there:
// the bridge between what daemon/tls captured (tls::KeyMaterial: traffic
// secrets or master secret, record counters) and what ktls/ installs
// (crypto_info per direction). Used by the client session and the test
// server alike; `side` says which secret goes in which direction.
//
// After Install() the socket carries plaintext: sends become records under
// the kernel's keys, and receives deliver plaintext, with non-data records
// (alerts, post-handshake messages) flagged by TLS_GET_RECORD_TYPE. OnRecord()
// interprets those: NewSessionTicket is absorbed, close_notify ends the call
// in order, other alerts end it with the alert named, and KeyUpdate rekeys
// where the kernel can (Linux 6.14+) or ends the call with the reason.
#ifndef SSTP_KTLS_DAEMON_SESSION_KERNEL_TLS_H_
#define SSTP_KTLS_DAEMON_SESSION_KERNEL_TLS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "daemon/session/transport.h"
#include "daemon/tls/client.h"
#include "daemon/tls/connection.h"
#include "daemon/tls/key_material.h"
#include "ktls/kernel.h"
#include "ktls/key_schedule.h"
#include "netlink/ethtool_messages.h"

namespace sstp::session {

enum class TlsSide { kClient, kServer };

// What a non-data record received after the hand-over asks for. Pure: the
// reading of RFC 8446 4.6 / 6 and RFC 5246 7.2 that OnRecord() applies.
struct RecordEvent {
  enum Kind {
    kIgnore,      // NewSessionTicket, a TLS 1.2 warning, HelloRequest, user_canceled.
    kPeerClosed,  // close_notify.
    kKeyUpdate,   // TLS 1.3 KeyUpdate: follow it.
  } kind = kIgnore;
  bool update_requested = false;  // kKeyUpdate: the peer wants ours too.
  std::string note;               // For the log (kIgnore).
};
// An error names the cause: kAborted for the peer's fatal alert, kDataLoss
// for a malformed or unexpected record, with the alert we owe the peer in
// `*alert_to_send`. Several handshake messages in one record are read in
// turn; a KeyUpdate must be the last of them (RFC 8446 5.1: it ends the
// record protected under the old key).
absl::StatusOr<RecordEvent> ClassifyRecord(ktls::TlsVersion version, TlsSide side,
                                           uint8_t content_type, absl::Span<const uint8_t> body,
                                           std::optional<uint8_t>* alert_to_send);

class KernelTls {
 public:
  // Attaches the "tls" ULP to the connected socket `fd` and installs both
  // directions from `material`, at the record sequence numbers OpenSSL
  // stopped at, then reads them back with getsockopt to check. Errors:
  //   kUnavailable  the kernel cannot (no tls module, or the version or
  //                 cipher is unknown to it): nothing was installed, so the
  //                 caller may go on with the user-space record layer;
  //   others        the socket may be half in the kernel: end the connection.
  static absl::StatusOr<std::unique_ptr<KernelTls>> Install(int fd,
                                                            const tls::KeyMaterial& material,
                                                            TlsSide side, Logger log);
  ~KernelTls();

  // A record of `content_type` other than application data arrived with
  // `body`. OK: absorbed (a NewSessionTicket, a warning, a rekey the kernel
  // followed); the call goes on. Otherwise the TLS session is over and the
  // status names why: kUnavailable "<peer> closed the TLS session
  // (close_notify)" (then peer_closed() is true and our close_notify is
  // still owed), kAborted for the peer's fatal alert ("TLS alert from the
  // server: bad_record_mac"), kFailedPrecondition when the peer rekeyed and
  // this kernel cannot follow, kDataLoss for a malformed or unexpected
  // record (then alert_to_send() holds the fatal alert to send before
  // closing).
  absl::Status OnRecord(uint8_t content_type, absl::Span<const uint8_t> body);
  bool peer_closed() const { return peer_closed_; }

  // The fatal alert owed to the peer after an OnRecord() failure, if any.
  std::optional<uint8_t> alert_to_send() const { return alert_to_send_; }

  // Sends an alert record (close_notify at an orderly end, or a fatal
  // alert) without blocking.
  absl::Status SendAlert(uint8_t level, uint8_t description);

  // Records protected by the kernel since the hand-over, per direction
  // (getsockopt rec_seq, across rekeys).
  struct RecordCount {
    uint64_t tx = 0, rx = 0;
  };
  absl::StatusOr<RecordCount> KernelRecords() const;

  // TLS 1.3 with AES-GCM (RFC 8446 5.5: at most 2^24.5 full-size records
  // under one key): once the kernel has sent the set_key_update_records()
  // number of records under our current key, sends a KeyUpdate and installs
  // the next key where the kernel can rekey (Linux 6.14+). Where it cannot, the call must end:
  // kFailedPrecondition naming the limit, so that a new connection starts
  // with fresh keys. OK otherwise (also for ChaCha20-Poly1305 and TLS 1.2).
  // Call it about once a second: even at 100 Gbit/s the margin between 2^24
  // and 2^24.5 records lasts several seconds.
  absl::Status CheckSendKeyUsage();
  void set_key_update_records(uint64_t records) { key_update_records_ = records; }

  uint32_t rekeys() const { return rx_rekeys_ + tx_rekeys_; }
  // "TLS 1.3 AES-128-GCM" as installed.
  std::string Describe() const;

 private:
  KernelTls(int fd, TlsSide side, Logger log) : fd_(fd), side_(side), log_(std::move(log)) {}
  absl::Status InstallDirection(ktls::Direction direction, const ktls::TrafficKeys& keys,
                                uint64_t sequence);
  absl::Status FollowKeyUpdate(bool update_requested);
  // Sends our KeyUpdate under the current key, then installs the next one.
  absl::Status UpdateSendKey(bool update_requested_by_peer);
  const char* peer() const { return side_ == TlsSide::kClient ? "the server" : "the client"; }

  int fd_;
  TlsSide side_;
  Logger log_;
  ktls::TlsVersion version_ = ktls::TlsVersion::kTls13;
  ktls::Cipher cipher_ = ktls::Cipher::kAes128Gcm;
  // TLS 1.3: the current secrets, for KeyUpdate.
  ktls::TrafficSecret tx_secret_, rx_secret_;
  // Records the kernel protected since the hand-over = offset + the
  // installed rec_seq: minus the sequence it started at, plus the records
  // done under each earlier key.
  int64_t tx_offset_ = 0, rx_offset_ = 0;
  uint32_t tx_rekeys_ = 0, rx_rekeys_ = 0;
  uint64_t key_update_records_ = tls::Connection::kDefaultKeyUpdateRecords;
  std::optional<uint8_t> alert_to_send_;
  bool peer_closed_ = false;
};

// Where the record layer goes once the HTTP exchange is done (the profile's
// `ktls`; the test server's --ktls).
enum class KernelTlsPolicy {
  kAuto,     // The kernel when it can, else user space, saying why.
  kRequire,  // The kernel, or fail (kUnavailable naming the reason).
  kNever,    // User space (OpenSSL): the baseline.
};

// The record layer the data plane runs on: exactly one of the two is set.
struct RecordLayer {
  std::unique_ptr<KernelTls> kernel;
  std::unique_ptr<TlsRecordCodec> codec;  // Over `tls` in memory-BIO mode.
  // Why user space, for logs and status ("ktls = off", or the kernel's
  // refusal); empty in kernel mode.
  std::string user_space_reason;
};

// Hands the session to the kernel or to the user-space codec, per `policy`,
// logging the outcome. `tls` must be drained (the HTTP exchange done, no
// bytes buffered) and stay alive as long as the codec. Fails with
// kUnavailable under kRequire when the kernel cannot take it, and with
// other codes when the hand-over failed half-way.
absl::StatusOr<RecordLayer> StartRecordLayer(tls::Connection& tls, int fd, KernelTlsPolicy policy,
                                             TlsSide side, const Logger& log);

// prefer-nic-offload: when `nic` can encrypt TLS itself (ethtool
// tls-hw-tx-offload, capable or on), narrows `config` to what mainline
// device offload takes: TLS 1.2 with AES-GCM (the configured AES-GCM
// ciphers in their order, or both). Returns whether it did; a NIC without
// offload, or a config left with no AES-GCM cipher, leaves it unchanged.
bool ShapeForNicOffload(const netlink::TlsOffloadFeatures& nic, tls::ClientConfig* config);

// The last record before closing (RFC 8446 6.1), on whichever record layer
// is in use (`kernel` null: user space over `tls`): the fatal alert owed
// after a record we refused, else close_notify. Nothing when the transport
// already failed. Never blocks; failures are only logged (at debug level:
// the peer may be gone).
void SendGoodbye(int fd, tls::Connection& tls, KernelTls* kernel, bool transport_failed,
                 const Logger& log);

}  // namespace sstp::session

#endif  // SSTP_KTLS_DAEMON_SESSION_KERNEL_TLS_H_
