#include "daemon/tls/keylog.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/secret.h"
#include "base/status.h"

namespace sstp::tls {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes `hex` into out[0 .. hex.size()/2). The caller checked the size.
bool DecodeHex(absl::string_view hex, uint8_t* out) {
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int high = HexDigit(hex[i]);
    const int low = HexDigit(hex[i + 1]);
    if (high < 0 || low < 0) return false;
    out[i / 2] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

}  // namespace

absl::StatusOr<KeyLogEntry> ParseKeyLogLine(absl::string_view line) {
  const size_t first_space = line.find(' ');
  if (first_space == absl::string_view::npos) {
    return absl::InvalidArgumentError("key log line has no fields after the label");
  }
  const absl::string_view label = line.substr(0, first_space);
  const absl::string_view rest = line.substr(first_space + 1);
  const size_t second_space = rest.find(' ');
  if (second_space == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("key log line ", label, " has no secret"));
  }
  const absl::string_view random_hex = rest.substr(0, second_space);
  const absl::string_view secret_hex = rest.substr(second_space + 1);

  KeyLogEntry entry;
  if (label == "CLIENT_RANDOM") {
    entry.label = KeyLogLabel::kClientRandom;
  } else if (label == "CLIENT_TRAFFIC_SECRET_0") {
    entry.label = KeyLogLabel::kClientTrafficSecret0;
  } else if (label == "SERVER_TRAFFIC_SECRET_0") {
    entry.label = KeyLogLabel::kServerTrafficSecret0;
  }
  if (random_hex.size() != 2 * entry.client_random.size() ||
      !DecodeHex(random_hex, entry.client_random.data())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key log line ", label, ": client random is not 64 hex digits (", random_hex.size(),
        " characters)"));
  }
  // The secret's digits are never quoted: only its length is.
  if (secret_hex.empty() || secret_hex.size() % 2 != 0 ||
      secret_hex.size() > 2 * Secret::kMaxSize) {
    return absl::InvalidArgumentError(absl::StrCat("key log line ", label, ": secret of ",
                                                   secret_hex.size(),
                                                   " hex digits; expected an even 2 to 96"));
  }
  SecretArray<Secret::kMaxSize> bytes;
  if (!DecodeHex(secret_hex, bytes.data())) {
    return absl::InvalidArgumentError(
        absl::StrCat("key log line ", label, ": secret is not hex"));
  }
  const size_t size = secret_hex.size() / 2;
  if (entry.label == KeyLogLabel::kClientRandom && size != 48) {
    return absl::InvalidArgumentError(
        absl::StrCat("key log line CLIENT_RANDOM: master secret of ", size,
                     " bytes; RFC 5246 8.1 makes it 48"));
  }
  ASSIGN_OR_RETURN(entry.secret, Secret::FromBytes(bytes.span().first(size)));
  return entry;
}

}  // namespace sstp::tls
