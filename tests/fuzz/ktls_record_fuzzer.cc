// Fuzzes the reading of non-data TLS records that arrive on a kernel-TLS
// socket after the hand-over (daemon/session/kernel_tls.h ClassifyRecord):
// alerts and post-handshake messages straight from the peer.
//
// Input: byte 0 picks version (bit 0) and side (bit 1), byte 1 is the record
// content type, the rest the record body.
// Invariants checked (abort() on violation):
//   - a kDataLoss error always leaves the alert to send, other outcomes never;
//   - close_notify is reported only for a 2-byte alert whose description is 0;
//   - a KeyUpdate is reported only under TLS 1.3.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "daemon/session/kernel_tls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto version = (data[0] & 1) ? sstp::ktls::TlsVersion::kTls13 : sstp::ktls::TlsVersion::kTls12;
  const auto side = (data[0] & 2) ? sstp::session::TlsSide::kServer : sstp::session::TlsSide::kClient;
  const uint8_t type = data[1];
  const absl::Span<const uint8_t> body(data + 2, size - 2);
  std::optional<uint8_t> alert;
  absl::StatusOr<sstp::session::RecordEvent> event =
      sstp::session::ClassifyRecord(version, side, type, body, &alert);
  const bool data_loss = !event.ok() && event.status().code() == absl::StatusCode::kDataLoss;
  if (data_loss != alert.has_value()) abort();
  if (!event.ok()) return 0;
  if (event->kind == sstp::session::RecordEvent::kPeerClosed &&
      !(type == sstp::ktls::kAlert && body.size() == 2 && body[1] == 0)) {
    abort();
  }
  if (event->kind == sstp::session::RecordEvent::kKeyUpdate &&
      version != sstp::ktls::TlsVersion::kTls13) {
    abort();
  }
  return 0;
}
