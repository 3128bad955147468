// Process exit codes of `sstp-ktls`, documented in README.md. Scripts and
// systemd units depend on them: never renumber.
#ifndef SSTP_KTLS_DAEMON_EXIT_CODES_H_
#define SSTP_KTLS_DAEMON_EXIT_CODES_H_

namespace sstp {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // Runtime failure; the message names it.
inline constexpr int kExitUsage = 2;    // Bad command line or invalid profile.
inline constexpr int kExitAuth = 3;     // The server rejected the user or password.
inline constexpr int kExitCertificate = 4;  // The server's certificate was rejected.
inline constexpr int kExitFeature = 5;  // A feature the profile requires is missing.

}  // namespace sstp

#endif  // SSTP_KTLS_DAEMON_EXIT_CODES_H_
