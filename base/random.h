// Injectable source of random bytes: nonces, PPP magic numbers, MS-CHAPv2
// peer challenges, correlation IDs. Tests inject fixed bytes to reproduce
// published vectors.
#ifndef SSTP_KTLS_BASE_RANDOM_H_
#define SSTP_KTLS_BASE_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace sstp {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(absl::Span<uint8_t> out) = 0;
  uint32_t NextU32();
};

// getrandom(2). Aborts only if the kernel cannot supply randomness at all,
// which leaves no safe way to continue. Thread-safe.
class SystemRandom final : public Random {
 public:
  void Fill(absl::Span<uint8_t> out) override;
  static SystemRandom& Get();
};

// Hands out the given bytes in order, then repeats them from the start.
// Deterministic; for tests only.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  void Fill(absl::Span<uint8_t> out) override;

 private:
  std::vector<uint8_t> bytes_;
  size_t next_ = 0;
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_RANDOM_H_
