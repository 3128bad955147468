#include "daemon/tls/fd_bio.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>

#include "daemon/tls/openssl_util.h"

namespace sstp::tls::internal {
namespace {

FdBioState* StateOf(BIO* bio) { return static_cast<FdBioState*>(BIO_get_data(bio)); }

int FdBioWrite(BIO* bio, const char* data, size_t size, size_t* written) {
  BIO_clear_retry_flags(bio);
  FdBioState* state = StateOf(bio);
  ssize_t n;
  do {
    n = send(state->fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    *written = static_cast<size_t>(n);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_write(bio);
  } else {
    state->last_errno = errno;
  }
  *written = 0;
  return 0;
}

int FdBioRead(BIO* bio, char* data, size_t size, size_t* read) {
  BIO_clear_retry_flags(bio);
  FdBioState* state = StateOf(bio);
  *read = 0;
  if (size == 0) return 0;
  ssize_t n;
  do {
    n = recv(state->fd, data, size, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    *read = static_cast<size_t>(n);
    return 1;
  }
  if (n == 0) {
    state->eof = true;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_read(bio);
  } else {
    state->last_errno = errno;
  }
  return 0;
}

long FdBioCtrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  // Writes go straight to the socket, so a flush has nothing to do. Every
  // other control (kTLS queries, pending counts, ...) answers "no" / 0.
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

const BIO_METHOD* FdBioMethod() {
  static BIO_METHOD* method = MakeStateBioMethod(
      {"sstp-ktls socket", FdBioWrite, FdBioRead, FdBioCtrl});
  return method;
}

}  // namespace

BIO* NewFdBio(FdBioState* state) {
  return NewStateBio(FdBioMethod(), state);
}

}  // namespace sstp::tls::internal
