#include "uring/buffer_ring.h"

#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::uring {

absl::StatusOr<std::unique_ptr<BufferRing>> BufferRing::Create(Ring& ring, uint16_t group_id,
                                                               unsigned count,
                                                               size_t buffer_size,
                                                               size_t headroom) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("buffer ring count ", count,
                                                   " is not a power of two <= 32768"));
  }
  if (headroom >= buffer_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("buffer ring headroom ", headroom, " >= buffer size ", buffer_size));
  }
  std::unique_ptr<BufferRing> br(new BufferRing(ring, group_id, count, buffer_size, headroom));
  br->shared_size_ = count * sizeof(io_uring_buf);
  void* mem = mmap(nullptr, br->shared_size_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
                   -1, 0);
  if (mem == MAP_FAILED) return LastErrnoStatus("mmap(buffer ring)");
  br->shared_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br->shared_);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br->shared_);
  reg.ring_entries = count;
  reg.bgid = group_id;
  const int rc = io_uring_register_buf_ring(ring.raw(), &reg, 0);
  if (rc < 0) return ErrnoStatus(-rc, "io_uring_register_buf_ring");
  br->registered_ = true;

  br->storage_.resize(size_t{count} * buffer_size);
  for (unsigned i = 0; i < count; ++i) br->Add(static_cast<uint16_t>(i), static_cast<int>(i));
  io_uring_buf_ring_advance(br->shared_, static_cast<int>(count));
  return br;
}

BufferRing::~BufferRing() {
  if (registered_) io_uring_unregister_buf_ring(ring_.raw(), group_id_);
  if (shared_ != nullptr) munmap(shared_, shared_size_);
}

void BufferRing::Add(uint16_t id, int offset) {
  io_uring_buf_ring_add(shared_, storage_.data() + size_t{id} * buffer_size_ + headroom_,
                        static_cast<unsigned>(buffer_size_ - headroom_), id,
                        io_uring_buf_ring_mask(count_), offset);
}

void BufferRing::Recycle(uint16_t id) {
  Add(id, 0);
  io_uring_buf_ring_advance(shared_, 1);
}

}  // namespace sstp::uring
