// Injectable monotonic clock, so that timers are testable without sleeping.
#ifndef SSTP_KTLS_BASE_CLOCK_H_
#define SSTP_KTLS_BASE_CLOCK_H_

#include "absl/time/time.h"

namespace sstp {

class Clock {
 public:
  virtual ~Clock() = default;
  // Time since an arbitrary fixed point; never goes backwards.
  virtual absl::Duration Now() const = 0;
};

// CLOCK_MONOTONIC. Thread-safe.
class MonotonicClock final : public Clock {
 public:
  absl::Duration Now() const override;
  // A process-wide instance.
  static MonotonicClock& Get();
};

// A clock that moves only when told. Not thread-safe.
class FakeClock final : public Clock {
 public:
  absl::Duration Now() const override { return now_; }
  void Advance(absl::Duration d) { now_ += d; }

 private:
  absl::Duration now_ = absl::ZeroDuration();
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_CLOCK_H_
