// `sstp-ktls selftest`: runs published test vectors through the same code
// the client uses, on this machine's libcrypto. It catches a libcrypto that
// refuses an algorithm the protocols need (HMAC-SHA1, DES via 3DES, SHA-256,
// HKDF) before a real connection fails on it.
#ifndef SSTP_KTLS_DAEMON_SELFTEST_H_
#define SSTP_KTLS_DAEMON_SELFTEST_H_

#include <cstdio>

namespace sstp {

// Prints one line per vector to `out`; returns the number that failed.
int RunSelfTest(std::FILE* out);

}  // namespace sstp

#endif  // SSTP_KTLS_DAEMON_SELFTEST_H_
