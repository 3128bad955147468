// The hash functions SSTP's crypto binding can use (MS-SSTP 2.2.7, 2.2.8).
// Shared by the codec (CRYPTO_BINDING_REQ bitmask, CRYPTO_BINDING field) and
// the crypto binding computation.
#ifndef SSTP_KTLS_DAEMON_SSTP_HASH_PROTOCOL_H_
#define SSTP_KTLS_DAEMON_SSTP_HASH_PROTOCOL_H_

#include <cstdint>

namespace sstp::proto {

// Value of the Hash Protocol field of CRYPTO_BINDING (MS-SSTP 2.2.7).
enum class HashProtocol : uint8_t {
  kSha1 = 1,    // CERT_HASH_PROTOCOL_SHA1
  kSha256 = 2,  // CERT_HASH_PROTOCOL_SHA256
};

// Bits of the Hash Protocol Bitmask of CRYPTO_BINDING_REQ (MS-SSTP 2.2.8).
inline constexpr uint8_t kHashBitmaskSha1 = 0x01;
inline constexpr uint8_t kHashBitmaskSha256 = 0x02;

// Length of the hash output; CertHash and Compound MAC fields are 32 bytes
// on the wire, a SHA1 value taking the first 20 followed by 12 zero bytes.
inline constexpr int HashLength(HashProtocol hash) {
  return hash == HashProtocol::kSha1 ? 20 : 32;
}

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_HASH_PROTOCOL_H_
