// sstp-test-server: the SSTP server the project tests against. A real
// server, not a mock: TLS (daemon/tls), the server side of the SSTP call
// state machine with a strict crypto-binding check (daemon/sstp), a PPP
// authenticator and NCPs from the project's PPP code (daemon/ppp), and its
// own TUN so traffic really crosses (netlink/, dataplane/). Personalities
// reproduce the documented behaviour of real servers (SSTP-NOTES.md):
// windows, softether, accel, strict.
//
// One connection per child process; the parent keeps accepting (or, with
// --once, serves a single connection in the foreground).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <poll.h>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "base/random.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "daemon/dataplane/engine.h"
#include "daemon/ppp/server.h"
#include "daemon/session/kernel_tls.h"
#include "daemon/session/transport.h"
#include "daemon/sstp/http.h"
#include "daemon/sstp/server.h"
#include "daemon/tls/server.h"
#include "netlink/network_changes.h"
#include "netlink/rtnl.h"
#include "netlink/tun.h"
#include "uring/ring.h"
#include "uring/timer.h"

namespace sstp::testserver {
namespace {

struct Options {
  std::string listen_address = "0.0.0.0";
  uint16_t port = 443;
  std::string cert_file, key_file, users_file;
  std::string personality = "windows";
  std::string tun_name = "sstps0";
  std::string server_ip = "192.168.90.1";
  std::string client_ip = "192.168.90.2";
  std::string dns = "192.168.90.53";
  std::string tls_max = "1.3";
  std::string required_sni;
  std::string keylog_file;
  std::string auth;  // Overrides the personality's method list.
  std::string misbehave;  // See kUsage; 3 s after the tunnel is up.
  std::string ktls = "off";  // Record layer: off (OpenSSL) | on | auto.
  std::string ciphers;       // aes128,aes256,chacha20 (default: all three).
  bool tun_offload = true;   // TSO/GRO on the server's TUN.
  std::optional<int> mru;    // Overrides the personality's LCP MRU offer.
  bool once = false;
};

constexpr const char kUsage[] =
    "usage: sstp-test-server --cert FILE --key FILE --users FILE [options]\n"
    "  --listen ADDR:PORT     address to listen on (default 0.0.0.0:443)\n"
    "  --personality NAME     windows | softether | accel | strict (default windows)\n"
    "  --tun NAME             server-side TUN name (default sstps0)\n"
    "  --server-ip A          server's tunnel address (default 192.168.90.1)\n"
    "  --client-ip A          address given to the client (default 192.168.90.2)\n"
    "  --dns A                DNS server offered (default 192.168.90.53)\n"
    "  --tls-max 1.2|1.3      highest TLS version (1.2 emulates Windows Server 2019)\n"
    "  --required-sni NAME    refuse connections whose SNI differs (accel-ppp host-name)\n"
    "  --keylog FILE          NSS key log, for Wireshark\n"
    "  --auth LIST            methods offered, in order: pap,chap,mschapv2,eap\n"
    "                         (default: the personality's)\n"
    "  --misbehave MODE       3 s after the tunnel is up: abort (CALL_ABORT),\n"
    "                         garbage (a packet with SSTP version 0x11), or\n"
    "                         silent (stop reading and sending; socket stays open),\n"
    "                         oversized (a 4095-byte data packet: a PPP frame far\n"
    "                         beyond the client's MRU, carrying a bogus IPv4 packet),\n"
    "                         late-ticket (a TLS 1.3 NewSessionTicket),\n"
    "                         keyupdate (a TLS 1.3 KeyUpdate: new server keys)\n"
    "  --ktls off|on|auto     record layer after the HTTP exchange: OpenSSL in user\n"
    "                         space (default), the kernel (kTLS), or the kernel\n"
    "                         when it can\n"
    "  --ciphers LIST         AEADs allowed, in order: aes128,aes256,chacha20\n"
    "  --tun-offload on|off   TSO/GRO super-packets on the TUN (default on)\n"
    "  --mru N                the LCP MRU offered (128..4091; default: the personality's)\n"
    "  --log-level L          error | warning | notice (default) | info | debug\n"
    "  --once                 serve one connection in the foreground, then exit\n"
    "users file: one 'name password' per line; '#' starts a comment line\n";

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (flag == "--once") {
      o.once = true;
      continue;
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(flag, " needs a value"));
    const std::string value = argv[++i];
    if (flag == "--listen") {
      const size_t colon = value.rfind(':');
      int port = 0;
      if (colon == std::string::npos || !absl::SimpleAtoi(value.substr(colon + 1), &port) ||
          port <= 0 || port > 65535) {
        return absl::InvalidArgumentError("--listen wants ADDR:PORT");
      }
      o.listen_address = value.substr(0, colon);
      o.port = static_cast<uint16_t>(port);
    } else if (flag == "--cert") {
      o.cert_file = value;
    } else if (flag == "--key") {
      o.key_file = value;
    } else if (flag == "--users") {
      o.users_file = value;
    } else if (flag == "--personality") {
      o.personality = value;
    } else if (flag == "--tun") {
      o.tun_name = value;
    } else if (flag == "--server-ip") {
      o.server_ip = value;
    } else if (flag == "--client-ip") {
      o.client_ip = value;
    } else if (flag == "--dns") {
      o.dns = value;
    } else if (flag == "--tls-max") {
      o.tls_max = value;
    } else if (flag == "--required-sni") {
      o.required_sni = value;
    } else if (flag == "--misbehave") {
      if (value != "abort" && value != "garbage" && value != "silent" && value != "oversized" &&
          value != "late-ticket" && value != "keyupdate") {
        return absl::InvalidArgumentError(
            "--misbehave wants abort, garbage, silent, oversized, late-ticket or keyupdate");
      }
      o.misbehave = value;
    } else if (flag == "--ktls") {
      if (value != "off" && value != "on" && value != "auto") {
        return absl::InvalidArgumentError("--ktls wants off, on or auto");
      }
      o.ktls = value;
    } else if (flag == "--ciphers") {
      o.ciphers = value;
    } else if (flag == "--tun-offload") {
      if (value != "on" && value != "off") return absl::InvalidArgumentError("--tun-offload wants on or off");
      o.tun_offload = value == "on";
    } else if (flag == "--auth") {
      o.auth = value;
    } else if (flag == "--mru") {
      int mru;
      if (!absl::SimpleAtoi(value, &mru) || mru < 128 || mru > 4091) {
        return absl::InvalidArgumentError("--mru wants 128..4091");
      }
      o.mru = mru;
    } else if (flag == "--log-level") {
      LogLevel level;
      if (!ParseLogLevel(value, &level)) return absl::InvalidArgumentError("bad --log-level");
      SetLogLevel(level);
    } else if (flag == "--keylog") {
      o.keylog_file = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", flag));
    }
  }
  if (o.cert_file.empty() || o.key_file.empty() || o.users_file.empty()) {
    return absl::InvalidArgumentError("--cert, --key and --users are required");
  }
  return o;
}

