// One TLS session after a successful handshake, on either side: the
// client's (ClientContext::Handshake, client.h) and the test server's
// (ServerContext::Accept, server.h) are the same class, so the same data
// plane runs on top of both. The socket-mode I/O for the HTTP exchange, the
// hand-over of the keys to the kernel (ExportKeyMaterial) and the user-space
// record layer over memory buffers (SwitchToMemoryBios, Encrypt, Decrypt).
//
// Error texts name the peer: "the server" on the client, "the client" on
// the server.
//
// Nothing OpenSSL appears in this header. Not thread-safe: a Connection is
// used by one thread at a time.
#ifndef SSTP_KTLS_DAEMON_TLS_CONNECTION_H_
#define SSTP_KTLS_DAEMON_TLS_CONNECTION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "daemon/tls/key_material.h"

namespace sstp::tls {

// The largest plaintext of one TLS record (RFC 8446 5.1, RFC 5246 6.2.1).
inline constexpr size_t kMaxRecordPlaintext = 16384;
// The largest record on the wire: header and TLSCiphertext (RFC 5246 6.2.3).
inline constexpr size_t kMaxRecordOnWire = 5 + kMaxRecordPlaintext + 2048;

// What the handshake established.
struct HandshakeInfo {
  TlsVersion version = TlsVersion::kTls13;
  Cipher cipher = Cipher::kAes128Gcm;
  uint16_t cipher_suite = 0;  // IANA value.
  std::string cipher_name;    // RFC name, e.g. "TLS_AES_128_GCM_SHA256".
  // The server's leaf certificate and its hashes (MS-SSTP 3.2.5.2: the
  // crypto binding's CertHash), on both sides: the one the client received,
  // the one the server sent.
  std::vector<uint8_t> leaf_der;
  std::array<uint8_t, 20> leaf_sha1{};
  std::array<uint8_t, 32> leaf_sha256{};
  // The subject of that certificate in RFC 2253 form, e.g.
  // "CN=vpn.example.test,O=Example". For logs.
  std::string peer_subject;
  // The server name indication (RFC 6066 3): the one the client sent, as
  // seen on either side. Empty when none was sent (an IP-literal server
  // name).
  std::string sni;
  // Client: false when insecure_skip_verify let an unverified certificate
  // through. Server: always false (no client certificate is asked for).
  bool verified = false;
};

// The result of Decrypt().
struct DecryptResult {
  // The peer sent close_notify (RFC 8446 6.1): no more data will come.
  bool close_notify = false;
  // DecryptInto(): the bytes of application data written.
  size_t plaintext_size = 0;
};

class ClientContext;
class ServerContext;

// Starts in socket mode (Read/Write/Shutdown on the fd); SwitchToMemoryBios()
// moves it to memory mode (Encrypt/Decrypt/EncodeCloseNotify/
// EncodeKeyUpdate/EncodeNewSessionTicket), where the caller moves the
// ciphertext. Calling a method of the other mode fails with
// kFailedPrecondition.
class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const HandshakeInfo& info() const;

  // --- Socket mode (the HTTP exchange before the data plane starts).

  // Writes all of `data` (as many records as needed).
  absl::Status Write(absl::Span<const uint8_t> data, absl::Duration timeout);
  // Reads at most buffer.size() bytes of application data, waiting up to
  // `timeout` for some. Returns 0 when the peer sent close_notify. Fails
  // with kUnavailable if the connection ends without close_notify, kAborted
  // on an alert, kDeadlineExceeded on timeout. Give it a buffer of
  // kMaxRecordPlaintext bytes: a smaller one leaves the rest of the record
  // buffered in OpenSSL, which blocks the switch to the kernel or memory
  // mode until it has been read.
  absl::StatusOr<size_t> Read(absl::Span<uint8_t> buffer, absl::Duration timeout);
  // Sends close_notify. Does not wait for the peer's (RFC 8446 6.1 lets
  // the closer leave without it).
  absl::Status Shutdown(absl::Duration timeout);

  // --- Hand-over.

  // OK when OpenSSL holds no received bytes: no undelivered plaintext and no
  // part of a record (read-ahead is off, so OpenSSL never reads past the
  // record it is decrypting). Only then does the socket (or the caller's
  // stream) continue exactly where OpenSSL stopped. kFailedPrecondition
  // naming what is buffered otherwise.
  absl::Status CheckDrained() const;

  // The secrets and record counters for the kernel (KTLS-NOTES.md "Kernel
  // TLS"; key_material.h says which secret each side installs in which
  // direction). Fails if CheckDrained() fails, or if the secrets were not
  // captured. Does not change the connection: if installing the keys in the
  // kernel fails before the socket changed (TCP_ULP: ENOENT), the caller can
  // still SwitchToMemoryBios(). After a successful kernel install the caller
  // must not use this Connection's record layer again.
  absl::StatusOr<KeyMaterial> ExportKeyMaterial() const;

