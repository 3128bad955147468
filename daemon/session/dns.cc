#include "daemon/session/dns.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/status.h"
#include "base/unique_fd.h"

namespace sstp::session {
namespace {

bool InPath(const char* program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    if (dir.empty()) continue;
    if (access(absl::StrCat(dir, "/", program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

DnsConfigurator::Backend Detect() {
  if (const char* forced = std::getenv("SSTP_KTLS_DNS_BACKEND")) {
    const absl::string_view f = forced;
    if (f == "resolved") return DnsConfigurator::Backend::kResolved;
    if (f == "resolvconf") return DnsConfigurator::Backend::kResolvconf;
    if (f == "none") return DnsConfigurator::Backend::kNone;
  }
  // systemd-resolved runs when its varlink socket or stub file exists.
  const bool resolved_runs = access("/run/systemd/resolve/io.systemd.Resolve", F_OK) == 0 ||
                             access("/run/systemd/resolve/stub-resolv.conf", F_OK) == 0;
  if (resolved_runs && InPath("resolvectl")) return DnsConfigurator::Backend::kResolved;
  if (InPath("resolvconf")) return DnsConfigurator::Backend::kResolvconf;
  return DnsConfigurator::Backend::kNone;
}

}  // namespace

absl::Status RunCommand(const std::vector<std::string>& argv, const std::string& input,
                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return LastErrnoStatus("pipe");
  UniqueFd in_read(in[0]), in_write(in[1]), err_read(err[0]), err_write(err[1]);
  const pid_t pid = fork();
  if (pid < 0) return LastErrnoStatus("fork");
  if (pid == 0) {
    // The daemon blocks SIGTERM & co. for its signal thread and ignores
    // SIGPIPE; the command gets neither (both survive exec).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(in_read.get(), STDIN_FILENO);
    dup2(err_write.get(), STDERR_FILENO);
    dup2(err_write.get(), STDOUT_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    dprintf(STDERR_FILENO, "cannot run: %s\n", strerror(errno));
    _exit(127);
  }
  in_read.reset();
  err_write.reset();
  if (!input.empty()) (void)!write(in_write.get(), input.data(), input.size());
  in_write.reset();
  std::string output;
  char buffer[512];
  bool timed_out = false;
  bool reaped = false;
  int status = 0;
  while (true) {
    pollfd p{err_read.get(), POLLIN, 0};
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    const int ready = poll(&p, 1, static_cast<int>(std::clamp<int64_t>(ms, 0, 60000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (ready == 0) {
      if (absl::Now() < deadline) continue;  // Woke a moment early.
      // Exited, but something it started still holds the pipe: done.
      if (waitpid(pid, &status, WNOHANG) == pid) {
        reaped = true;
        break;
      }
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    const ssize_t n = read(err_read.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the command (and whatever it started) closed its output.
    output.append(buffer, static_cast<size_t>(n));
  }
  while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(absl::StrJoin(argv, " "),
                                                    ": still running after ",
                                                    absl::FormatDuration(timeout), "; killed"));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  const std::string first_line(absl::StripAsciiWhitespace(output.substr(0, output.find('\n'))));
  return absl::UnavailableError(absl::StrCat(
      absl::StrJoin(argv, " "), ": ",
      WIFEXITED(status) ? absl::StrCat("exit status ", WEXITSTATUS(status)) : "killed by a signal",
      first_line.empty() ? "" : ": ", first_line));
}

DnsConfigurator::DnsConfigurator(Logger log) : log_(std::move(log)), backend_(Detect()) {}

DnsConfigurator::~DnsConfigurator() {
  if (!applied_interface_.empty()) {
    if (absl::Status s = Revert(); !s.ok()) log_.Error("%s", std::string(s.message()));
  }
}

const char* DnsConfigurator::BackendName(Backend backend) {
  switch (backend) {
    case Backend::kResolved:
      return "systemd-resolved";
    case Backend::kResolvconf:
      return "resolvconf";
    case Backend::kNone:
      return "none";
  }
  return "?";
}

absl::Status DnsConfigurator::Apply(const std::string& interface,
                                    const std::vector<std::string>& servers, bool default_route) {
  if (servers.empty()) return absl::OkStatus();
  switch (backend_) {
    case Backend::kNone:
      log_.Notice("DNS servers offered: %s (neither systemd-resolved nor resolvconf found: not applied)",
                  absl::StrJoin(servers, ", "));
      return absl::OkStatus();
    case Backend::kResolved: {
      std::vector<std::string> argv = {"resolvectl", "dns", interface};
      argv.insert(argv.end(), servers.begin(), servers.end());
      RETURN_IF_ERROR(RunCommand(argv));
      applied_interface_ = interface;
      if (default_route) RETURN_IF_ERROR(RunCommand({"resolvectl", "domain", interface, "~."}));
      break;
    }
    case Backend::kResolvconf: {
      std::string input;
      for (const std::string& s : servers) absl::StrAppend(&input, "nameserver ", s, "\n");
      RETURN_IF_ERROR(RunCommand({"resolvconf", "-a", interface + ".sstp-ktls"}, input));
      applied_interface_ = interface;
      break;
    }
  }
  log_.Notice("DNS servers %s applied through %s", absl::StrJoin(servers, ", "),
              BackendName(backend_));
  return absl::OkStatus();
}

absl::Status DnsConfigurator::Revert() {
  if (applied_interface_.empty()) return absl::OkStatus();
  const std::string interface = std::move(applied_interface_);
  applied_interface_.clear();
  switch (backend_) {
    case Backend::kResolved:
      // The interface may already be gone, and resolved with it forgot it.
      if (absl::Status s = RunCommand({"resolvectl", "revert", interface}); !s.ok()) {
        log_.Info("%s (the interface is gone, so resolved dropped it already)",
                  std::string(s.message()));
      }
      break;
    case Backend::kResolvconf:
      RETURN_IF_ERROR(RunCommand({"resolvconf", "-d", interface + ".sstp-ktls"}));
      break;
    case Backend::kNone:
      break;
  }
  log_.Info("DNS configuration for %s reverted (%s)", interface, BackendName(backend_));
  return absl::OkStatus();
}

}  // namespace sstp::session
