#include "uring/timer.h"

#include <cassert>
#include <cerrno>

namespace sstp::uring {

Timer::Timer(Ring& ring, std::function<void()> on_expiry)
    : ring_(ring), on_expiry_(std::move(on_expiry)) {}

Timer::~Timer() {
  // An in-flight timeout would later complete into a dead object; the owner
  // must cancel and let the ring drain, or destroy the ring first.
  if (in_flight_) Cancel();
}

void Timer::Arm(absl::Duration after) {
  const timespec t = absl::ToTimespec(after);
  ts_.tv_sec = t.tv_sec;
  ts_.tv_nsec = t.tv_nsec;
  armed_ = true;
  if (in_flight_) {
    // Moves the pending timeout instead of queueing a second one (5.11+).
    io_uring_sqe* sqe = ring_.NextSqe(nullptr);
    io_uring_prep_timeout_update(sqe, &ts_, reinterpret_cast<__u64>(this), 0);
    return;
  }
  io_uring_sqe* sqe = ring_.NextSqe(this);
  io_uring_prep_timeout(sqe, &ts_, 0, 0);
  in_flight_ = true;
}

void Timer::Cancel() {
  armed_ = false;
  if (!in_flight_) return;
  io_uring_sqe* sqe = ring_.NextSqe(nullptr);
  io_uring_prep_timeout_remove(sqe, reinterpret_cast<__u64>(this), 0);
  // in_flight_ stays true until the -ECANCELED completion arrives.
}

void Timer::OnComplete(int32_t res, uint32_t /*flags*/) {
  in_flight_ = false;
  if (res == -ECANCELED) {
    // Removed by Cancel(); if re-armed meanwhile, start again.
    if (armed_) {
      io_uring_sqe* sqe = ring_.NextSqe(this);
      io_uring_prep_timeout(sqe, &ts_, 0, 0);
      in_flight_ = true;
    }
    return;
  }
  // -ETIME: expired. (A timeout with count 0 never completes with 0.)
  if (!armed_) return;
  armed_ = false;
  on_expiry_();
}

}  // namespace sstp::uring
