// CHAP with MD5 (RFC 1994 4.1), as a pure function.
#ifndef SSTP_KTLS_DAEMON_PPP_CHAP_MD5_H_
#define SSTP_KTLS_DAEMON_PPP_CHAP_MD5_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sstp::ppp {

// RFC 1994 4.1 with MD5: the Response Value is 16 octets.
inline constexpr size_t kChapMd5ResponseLength = 16;
using ChapMd5Response = std::array<uint8_t, kChapMd5ResponseLength>;

// RFC 1994 4.1: Response Value = MD5(Identifier || secret || Challenge Value),
// Identifier being the one of the Challenge packet. The secret is used as
// given (bytes of the profile password). Fails only if libcrypto refuses MD5
// (e.g. a FIPS-only configuration); the message says so.
absl::StatusOr<ChapMd5Response> ComputeChapMd5Response(uint8_t identifier,
                                                       absl::string_view secret,
                                                       absl::Span<const uint8_t> challenge);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_CHAP_MD5_H_
