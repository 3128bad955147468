// Applies the DNS servers IPCP gave us, and removes exactly that again.
//
// Backends, picked once per session (README.md, [network] dns):
//   resolved    systemd-resolved runs: `resolvectl dns IF SERVERS...` and,
//               when the tunnel takes the default route, `resolvectl domain
//               IF ~.` so every query goes through it. Undone with
//               `resolvectl revert IF` (resolved also forgets it when the
//               interface goes away).
//   resolvconf  a resolvconf(8) is installed: `resolvconf -a IF.sstp-ktls`
//               with "nameserver" lines; undone with `resolvconf -d`.
//   none        neither: the servers are logged, nothing is changed.
// SSTP_KTLS_DNS_BACKEND=resolved|resolvconf|none overrides the detection.
#ifndef SSTP_KTLS_DAEMON_SESSION_DNS_H_
#define SSTP_KTLS_DAEMON_SESSION_DNS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/log.h"

namespace sstp::session {

class DnsConfigurator {
 public:
  enum class Backend { kResolved, kResolvconf, kNone };

  explicit DnsConfigurator(Logger log);
  ~DnsConfigurator();  // Reverts if Apply() succeeded and Revert() was not called.

  Backend backend() const { return backend_; }
  static const char* BackendName(Backend backend);

  absl::Status Apply(const std::string& interface, const std::vector<std::string>& servers,
                     bool default_route);
  absl::Status Revert();

 private:
  Logger log_;
  Backend backend_;
  std::string applied_interface_;  // Empty: nothing to revert.
};

// Runs `argv` (PATH is searched) with `input` on its stdin, with default
// signal dispositions and none blocked; the error names the command, its
// exit status and the first line it printed on stderr. A command still
// running after `timeout` (a hung resolver hook) is killed: kDeadlineExceeded.
absl::Status RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                        absl::Duration timeout = absl::Seconds(10));

}  // namespace sstp::session

#endif  // SSTP_KTLS_DAEMON_SESSION_DNS_H_
