// Hex encoding for logs, test vectors and profile values (cert pins).
#ifndef SSTP_KTLS_BASE_HEX_H_
#define SSTP_KTLS_BASE_HEX_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace sstp {

// Lower-case hex, no separators.
std::string ToHex(absl::Span<const uint8_t> bytes);

// Parses hex digits (either case). Spaces, tabs, newlines and ':' between
// byte pairs are ignored, so vectors can be pasted as printed in RFCs.
// Fails on an odd digit count or any other character, naming its offset.
absl::StatusOr<std::vector<uint8_t>> FromHex(absl::string_view text);

// For tests and constants: FromHex() that aborts on malformed input.
std::vector<uint8_t> HexOrDie(absl::string_view text);

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_HEX_H_
