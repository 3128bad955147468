// A thin owner of one io_uring, and the conventions every operation follows.
//
// - One ring per thread; not thread-safe. The thread that creates the ring is
//   the only one that submits (IORING_SETUP_SINGLE_ISSUER where supported).
// - An in-flight operation is an object implementing Completion; its address
//   is the SQE's user_data. It must stay alive until its final completion
//   (one without IORING_CQE_F_MORE) has been delivered, or until the ring is
//   destroyed, whichever comes first. user_data 0 marks fire-and-forget
//   requests (timeout removal, cancellation) whose completions are dropped.
// - Completions are reaped in batches: RunOnce() submits what is queued,
//   waits once, then dispatches every ready CQE and advances the CQ once.
// - Hot-path handlers get the raw `res` (negative errno); they convert to a
//   Status only when leaving the loop.
#ifndef SSTP_KTLS_URING_RING_H_
#define SSTP_KTLS_URING_RING_H_

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sstp::uring {

class Completion {
 public:
  // `res` is the CQE result (>= 0 or -errno); `flags` the CQE flags
  // (IORING_CQE_F_MORE, IORING_CQE_F_BUFFER with the buffer id above
  // IORING_CQE_BUFFER_SHIFT).
  virtual void OnComplete(int32_t res, uint32_t flags) = 0;

 protected:
  ~Completion() = default;
};

// What the running kernel's io_uring offers, probed once at start.
struct Features {
  bool single_issuer = false;   // IORING_SETUP_SINGLE_ISSUER (6.0)
  bool defer_taskrun = false;   // IORING_SETUP_DEFER_TASKRUN (6.1)
  bool coop_taskrun = false;    // IORING_SETUP_COOP_TASKRUN (5.19)
  bool ext_arg = false;         // IORING_FEAT_EXT_ARG: timed waits without an SQE
  bool fast_poll = false;       // IORING_FEAT_FAST_POLL
  bool op_send = false;
  bool op_recvmsg = false;
  bool op_sendmsg = false;
  bool op_read = false;
  bool op_write = false;
  bool op_timeout = false;
  bool op_send_zc = false;      // Useless on kTLS sockets; probed for status only.
  bool provided_buffer_rings = false;  // io_uring_register_buf_ring (5.19)

  std::string ToString() const;
};

class Ring {
 public:
  // Creates a ring with `entries` SQEs and a CQ of `cq_entries` (0: twice
  // `entries`), asking for the setup flags that cut task-work overhead and
  // falling back to plain setup on older kernels.
  static absl::StatusOr<std::unique_ptr<Ring>> Create(unsigned entries, unsigned cq_entries = 0);
  ~Ring();

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  const Features& features() const { return features_; }
  io_uring* raw() { return &ring_; }

  // A fresh SQE whose user_data is `completion` (nullptr: fire and forget).
  // When the SQ is full, submits what is queued first; never returns null.
  io_uring_sqe* NextSqe(Completion* completion);

  // Submits queued SQEs and waits until at least `min_complete` completions
  // are ready or `timeout` passes (nullopt: no limit), then dispatches every
  // ready completion. Returns how many were dispatched. EINTR and ETIME are
  // not errors (0 dispatched).
  absl::StatusOr<int> RunOnce(unsigned min_complete, std::optional<absl::Duration> timeout);

  // Submits without waiting.
  absl::Status Submit();

 private:
  Ring() = default;
  void ProbeOps();

  io_uring ring_{};
  bool initialized_ = false;
  Features features_;
};

}  // namespace sstp::uring

#endif  // SSTP_KTLS_URING_RING_H_
