// A provided-buffer ring (IORING_REGISTER_PBUF_RING, kernel 5.19+): a pool
// of equal buffers the kernel picks from when a read or receive completes,
// so many reads can be outstanding without a buffer pinned to each.
//
// liburing 2.3 (Debian 12) lacks io_uring_setup_buf_ring(), so the ring
// memory is mapped and registered here. Owned by one thread; must be
// destroyed before its Ring.
#ifndef SSTP_KTLS_URING_BUFFER_RING_H_
#define SSTP_KTLS_URING_BUFFER_RING_H_

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "uring/ring.h"

namespace sstp::uring {

class BufferRing {
 public:
  // `count` must be a power of two (<= 32768); `buffer_size` bytes each.
  // The kernel fills each buffer from offset `headroom` on, leaving room in
  // front for headers the caller writes in place (SSTP + PPP: 8 bytes).
  static absl::StatusOr<std::unique_ptr<BufferRing>> Create(Ring& ring, uint16_t group_id,
                                                            unsigned count, size_t buffer_size,
                                                            size_t headroom = 0);
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  uint16_t group_id() const { return group_id_; }
  size_t buffer_size() const { return buffer_size_; }
  size_t headroom() const { return headroom_; }
  unsigned count() const { return count_; }

  // The whole buffer `id`, headroom included: the kernel's bytes start at
  // headroom(). The buffer the kernel chose, from a CQE's flags (IORING_CQE_F_BUFFER
  // must be set) and its byte count.
  static bool HasBuffer(uint32_t cqe_flags) { return cqe_flags & IORING_CQE_F_BUFFER; }
  static uint16_t BufferId(uint32_t cqe_flags) { return cqe_flags >> IORING_CQE_BUFFER_SHIFT; }
  absl::Span<uint8_t> Buffer(uint16_t id) {
    return absl::MakeSpan(storage_.data() + size_t{id} * buffer_size_, buffer_size_);
  }

  // Hands buffer `id` back to the kernel once its contents are consumed.
  void Recycle(uint16_t id);

 private:
  BufferRing(Ring& ring, uint16_t group_id, unsigned count, size_t buffer_size, size_t headroom)
      : ring_(ring),
        group_id_(group_id),
        count_(count),
        buffer_size_(buffer_size),
        headroom_(headroom) {}
  void Add(uint16_t id, int offset);

  Ring& ring_;
  uint16_t group_id_;
  unsigned count_;
  size_t buffer_size_;
  size_t headroom_;
  io_uring_buf_ring* shared_ = nullptr;  // mmap()ed, shared with the kernel.
  size_t shared_size_ = 0;
  bool registered_ = false;
  std::vector<uint8_t> storage_;
};

}  // namespace sstp::uring

#endif  // SSTP_KTLS_URING_BUFFER_RING_H_
