#include "base/clock.h"

#include <time.h>

namespace sstp {

absl::Duration MonotonicClock::Now() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::DurationFromTimespec(ts);
}

MonotonicClock& MonotonicClock::Get() {
  static MonotonicClock clock;
  return clock;
}

}  // namespace sstp
