// Fuzzes the NSS key log line parser that captures the kernel-TLS secrets
// (daemon/tls/keylog.h).
//
// Invariants checked (abort() on violation):
//   - a parsed entry's secret is 1..48 bytes, and 48 for CLIENT_RANDOM;
//   - re-encoding a parsed entry as a canonical line (label, lower-case hex)
//     parses back to the same label, client random and secret;
//   - a line that parses has exactly two spaces separating three fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "daemon/tls/keylog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sstp::tls::KeyLogEntry> entry = sstp::tls::ParseKeyLogLine(line);
  if (!entry.ok()) return 0;
  const size_t first = line.find(' ');
  const size_t second = line.find(' ', first + 1);
  if (first == absl::string_view::npos || second == absl::string_view::npos ||
      line.find(' ', second + 1) != absl::string_view::npos) {
    abort();
  }
  if (entry->secret.empty() || entry->secret.size() > sstp::tls::Secret::kMaxSize) abort();
  if (entry->label == sstp::tls::KeyLogLabel::kClientRandom && entry->secret.size() != 48) {
    abort();
  }
  const std::string canonical =
      absl::StrCat(line.substr(0, first), " ", sstp::ToHex(entry->client_random), " ",
                   sstp::ToHex(entry->secret.span()));
  absl::StatusOr<sstp::tls::KeyLogEntry> again = sstp::tls::ParseKeyLogLine(canonical);
  if (!again.ok() || again->label != entry->label ||
      again->client_random != entry->client_random ||
      sstp::ToHex(again->secret.span()) != sstp::ToHex(entry->secret.span())) {
    abort();
  }
  return 0;
}
