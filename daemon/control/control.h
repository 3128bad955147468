// The control socket of a running `sstp-ktls up`: one Unix socket per
// profile, ${SSTP_KTLS_RUN_DIR:-/run/sstp-ktls}/<profile>.sock, mode 0600.
// Commands, one line each: "status", "status-json", "down".
//
// The server runs on its own thread (the session's thread belongs to its
// ring): "down" writes the stop eventfd the session reads on its ring;
// "status" writes the status-request eventfd and waits briefly for the
// session to publish a fresh snapshot on the StatusBoard.
#ifndef SSTP_KTLS_DAEMON_CONTROL_CONTROL_H_
#define SSTP_KTLS_DAEMON_CONTROL_CONTROL_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "daemon/control/status.h"

namespace sstp::control {

std::string ControlSocketPath(absl::string_view profile_name);

class ControlServer {
 public:
  // Fails if another daemon already serves `path` ("already running").
  static absl::StatusOr<std::unique_ptr<ControlServer>> Start(const std::string& path,
                                                              int stop_event_fd,
                                                              int status_request_fd,
                                                              StatusBoard* board, Logger log);
  ~ControlServer();  // Stops the thread and removes the socket file.
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  ControlServer() = default;
  void Serve();
  void Handle(int client);

  std::string path_;
  // flock'd for the daemon's life: the one daemon of this profile (a lock
  // the kernel drops even when the process is killed).
  std::string lock_path_;
  UniqueFd lock_;
  UniqueFd listener_, quit_;
  int stop_event_fd_ = -1;
  int status_request_fd_ = -1;
  StatusBoard* board_ = nullptr;
  Logger log_{"control"};
  std::thread thread_;
};

// Sends one command and returns the reply. The error names the socket when
// no daemon runs for that profile.
absl::StatusOr<std::string> SendControlCommand(const std::string& path, absl::string_view command,
                                               absl::Duration timeout);

}  // namespace sstp::control

#endif  // SSTP_KTLS_DAEMON_CONTROL_CONTROL_H_
