#include "uring/ring.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace sstp::uring {

std::string Features::ToString() const {
  std::vector<std::string> on;
  auto add = [&](bool flag, const char* name) {
    if (flag) on.emplace_back(name);
  };
  add(single_issuer, "single-issuer");
  add(defer_taskrun, "defer-taskrun");
  add(coop_taskrun, "coop-taskrun");
  add(ext_arg, "ext-arg");
  add(fast_poll, "fast-poll");
  add(op_send, "send");
  add(op_recvmsg, "recvmsg");
  add(op_sendmsg, "sendmsg");
  add(op_read, "read");
  add(op_write, "write");
  add(op_timeout, "timeout");
  add(op_send_zc, "send-zc");
  add(provided_buffer_rings, "buf-ring");
  return absl::StrJoin(on, " ");
}

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(unsigned entries, unsigned cq_entries) {
  std::unique_ptr<Ring> ring(new Ring());
  // Tried in order: each later set is supported by older kernels.
  struct Attempt {
    unsigned flags;
    bool single_issuer, defer_taskrun, coop_taskrun;
  };
  const Attempt attempts[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, true, true, false},
      {IORING_SETUP_COOP_TASKRUN, false, false, true},
      {0, false, false, false},
  };
  int last_error = 0;
  for (const Attempt& attempt : attempts) {
    io_uring_params params{};
    params.flags = attempt.flags | IORING_SETUP_CQSIZE;
    params.cq_entries = cq_entries != 0 ? cq_entries : entries * 2;
    const int rc = io_uring_queue_init_params(entries, &ring->ring_, &params);
    if (rc == 0) {
      ring->initialized_ = true;
      ring->features_.single_issuer = attempt.single_issuer;
      ring->features_.defer_taskrun = attempt.defer_taskrun;
      ring->features_.coop_taskrun = attempt.coop_taskrun;
      ring->features_.ext_arg = params.features & IORING_FEAT_EXT_ARG;
      ring->features_.fast_poll = params.features & IORING_FEAT_FAST_POLL;
      ring->ProbeOps();
      return ring;
    }
    last_error = -rc;
    if (last_error != EINVAL) break;  // Only "flag unknown" is worth a retry.
  }
  return ErrnoStatus(last_error, "io_uring_queue_init");
}

Ring::~Ring() {
  if (initialized_) io_uring_queue_exit(&ring_);
}

void Ring::ProbeOps() {
  io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
  if (probe == nullptr) return;
  features_.op_send = io_uring_opcode_supported(probe, IORING_OP_SEND);
  features_.op_recvmsg = io_uring_opcode_supported(probe, IORING_OP_RECVMSG);
  features_.op_sendmsg = io_uring_opcode_supported(probe, IORING_OP_SENDMSG);
  features_.op_read = io_uring_opcode_supported(probe, IORING_OP_READ);
  features_.op_write = io_uring_opcode_supported(probe, IORING_OP_WRITE);
  features_.op_timeout = io_uring_opcode_supported(probe, IORING_OP_TIMEOUT);
  features_.op_send_zc = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
  // Provided buffer rings came with IORING_REGISTER_PBUF_RING in 5.19, the
  // same release as IORING_OP_SOCKET, which the probe can see.
  features_.provided_buffer_rings = io_uring_opcode_supported(probe, IORING_OP_SOCKET);
  io_uring_free_probe(probe);
}

io_uring_sqe* Ring::NextSqe(Completion* completion) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  io_uring_sqe_set_data(sqe, completion);
  return sqe;
}

absl::Status Ring::Submit() {
  const int rc = io_uring_submit(&ring_);
  if (rc < 0 && rc != -EINTR && rc != -EBUSY) return ErrnoStatus(-rc, "io_uring_submit");
  return absl::OkStatus();
}

absl::StatusOr<int> Ring::RunOnce(unsigned min_complete, std::optional<absl::Duration> timeout) {
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout.has_value()) {
    __kernel_timespec ts;
    const timespec t = absl::ToTimespec(*timeout);
    ts.tv_sec = t.tv_sec;
    ts.tv_nsec = t.tv_nsec;
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, min_complete, &ts, nullptr);
  } else {
    rc = io_uring_submit_and_wait(&ring_, min_complete);
  }
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
    return ErrnoStatus(-rc, "io_uring wait");
  }
  unsigned head;
  int dispatched = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    auto* completion = static_cast<Completion*>(io_uring_cqe_get_data(cqe));
    ++dispatched;
    if (completion != nullptr) completion->OnComplete(cqe->res, cqe->flags);
  }
  io_uring_cq_advance(&ring_, dispatched);
  return dispatched;
}

}  // namespace sstp::uring