absl::StatusOr<std::map<std::string, SecretString, std::less<>>> LoadUsers(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("users file ", path, ": cannot open"));
  std::map<std::string, SecretString, std::less<>> users;
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#') continue;
    const size_t space = text.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": want 'name password'"));
    }
    users.emplace(std::string(text.substr(0, space)),
                  SecretString(std::string(absl::StripAsciiWhitespace(text.substr(space + 1)))));
  }
  return users;
}

absl::StatusOr<ppp::Ipv4Address> ParseV4(const std::string& text) {
  ppp::Ipv4Address a;
  if (inet_pton(AF_INET, text.c_str(), a.data()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", text));
  }
  return a;
}

// Everything one connection needs; lives in the child process.
class Connection final : public dataplane::ControlPlane {
 public:
  Connection(const Options& options, Logger log) : options_(options), log_(std::move(log)) {}

  absl::Status Serve(int fd, const tls::ServerContext& tls_context, int stop_fd);

  void OnSstpControl(absl::Span<const uint8_t> packet) override { Apply(sstp_->OnPacket(packet)); }
  void OnPppFrame(uint16_t protocol, absl::Span<const uint8_t> information,
                  bool had_address_control) override {
    if (!sstp_->ppp_control_allowed()) return;
    Apply(ppp_->OnFrame(protocol, information, had_address_control));
  }
  void OnTraffic() override { sstp_->OnDataReceived(); }
  void OnTlsRecord(uint8_t content_type, absl::Span<const uint8_t> body) override {
    if (!kernel_) return;
    absl::Status ended = kernel_->OnRecord(content_type, body);
    if (!ended.ok()) OnTransportClosed(ended);
  }
  void OnTransportClosed(absl::Status reason) override {
    transport_closed_ = true;
    log_.Info("connection closed: %s", std::string(reason.message()));
    Apply(sstp_->OnTransportClosed());
    Finish(absl::OkStatus());
  }

 private:
  struct StopReader final : uring::Completion {
    Connection* self;
    std::array<uint8_t, 128> buffer;
    void OnComplete(int32_t res, uint32_t) override {
      if (res >= 0) {
        self->log_.Notice("stop requested");
        self->Apply(self->sstp_->Disconnect());
      }
    }
  };

  absl::Status ReadRequest(tls::Connection& tls);
  absl::Status ConfigureNetwork();
  // Test hooks for the client's failure handling (--misbehave).
  void Misbehave() {
    log_.Warning("misbehaving on purpose: %s", options_.misbehave);
    if (options_.misbehave == "abort") {
      Apply(sstp_->Abort(proto::StatusCode::kValueNotSupported));
    } else if (options_.misbehave == "garbage") {
      const uint8_t bad_version[] = {0x11, 0x01, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00};
      (void)engine_->SendSstp(bad_version);
    } else if (options_.misbehave == "oversized") {
      // The largest SSTP packet there is (MS-SSTP 2.2.1: 4095 bytes), its PPP
      // frame far beyond the MRU the client asked for; the "IPv4" inside
      // claims a length it does not have. The client must survive it.
      std::vector<uint8_t> information(proto::kMaxDataPayload - 4, 0x5a);
      information[0] = 0x45;
      (void)engine_->SendPpp(0x0021, information);
    } else if (options_.misbehave == "late-ticket" || options_.misbehave == "keyupdate") {
      // Post-handshake TLS 1.3 messages, produced by OpenSSL and sent ahead
      // of the next data: a client on kernel TLS sees them as handshake
      // records (KTLS-NOTES.md).
      std::vector<uint8_t> record;
      absl::Status s = options_.misbehave == "keyupdate" ? tls_->EncodeKeyUpdate(false, &record)
                                                         : tls_->EncodeNewSessionTicket(&record);
      if (s.ok()) s = engine_->SendTlsBytes(record);
      if (!s.ok()) log_.Error("%s: %s", options_.misbehave, std::string(s.message()));
    } else if (options_.misbehave == "silent") {
      silent_ = true;
      engine_->Stop();  // No more reads or writes; the TCP socket stays open.
    }
  }
  void Apply(proto::Actions actions);
  void Apply(ppp::PppServer::Actions actions);
  void Finish(absl::Status status) {
    if (!finished_) result_ = std::move(status);
    finished_ = true;
  }
  uring::Timer& Timer(std::map<int, std::unique_ptr<uring::Timer>>& timers, int id,
                      std::function<void()> fire) {
    std::unique_ptr<uring::Timer>& t = timers[id];
    if (!t) t = std::make_unique<uring::Timer>(*ring_, std::move(fire));
    return *t;
  }

  const Options& options_;
  Logger log_;
  bool finished_ = false;
  absl::Status result_;
  std::unique_ptr<tls::Connection> tls_;
  std::unique_ptr<session::TlsRecordCodec> codec_;  // User space, or
  std::unique_ptr<session::KernelTls> kernel_;       // the kernel.
  std::unique_ptr<uring::Ring> ring_;
  std::unique_ptr<dataplane::Engine> engine_;
  std::unique_ptr<proto::SstpServer> sstp_;
  std::unique_ptr<ppp::PppServer> ppp_;
  std::map<int, std::unique_ptr<uring::Timer>> sstp_timers_, ppp_timers_;
  StopReader stop_reader_;
  std::optional<ppp::PppServer::Ipv4Up> ipv4_;
  std::optional<ppp::PppServer::Ipv6Up> ipv6_;
  bool call_connected_ = false;
  std::optional<netlink::Rtnl> rtnl_;
  std::unique_ptr<netlink::NetworkChanges> changes_;
  std::unique_ptr<uring::Timer> misbehave_timer_;
  bool silent_ = false;
  bool transport_closed_ = false;
};

absl::Status Connection::ReadRequest(tls::Connection& tls) {
  std::vector<uint8_t> received;
  std::vector<uint8_t> buffer(tls::kMaxRecordPlaintext);
  while (true) {
    ASSIGN_OR_RETURN(std::optional<size_t> end, proto::FindHeaderEnd(received));
    if (end.has_value()) {
      ASSIGN_OR_RETURN(proto::HttpRequest request,
                       proto::ParseHttpRequest(absl::MakeConstSpan(received).first(*end)));
      RETURN_IF_ERROR(proto::IsSstpDuplexPost(request));
      if (*end != received.size()) {
        return absl::FailedPreconditionError("client sent bytes after SSTP_DUPLEX_POST before the reply");
      }
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(size_t n, tls.Read(absl::MakeSpan(buffer), absl::Seconds(60)));
    if (n == 0) return absl::UnavailableError("client closed before the HTTP request");
    received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<long>(n));
  }
}

absl::Status Connection::Serve(int fd, const tls::ServerContext& tls_context, int stop_fd) {
  ASSIGN_OR_RETURN(tls_, tls_context.Accept(fd));
  log_.Info("TLS accepted: %s", tls_->info().cipher_name);
  RETURN_IF_ERROR(ReadRequest(*tls_));
  const std::string reply = proto::BuildDuplexPostResponse();
  RETURN_IF_ERROR(tls_->Write(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(reply.data()), reply.size()),
      absl::Seconds(10)));
  session::KernelTlsPolicy policy = session::KernelTlsPolicy::kNever;
  if (options_.ktls == "on") policy = session::KernelTlsPolicy::kRequire;
  if (options_.ktls == "auto") policy = session::KernelTlsPolicy::kAuto;
  ASSIGN_OR_RETURN(session::RecordLayer layer,
                   session::StartRecordLayer(*tls_, fd, policy, session::TlsSide::kServer, log_));
  kernel_ = std::move(layer.kernel);
  codec_ = std::move(layer.codec);

  session::TuneDataSocket(fd, uint64_t{1000} * 1000 * 1000, log_);
  ASSIGN_OR_RETURN(ring_, uring::Ring::Create(256, dataplane::Engine::kCompletionQueueEntries));
  dataplane::EngineOptions engine_options;
  engine_options.socket_fd = fd;
  engine_options.codec = codec_.get();
  engine_options.mtu = 1500;
  engine_options.peer_name = "client";
  ASSIGN_OR_RETURN(engine_, dataplane::Engine::Create(*ring_, engine_options, *this, log_));

  const std::string& p = options_.personality;
  ppp::ServerPersonality personality;
  if (p == "windows") {
    personality = ppp::ServerPersonality::kWindows;
  } else if (p == "softether") {
    personality = ppp::ServerPersonality::kSoftEther;
  } else if (p == "accel") {
    personality = ppp::ServerPersonality::kAccel;
  } else if (p == "strict") {
    personality = ppp::ServerPersonality::kStrict;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown personality ", p));
  }
  proto::ServerConfig sstp_config;
  sstp_config.logger = log_;
  sstp_config.strict = personality == ppp::ServerPersonality::kStrict;
  if (personality == ppp::ServerPersonality::kSoftEther) {
    // SSTP-NOTES: SHA256 binding only, never answers the client's echo,
    // echoes every few seconds itself.
    sstp_config.hash_bitmask = proto::kHashBitmaskSha256;
    sstp_config.answer_echo_requests = false;
    sstp_config.hello_interval = absl::Seconds(4);
  }
  proto::CertificateHashes hashes;
  const tls::HandshakeInfo& info = tls_->info();
  std::copy(info.leaf_sha1.begin(), info.leaf_sha1.end(), hashes.sha1.begin());
  std::copy(info.leaf_sha256.begin(), info.leaf_sha256.end(), hashes.sha256.begin());
  sstp_ = std::make_unique<proto::SstpServer>(sstp_config, SystemRandom::Get(), hashes);

  ppp::PppServerConfig ppp_config = ppp::PppServerConfig::ForPersonality(personality);
  ppp_config.logger = log_;
  if (options_.mru) ppp_config.offer_mru = static_cast<uint16_t>(*options_.mru);
  ASSIGN_OR_RETURN(ppp_config.auth.users, LoadUsers(options_.users_file));
  ASSIGN_OR_RETURN(ppp_config.server_address, ParseV4(options_.server_ip));
  ASSIGN_OR_RETURN(ppp_config.client_address, ParseV4(options_.client_ip));
  ASSIGN_OR_RETURN(ppp::Ipv4Address dns, ParseV4(options_.dns));
  ppp_config.primary_dns = dns;
  if (!options_.auth.empty()) {
    ppp_config.auth_methods.clear();
    for (absl::string_view m : absl::StrSplit(options_.auth, ',')) {
      if (m == "pap") {
        ppp_config.auth_methods.push_back(ppp::AuthProtocol::kPap);
      } else if (m == "chap") {
        ppp_config.auth_methods.push_back(ppp::AuthProtocol::kChapMd5);
      } else if (m == "mschapv2") {
        ppp_config.auth_methods.push_back(ppp::AuthProtocol::kMsChapV2);
      } else if (m == "eap") {
        ppp_config.auth_methods.push_back(ppp::AuthProtocol::kEap);
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--auth: unknown method ", m));
      }
    }
  }
  ppp_ = std::make_unique<ppp::PppServer>(ppp_config, SystemRandom::Get());

  stop_reader_.self = this;
  if (stop_fd >= 0) {
    io_uring_prep_read(ring_->NextSqe(&stop_reader_), stop_fd, stop_reader_.buffer.data(),
                       stop_reader_.buffer.size(), 0);
  }
  engine_->Start();
  Apply(sstp_->Start());
  while (!finished_) {
    engine_->Flush();
    ASSIGN_OR_RETURN(int n, ring_->RunOnce(1, std::nullopt));
    (void)n;
    if (silent_ && engine_->stopped()) {
      // Keep the connection open and say nothing until told to stop.
      pollfd p{stop_fd, POLLIN, 0};
      poll(&p, 1, -1);
      break;
    }
  }
  engine_->Stop();
  for (int i = 0; i < 1000 && !engine_->stopped(); ++i) {
    if (!ring_->RunOnce(1, absl::Milliseconds(10)).ok()) break;
  }
  if (!silent_) session::SendGoodbye(fd, *tls_, kernel_.get(), transport_closed_, log_);
  if (changes_) RETURN_IF_ERROR(changes_->Undo());
  return result_;
}

