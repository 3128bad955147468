#include "daemon/control/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status.h"

namespace sstp::control {
namespace {

constexpr absl::Duration kStatusWait = absl::Milliseconds(500);

absl::StatusOr<sockaddr_un> Address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("control socket path too long: ", path));
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

void Notify(int event_fd) {
  const uint64_t one = 1;
  (void)!write(event_fd, &one, sizeof(one));
}

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

std::string ControlSocketPath(absl::string_view profile_name) {
  const char* dir = std::getenv("SSTP_KTLS_RUN_DIR");
  return absl::StrCat(dir != nullptr && *dir != '\0' ? dir : "/run/sstp-ktls", "/", profile_name,
                      ".sock");
}

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Start(const std::string& path,
                                                                    int stop_event_fd,
                                                                    int status_request_fd,
                                                                    StatusBoard* board,
                                                                    Logger log) {
  ASSIGN_OR_RETURN(sockaddr_un address, Address(path));
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty() && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return LastErrnoStatus(absl::StrCat("mkdir ", dir));
  }
  // One daemon per profile: whoever holds the lock. (Asking the socket
  // whether a daemon answers would race: a busy one may answer late.)
  const std::string lock_path = path + ".lock";
  UniqueFd lock;
  while (true) {
    lock.reset(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock.valid()) return LastErrnoStatus(absl::StrCat("open ", lock_path));
    if (flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return absl::AlreadyExistsError(
            absl::StrCat("another sstp-ktls already runs this profile (", path, ")"));
      }
      return LastErrnoStatus(absl::StrCat("flock ", lock_path));
    }
    // The previous holder unlinks the file as it exits: a lock on that
    // unlinked file proves nothing, so take the one now at the path.
    struct stat held {}, now {};
    if (fstat(lock.get(), &held) == 0 && stat(lock_path.c_str(), &now) == 0 &&
        held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
      break;
    }
  }
  unlink(path.c_str());  // A stale socket from a daemon that was killed.
  std::unique_ptr<ControlServer> server(new ControlServer());
  server->lock_path_ = lock_path;
  server->lock_ = std::move(lock);
  server->path_ = path;
  server->stop_event_fd_ = stop_event_fd;
  server->status_request_fd_ = status_request_fd;
  server->board_ = board;
  server->log_ = std::move(log);
  server->listener_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!server->listener_.valid()) return LastErrnoStatus("control socket");
  const mode_t old_mask = umask(077);
  const int rc = bind(server->listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
  umask(old_mask);
  if (rc != 0) return LastErrnoStatus(absl::StrCat("bind ", path));
  if (listen(server->listener_.get(), 8) != 0) return LastErrnoStatus("listen on control socket");
  server->quit_.reset(eventfd(0, EFD_CLOEXEC));
  if (!server->quit_.valid()) return LastErrnoStatus("eventfd");
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

ControlServer::~ControlServer() {
  if (thread_.joinable()) {
    Notify(quit_.get());
    thread_.join();
  }
  if (!path_.empty()) unlink(path_.c_str());
  // Still holding the lock: a daemon waiting on this file retries on the
  // new one (see Start).
  if (lock_.valid()) unlink(lock_path_.c_str());
}

void ControlServer::Serve() {
  while (true) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {quit_.get(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    UniqueFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (client.valid()) Handle(client.get());
  }
}

void ControlServer::Handle(int client) {
  char buffer[64];
  pollfd p{client, POLLIN, 0};
  if (poll(&p, 1, 1000) <= 0) return;
  const ssize_t n = read(client, buffer, sizeof(buffer));
  if (n <= 0) return;
  const absl::string_view command = absl::StripAsciiWhitespace(absl::string_view(buffer, n));
  if (command == "ping") {
    WriteAll(client, "pong\n");
  } else if (command == "down") {
    log_.Notice("down requested on the control socket");
    Notify(stop_event_fd_);
    WriteAll(client, "disconnecting\n");
  } else if (command == "status" || command == "status-json") {
    const uint64_t generation = board_->generation();
    Notify(status_request_fd_);
    const StatusSnapshot snapshot = board_->WaitNewer(generation, kStatusWait);
    WriteAll(client, command == "status" ? FormatStatus(snapshot) : FormatStatusJson(snapshot));
  } else {
    WriteAll(client, "error: unknown command (status, status-json, down)\n");
  }
}

absl::StatusOr<std::string> SendControlCommand(const std::string& path, absl::string_view command,
                                               absl::Duration timeout) {
  ASSIGN_OR_RETURN(sockaddr_un address, Address(path));
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return LastErrnoStatus("socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ECONNREFUSED) {
      return absl::NotFoundError(absl::StrCat("no sstp-ktls runs for this profile (", path, ")"));
    }
    return ErrnoStatus(err, absl::StrCat("connect ", path));
  }
  WriteAll(fd.get(), absl::StrCat(command, "\n"));
  shutdown(fd.get(), SHUT_WR);
  std::string reply;
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  while (true) {
    pollfd p{fd.get(), POLLIN, 0};
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left <= 0 || poll(&p, 1, left) <= 0) {
      return absl::DeadlineExceededError(absl::StrCat("no reply on ", path));
    }
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  return reply;
}

}  // namespace sstp::control
