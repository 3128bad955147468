// Parsing of NSS key log lines, the format OpenSSL's keylog callback
// produces and Wireshark reads
// (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
//
//   <LABEL> <client random, 64 hex digits> <secret, hex>
//
// The TLS layer captures its kernel-TLS secrets from these lines. The
// secret is decoded straight into a Secret (wiped storage); error messages
// never quote the secret digits.
#ifndef SSTP_KTLS_DAEMON_TLS_KEYLOG_H_
#define SSTP_KTLS_DAEMON_TLS_KEYLOG_H_

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/tls/key_material.h"

namespace sstp::tls {

enum class KeyLogLabel {
  kClientRandom,          // TLS 1.2 master secret ("CLIENT_RANDOM").
  kClientTrafficSecret0,  // TLS 1.3 client_application_traffic_secret_0.
  kServerTrafficSecret0,  // TLS 1.3 server_application_traffic_secret_0.
  kOther,                 // Handshake, exporter and early secrets: not kept.
};

struct KeyLogEntry {
  KeyLogLabel label = KeyLogLabel::kOther;
  std::array<uint8_t, 32> client_random{};
  Secret secret;
};

// Parses one line (no trailing newline). Fails on a malformed line: a field
// missing, a client random that is not 32 bytes, a secret that is empty,
// longer than 48 bytes or not hex, or a CLIENT_RANDOM secret that is not 48
// bytes (RFC 5246 8.1).
absl::StatusOr<KeyLogEntry> ParseKeyLogLine(absl::string_view line);

}  // namespace sstp::tls

#endif  // SSTP_KTLS_DAEMON_TLS_KEYLOG_H_
