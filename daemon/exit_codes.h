// Process exit codes of `sstp-ktls`, documented in README.md. Scripts and
// systemd units depend on them: never renumber.
#ifndef SSTP_KTLS_DAEMON_EXIT_CODES_H_
#define SSTP_KTLS_DAEMON_EXIT_CODES_H_

namespace sstp {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // Runtime failure; the message names it.
inline constexpr int kExitUsage = 2;    // Bad command line or invalid profile.

}  // namespace sstp

#endif  // SSTP_KTLS_DAEMON_EXIT_CODES_H_
