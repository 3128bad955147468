// sstp-ktls: the command-line entry point. The CLI is a table of commands;
// usage text is generated from it. main() parses, dispatches, and maps the
// outcome to the documented exit codes (README.md).
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "daemon/config/profile.h"
#include "daemon/exit_codes.h"
#include "daemon/selftest.h"
#include "daemon/control/control.h"
#include "daemon/session/session.h"
#include "daemon/session/transport.h"
#include "base/log.h"
#include "base/secret.h"
#include "base/unique_fd.h"

namespace sstp {
namespace {

struct Command {
  const char* name;
  const char* arguments;
  const char* help;
  int (*run)(const std::vector<std::string>& args);
};

int Usage(FILE* out);

int RunCheck(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage(stderr);
  absl::StatusOr<config::Profile> profile = config::LoadProfile(args[0]);
  if (!profile.ok()) {
    std::fprintf(stderr, "sstp-ktls: %s\n", std::string(profile.status().message()).c_str());
    return kExitUsage;
  }
  std::fputs(config::DescribeProfile(*profile).c_str(), stdout);
  return kExitOk;
}

// The password from the profile, or from password-file.
absl::StatusOr<SecretString> ReadPassword(const config::Profile& profile) {
  if (!profile.auth.password.empty()) return profile.auth.password;
  return session::ReadSecretFile(profile.auth.password_file);
}

// Sleeps `delay`, or less if a stop signal arrives; true if one did.
bool WaitOrStop(int stop_fd, absl::Duration delay) {
  pollfd p{stop_fd, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(delay))) > 0;
}

int RunUp(const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 3) return Usage(stderr);
  if (args.size() == 3) {
    LogLevel level;
    if (args[1] != "--log-level" || !ParseLogLevel(args[2], &level)) return Usage(stderr);
    SetLogLevel(level);
  } else if (args.size() == 2) {
    return Usage(stderr);
  }
  absl::StatusOr<config::Profile> profile = config::LoadProfile(args[0]);
  if (!profile.ok()) {
    std::fprintf(stderr, "sstp-ktls: %s\n", std::string(profile.status().message()).c_str());
    return kExitUsage;
  }
  Logger log(profile->name);
  absl::StatusOr<SecretString> password = ReadPassword(*profile);
  if (!password.ok()) {
    log.Error("%s", std::string(password.status().message()));
    return kExitUsage;
  }
  // Stop requests (SIGINT, SIGTERM, SIGHUP when the terminal goes, SIGQUIT,
  // `sstp-ktls down`) all become one eventfd that the session reads on its
  // ring, so every one of them ends with the changes undone.
  UniqueFd stop_event(eventfd(0, EFD_CLOEXEC));
  UniqueFd status_request(eventfd(0, EFD_CLOEXEC));  // Blocking: read on the ring.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // Inherited by every thread.
  signal(SIGPIPE, SIG_IGN);
  std::thread([signals, fd = stop_event.get()] {
    while (true) {
      int signo = 0;
      if (sigwait(&signals, &signo) == 0) {
        const uint64_t one = 1;
        (void)!write(fd, &one, sizeof(one));
      }
    }
  }).detach();

  control::StatusBoard board;
  absl::StatusOr<std::unique_ptr<control::ControlServer>> control_server =
      control::ControlServer::Start(control::ControlSocketPath(profile->name), stop_event.get(),
                                    status_request.get(), &board, log);
  if (!control_server.ok()) {
    log.Error("%s", std::string(control_server.status().message()));
    return kExitFailure;
  }