  // Wipes the secrets captured for ExportKeyMaterial(), once the record
  // layer is decided: the kernel holds its own copy, and OpenSSL's record
  // layer needs none of ours. ExportKeyMaterial() fails afterwards.
  void ForgetCapturedSecrets();

  // Record counters so far (see RecordCounters), from this side's view: tx
  // is what this side sent.
  RecordCounters counters() const;

  // Moves the record layer to memory buffers: OpenSSL stops touching the fd.
  // Fails unless CheckDrained() is OK, and if already in memory mode.
  absl::Status SwitchToMemoryBios();

  // --- Memory mode (user-space record layer for the data plane).

  // Encrypts `plaintext` with one SSL_write and appends the TLS record(s) to
  // `out`: one record when plaintext.size() <= kMaxRecordPlaintext, which is
  // required. Empty plaintext appends nothing. May also append a pending
  // post-handshake message (our KeyUpdate reply) before the record.
  absl::Status Encrypt(absl::Span<const uint8_t> plaintext, std::vector<uint8_t>* out);

  // TLS 1.3 with AES-GCM (RFC 8446 5.5: at most 2^24.5 full-size records
  // under one key): once `records` records have gone out under our current
  // key, Encrypt() first sends a KeyUpdate (update_not_requested) and
  // protects what follows with the next secret. 0: never. Default
  // kDefaultKeyUpdateRecords. ChaCha20-Poly1305 and TLS 1.2 ignore it.
  static constexpr uint64_t kDefaultKeyUpdateRecords = uint64_t{1} << 24;
  void set_key_update_records(uint64_t records);
  uint64_t key_update_records() const;

  // Feeds `ciphertext` (any chunk of the stream from the peer; a record
  // may be split across calls) and appends every complete record's
  // application data to `plaintext`. Post-handshake handshake messages
  // (NewSessionTicket, KeyUpdate) are consumed silently. Anything OpenSSL
  // wants to send in response (a fatal alert after an error) is appended to
  // `to_send`, which the caller should write to the socket.
  // Returns close_notify = true once the peer closed; fails with
  // kAborted "TLS alert from peer: <description>" on a fatal alert, and
  // kDataLoss on a record that does not decrypt or parse.
  absl::StatusOr<DecryptResult> Decrypt(absl::Span<const uint8_t> ciphertext,
                                        std::vector<uint8_t>* plaintext,
                                        std::vector<uint8_t>* to_send);

  // As Decrypt(), but the application data is written to the front of
  // `plaintext` (result.plaintext_size bytes), with no copy in between.
  // `plaintext` must hold DecryptSpace(ciphertext.size()) bytes, else
  // kInvalidArgument and nothing is consumed.
  absl::StatusOr<DecryptResult> DecryptInto(absl::Span<const uint8_t> ciphertext,
                                            absl::Span<uint8_t> plaintext,
                                            std::vector<uint8_t>* to_send);
  // The most application data the next Decrypt of `ciphertext_size` bytes
  // can yield: less than those bytes, plus the part of a record OpenSSL
  // holds from the last call (under kMaxRecordOnWire), plus any ciphertext
  // it left unread (only after close_notify or an error).
  size_t DecryptSpace(size_t ciphertext_size) const;

  // Appends a close_notify record to `out`.
  absl::Status EncodeCloseNotify(std::vector<uint8_t>* out);

  // TLS 1.3 only (kFailedPrecondition on TLS 1.2, which has no KeyUpdate).
  // Appends a KeyUpdate record (RFC 8446 4.6.3) to `out`: every later
  // record this side sends is protected with the next traffic secret
  // (counters().tx_key_updates counts it). With `request_peer_update` the
  // message is update_requested: the peer must answer with its own
  // KeyUpdate, which arrives through Decrypt(). Either side may send one; a
  // test server uses it to check that clients follow a server's rekey.
  absl::Status EncodeKeyUpdate(bool request_peer_update, std::vector<uint8_t>* out);

  // Server side, TLS 1.3 only (kFailedPrecondition otherwise). Appends a
  // NewSessionTicket record (RFC 8446 4.6.1) to `out`, as servers that
  // issue tickets long after the handshake do; the client must absorb it
  // (Decrypt consumes it silently; under kernel TLS it surfaces as a
  // handshake record).
  absl::Status EncodeNewSessionTicket(std::vector<uint8_t>* out);

  struct Impl;

 private:
  friend class ClientContext;
  friend class ServerContext;
  explicit Connection(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace sstp::tls

#endif  // SSTP_KTLS_DAEMON_TLS_CONNECTION_H_
