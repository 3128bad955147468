#include "daemon/config/profile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::config {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kMinimal =
    "[server]\n"
    "host = vpn.example.com\n"
    "[auth]\n"
    "user = alice\n"
    "password = s3cret\n";

absl::StatusOr<Profile> Parse(absl::string_view text) { return ParseProfile(text, "/etc/sstp-ktls/office.conf"); }

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<Profile> p = Parse(text);
  EXPECT_FALSE(p.ok()) << "expected an error for:\n" << text;
  return p.ok() ? "" : std::string(p.status().message());
}

TEST(ProfileTest, MinimalProfileGetsDocumentedDefaults) {
  absl::StatusOr<Profile> p = Parse(kMinimal);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "office");
  EXPECT_EQ(p->server.host, "vpn.example.com");
  EXPECT_EQ(p->server.port, 443);
  EXPECT_EQ(p->server.server_name, "");
  EXPECT_EQ(p->server.connect_timeout, absl::Seconds(30));
  EXPECT_EQ(p->tls.min_version, TlsMinVersion::kTls12);
  EXPECT_EQ(p->tls.ktls, KtlsMode::kAuto);
  EXPECT_FALSE(p->tls.insecure_skip_verify);
  EXPECT_FALSE(p->tls.pin_sha256.has_value());
  EXPECT_EQ(p->tls.key_update_records, 16777216);  // 2^24.
  EXPECT_EQ(p->auth.user, "alice");
  EXPECT_EQ(p->auth.password.reveal(), "s3cret");
  EXPECT_EQ(p->auth.methods, (std::vector<AuthMethod>{AuthMethod::kMsChapV2, AuthMethod::kEapMsChapV2}));
  EXPECT_EQ(p->network.interface, "sstp0");
  EXPECT_EQ(p->network.mtu, 1400);
  EXPECT_EQ(p->network.effective_mru(), 1400);
  EXPECT_TRUE(p->network.ipv4);
  EXPECT_TRUE(p->network.ipv6);
  EXPECT_FALSE(p->network.default_route);
  EXPECT_TRUE(p->network.dns);
  EXPECT_TRUE(p->network.tun_offload);
  EXPECT_TRUE(p->connection.reconnect);
  EXPECT_EQ(p->connection.hello_interval, absl::Seconds(60));
  EXPECT_EQ(p->connection.negotiation_timeout, absl::Seconds(60));
  EXPECT_EQ(p->connection.lcp_echo_failures, 4);
}

