// One SSTP connection from TCP connect to teardown: the orchestration that
// ARCHITECTURE.md's lifecycle describes (steps 2 to 8), and the only code
// that sees every protocol module.
//
//   ConnectTcp -> TLS handshake (verified before any byte is sent) ->
//   SSTP_DUPLEX_POST / 200 -> record layer to the data plane ->
//   SstpClient (CALL_CONNECT_REQUEST ...) <-> PppClient (LCP, auth, NCPs)
//   -> CALL_CONNECTED -> TUN, addresses, routes -> data flows ->
//   stop request or failure -> PPP terminate, CALL_DISCONNECT -> undo every
//   network change -> return.
//
// Thread: Run() owns the calling thread until it returns; status() may be
// called from the same thread only (the control socket runs on the ring).
#ifndef SSTP_KTLS_DAEMON_SESSION_SESSION_H_
#define SSTP_KTLS_DAEMON_SESSION_SESSION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/secret.h"
#include "daemon/config/profile.h"
#include "daemon/control/status.h"

namespace sstp::session {

// How a session ended. `status` is OK for an orderly stop the user asked
// for; otherwise it names the cause.
struct Outcome {
  absl::Status status;
  bool auth_failure = false;   // Wrong password, unknown user: never retry.
  bool certificate_rejected = false;  // TLS verification failed: never retry.
  bool feature_missing = false;  // A required kernel feature is missing: never retry.
  // Setting up the interface was not permitted (no CAP_NET_ADMIN): retrying
  // cannot help.
  bool permission_denied = false;
  bool was_connected = false;  // CALL_CONNECTED was reached.
  // A stop (signal, `sstp-ktls down`) was read from the stop eventfd while
  // the session ran, perhaps after it had already failed: never reconnect.
  bool stop_requested = false;
};

class Session {
 public:
  Session(const config::Profile& profile, SecretString password, Logger log);
  ~Session();

  // Runs one connection. `stop_fd` (an eventfd) becoming readable asks for
  // an orderly disconnect; `status_request_fd` (an eventfd, or -1) becoming
  // readable asks for a fresh snapshot on `board` (which may be null).
  // Leaves no route, address or TUN behind, whatever the outcome.
  Outcome Run(int stop_fd, int status_request_fd = -1, control::StatusBoard* board = nullptr);

  control::StatusSnapshot status() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sstp::session

#endif  // SSTP_KTLS_DAEMON_SESSION_SESSION_H_
