// MD4 message digest (RFC 1320), carried by the project because OpenSSL 3
// keeps MD4 only in its legacy provider, which a system may not ship or load.
// MD4 is broken as a general-purpose hash; it is here solely because
// MS-CHAPv2 (RFC 2759 8.3, 8.4) defines the NT password hash with it.
//
// Pure computation, no allocation; not thread-safe per object (use one
// Md4Context per thread). The context wipes its state when destroyed, since
// it processes password material.
#ifndef SSTP_KTLS_DAEMON_PPP_MD4_H_
#define SSTP_KTLS_DAEMON_PPP_MD4_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace sstp::ppp {

inline constexpr size_t kMd4DigestLength = 16;
using Md4Digest = std::array<uint8_t, kMd4DigestLength>;

// Incremental MD4: Update() any number of times, then Finish() once.
// After Finish() the context is reset and may hash a new message.
class Md4Context {
 public:
  Md4Context();
  ~Md4Context();
  Md4Context(const Md4Context&) = delete;
  Md4Context& operator=(const Md4Context&) = delete;

  void Update(absl::Span<const uint8_t> data);
  Md4Digest Finish();

 private:
  void Reset();
  // RFC 1320 3.4: processes one 64-byte block.
  void Transform(const uint8_t* block);

  std::array<uint32_t, 4> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;      // Bytes waiting in buffer_ (< 64).
  uint64_t total_bytes_ = 0;  // Message length so far.
};

// One-shot MD4 of `data`.
Md4Digest Md4(absl::Span<const uint8_t> data);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_MD4_H_