TEST(ProfileTest, EveryKeyParses) {
  constexpr absl::string_view kFull =
      "# office VPN\n"
      "; semicolon comments too\n"
      "[server]\n"
      "host = 203.0.113.7\n"
      "port = 8443\n"
      "server-name = vpn.example.com\n"
      "proxy = [2001:db8::1]:3128\n"
      "proxy-user = bob\n"
      "proxy-password-file = /etc/sstp-ktls/proxy.pass\n"
      "connect-timeout = 1m30s\n"
      "\n"
      "[tls]\n"
      "ca-file = /etc/ssl/office-ca.pem\n"
      "ca-dir = /etc/ssl/office\n"
      "pin = sha256:7993EF314C493DACE9F02D60E7E61C84B6690AAFE9D7AEEA92CBBE8AD599422D\n"
      "min-version = 1.3\n"
      "insecure-skip-verify = no\n"
      "keylog-file = /tmp/keys.log\n"
      "ktls = on\n"
      "ciphers = chacha20-poly1305, aes256-gcm\n"
      "prefer-nic-offload = no\n"
      "key-update-records = 1000000\n"
      "[auth]\n"
      "user = DOMAIN\\alice\n"
      "password-file = /etc/sstp-ktls/office.pass\n"
      "methods = eap-mschapv2, pap chap\n"
      "[network]\n"
      "interface = office0\n"
      "mtu = 1500\n"
      "mru = 4091\n"
      "ipv4 = yes\n"
      "ipv6 = true\n"
      "default-route = on\n"
      "routes = 10.0.0.0/8, 192.168.10.0/24 fd00::/8\n"
      "dns = off\n"
      "tun-offload = no\n"
      "[connection]\n"
      "reconnect = no\n"
      "reconnect-delay = 2s\n"
      "reconnect-max-delay = 10m\n"
      "reconnect-attempts = 7\n"
      "hello-interval = 20\n"
      "negotiation-timeout = 45s\n"
      "lcp-echo-interval = 0\n"
      "lcp-echo-failures = 3\n"
      "bandwidth-mbit = 10000\n";
  absl::StatusOr<Profile> p = ParseProfile(kFull, "office.conf");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->server.host, "203.0.113.7");
  EXPECT_EQ(p->server.port, 8443);
  EXPECT_EQ(p->server.server_name, "vpn.example.com");
  EXPECT_EQ(p->server.proxy_host, "2001:db8::1");
  EXPECT_EQ(p->server.proxy_port, 3128);
  EXPECT_EQ(p->server.proxy_user, "bob");
  EXPECT_EQ(p->server.connect_timeout, absl::Seconds(90));
  EXPECT_EQ(p->tls.ca_file, "/etc/ssl/office-ca.pem");
  EXPECT_EQ(p->tls.ca_dir, "/etc/ssl/office");
  ASSERT_TRUE(p->tls.pin_sha256.has_value());
  EXPECT_EQ((*p->tls.pin_sha256)[0], 0x79);
  EXPECT_EQ((*p->tls.pin_sha256)[31], 0x2d);
  EXPECT_EQ(p->tls.min_version, TlsMinVersion::kTls13);
  EXPECT_EQ(p->tls.keylog_file, "/tmp/keys.log");
  EXPECT_EQ(p->tls.ktls, KtlsMode::kOn);
  EXPECT_EQ(p->tls.ciphers,
            (std::vector<TlsCipher>{TlsCipher::kChacha20Poly1305, TlsCipher::kAes256Gcm}));
  EXPECT_FALSE(p->tls.prefer_nic_offload);
  EXPECT_EQ(p->tls.key_update_records, 1000000);
  EXPECT_EQ(p->auth.user, "DOMAIN\\alice");
  EXPECT_TRUE(p->auth.password.empty());
  EXPECT_EQ(p->auth.password_file, "/etc/sstp-ktls/office.pass");
  EXPECT_EQ(p->auth.methods,
            (std::vector<AuthMethod>{AuthMethod::kEapMsChapV2, AuthMethod::kPap, AuthMethod::kChapMd5}));
  EXPECT_EQ(p->network.interface, "office0");
  EXPECT_EQ(p->network.mtu, 1500);
  EXPECT_EQ(p->network.effective_mru(), 4091);
  EXPECT_TRUE(p->network.default_route);
  ASSERT_EQ(p->network.routes.size(), 3u);
  EXPECT_EQ(p->network.routes[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ(p->network.routes[1].ToString(), "192.168.10.0/24");
  EXPECT_EQ(p->network.routes[2].ToString(), "fd00::/8");
  EXPECT_EQ(p->network.routes[2].family, AF_INET6);
  EXPECT_FALSE(p->network.dns);
  EXPECT_FALSE(p->network.tun_offload);
  EXPECT_FALSE(p->connection.reconnect);
  EXPECT_EQ(p->connection.reconnect_delay, absl::Seconds(2));
  EXPECT_EQ(p->connection.reconnect_max_delay, absl::Minutes(10));
  EXPECT_EQ(p->connection.reconnect_attempts, 7);
  EXPECT_EQ(p->connection.hello_interval, absl::Seconds(20));
  EXPECT_EQ(p->connection.negotiation_timeout, absl::Seconds(45));
  EXPECT_EQ(p->connection.lcp_echo_interval, absl::ZeroDuration());
  EXPECT_EQ(p->connection.lcp_echo_failures, 3);
  EXPECT_EQ(p->connection.bandwidth_mbit, 10000);
}

TEST(ProfileTest, QuotesKeepSpacesAndHashIsNotAComment) {
  absl::StatusOr<Profile> p = Parse(
      "[server]\nhost = vpn.example.com\n[auth]\nuser = alice\npassword = \" pa#ss \"\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->auth.password.reveal(), " pa#ss ");
}

TEST(ProfileTest, CrLfLineEndingsAreAccepted) {
  absl::StatusOr<Profile> p =
      Parse("[server]\r\nhost = vpn.example.com\r\n[auth]\r\nuser = alice\r\npassword = x\r\n");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->auth.password.reveal(), "x");
}

struct BadCase {
  const char* name;
  std::string text;
  const char* error;
};

class ProfileErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ProfileErrorTest, NamesFileLineKeyAndValue) {
  EXPECT_EQ(ErrorOf(GetParam().text), GetParam().error);
}

