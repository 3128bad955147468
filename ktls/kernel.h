// The kernel side of kTLS: attaching the "tls" upper-layer protocol to a TCP
// socket, installing and reading back crypto_info per direction, sending a
// record of a given content type, and the kernel's global counters
// (/proc/net/tls_stat). Facts: KTLS-NOTES.md "Kernel TLS",
// Documentation/networking/tls.rst.
//
// Thin, typed wrappers over setsockopt/getsockopt/sendmsg: every failure is
// a Status naming the step and the errno, classified so that the caller can
// tell "this kernel cannot" (kUnavailable: fall back to user space) from
// "this socket is now half in the kernel" (kInternal: end the connection).
#ifndef SSTP_KTLS_KTLS_KERNEL_H_
#define SSTP_KTLS_KTLS_KERNEL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ktls/key_schedule.h"

namespace sstp::ktls {

enum class Direction { kTx, kRx };
absl::string_view DirectionName(Direction d);  // "TLS_TX", "TLS_RX"

// TLS record content types (RFC 8446 5.1).
inline constexpr uint8_t kChangeCipherSpec = 20;
inline constexpr uint8_t kAlert = 21;
inline constexpr uint8_t kHandshake = 22;
inline constexpr uint8_t kApplicationData = 23;

// Alert levels and the descriptions this project sends or reacts to by name
// (RFC 8446 6, RFC 5246 7.2).
inline constexpr uint8_t kAlertWarning = 1;
inline constexpr uint8_t kAlertFatal = 2;
inline constexpr uint8_t kCloseNotify = 0;
inline constexpr uint8_t kUnexpectedMessage = 10;
inline constexpr uint8_t kDecodeError = 50;
inline constexpr uint8_t kNoRenegotiation = 100;

// "close_notify", "bad_record_mac", ...; "alert 200" for unknown values.
std::string AlertName(uint8_t description);

// setsockopt(SOL_TCP, TCP_ULP, "tls"). The kernel loads the tls module on
// demand. kUnavailable when the kernel has no TLS (ENOENT: module not built
// or not loadable) or the socket cannot take it (ENOTCONN, EEXIST); the
// socket is unchanged then.
absl::Status AttachUlp(int fd);

// setsockopt(SOL_TLS, TLS_TX or TLS_RX, crypto_info). Errors:
//   kUnavailable      the kernel does not know this version or cipher
//                     (EINVAL, ENOPROTOOPT, ENOENT for a missing crypto
//                     module): nothing was installed in that direction;
//   kFailedPrecondition  EBUSY: keys are already installed and this kernel
//                     cannot replace them (rekey needs Linux 6.14);
//   kInternal         anything else.
absl::Status Install(int fd, Direction direction, const KernelCryptoInfo& info);

// TLS 1.3 receive (Linux 6.0+): promise the kernel that the peer does not
// pad records, so it decrypts straight into the caller's buffer; a padded
// record still works, at the cost of a second decryption (counted in
// TlsRxNoPadViolation). kUnavailable on kernels without the option.
absl::Status SetRxExpectNoPad(int fd);

// What getsockopt(SOL_TLS, TLS_TX or TLS_RX) reports: the installed version
// and cipher, and rec_seq, the sequence number of the next record (records
// protected so far with the installed key).
struct InstalledState {
  uint16_t version = 0;       // TLS_1_2_VERSION / TLS_1_3_VERSION.
  uint16_t cipher_type = 0;   // TLS_CIPHER_AES_GCM_128, ...
  uint64_t record_sequence = 0;
};
absl::StatusOr<InstalledState> ReadInstalled(int fd, Direction direction);

// Checks that the kernel holds what was installed: same version, cipher and
// record sequence as `info`. kInternal naming the first difference.
absl::Status VerifyInstalled(int fd, Direction direction, const KernelCryptoInfo& info);

// Sends one record of `content_type` with `body` on a kTLS socket
// (sendmsg with a TLS_SET_RECORD_TYPE control message): for alerts and
// handshake messages, never for data. When the socket's buffer is full it
// waits up to `wait` for room (zero: fails at once with EAGAIN, for a
// goodbye that must not hold up a shutdown).
absl::Status SendRecord(int fd, uint8_t content_type, absl::Span<const uint8_t> body,
                        absl::Duration wait = absl::ZeroDuration());

// The kernel's global counters (/proc/net/tls_stat, Linux 5.6+), the ones
// that tell where records are processed and what went wrong.
struct TlsStat {
  uint64_t curr_tx_sw = 0, curr_rx_sw = 0;          // TlsCurrTxSw / RxSw
  uint64_t curr_tx_device = 0, curr_rx_device = 0;  // TlsCurrTxDevice / RxDevice
  uint64_t tx_sw = 0, rx_sw = 0, tx_device = 0, rx_device = 0;  // Totals since boot.
  uint64_t decrypt_error = 0;                        // TlsDecryptError
  uint64_t rx_device_resync = 0;                     // TlsRxDeviceResync
  uint64_t decrypt_retry = 0;                        // TlsDecryptRetry
  uint64_t rx_no_pad_violation = 0;                  // TlsRxNoPadViolation
  uint64_t tx_rekey_ok = 0, rx_rekey_ok = 0;         // Linux 6.14+
  uint64_t rx_rekey_error = 0, rx_rekey_received = 0;
  // The rekey counters are listed: this kernel can replace TLS_TX and
  // TLS_RX keys in a session (TLS 1.3 KeyUpdate; Linux 6.14+).
  bool can_rekey = false;
};

// Parses the "Name value" lines of /proc/net/tls_stat; unknown names are
// ignored (newer kernels add counters). kInvalidArgument naming the line on
// a malformed one.
absl::StatusOr<TlsStat> ParseTlsStat(absl::string_view text);
// Reads /proc/net/tls_stat. kUnavailable when absent (no tls module loaded).
absl::StatusOr<TlsStat> ReadTlsStat();

}  // namespace sstp::ktls

#endif  // SSTP_KTLS_KTLS_KERNEL_H_
