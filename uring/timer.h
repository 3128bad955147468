// A one-shot timer on the ring (IORING_OP_TIMEOUT), for the protocol timers:
// SSTP hello and negotiation, LCP restart and echo, reconnect backoff.
//
// Arm() starts or restarts it; Cancel() stops it; the callback runs from
// Ring::RunOnce() when it expires, never after Cancel() or re-Arm(). The
// Timer must outlive the ring's last RunOnce() while armed (the ring holds
// its address); destroying the ring first is always safe.
#ifndef SSTP_KTLS_URING_TIMER_H_
#define SSTP_KTLS_URING_TIMER_H_

#include <liburing.h>

#include <cstdint>
#include <functional>

#include "absl/time/time.h"
#include "uring/ring.h"

namespace sstp::uring {

class Timer final : public Completion {
 public:
  Timer(Ring& ring, std::function<void()> on_expiry);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void Arm(absl::Duration after);
  void Cancel();
  bool armed() const { return armed_; }

  void OnComplete(int32_t res, uint32_t flags) override;

 private:
  Ring& ring_;
  std::function<void()> on_expiry_;
  __kernel_timespec ts_{};
  bool armed_ = false;      // Logically running (what the user sees).
  bool in_flight_ = false;  // The kernel holds a timeout with our address.
};

}  // namespace sstp::uring

#endif  // SSTP_KTLS_URING_TIMER_H_