const std::string kBase(kMinimal);

INSTANTIATE_TEST_SUITE_P(
    Errors, ProfileErrorTest,
    ::testing::Values(
        BadCase{"UnknownKey", kBase + "[network]\nmtuu = 1400\n",
                "/etc/sstp-ktls/office.conf:7: unknown key 'mtuu' in [network]"},
        BadCase{"UnknownSection", kBase + "[vpn]\n",
                "/etc/sstp-ktls/office.conf:6: unknown section [vpn] (known: server, tls, auth, "
                "network, connection)"},
        BadCase{"KeyOutsideSection", "host = x\n",
                "/etc/sstp-ktls/office.conf:1: key 'host' outside any [section]"},
        BadCase{"NoEquals", "[server]\nhost\n",
                "/etc/sstp-ktls/office.conf:2: expected 'key = value' or '[section]'"},
        BadCase{"UnclosedSection", "[server\n",
                "/etc/sstp-ktls/office.conf:1: section header must end with ']'"},
        BadCase{"Duplicate", kBase + "[server]\nhost = other\n",
                "/etc/sstp-ktls/office.conf:7: [server] host set twice (first on line 2)"},
        BadCase{"PortRange", kBase + "[server]\nport = 70000\n",
                "/etc/sstp-ktls/office.conf:7: [server] port = 70000: must be a whole number "
                "from 1 to 65535"},
        BadCase{"MtuRange", kBase + "[network]\nmtu = 5000\n",
                "/etc/sstp-ktls/office.conf:7: [network] mtu = 5000: must be a whole number "
                "from 576 to 4091"},
        BadCase{"KeyUpdateRecordsPastRfc8446Limit", kBase + "[tls]\nkey-update-records = 23726567\n",
                "/etc/sstp-ktls/office.conf:7: [tls] key-update-records = 23726567: must be a "
                "whole number from 1 to 23726566"},
        BadCase{"MtuTooSmallForIpv6", kBase + "[network]\nmtu = 1200\n",
                "/etc/sstp-ktls/office.conf:7: [network] mtu = 1200: IPv6 needs at least 1280 "
                "(or set ipv6 = no)"},
        BadCase{"Bool", kBase + "[network]\nipv6 = maybe\n",
                "/etc/sstp-ktls/office.conf:7: [network] ipv6 = maybe: must be yes or no"},
        BadCase{"Ktls", kBase + "[tls]\nktls = yes\n",
                "/etc/sstp-ktls/office.conf:7: [tls] ktls = yes: must be auto, on or off"},
        BadCase{"Cipher", kBase + "[tls]\nciphers = aes128-gcm, aes128-cbc\n",
                "/etc/sstp-ktls/office.conf:7: [tls] ciphers = aes128-gcm, aes128-cbc: unknown "
                "cipher 'aes128-cbc' (known: aes128-gcm, aes256-gcm, chacha20-poly1305)"},
        BadCase{"CipherTwice", kBase + "[tls]\nciphers = aes256-gcm aes256-gcm\n",
                "/etc/sstp-ktls/office.conf:7: [tls] ciphers = aes256-gcm aes256-gcm: cipher "
                "'aes256-gcm' listed twice"},
        BadCase{"NicOffloadWithTls13Only",
                kBase + "[tls]\nmin-version = 1.3\nprefer-nic-offload = yes\n",
                "/etc/sstp-ktls/office.conf:8: [tls] prefer-nic-offload needs TLS 1.2 (NIC offload "
                "is TLS 1.2 only), but min-version = 1.3"},
        BadCase{"NicOffloadWithChachaOnly",
                kBase + "[tls]\nciphers = chacha20-poly1305\nprefer-nic-offload = yes\n",
                "/etc/sstp-ktls/office.conf:8: [tls] prefer-nic-offload needs AES-GCM, but ciphers "
                "= chacha20-poly1305"},
        BadCase{"MinVersion", kBase + "[tls]\nmin-version = 1.1\n",
                "/etc/sstp-ktls/office.conf:7: [tls] min-version = 1.1: must be 1.2 or 1.3"},
        BadCase{"PinNotHex", kBase + "[tls]\npin = sha256:xyz\n",
                "/etc/sstp-ktls/office.conf:7: [tls] pin = sha256:xyz: must be sha256:<64 hex "
                "digits>"},
        BadCase{"PinWrongLength", kBase + "[tls]\npin = sha256:abcd\n",
                "/etc/sstp-ktls/office.conf:7: [tls] pin = sha256:abcd: must be sha256:<64 hex "
                "digits>"},
        BadCase{"Method", kBase + "[auth]\nmethods = mschapv2, eap-tls\n",
                "/etc/sstp-ktls/office.conf:7: [auth] methods = mschapv2, eap-tls: unknown "
                "method 'eap-tls' (known: mschapv2, eap-mschapv2, chap, pap)"},
        BadCase{"MethodTwice", kBase + "[auth]\nmethods = pap pap\n",
                "/etc/sstp-ktls/office.conf:7: [auth] methods = pap pap: method 'pap' listed "
                "twice"},
        BadCase{"RouteHostBits", kBase + "[network]\nroutes = 10.1.2.3/8\n",
                "/etc/sstp-ktls/office.conf:7: [network] routes = 10.1.2.3/8: route "
                "'10.1.2.3/8' has host bits set"},
        BadCase{"RouteNoLength", kBase + "[network]\nroutes = 10.0.0.0\n",
                "/etc/sstp-ktls/office.conf:7: [network] routes = 10.0.0.0: route '10.0.0.0' "
                "needs a /length"},
        BadCase{"RouteLength", kBase + "[network]\nroutes = fd00::/129\n",
                "/etc/sstp-ktls/office.conf:7: [network] routes = fd00::/129: route "
                "'fd00::/129' has a bad prefix length"},
        BadCase{"RouteGarbage", kBase + "[network]\nroutes = office/8\n",
                "/etc/sstp-ktls/office.conf:7: [network] routes = office/8: route 'office/8' "
                "is not an IPv4 or IPv6 prefix"},
        BadCase{"RouteFamilyDisabled", kBase + "[network]\nipv6 = no\nroutes = fd00::/8\n",
                "/etc/sstp-ktls/office.conf:8: [network] routes: fd00::/8 needs its address "
                "family enabled"},
        BadCase{"InterfaceTooLong", kBase + "[network]\ninterface = averyveryverylongname\n",
                "/etc/sstp-ktls/office.conf:7: [network] interface = averyveryverylongname: "
                "must be 1 to 15 characters (a Linux interface name)"},
        BadCase{"InterfaceSlash", kBase + "[network]\ninterface = a/b\n",
                "/etc/sstp-ktls/office.conf:7: [network] interface = a/b: may not contain '/', "
                "':', spaces or control characters"},
        BadCase{"Duration", kBase + "[connection]\nhello-interval = soon\n",
                "/etc/sstp-ktls/office.conf:7: [connection] hello-interval = soon: must be a "
                "duration such as 30, 30s, 500ms or 5m"},
        BadCase{"NegativeDuration", kBase + "[connection]\nreconnect-delay = -5s\n",
                "/etc/sstp-ktls/office.conf:7: [connection] reconnect-delay = -5s: must be "
                "between 100ms and 1h"},
        // Zero would make every attempt time out at once, or reconnect in a
        // tight loop.
        BadCase{"ZeroConnectTimeout", kBase + "[server]\nconnect-timeout = 0\n",
                "/etc/sstp-ktls/office.conf:7: [server] connect-timeout = 0: must be "
                "between 1s and 10m"},
        BadCase{"ZeroNegotiationTimeout", kBase + "[connection]\nnegotiation-timeout = 0s\n",
                "/etc/sstp-ktls/office.conf:7: [connection] negotiation-timeout = 0s: must be "
                "between 1s and 10m"},
        BadCase{"ZeroHelloInterval", kBase + "[connection]\nhello-interval = 0\n",
                "/etc/sstp-ktls/office.conf:7: [connection] hello-interval = 0: must be "
                "between 1s and 10m"},
        BadCase{"ZeroReconnectDelay", kBase + "[connection]\nreconnect-delay = 0\n",
                "/etc/sstp-ktls/office.conf:7: [connection] reconnect-delay = 0: must be "
                "between 100ms and 1h"},
        BadCase{"ReconnectOrder", kBase + "[connection]\nreconnect-delay = 10m\nreconnect-max-delay = 1m\n",
                "/etc/sstp-ktls/office.conf:8: [connection] reconnect-max-delay is shorter "
                "than reconnect-delay"},
        BadCase{"HostMissing", "[auth]\nuser = a\npassword = b\n",
                "/etc/sstp-ktls/office.conf: [server] host is required"},
        BadCase{"HostBad", "[server]\nhost = vpn example\n",
                "/etc/sstp-ktls/office.conf:2: [server] host = vpn example: must be a host name "
                "or IP address"},
        BadCase{"UserMissing", "[server]\nhost = a\n[auth]\npassword = b\n",
                "/etc/sstp-ktls/office.conf: [auth] user is required"},
        BadCase{"NoPassword", "[server]\nhost = a\n[auth]\nuser = b\n",
                "/etc/sstp-ktls/office.conf: [auth] needs password or password-file"},
        BadCase{"BothPasswords", kBase + "[auth]\npassword-file = /x\n",
                "/etc/sstp-ktls/office.conf:7: [auth] password and password-file are exclusive; "
                "set one"},
        BadCase{"NoFamilies", kBase + "[network]\nipv4 = no\nipv6 = no\n",
                "/etc/sstp-ktls/office.conf:8: [network] ipv4 and ipv6 are both off; nothing "
                "to carry"},
        BadCase{"ProxyBad", kBase + "[server]\nproxy = proxy.example\n",
                "/etc/sstp-ktls/office.conf:7: [server] proxy = proxy.example: must be "
                "host:port or [ipv6]:port"},
        BadCase{"ProxyUserWithoutProxy",
                kBase + "[server]\nproxy-user = bob\nproxy-password-file = /p\n",
                "/etc/sstp-ktls/office.conf:7: [server] proxy-user is set but proxy is not"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ProfileTest, ErrorsNeverEchoThePassword) {
  const std::string message = ErrorOf(
      "[server]\nhost = a\n[auth]\nuser = b\npassword = " + std::string(2000, 'Z') + "\n");
  EXPECT_THAT(message, HasSubstr("[auth] password = (hidden): must be 1 to 1024 bytes"));
  EXPECT_EQ(message.find("ZZZ"), std::string::npos);
}

TEST(ProfileTest, DescribeHidesPasswordAndShowsDefaults) {
  absl::StatusOr<Profile> p = Parse(kMinimal);
  ASSERT_TRUE(p.ok());
  const std::string text = DescribeProfile(*p);
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  EXPECT_THAT(text, HasSubstr("password = (set)"));
  EXPECT_THAT(text, HasSubstr("server-name = vpn.example.com"));
  EXPECT_THAT(text, HasSubstr("trust = system store"));
  EXPECT_THAT(text, HasSubstr("methods = mschapv2, eap-mschapv2"));
  EXPECT_THAT(text, HasSubstr("reconnect-attempts = unlimited"));
  EXPECT_THAT(text, HasSubstr("tun-offload = yes"));
}

TEST(ProfileTest, LoadProfileReadsFileAndReportsMissingOne) {
  char path[] = "/tmp/profile_test_XXXXXX.conf";
  const int fd = mkstemps(path, 5);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, kMinimal.data(), kMinimal.size()), static_cast<ssize_t>(kMinimal.size()));
  close(fd);
  absl::StatusOr<Profile> p = LoadProfile(path);
  unlink(path);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->server.host, "vpn.example.com");

  absl::StatusOr<Profile> missing = LoadProfile("/nonexistent/office.conf");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("profile /nonexistent/office.conf: No such file or directory"));
}

}  // namespace
}  // namespace sstp::config
