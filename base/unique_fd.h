// Move-only owner of a file descriptor.
//
// Every descriptor the project opens lives in a UniqueFd from the moment the
// system call returns, so no error path can leak one. Not thread-safe; the
// owner decides which thread closes.
#ifndef SSTP_KTLS_BASE_UNIQUE_FD_H_
#define SSTP_KTLS_BASE_UNIQUE_FD_H_

#include <utility>

namespace sstp {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

  // Closes the current descriptor (if any) and takes `fd`. close() is not
  // retried on EINTR: on Linux the descriptor is gone either way.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_UNIQUE_FD_H_