void Connection::Apply(proto::Actions actions) {
  for (proto::Action& action : actions) {
    if (auto* a = std::get_if<proto::SendPacket>(&action)) {
      (void)engine_->SendSstp(a->bytes);
    } else if (auto* a = std::get_if<proto::StartTimer>(&action)) {
      const proto::TimerId id = a->id;
      Timer(sstp_timers_, static_cast<int>(id), [this, id] { Apply(sstp_->OnTimer(id)); }).Arm(a->after);
    } else if (auto* a = std::get_if<proto::StopTimer>(&action)) {
      const proto::TimerId id = a->id;
      Timer(sstp_timers_, static_cast<int>(id), [this, id] { Apply(sstp_->OnTimer(id)); }).Cancel();
    } else if (std::holds_alternative<proto::PppMayStart>(action)) {
      Apply(ppp_->Up());
    } else if (std::holds_alternative<proto::CallConnected>(action)) {
      log_.Notice("crypto binding verified; call connected");
      call_connected_ = true;
      if (ipv4_ || ipv6_) {
        if (absl::Status s = ConfigureNetwork(); !s.ok()) {
          log_.Error("%s", std::string(s.message()));
          Finish(s);
        }
      }
    } else if (auto* a = std::get_if<proto::CallEnded>(&action)) {
      if (!a->reason.ok()) log_.Error("call ended: %s", std::string(a->reason.message()));
      Finish(a->reason);
    }
  }
}

