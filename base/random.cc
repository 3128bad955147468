#include "base/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace sstp {

uint32_t Random::NextU32() {
  uint8_t b[4];
  Fill(absl::MakeSpan(b));
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

void SystemRandom::Fill(absl::Span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("getrandom");
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
}

SystemRandom& SystemRandom::Get() {
  static SystemRandom random;
  return random;
}

void FixedRandom::Fill(absl::Span<uint8_t> out) {
  for (uint8_t& b : out) {
    b = bytes_.empty() ? 0 : bytes_[next_];
    if (!bytes_.empty()) next_ = (next_ + 1) % bytes_.size();
  }
}

}  // namespace sstp
