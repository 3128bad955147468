#include "daemon/config/profile.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <functional>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/hex.h"
#include "base/status.h"

namespace sstp::config {
namespace {

// Value parsers return a plain reason ("must be 1..65535"); the caller adds
// file:line, section, key and the value itself.
absl::Status Bad(absl::string_view reason) { return absl::InvalidArgumentError(reason); }

absl::Status ParseBool(absl::string_view v, bool* out) {
  const std::string lower = absl::AsciiStrToLower(v);
  if (lower == "yes" || lower == "true" || lower == "on" || lower == "1") {
    *out = true;
  } else if (lower == "no" || lower == "false" || lower == "off" || lower == "0") {
    *out = false;
  } else {
    return Bad("must be yes or no");
  }
  return absl::OkStatus();
}

absl::Status ParseInt(absl::string_view v, int min, int max, int* out) {
  int value;
  if (!absl::SimpleAtoi(v, &value) || value < min || value > max) {
    return Bad(absl::StrCat("must be a whole number from ", min, " to ", max));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status ParsePort(absl::string_view v, uint16_t* out) {
  int value;
  RETURN_IF_ERROR(ParseInt(v, 1, 65535, &value));
  *out = static_cast<uint16_t>(value);
  return absl::OkStatus();
}

// "30" (seconds) or a unit form: "500ms", "30s", "5m", "1h", "1m30s".
absl::Status ParseDuration(absl::string_view v, absl::Duration min, absl::Duration max,
                           absl::Duration* out) {
  int seconds;
  absl::Duration d;
  if (absl::SimpleAtoi(v, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(v, &d)) {
    return Bad("must be a duration such as 30, 30s, 500ms or 5m");
  }
  if (d < min || d > max) {
    return Bad(absl::StrCat("must be between ", min == absl::ZeroDuration() ? "0" : absl::FormatDuration(min),
                            " and ", absl::FormatDuration(max)));
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ParseHostName(absl::string_view v, std::string* out) {
  if (v.empty() || v.size() > 253) return Bad("must be a host name or IP address");
  for (char c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '_') {
      return Bad("must be a host name or IP address");
    }
  }
  *out = std::string(v);
  return absl::OkStatus();
}

// host:port or [v6]:port.
absl::Status ParseHostPort(absl::string_view v, std::string* host, uint16_t* port) {
  absl::string_view host_part, port_part;
  if (absl::ConsumePrefix(&v, "[")) {
    const size_t close = v.find("]:");
    if (close == absl::string_view::npos) return Bad("must be host:port or [ipv6]:port");
    host_part = v.substr(0, close);
    port_part = v.substr(close + 2);
  } else {
    const size_t colon = v.rfind(':');
    if (colon == absl::string_view::npos || v.find(':') != colon) {
      return Bad("must be host:port or [ipv6]:port");
    }
    host_part = v.substr(0, colon);
    port_part = v.substr(colon + 1);
  }
  RETURN_IF_ERROR(ParseHostName(host_part, host));
  return ParsePort(port_part, port);
}

absl::Status ParsePin(absl::string_view v, std::optional<std::array<uint8_t, 32>>* out) {
  if (!absl::ConsumePrefix(&v, "sha256:")) return Bad("must be sha256:<64 hex digits>");
  absl::StatusOr<std::vector<uint8_t>> bytes = FromHex(v);
  if (!bytes.ok() || bytes->size() != 32) return Bad("must be sha256:<64 hex digits>");
  std::array<uint8_t, 32> pin;
  std::copy(bytes->begin(), bytes->end(), pin.begin());
  *out = pin;
  return absl::OkStatus();
}

std::string CipherList(const std::vector<TlsCipher>& ciphers) {
  std::vector<absl::string_view> names;
  for (TlsCipher c : ciphers) names.push_back(TlsCipherName(c));
  return absl::StrJoin(names, ", ");
}

std::vector<absl::string_view> SplitList(absl::string_view v) {
  return absl::StrSplit(v, absl::ByAnyChar(", \t"), absl::SkipEmpty());
}

absl::Status ParseMethods(absl::string_view v, std::vector<AuthMethod>* out) {
  std::vector<AuthMethod> methods;
  for (absl::string_view item : SplitList(v)) {
    const std::string name = absl::AsciiStrToLower(item);
    AuthMethod method;
    if (name == "mschapv2") {
      method = AuthMethod::kMsChapV2;
    } else if (name == "eap-mschapv2") {
      method = AuthMethod::kEapMsChapV2;
    } else if (name == "chap") {
      method = AuthMethod::kChapMd5;
    } else if (name == "pap") {
      method = AuthMethod::kPap;
    } else {
      return Bad(absl::StrCat("unknown method '", item,
                              "' (known: mschapv2, eap-mschapv2, chap, pap)"));
    }
    if (std::find(methods.begin(), methods.end(), method) != methods.end()) {
      return Bad(absl::StrCat("method '", item, "' listed twice"));
    }
    methods.push_back(method);
  }
  if (methods.empty()) return Bad("must list at least one method");
  *out = std::move(methods);
  return absl::OkStatus();
}

absl::Status ParseCiphers(absl::string_view v, std::vector<TlsCipher>* out) {
  std::vector<TlsCipher> ciphers;
  for (absl::string_view item : SplitList(v)) {
    const std::string name = absl::AsciiStrToLower(item);
    TlsCipher cipher;
    if (name == "aes128-gcm") {
      cipher = TlsCipher::kAes128Gcm;
    } else if (name == "aes256-gcm") {
      cipher = TlsCipher::kAes256Gcm;
    } else if (name == "chacha20-poly1305") {
      cipher = TlsCipher::kChacha20Poly1305;
    } else {
      return Bad(absl::StrCat("unknown cipher '", item,
                              "' (known: aes128-gcm, aes256-gcm, chacha20-poly1305)"));
    }
    if (std::find(ciphers.begin(), ciphers.end(), cipher) != ciphers.end()) {
      return Bad(absl::StrCat("cipher '", item, "' listed twice"));
    }
    ciphers.push_back(cipher);
  }
  if (ciphers.empty()) return Bad("must list at least one cipher");
  *out = std::move(ciphers);
  return absl::OkStatus();
}

absl::Status ParsePrefix(absl::string_view v, IpPrefix* out) {
  const size_t slash = v.find('/');
  if (slash == absl::string_view::npos) return Bad(absl::StrCat("route '", v, "' needs a /length"));
  const std::string address(v.substr(0, slash));
  IpPrefix prefix;
  int max_length;
  if (inet_pton(AF_INET, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = AF_INET;
    max_length = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = AF_INET6;
    max_length = 128;
  } else {
    return Bad(absl::StrCat("route '", v, "' is not an IPv4 or IPv6 prefix"));
  }
  if (!absl::SimpleAtoi(v.substr(slash + 1), &prefix.length) || prefix.length < 0 ||
      prefix.length > max_length) {
    return Bad(absl::StrCat("route '", v, "' has a bad prefix length"));
  }
  for (int bit = prefix.length; bit < max_length; ++bit) {
    if (prefix.address[bit / 8] & (0x80 >> (bit % 8))) {
      return Bad(absl::StrCat("route '", v, "' has host bits set"));
    }
  }
  *out = prefix;
  return absl::OkStatus();
}

absl::Status ParseRoutes(absl::string_view v, std::vector<IpPrefix>* out) {
  std::vector<IpPrefix> routes;
  for (absl::string_view item : SplitList(v)) {
    IpPrefix prefix;
    RETURN_IF_ERROR(ParsePrefix(item, &prefix));
    routes.push_back(prefix);
  }
  *out = std::move(routes);
  return absl::OkStatus();
}

// Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or space.
absl::Status ParseInterfaceName(absl::string_view v, std::string* out) {
  if (v.empty() || v.size() > 15 || v == "." || v == "..") {
    return Bad("must be 1 to 15 characters (a Linux interface name)");
  }
  for (char c : v) {
    if (c == '/' || c == ':' || absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        !absl::ascii_isprint(static_cast<unsigned char>(c))) {
      return Bad("may not contain '/', ':', spaces or control characters");
    }
  }
  *out = std::string(v);
  return absl::OkStatus();
}

absl::Status ParsePath(absl::string_view v, std::string* out) {
  if (v.empty()) return Bad("must be a path");
  *out = std::string(v);
  return absl::OkStatus();
}

using Setter = std::function<absl::Status(absl::string_view value, Profile& p)>;

struct KeySpec {
  absl::string_view section;
  absl::string_view key;
  Setter set;
};

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec>* keys = new std::vector<KeySpec>{
      // [server]
      {"server", "host", [](auto v, Profile& p) { return ParseHostName(v, &p.server.host); }},
      {"server", "port", [](auto v, Profile& p) { return ParsePort(v, &p.server.port); }},
      {"server", "server-name",
       [](auto v, Profile& p) { return ParseHostName(v, &p.server.server_name); }},
      {"server", "proxy",
       [](auto v, Profile& p) {
         return ParseHostPort(v, &p.server.proxy_host, &p.server.proxy_port);
       }},
      {"server", "proxy-user",
       [](auto v, Profile& p) {
         if (v.empty() || v.find(':') != absl::string_view::npos) {
           return Bad("must be non-empty and may not contain ':'");
         }
         p.server.proxy_user = std::string(v);
         return absl::OkStatus();
       }},
      {"server", "proxy-password-file",
       [](auto v, Profile& p) { return ParsePath(v, &p.server.proxy_password_file); }},
      {"server", "connect-timeout",
       [](auto v, Profile& p) {
         return ParseDuration(v, absl::Seconds(1), absl::Minutes(10), &p.server.connect_timeout);
       }},
      // [tls]
      {"tls", "ca-file", [](auto v, Profile& p) { return ParsePath(v, &p.tls.ca_file); }},
      {"tls", "ca-dir", [](auto v, Profile& p) { return ParsePath(v, &p.tls.ca_dir); }},
      {"tls", "pin", [](auto v, Profile& p) { return ParsePin(v, &p.tls.pin_sha256); }},
      {"tls", "min-version",
       [](auto v, Profile& p) {
         if (v == "1.2") {
           p.tls.min_version = TlsMinVersion::kTls12;
         } else if (v == "1.3") {
           p.tls.min_version = TlsMinVersion::kTls13;
         } else {
           return Bad("must be 1.2 or 1.3");
         }
         return absl::OkStatus();
       }},
      {"tls", "insecure-skip-verify",
       [](auto v, Profile& p) { return ParseBool(v, &p.tls.insecure_skip_verify); }},
      {"tls", "keylog-file", [](auto v, Profile& p) { return ParsePath(v, &p.tls.keylog_file); }},
      {"tls", "ciphers", [](auto v, Profile& p) { return ParseCiphers(v, &p.tls.ciphers); }},
      {"tls", "prefer-nic-offload",
       [](auto v, Profile& p) { return ParseBool(v, &p.tls.prefer_nic_offload); }},
      {"tls", "key-update-records",
       [](auto v, Profile& p) { return ParseInt(v, 1, 23726566, &p.tls.key_update_records); }},
      {"tls", "ktls",
       [](auto v, Profile& p) {
         if (v == "auto") {
           p.tls.ktls = KtlsMode::kAuto;
         } else if (v == "on") {
           p.tls.ktls = KtlsMode::kOn;
         } else if (v == "off") {
           p.tls.ktls = KtlsMode::kOff;
         } else {
           return Bad("must be auto, on or off");
         }
         return absl::OkStatus();
       }},
      // [auth]
      {"auth", "user",
       [](auto v, Profile& p) {
         if (v.empty() || v.size() > 255) return Bad("must be 1 to 255 bytes");
         p.auth.user = std::string(v);
         return absl::OkStatus();
       }},
      {"auth", "password",
       [](auto v, Profile& p) {
         // RFC 2759 limits the password to 256 Unicode characters; bytes are
         // checked here, characters when MS-CHAPv2 converts it.
         if (v.empty() || v.size() > 1024) return Bad("must be 1 to 1024 bytes");
         p.auth.password = SecretString(std::string(v));
         return absl::OkStatus();
       }},
      {"auth", "password-file",
       [](auto v, Profile& p) { return ParsePath(v, &p.auth.password_file); }},
      {"auth", "methods", [](auto v, Profile& p) { return ParseMethods(v, &p.auth.methods); }},
      // [network]
      {"network", "interface",
       [](auto v, Profile& p) { return ParseInterfaceName(v, &p.network.interface); }},
      // 4091 is the largest PPP frame an SSTP packet can carry (MS-SSTP 2.2.1);
      // 576 the smallest IPv4 datagram every host must accept (RFC 791).
      {"network", "mtu", [](auto v, Profile& p) { return ParseInt(v, 576, 4091, &p.network.mtu); }},
      {"network", "mru", [](auto v, Profile& p) { return ParseInt(v, 576, 4091, &p.network.mru); }},
      {"network", "ipv4", [](auto v, Profile& p) { return ParseBool(v, &p.network.ipv4); }},
      {"network", "ipv6", [](auto v, Profile& p) { return ParseBool(v, &p.network.ipv6); }},
      {"network", "default-route",
       [](auto v, Profile& p) { return ParseBool(v, &p.network.default_route); }},
      {"network", "routes", [](auto v, Profile& p) { return ParseRoutes(v, &p.network.routes); }},
      {"network", "dns", [](auto v, Profile& p) { return ParseBool(v, &p.network.dns); }},
      {"network", "tun-offload",
       [](auto v, Profile& p) { return ParseBool(v, &p.network.tun_offload); }},
      // [connection]
      {"connection", "reconnect",
       [](auto v, Profile& p) { return ParseBool(v, &p.connection.reconnect); }},
      {"connection", "reconnect-delay",
       [](auto v, Profile& p) {
         return ParseDuration(v, absl::Milliseconds(100), absl::Hours(1), &p.connection.reconnect_delay);
       }},
      {"connection", "reconnect-max-delay",
       [](auto v, Profile& p) {
         return ParseDuration(v, absl::Milliseconds(100), absl::Hours(24), &p.connection.reconnect_max_delay);
       }},
      {"connection", "reconnect-attempts",
       [](auto v, Profile& p) {
         return ParseInt(v, 0, 1000000, &p.connection.reconnect_attempts);
       }},
      {"connection", "hello-interval",
       [](auto v, Profile& p) {
         return ParseDuration(v, absl::Seconds(1), absl::Minutes(10), &p.connection.hello_interval);
       }},
      {"connection", "negotiation-timeout",
       [](auto v, Profile& p) {
         return ParseDuration(v, absl::Seconds(1), absl::Minutes(10), &p.connection.negotiation_timeout);
       }},
      {"connection", "lcp-echo-interval",
       [](auto v, Profile& p) {
         return ParseDuration(v, absl::ZeroDuration(), absl::Minutes(10), &p.connection.lcp_echo_interval);
       }},
      {"connection", "lcp-echo-failures",
       [](auto v, Profile& p) { return ParseInt(v, 1, 100, &p.connection.lcp_echo_failures); }},
      {"connection", "bandwidth-mbit",
       [](auto v, Profile& p) { return ParseInt(v, 1, 400000, &p.connection.bandwidth_mbit); }},
  };
  return *keys;
}

bool IsKnownSection(absl::string_view section) {
  for (const KeySpec& spec : Keys()) {
    if (spec.section == section) return true;
  }
  return false;
}

// Strips one pair of surrounding double quotes.
absl::string_view Unquote(absl::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

std::string ProfileName(absl::string_view file_name) {
  const size_t slash = file_name.rfind('/');
  absl::string_view base = slash == absl::string_view::npos ? file_name : file_name.substr(slash + 1);
  absl::ConsumeSuffix(&base, ".conf");
  return std::string(base);
}

}  // namespace

absl::string_view AuthMethodName(AuthMethod method) {
  switch (method) {
    case AuthMethod::kMsChapV2:
      return "mschapv2";
    case AuthMethod::kEapMsChapV2:
      return "eap-mschapv2";
    case AuthMethod::kChapMd5:
      return "chap";
    case AuthMethod::kPap:
      return "pap";
  }
  return "?";
}

absl::string_view KtlsModeName(KtlsMode mode) {
  switch (mode) {
    case KtlsMode::kAuto:
      return "auto";
    case KtlsMode::kOn:
      return "on";
    case KtlsMode::kOff:
      return "off";
  }
  return "?";
}

absl::string_view TlsCipherName(TlsCipher cipher) {
  switch (cipher) {
    case TlsCipher::kAes128Gcm:
      return "aes128-gcm";
    case TlsCipher::kAes256Gcm:
      return "aes256-gcm";
    case TlsCipher::kChacha20Poly1305:
      return "chacha20-poly1305";
  }
  return "?";
}

absl::string_view TlsMinVersionName(TlsMinVersion version) {
  switch (version) {
    case TlsMinVersion::kTls12:
      return "1.2";
    case TlsMinVersion::kTls13:
      return "1.3";
  }
  return "?";
}

std::string IpPrefix::ToString() const {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(family, address.data(), text, sizeof(text));
  return absl::StrCat(text, "/", length);
}

absl::StatusOr<Profile> ParseProfile(absl::string_view text, absl::string_view file_name) {
  Profile profile;
  profile.name = ProfileName(file_name);
  // Where each key was set, for duplicate detection and cross-key errors.
  std::map<std::string, int> seen;
  std::string section;
  int line_number = 0;

  auto error_at = [&](int line, absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", line, ": ", message));
  };

  for (absl::string_view raw_line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw_line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    if (line.front() == '[') {
      if (line.back() != ']') return error_at(line_number, "section header must end with ']'");
      section = std::string(absl::StripAsciiWhitespace(line.substr(1, line.size() - 2)));
      if (!IsKnownSection(section)) {
        return error_at(line_number,
                        absl::StrCat("unknown section [", section,
                                     "] (known: server, tls, auth, network, connection)"));
      }
      continue;
    }

    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return error_at(line_number, "expected 'key = value' or '[section]'");
    }
    const std::string key(absl::StripAsciiWhitespace(line.substr(0, equals)));
    const absl::string_view value = Unquote(absl::StripAsciiWhitespace(line.substr(equals + 1)));
    if (section.empty()) {
      return error_at(line_number, absl::StrCat("key '", key, "' outside any [section]"));
    }
    const KeySpec* spec = nullptr;
    for (const KeySpec& candidate : Keys()) {
      if (candidate.section == section && candidate.key == key) spec = &candidate;
    }
    if (spec == nullptr) {
      return error_at(line_number, absl::StrCat("unknown key '", key, "' in [", section, "]"));
    }
    const std::string qualified = absl::StrCat("[", section, "] ", key);
    if (auto it = seen.find(qualified); it != seen.end()) {
      return error_at(line_number,
                      absl::StrCat(qualified, " set twice (first on line ", it->second, ")"));
    }
    seen[qualified] = line_number;
    if (absl::Status status = spec->set(value, profile); !status.ok()) {
      // Never echo a secret back, even a malformed one.
      const bool secret = key == "password";
      return error_at(line_number, absl::StrCat(qualified, " = ", secret ? "(hidden)" : value,
                                                ": ", status.message()));
    }
  }

  auto line_of = [&](absl::string_view qualified) {
    auto it = seen.find(std::string(qualified));
    return it == seen.end() ? 0 : it->second;
  };
  auto error_for = [&](absl::string_view qualified, absl::string_view message) {
    const int line = line_of(qualified);
    if (line == 0) return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", message));
    return error_at(line, message);
  };

  if (profile.server.host.empty()) return error_for("", "[server] host is required");
  if (profile.auth.user.empty()) return error_for("", "[auth] user is required");
  const bool has_password = !profile.auth.password.empty();
  const bool has_password_file = !profile.auth.password_file.empty();
  if (has_password == has_password_file) {
    return error_for("[auth] password-file",
                     has_password ? "[auth] password and password-file are exclusive; set one"
                                  : "[auth] needs password or password-file");
  }
  if (!profile.network.ipv4 && !profile.network.ipv6) {
    return error_for("[network] ipv6", "[network] ipv4 and ipv6 are both off; nothing to carry");
  }
  // RFC 8200 5: IPv6 needs a link MTU of at least 1280.
  if (profile.network.ipv6 && profile.network.mtu < 1280) {
    return error_for("[network] mtu",
                     absl::StrCat("[network] mtu = ", profile.network.mtu,
                                  ": IPv6 needs at least 1280 (or set ipv6 = no)"));
  }
  if (profile.tls.prefer_nic_offload && profile.tls.min_version == TlsMinVersion::kTls13) {
    return error_for("[tls] prefer-nic-offload",
                     "[tls] prefer-nic-offload needs TLS 1.2 (NIC offload is TLS 1.2 only), but "
                     "min-version = 1.3");
  }
  const std::vector<TlsCipher>& ciphers = profile.tls.ciphers;
  if (profile.tls.prefer_nic_offload && !ciphers.empty() &&
      std::count(ciphers.begin(), ciphers.end(), TlsCipher::kChacha20Poly1305) ==
          static_cast<long>(ciphers.size())) {
    return error_for("[tls] prefer-nic-offload",
                     "[tls] prefer-nic-offload needs AES-GCM, but ciphers = chacha20-poly1305");
  }
  if (profile.connection.reconnect_max_delay < profile.connection.reconnect_delay) {
    return error_for("[connection] reconnect-max-delay",
                     "[connection] reconnect-max-delay is shorter than reconnect-delay");
  }
  if (!profile.server.proxy_user.empty() && profile.server.proxy_host.empty()) {
    return error_for("[server] proxy-user", "[server] proxy-user is set but proxy is not");
  }
  if (profile.server.proxy_user.empty() != profile.server.proxy_password_file.empty()) {
    return error_for("[server] proxy-password-file",
                     "[server] proxy-user and proxy-password-file go together");
  }
  for (const IpPrefix& route : profile.network.routes) {
    if ((route.family == AF_INET && !profile.network.ipv4) ||
        (route.family == AF_INET6 && !profile.network.ipv6)) {
      return error_for("[network] routes",
                       absl::StrCat("[network] routes: ", route.ToString(),
                                    " needs its address family enabled"));
    }
  }
  return profile;
}

absl::StatusOr<Profile> LoadProfile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return ErrnoStatus(errno == 0 ? ENOENT : errno, absl::StrCat("profile ", path));
  std::stringstream contents;
  contents << file.rdbuf();
  if (contents.str().size() > 1 << 20) {
    return absl::InvalidArgumentError(absl::StrCat("profile ", path, ": larger than 1 MiB"));
  }
  std::string text = contents.str();
  absl::StatusOr<Profile> profile = ParseProfile(text, path);
  WipeBytes(text.data(), text.size());  // It may hold the password.
  return profile;
}

std::string DescribeProfile(const Profile& p) {
  auto duration = [](absl::Duration d) { return absl::FormatDuration(d); };
  auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  std::vector<std::string> methods, routes;
  for (AuthMethod m : p.auth.methods) methods.emplace_back(AuthMethodName(m));
  for (const IpPrefix& r : p.network.routes) routes.push_back(r.ToString());
  std::string out;
  absl::StrAppend(&out, "profile ", p.name, "\n");
  absl::StrAppend(&out, "[server]\n  host = ", p.server.host, "\n  port = ", p.server.port,
                  "\n  server-name = ", p.server.server_name.empty() ? p.server.host : p.server.server_name,
                  "\n  proxy = ",
                  p.server.proxy_host.empty() ? "(none)"
                                              : absl::StrCat(p.server.proxy_host, ":", p.server.proxy_port),
                  "\n  connect-timeout = ", duration(p.server.connect_timeout), "\n");
  absl::StrAppend(&out, "[tls]\n  ca-file = ", p.tls.ca_file.empty() ? "(none)" : p.tls.ca_file,
                  "\n  ca-dir = ", p.tls.ca_dir.empty() ? "(none)" : p.tls.ca_dir,
                  "\n  trust = ", p.tls.ca_file.empty() && p.tls.ca_dir.empty() ? "system store" : "profile CAs",
                  "\n  pin = ", p.tls.pin_sha256 ? "sha256:" + ToHex(*p.tls.pin_sha256) : "(none)",
                  "\n  min-version = ", TlsMinVersionName(p.tls.min_version),
                  "\n  insecure-skip-verify = ", yes_no(p.tls.insecure_skip_verify),
                  "\n  keylog-file = ", p.tls.keylog_file.empty() ? "(off)" : p.tls.keylog_file,
                  "\n  ciphers = ", p.tls.ciphers.empty() ? "aes128-gcm, aes256-gcm, chacha20-poly1305" : CipherList(p.tls.ciphers),
                  "\n  prefer-nic-offload = ", yes_no(p.tls.prefer_nic_offload),
                  "\n  key-update-records = ", p.tls.key_update_records,
                  "\n  ktls = ", KtlsModeName(p.tls.ktls), "\n");
  absl::StrAppend(&out, "[auth]\n  user = ", p.auth.user, "\n  password = ",
                  p.auth.password.empty() ? "(from " + p.auth.password_file + ")" : "(set)",
                  "\n  methods = ", absl::StrJoin(methods, ", "), "\n");
  absl::StrAppend(&out, "[network]\n  interface = ", p.network.interface, "\n  mtu = ", p.network.mtu,
                  "\n  mru = ", p.network.effective_mru(), "\n  ipv4 = ", yes_no(p.network.ipv4),
                  "\n  ipv6 = ", yes_no(p.network.ipv6),
                  "\n  default-route = ", yes_no(p.network.default_route),
                  "\n  routes = ", routes.empty() ? "(none)" : absl::StrJoin(routes, ", "),
                  "\n  dns = ", yes_no(p.network.dns),
                  "\n  tun-offload = ", yes_no(p.network.tun_offload), "\n");
  absl::StrAppend(&out, "[connection]\n  reconnect = ", yes_no(p.connection.reconnect),
                  "\n  reconnect-delay = ", duration(p.connection.reconnect_delay),
                  "\n  reconnect-max-delay = ", duration(p.connection.reconnect_max_delay),
                  "\n  reconnect-attempts = ",
                  p.connection.reconnect_attempts == 0 ? std::string("unlimited")
                                                       : absl::StrCat(p.connection.reconnect_attempts),
                  "\n  hello-interval = ", duration(p.connection.hello_interval),
                  "\n  negotiation-timeout = ", duration(p.connection.negotiation_timeout),
                  "\n  lcp-echo-interval = ", duration(p.connection.lcp_echo_interval),
                  "\n  lcp-echo-failures = ", p.connection.lcp_echo_failures,
                  "\n  bandwidth-mbit = ", p.connection.bandwidth_mbit, "\n");
  return out;
}

}  // namespace sstp::config