void Connection::Apply(ppp::PppServer::Actions actions) {
  using S = ppp::PppServer;
  for (S::Action& action : actions) {
    if (auto* a = std::get_if<S::SendFrame>(&action)) {
      if (sstp_->ppp_control_allowed()) (void)engine_->SendPpp(a->protocol, a->information);
    } else if (auto* a = std::get_if<S::StartTimer>(&action)) {
      const S::TimerId id = a->id;
      Timer(ppp_timers_, static_cast<int>(id), [this, id] { Apply(ppp_->OnTimer(id)); }).Arm(a->after);
    } else if (auto* a = std::get_if<S::StopTimer>(&action)) {
      const S::TimerId id = a->id;
      Timer(ppp_timers_, static_cast<int>(id), [this, id] { Apply(ppp_->OnTimer(id)); }).Cancel();
    } else if (auto* a = std::get_if<S::Authenticated>(&action)) {
      log_.Notice("user %s authenticated", a->user);
      proto::Hlak hlak;
      std::copy(a->hlak.data(), a->hlak.data() + 32, hlak.data());
      Apply(sstp_->OnPppAuthenticated(hlak));
    } else if (auto* a = std::get_if<S::AuthFailed>(&action)) {
      log_.Warning("authentication failed for '%s': %s", a->user, a->reason);
    } else if (auto* a = std::get_if<S::Ipv4Up>(&action)) {
      ipv4_ = *a;
      if (call_connected_) {
        if (absl::Status s = ConfigureNetwork(); !s.ok()) Finish(s);
      }
    } else if (auto* a = std::get_if<S::Ipv6Up>(&action)) {
      ipv6_ = *a;
    } else if (std::holds_alternative<S::DataReceived>(action)) {
      // The engine writes IP frames to the TUN itself.
    } else if (auto* a = std::get_if<S::LinkDown>(&action)) {
      log_.Info("PPP link down: %s", a->reason);
      Apply(sstp_->Disconnect());
    }
  }
}