  const config::ConnectionSection& c = profile->connection;
  absl::Duration delay = c.reconnect_delay;
  for (int attempt = 1;; ++attempt) {
    session::Session session(*profile, *password, log);
    const session::Outcome outcome = session.Run(stop_event.get(), status_request.get(), &board);
    if (outcome.status.ok()) {
      log.Notice("disconnected");
      return kExitOk;
    }
    log.Error("session ended: %s", std::string(outcome.status.message()));
    if (outcome.auth_failure) return kExitAuth;        // Retrying cannot help.
    if (outcome.certificate_rejected) return kExitCertificate;
    if (outcome.feature_missing) return kExitFeature;
    if (outcome.permission_denied) {
      log.Error("not retried: setting up the interface needs root (CAP_NET_ADMIN)");
      return kExitFailure;
    }
    if (outcome.stop_requested) {  // Asked to stop while it was failing.
      log.Notice("disconnected");
      return kExitOk;
    }
    if (outcome.was_connected) {  // A fresh failure after a working tunnel.
      delay = c.reconnect_delay;
      attempt = 1;
    }
    if (!c.reconnect || (c.reconnect_attempts > 0 && attempt >= c.reconnect_attempts)) {
      return kExitFailure;
    }
    log.Notice("reconnecting in %s (attempt %d)", absl::FormatDuration(delay), attempt + 1);
    control::StatusSnapshot waiting = board.Latest();
    waiting.phase = "reconnecting";
    board.Publish(waiting);
    if (WaitOrStop(stop_event.get(), delay)) return kExitOk;
    delay = std::min(delay * 2, c.reconnect_max_delay);
  }
}

// The profile's name from a path or a bare name: "/etc/x/office.conf" and
// "office" both name the daemon of profile "office".
std::string ProfileNameOf(absl::string_view arg) {
  const size_t slash = arg.rfind('/');
  absl::string_view base = slash == absl::string_view::npos ? arg : arg.substr(slash + 1);
  if (base.size() > 5 && base.substr(base.size() - 5) == ".conf") base.remove_suffix(5);
  return std::string(base);
}

int RunControlCommand(const std::string& profile, absl::string_view command) {
  absl::StatusOr<std::string> reply = control::SendControlCommand(
      control::ControlSocketPath(ProfileNameOf(profile)), command, absl::Seconds(5));
  if (!reply.ok()) {
    std::fprintf(stderr, "sstp-ktls: %s\n", std::string(reply.status().message()).c_str());
    return kExitFailure;
  }
  std::fputs(reply->c_str(), stdout);
  return kExitOk;
}

int RunStatus(const std::vector<std::string>& args) {
  if (args.size() == 1) return RunControlCommand(args[0], "status");
  if (args.size() == 2 && args[1] == "--json") return RunControlCommand(args[0], "status-json");
  return Usage(stderr);
}

int RunDown(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage(stderr);
  return RunControlCommand(args[0], "down");
}

int RunSelfTestCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(stderr);
  return RunSelfTest(stdout) == 0 ? kExitOk : kExitFailure;
}

int RunVersion(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(stderr);
  std::printf("sstp-ktls %s\n", SSTP_KTLS_VERSION);
  return kExitOk;
}

int RunHelp(const std::vector<std::string>&) {
  Usage(stdout);
  return kExitOk;
}

const Command kCommands[] = {
    {"up", "PROFILE [--log-level L]", "bring the tunnel up; SIGINT/SIGTERM take it down",
     RunUp},
    {"status", "PROFILE [--json]", "show a running tunnel: state, TLS, addresses, traffic",
     RunStatus},
    {"down", "PROFILE", "take a running tunnel down in order", RunDown},
    {"check", "PROFILE", "validate a profile and print it with all defaults", RunCheck},
    {"selftest", "", "run the published test vectors through this build", RunSelfTestCommand},
    {"version", "", "print the version", RunVersion},
    {"help", "", "list the commands", RunHelp},
};

int Usage(FILE* out) {
  std::fprintf(out, "usage: sstp-ktls COMMAND [ARGS]\n\ncommands:\n");
  for (const Command& c : kCommands) {
    const std::string synopsis = std::string(c.name) + (*c.arguments ? " " : "") + c.arguments;
    std::fprintf(out, "  %-28s %s\n", synopsis.c_str(), c.help);
  }
  return out == stdout ? kExitOk : kExitUsage;
}

}  // namespace
}  // namespace sstp

int main(int argc, char** argv) {
  if (argc < 2) return sstp::Usage(stderr);
  const absl::string_view name = argv[1];
  for (const sstp::Command& command : sstp::kCommands) {
    if (name == command.name) {
      return command.run(std::vector<std::string>(argv + 2, argv + argc));
    }
  }
  std::fprintf(stderr, "sstp-ktls: unknown command '%s'\n\n", argv[1]);
  return sstp::Usage(stderr);
}
