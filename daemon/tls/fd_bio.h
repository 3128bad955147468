// Internal to daemon/tls: an OpenSSL BIO over a borrowed stream socket.
//
// Unlike BIO_s_socket it never changes the descriptor's flags and never
// raises SIGPIPE: every recv/send carries MSG_DONTWAIT (the caller waits with
// poll() and a deadline) and send carries MSG_NOSIGNAL. EINTR is retried.
// It records why I/O stopped (EOF, errno) so that a failed handshake or read
// can say "the server closed the connection" instead of OpenSSL's generic
// text.
#ifndef SSTP_KTLS_DAEMON_TLS_FD_BIO_H_
#define SSTP_KTLS_DAEMON_TLS_FD_BIO_H_

#include <openssl/bio.h>

namespace sstp::tls::internal {

struct FdBioState {
  int fd = -1;
  bool eof = false;    // recv() returned 0: the peer closed its side.
  int last_errno = 0;  // The errno of the last failed recv/send (not EAGAIN).
};

// A new BIO over state->fd. `state` is borrowed and must outlive the BIO;
// the fd is not closed when the BIO is freed. nullptr when out of memory.
BIO* NewFdBio(FdBioState* state);

}  // namespace sstp::tls::internal

#endif  // SSTP_KTLS_DAEMON_TLS_FD_BIO_H_