absl::Status Connection::ConfigureNetwork() {
  if (changes_ || !ipv4_) return absl::OkStatus();
  ASSIGN_OR_RETURN(netlink::Rtnl rtnl, netlink::Rtnl::Open());
  rtnl_.emplace(std::move(rtnl));
  changes_ = std::make_unique<netlink::NetworkChanges>(&*rtnl_, log_);
  netlink::TunOptions tun_options;
  tun_options.offload = options_.tun_offload;
  ASSIGN_OR_RETURN(netlink::Tun tun, netlink::CreateTun(options_.tun_name, tun_options));
  const int ifindex = tun.ifindex;
  const int tun_fd = tun.fd.get();
  RETURN_IF_ERROR(changes_->AdoptTun(std::move(tun)));
  RETURN_IF_ERROR(changes_->SetMtu(ifindex, 1500));
  RETURN_IF_ERROR(changes_->DisableIpv6AutoLinkLocal(ifindex));
  netlink::AddressSpec v4;
  v4.ifindex = ifindex;
  v4.local = netlink::IpPrefix::Host(netlink::IpAddress::V4(ipv4_->server_address));
  v4.peer = netlink::IpAddress::V4(ipv4_->client_address);
  RETURN_IF_ERROR(changes_->AddAddress(v4));
  if (ipv6_) {
    netlink::AddressSpec v6;
    v6.ifindex = ifindex;
    v6.local = netlink::Ipv6LinkLocal(ipv6_->server_interface_id);
    v6.no_dad = true;
    RETURN_IF_ERROR(changes_->AddAddress(v6));
  }
  RETURN_IF_ERROR(changes_->SetLinkUp(ifindex));
  RETURN_IF_ERROR(engine_->AttachTun(tun_fd, tun_options.offload));
  log_.Notice("tunnel up: %s peer %s", options_.server_ip, options_.client_ip);
  if (!options_.misbehave.empty()) {
    misbehave_timer_ = std::make_unique<uring::Timer>(*ring_, [this] { Misbehave(); });
    misbehave_timer_->Arm(absl::Seconds(3));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> Listen(const Options& o) {
  sockaddr_storage ss{};
  socklen_t len;
  int family;
  if (inet_pton(AF_INET, o.listen_address.c_str(), &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = family = AF_INET;
    a->sin_port = htons(o.port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, o.listen_address.c_str(),
                       &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = family = AF_INET6;
    a->sin6_port = htons(o.port);
    len = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--listen: bad address ", o.listen_address));
  }
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return LastErrnoStatus("socket");
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return LastErrnoStatus(absl::StrCat("bind ", o.listen_address, ":", o.port));
  }
  if (listen(fd.get(), 16) != 0) return LastErrnoStatus("listen");
  return fd;
}

int Main(int argc, char** argv) {
  absl::StatusOr<Options> options = ParseOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "sstp-test-server: %s\n%s", std::string(options.status().message()).c_str(),
                 kUsage);
    return 2;
  }
  Logger log("server");
  tls::ServerConfig tls_config;
  tls_config.cert_file = options->cert_file;
  tls_config.key_file = options->key_file;
  tls_config.max_version = options->tls_max == "1.2" ? tls::TlsVersion::kTls12 : tls::TlsVersion::kTls13;
  tls_config.required_sni = options->required_sni;
  for (absl::string_view c : absl::StrSplit(options->ciphers, ',', absl::SkipEmpty())) {
    if (c == "aes128") {
      tls_config.ciphers.push_back(tls::Cipher::kAes128Gcm);
    } else if (c == "aes256") {
      tls_config.ciphers.push_back(tls::Cipher::kAes256Gcm);
    } else if (c == "chacha20") {
      tls_config.ciphers.push_back(tls::Cipher::kChacha20Poly1305);
    } else {
      std::fprintf(stderr, "sstp-test-server: --ciphers: unknown AEAD %s\n%s", std::string(c).c_str(),
                   kUsage);
      return 2;
    }
  }
  if (options->ktls != "off" &&
      (options->misbehave == "late-ticket" || options->misbehave == "keyupdate")) {
    std::fprintf(stderr, "sstp-test-server: --misbehave %s needs --ktls off (OpenSSL makes the "
                 "message)\n", options->misbehave.c_str());
    return 2;
  }
  if (options->personality == "accel" && tls_config.required_sni.empty()) {
    log.Info("accel personality without --required-sni: any SNI accepted");
  }
  tls_config.keylog_file = options->keylog_file;
  absl::StatusOr<std::unique_ptr<tls::ServerContext>> tls_context =
      tls::ServerContext::Create(tls_config, log);
  if (!tls_context.ok()) {
    log.Error("%s", std::string(tls_context.status().message()));
    return 1;
  }
  absl::StatusOr<UniqueFd> listener = Listen(*options);
  if (!listener.ok()) {
    log.Error("%s", std::string(listener.status().message()));
    return 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  UniqueFd signal_fd(signalfd(-1, &signals, SFD_CLOEXEC));
  log.Notice("listening on %s:%d (personality %s)", options->listen_address, options->port,
             options->personality);
  std::printf("READY\n");
  std::fflush(stdout);
  while (true) {
    pollfd p[2] = {{listener->get(), POLLIN, 0}, {signal_fd.get(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return 0;
    UniqueFd client(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) continue;
    if (!options->once) {
      const pid_t pid = fork();
      if (pid != 0) {
        while (waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        continue;  // Parent (or fork failure): keep accepting.
      }
    }
    Connection connection(*options, log);
    const absl::Status status = connection.Serve(client.get(), **tls_context, signal_fd.get());
    if (!status.ok()) log.Error("connection: %s", std::string(status.message()));
    return status.ok() ? 0 : 1;  // The child (or --once) is done.
  }
}

}  // namespace
}  // namespace sstp::testserver

int main(int argc, char** argv) { return sstp::testserver::Main(argc, argv); }
