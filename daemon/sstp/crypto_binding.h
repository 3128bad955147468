// SSTP crypto binding (MS-SSTP 3.2.5.2): the certificate hash, the Compound
// MAC Key (CMK) and the Compound MAC of the CALL_CONNECTED message, as pure
// functions. The client computes them; a server (or the test server) checks
// the MAC with VerifyCompoundMac().
//
// The HLAK comes from the PPP authentication: for MS-CHAPv2 it is
// sstp::ppp::ClientHlak(); for PAP and CHAP, which derive no keys, it is 32
// zero bytes (a default-constructed SecretArray<32>). This module does not
// depend on daemon/ppp: only the 32 bytes cross.
//
// The CertHash and Compound MAC fields are 32 bytes on the wire; with SHA1
// the 20-byte value is followed by 12 zero bytes (MS-SSTP 2.2.7). Functions
// return StatusOr only because libcrypto may fail; the message says where.
#ifndef SSTP_KTLS_DAEMON_SSTP_CRYPTO_BINDING_H_
#define SSTP_KTLS_DAEMON_SSTP_CRYPTO_BINDING_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/secret.h"
#include "daemon/sstp/hash_protocol.h"

namespace sstp::proto {

// MS-SSTP 2.2.7: CertHash and Compound MAC fields are 32 bytes.
inline constexpr size_t kCryptoBindingFieldLength = 32;
using CryptoBindingField = std::array<uint8_t, kCryptoBindingFieldLength>;

// MS-SSTP 3.2.5.2: the HLAK is 32 bytes.
using Hlak = SecretArray<32>;
// The CMK: HashLength(hash) meaningful bytes, the rest zero.
using Cmk = SecretArray<32>;

// MS-SSTP 3.2.5.2: SHA1 or SHA256 of the server's leaf certificate (DER), as
// the 32-byte CertHash field.
absl::StatusOr<CryptoBindingField> ComputeCertHash(HashProtocol hash,
                                                   absl::Span<const uint8_t> certificate_der);

// MS-SSTP 3.2.5.2: CMK = HMAC-H(HLAK, "SSTP inner method derived CMK" ||
// LEN || 0x01), LEN = HashLength(hash) as a 16-bit little-endian number
// (the first block of the PRF, which is all that is needed).
absl::StatusOr<Cmk> ComputeCmk(HashProtocol hash, const Hlak& hlak);

// MS-SSTP 3.2.5.2: HMAC-H keyed with the first HashLength(hash) bytes of the
// CMK over the whole CALL_CONNECTED message (112 bytes) whose Compound MAC
// field is zero, as the 32-byte Compound MAC field.
absl::StatusOr<CryptoBindingField> ComputeCompoundMac(
    HashProtocol hash, const Cmk& cmk, absl::Span<const uint8_t> call_connected_mac_zeroed);

// Server side: recomputes the Compound MAC and compares it with
// `received_mac` (the 32-byte field as received, padding included) in
// constant time. Fails with InvalidArgument if `received_mac` is not 32
// bytes and with PermissionDenied if the MAC does not match.
absl::Status VerifyCompoundMac(HashProtocol hash, const Cmk& cmk,
                               absl::Span<const uint8_t> call_connected_mac_zeroed,
                               absl::Span<const uint8_t> received_mac);

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_CRYPTO_BINDING_H_
