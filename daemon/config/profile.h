// The typed form of a profile file (`sstp-ktls up office.conf`).
//
// Syntax: INI-style. `[section]` headers, `key = value` lines, full-line
// comments starting with '#' or ';', blank lines. A value may be wrapped in
// double quotes to keep leading or trailing spaces ("a b "); there are no
// escapes and no inline comments (a password may contain '#'). Every key is
// documented, with its default, in README.md; unknown sections and keys,
// duplicates and bad values are errors that name file:line, the key and the
// value.
//
// ParseProfile() is pure (text in, Profile out); LoadProfile() only adds
// reading the file. Neither reads password-file or ca-file: the session does
// that when it needs them, so `check` can run without the secrets.
#ifndef SSTP_KTLS_DAEMON_CONFIG_PROFILE_H_
#define SSTP_KTLS_DAEMON_CONFIG_PROFILE_H_

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace sstp::config {

enum class TlsMinVersion { kTls12, kTls13 };
enum class KtlsMode { kAuto, kOn, kOff };
enum class TlsCipher { kAes128Gcm, kAes256Gcm, kChacha20Poly1305 };
absl::string_view TlsCipherName(TlsCipher cipher);  // "aes128-gcm", ...
// Authentication methods the client may agree to, in the order of preference
// used when the server leaves the choice to us.
enum class AuthMethod { kMsChapV2, kEapMsChapV2, kChapMd5, kPap };

absl::string_view AuthMethodName(AuthMethod method);
absl::string_view KtlsModeName(KtlsMode mode);
absl::string_view TlsMinVersionName(TlsMinVersion version);

// An IPv4 or IPv6 prefix, e.g. 10.0.0.0/8 or fd00::/8. Host bits must be 0.
struct IpPrefix {
  int family = AF_INET;  // AF_INET or AF_INET6.
  std::array<uint8_t, 16> address{};  // IPv4 uses the first 4 bytes.
  int length = 0;

  std::string ToString() const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

struct ServerSection {
  std::string host;                   // Required. Name or IP literal.
  uint16_t port = 443;
  std::string server_name;            // SNI and the name checked against the
                                      // certificate; empty: use host.
  std::string proxy_host;             // HTTP CONNECT proxy; empty: none.
  uint16_t proxy_port = 0;
  std::string proxy_user;
  std::string proxy_password_file;
  absl::Duration connect_timeout = absl::Seconds(30);
};

struct TlsSection {
  std::string ca_file;                // Empty with ca_dir empty: system store.
  std::string ca_dir;
  std::optional<std::array<uint8_t, 32>> pin_sha256;  // Of the leaf cert (DER).
  TlsMinVersion min_version = TlsMinVersion::kTls12;
  bool insecure_skip_verify = false;  // Loudly logged when true.
  std::string keylog_file;            // NSS key log for Wireshark; empty: off.
  KtlsMode ktls = KtlsMode::kAuto;
  // AEADs offered, in order of preference. Empty: AES-128-GCM,
  // AES-256-GCM, ChaCha20-Poly1305.
  std::vector<TlsCipher> ciphers;
  // When the NIC towards the server offloads kernel TLS (ethtool
  // tls-hw-tx-offload), offer only what it can take: TLS 1.2 with AES-GCM.
  bool prefer_nic_offload = false;
  // TLS 1.3 with AES-GCM: records sent under one key before ours is
  // updated (KeyUpdate; with kernel TLS on a kernel that cannot rekey, a
  // new connection). RFC 8446 5.5 allows at most 2^24.5 (23726566).
  int key_update_records = 1 << 24;
};

struct AuthSection {
  std::string user;                   // Required.
  SecretString password;              // Exactly one of password and
  std::string password_file;          // password_file is set.
  std::vector<AuthMethod> methods = {AuthMethod::kMsChapV2, AuthMethod::kEapMsChapV2};
};

struct NetworkSection {
  std::string interface = "sstp0";
  int mtu = 1400;                     // Windows' default on PPP adapters.
  int mru = 0;                        // 0: same as mtu.
  bool ipv4 = true;
  bool ipv6 = true;
  bool default_route = false;
  std::vector<IpPrefix> routes;
  bool dns = true;                    // Apply the DNS servers IPCP gives us.
  bool tun_offload = true;            // TSO/GRO super-packets on the TUN.

  int effective_mru() const { return mru == 0 ? mtu : mru; }
};

struct ConnectionSection {
  bool reconnect = true;
  absl::Duration reconnect_delay = absl::Seconds(5);
  absl::Duration reconnect_max_delay = absl::Minutes(5);
  int reconnect_attempts = 0;         // 0: unlimited.
  absl::Duration hello_interval = absl::Seconds(60);      // MS-SSTP 3.2.2.
  absl::Duration negotiation_timeout = absl::Seconds(60); // MS-SSTP 3.2.2.
  absl::Duration lcp_echo_interval = absl::Seconds(30);   // 0: off.
  int lcp_echo_failures = 4;
  // The path's expected rate in Mbit/s: with the measured round-trip time
  // it sizes the socket buffers (bandwidth-delay product) when the
  // kernel's TCP autotuning limit would be too small.
  int bandwidth_mbit = 1000;
};

struct Profile {
  std::string name;                   // File name without ".conf".
  ServerSection server;
  TlsSection tls;
  AuthSection auth;
  NetworkSection network;
  ConnectionSection connection;
};

// Parses profile text. `file_name` is used in error messages and, without
// its directory and ".conf", becomes Profile::name.
absl::StatusOr<Profile> ParseProfile(absl::string_view text, absl::string_view file_name);

// Reads `path` and parses it.
absl::StatusOr<Profile> LoadProfile(const std::string& path);

// A human-readable rendering of the effective profile, defaults included,
// with the password replaced by "(set)". For `sstp-ktls check`.
std::string DescribeProfile(const Profile& profile);

}  // namespace sstp::config

#endif  // SSTP_KTLS_DAEMON_CONFIG_PROFILE_H_
