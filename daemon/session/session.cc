#include "daemon/session/session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cerrno>
#include <map>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/random.h"
#include "base/status.h"
#include "base/unique_fd.h"
#include "daemon/dataplane/engine.h"
#include "daemon/ppp/client.h"
#include "daemon/ppp/frame.h"
#include "daemon/session/dns.h"
#include "daemon/session/kernel_tls.h"
#include "daemon/session/transport.h"
#include "daemon/sstp/client.h"
#include "daemon/sstp/http.h"
#include "daemon/tls/client.h"
#include "ktls/kernel.h"
#include "netlink/ethtool.h"
#include "netlink/network_changes.h"
#include "netlink/rtnl.h"
#include "netlink/tun.h"
#include "uring/ring.h"
#include "uring/timer.h"

namespace sstp::session {
namespace {

// How long an orderly shutdown may take before the session just closes the
// connection: LCP Terminate (RFC 1661: 2 x 3 s) plus CALL_DISCONNECT's 5 s.
constexpr absl::Duration kShutdownBudget = absl::Seconds(12);
// How often kernel TLS's records under our current key are counted (RFC 8446
// 5.5; KernelTls::CheckSendKeyUsage).
constexpr absl::Duration kKeyUsageInterval = absl::Seconds(1);

tls::Cipher ToTls(config::TlsCipher c) {
  switch (c) {
    case config::TlsCipher::kAes128Gcm:
      return tls::Cipher::kAes128Gcm;
    case config::TlsCipher::kAes256Gcm:
      return tls::Cipher::kAes256Gcm;
    case config::TlsCipher::kChacha20Poly1305:
      return tls::Cipher::kChacha20Poly1305;
  }
  return tls::Cipher::kAes128Gcm;
}

tls::ClientConfig TlsConfig(const config::Profile& p) {
  tls::ClientConfig c;
  c.server_name = p.server.server_name.empty() ? p.server.host : p.server.server_name;
  c.ca_file = p.tls.ca_file;
  c.ca_dir = p.tls.ca_dir;
  c.pin_sha256 = p.tls.pin_sha256;
  c.min_version = p.tls.min_version == config::TlsMinVersion::kTls13 ? tls::TlsVersion::kTls13
                                                                      : tls::TlsVersion::kTls12;
  c.insecure_skip_verify = p.tls.insecure_skip_verify;
  c.keylog_file = p.tls.keylog_file;
  // The convention of browsers and curl, for Wireshark; the profile key wins.
  // The TLS layer logs a warning whenever a key log is written.
  if (const char* env = std::getenv("SSLKEYLOGFILE"); c.keylog_file.empty() && env != nullptr) {
    c.keylog_file = env;
  }
  c.handshake_timeout = p.server.connect_timeout;
  for (config::TlsCipher cipher : p.tls.ciphers) c.ciphers.push_back(ToTls(cipher));
  return c;
}

ppp::AuthMethod ToPpp(config::AuthMethod m) {
  switch (m) {
    case config::AuthMethod::kMsChapV2:
      return ppp::AuthMethod::kMsChapV2;
    case config::AuthMethod::kEapMsChapV2:
      return ppp::AuthMethod::kEapMsChapV2;
    case config::AuthMethod::kChapMd5:
      return ppp::AuthMethod::kChapMd5;
    case config::AuthMethod::kPap:
      return ppp::AuthMethod::kPap;
  }
  return ppp::AuthMethod::kMsChapV2;
}

netlink::IpAddress V4(const ppp::Ipv4Address& a) { return netlink::IpAddress::V4(a); }

// The address a connected socket talks to.
absl::StatusOr<netlink::IpAddress> PeerAddress(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) {
    return LastErrnoStatus("getpeername");
  }
  if (peer.ss_family == AF_INET) {
    return netlink::IpAddress::FromBytes(absl::MakeConstSpan(
        reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in*>(&peer)->sin_addr), 4));
  }
  return netlink::IpAddress::FromBytes(absl::MakeConstSpan(
      reinterpret_cast<const uint8_t*>(&reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr), 16));
}


std::string TlsVersionText(tls::TlsVersion v) {
  return v == tls::TlsVersion::kTls13 ? "TLS 1.3" : "TLS 1.2";
}

}  // namespace

class Session::Impl final : public dataplane::ControlPlane {
 public:
  Impl(const config::Profile& profile, SecretString password, Logger log)
      : profile_(profile), password_(std::move(password)), log_(std::move(log)) {}

  Outcome Run(int stop_fd, int status_request_fd, control::StatusBoard* board);
  control::StatusSnapshot status() const;

  // dataplane::ControlPlane
  void OnSstpControl(absl::Span<const uint8_t> packet) override { Apply(sstp_->OnPacket(packet)); }
  void OnPppFrame(uint16_t protocol, absl::Span<const uint8_t> information,
                  bool had_address_control) override;
  void OnTraffic() override { sstp_->OnDataReceived(); }
  void OnTlsRecord(uint8_t content_type, absl::Span<const uint8_t> body) override;
  void OnTransportClosed(absl::Status reason) override;
  void CheckKeyUsage();

 private:
  // A Completion that reads the stop eventfd on the ring.
  struct StopReader final : uring::Completion {
    Impl* impl;
    std::array<uint8_t, 128> buffer;
    void OnComplete(int32_t res, uint32_t) override {
      impl->stop_read_inflight_ = false;
      if (res < 0) return;
      // The read emptied the eventfd: remember the request even when the
      // session is already ending for another reason (RequestStop then
      // does nothing), so that main() does not reconnect.
      impl->outcome_.stop_requested = true;
      impl->RequestStop("stop requested");
    }
  };
  // Reads the status-request eventfd: publish a snapshot, read again.
  struct StatusReader final : uring::Completion {
    Impl* impl;
    uint64_t value = 0;
    void OnComplete(int32_t res, uint32_t) override {
      impl->status_read_inflight_ = false;
      if (res < 0) return;
      impl->Publish();
      impl->ArmStatusReader();
    }
  };
  void ArmStatusReader() {
    if (status_request_fd_ < 0 || finished_) return;
    io_uring_prep_read(ring_->NextSqe(&status_reader_), status_request_fd_, &status_reader_.value,
                       sizeof(status_reader_.value), 0);
    status_read_inflight_ = true;
  }
  void Publish() {
    if (board_ != nullptr) board_->Publish(status());
  }

  absl::Status Connect();
  void PreferNicOffload(tls::ClientConfig* config);
  absl::Status StartCall();
  void Loop();
  void Teardown();
  void RequestStop(absl::string_view why);
  void Finish(absl::Status status);

  void Apply(proto::Actions actions);
  void Apply(ppp::ClientActions actions);
  absl::Status ConfigureNetwork();
  // ConfigureNetwork(), or the session ends with its error: false.
  bool ConfigureNetworkOrFinish();

  uring::Timer& SstpTimer(proto::TimerId id);
  uring::Timer& PppTimer(ppp::TimerId id);

  const config::Profile& profile_;
  SecretString password_;
  Logger log_;
  Outcome outcome_;
  bool finished_ = false;
  bool stopping_ = false;
  bool network_ready_ = false;
  bool call_connected_ = false;
  std::string phase_ = "connecting";
  absl::Time connected_at_;

  UniqueFd socket_;
  std::unique_ptr<tls::ClientContext> tls_context_;
  std::unique_ptr<tls::Connection> tls_;
  std::unique_ptr<TlsRecordCodec> codec_;     // User-space record layer, or
  std::unique_ptr<KernelTls> kernel_;         // the kernel's.
  std::string user_space_reason_;
  std::string tun_offload_;  // For status: what the TUN offloads.
  std::optional<netlink::TlsOffloadFeatures> nic_;  // Of the device towards the server.
  bool transport_failed_ = false;             // No close_notify on a dead socket.
  std::unique_ptr<uring::Ring> ring_;
  std::unique_ptr<dataplane::Engine> engine_;
  std::unique_ptr<proto::SstpClient> sstp_;
  std::unique_ptr<ppp::PppClient> ppp_;
  std::map<int, std::unique_ptr<uring::Timer>> sstp_timers_, ppp_timers_;
  std::unique_ptr<uring::Timer> shutdown_timer_;
  std::unique_ptr<uring::Timer> key_usage_timer_;  // Kernel TLS only.
  StopReader stop_reader_;
  bool stop_read_inflight_ = false;
  int stop_fd_ = -1;
  StatusReader status_reader_;
  bool status_read_inflight_ = false;
  int status_request_fd_ = -1;
  control::StatusBoard* board_ = nullptr;

  std::optional<ppp::Ipv4Up> ipv4_;
  std::optional<ppp::Ipv6Up> ipv6_;
  std::string auth_method_;
  std::optional<netlink::Rtnl> rtnl_;
  std::unique_ptr<netlink::NetworkChanges> changes_;
  std::vector<std::string> dns_;
  std::unique_ptr<DnsConfigurator> dns_config_;
};

Session::Session(const config::Profile& profile, SecretString password, Logger log)
    : impl_(std::make_unique<Impl>(profile, std::move(password), std::move(log))) {}
Session::~Session() = default;
Outcome Session::Run(int stop_fd, int status_request_fd, control::StatusBoard* board) {
  return impl_->Run(stop_fd, status_request_fd, board);
}
control::StatusSnapshot Session::status() const { return impl_->status(); }

Outcome Session::Impl::Run(int stop_fd, int status_request_fd, control::StatusBoard* board) {
  stop_fd_ = stop_fd;
  status_request_fd_ = status_request_fd;
  board_ = board;
  Publish();
  if (absl::Status s = Connect(); !s.ok()) {
    Finish(s);
  } else if (absl::Status s = StartCall(); !s.ok()) {
    Finish(s);
  } else {
    Loop();
  }
  Teardown();
  Publish();
  return outcome_;
}

absl::Status Session::Impl::Connect() {
  const config::ServerSection& server = profile_.server;
  phase_ = "connecting";
  if (server.proxy_host.empty()) {
    ASSIGN_OR_RETURN(socket_, ConnectTcp(server.host, server.port, server.connect_timeout, log_));
  } else {
    // MS-SSTP 4.5: through an HTTP proxy, TLS runs inside its CONNECT tunnel.
    ASSIGN_OR_RETURN(socket_, ConnectTcp(server.proxy_host, server.proxy_port,
                                         server.connect_timeout, log_));
    std::optional<proto::ProxyCredentials> credentials;
    if (!server.proxy_user.empty()) {
      ASSIGN_OR_RETURN(SecretString password, ReadSecretFile(server.proxy_password_file));
      credentials = proto::ProxyCredentials{server.proxy_user, std::move(password)};
    }
    RETURN_IF_ERROR(ProxyConnect(socket_.get(), server.host, server.port, credentials,
                                 server.connect_timeout));
    log_.Info("HTTP proxy %s:%d opened a tunnel to %s:%d", server.proxy_host, server.proxy_port,
              server.host, server.port);
  }
  phase_ = "tls";
  tls::ClientConfig tls_config = TlsConfig(profile_);
  PreferNicOffload(&tls_config);
  ASSIGN_OR_RETURN(tls_context_, tls::ClientContext::Create(tls_config, log_));
  absl::StatusOr<std::unique_ptr<tls::Connection>> tls = tls_context_->Handshake(socket_.get());
  if (!tls.ok()) {
    outcome_.certificate_rejected = tls.status().code() == absl::StatusCode::kUnauthenticated;
    return tls.status();
  }
  tls_ = std::move(*tls);
  const tls::HandshakeInfo& info = tls_->info();
  log_.Info("%s %s with %s", TlsVersionText(info.version), info.cipher_name, info.peer_subject);

  phase_ = "http";
  ASSIGN_OR_RETURN(std::vector<uint8_t> leftover,
                   SstpHttpExchange(*tls_, server.server_name.empty() ? server.host : server.server_name,
                                    server.port, proto::NewCorrelationId(SystemRandom::Get()),
                                    profile_.connection.negotiation_timeout));
  if (!leftover.empty()) {
    // MS-SSTP 3.3.4.1: the server waits for CALL_CONNECT_REQUEST.
    return absl::FailedPreconditionError(
        absl::StrCat("the server sent ", leftover.size(), " bytes before CALL_CONNECT_REQUEST"));
  }
  // The record layer: the kernel takes the session here, at the natural
  // switch point (KTLS-NOTES.md): the server waits for
  // CALL_CONNECT_REQUEST, and OpenSSL holds no received bytes.
  // Either record layer takes our key's wear limit from the connection.
  tls_->set_key_update_records(static_cast<uint64_t>(profile_.tls.key_update_records));
  KernelTlsPolicy policy = KernelTlsPolicy::kAuto;
  if (profile_.tls.ktls == config::KtlsMode::kOn) policy = KernelTlsPolicy::kRequire;
  if (profile_.tls.ktls == config::KtlsMode::kOff) policy = KernelTlsPolicy::kNever;
  absl::StatusOr<RecordLayer> layer =
      StartRecordLayer(*tls_, socket_.get(), policy, TlsSide::kClient, log_);
  if (!layer.ok()) {
    if (policy == KernelTlsPolicy::kRequire &&
        layer.status().code() == absl::StatusCode::kUnavailable) {
      outcome_.feature_missing = true;
      return Annotate(layer.status(), "ktls = on");
    }
    return layer.status();
  }
  kernel_ = std::move(layer->kernel);
  codec_ = std::move(layer->codec);
  user_space_reason_ = layer->user_space_reason;
  return absl::OkStatus();
}

void Session::Impl::PreferNicOffload(tls::ClientConfig* config) {
  // The NIC the connection leaves by, and whether it can do kernel TLS
  // itself (ethtool tls-hw-*): shown in status, and with
  // prefer-nic-offload = yes it shapes what we offer.
  absl::StatusOr<netlink::IpAddress> peer = PeerAddress(socket_.get());
  absl::StatusOr<netlink::TlsOffloadFeatures> nic =
      peer.ok() ? netlink::TlsOffloadTowards(*peer)
                : absl::StatusOr<netlink::TlsOffloadFeatures>(peer.status());
  if (nic.ok()) {
    nic_ = *nic;
    log_.Info("%s", nic_->Describe());
  } else {
    log_.Debug("NIC TLS offload unknown: %s", std::string(nic.status().message()));
  }
  if (!profile_.tls.prefer_nic_offload) return;
  if (!nic_ || !ShapeForNicOffload(*nic_, config)) {
    log_.Info("prefer-nic-offload: %s; TLS 1.3 stays on offer",
              nic_ ? nic_->Describe() : "the NIC towards the server is unknown");
    return;
  }
  log_.Notice("%s: offering TLS 1.2 with AES-GCM only, which the NIC can take "
              "(prefer-nic-offload = yes)", nic_->interface);
}

absl::Status Session::Impl::StartCall() {
  phase_ = "sstp";
  TuneDataSocket(socket_.get(), uint64_t{1000000} * static_cast<uint64_t>(profile_.connection.bandwidth_mbit),
                 log_);
  ASSIGN_OR_RETURN(ring_, uring::Ring::Create(256, dataplane::Engine::kCompletionQueueEntries));
  log_.Debug("io_uring: %s", ring_->features().ToString());
  dataplane::EngineOptions options;
  options.socket_fd = socket_.get();
  options.codec = codec_.get();  // nullptr under kernel TLS.
  options.mtu = profile_.network.mtu;
  ASSIGN_OR_RETURN(engine_, dataplane::Engine::Create(*ring_, options, *this, log_));

  const tls::HandshakeInfo& info = tls_->info();
  proto::CertificateHashes hashes;
  std::copy(info.leaf_sha1.begin(), info.leaf_sha1.end(), hashes.sha1.begin());
  std::copy(info.leaf_sha256.begin(), info.leaf_sha256.end(), hashes.sha256.begin());
  proto::ClientConfig sstp_config;
  sstp_config.logger = log_;
  sstp_config.negotiation_timeout = profile_.connection.negotiation_timeout;
  sstp_config.hello_interval = profile_.connection.hello_interval;
  sstp_ = std::make_unique<proto::SstpClient>(sstp_config, hashes);

  ppp::ClientConfig ppp_config;
  ppp_config.user_name = profile_.auth.user;
  ppp_config.password = password_;
  ppp_config.auth_methods.clear();
  for (config::AuthMethod m : profile_.auth.methods) ppp_config.auth_methods.push_back(ToPpp(m));
  ppp_config.mru = static_cast<uint16_t>(profile_.network.effective_mru());
  ppp_config.want_ipv4 = profile_.network.ipv4;
  ppp_config.want_ipv6 = profile_.network.ipv6;
  ppp_config.want_dns = profile_.network.dns;
  ppp_config.echo_interval = profile_.connection.lcp_echo_interval;
  ppp_config.echo_failures = profile_.connection.lcp_echo_failures;
  ppp_config.logger = log_;
  ppp_ = std::make_unique<ppp::PppClient>(ppp_config, SystemRandom::Get());

  shutdown_timer_ = std::make_unique<uring::Timer>(*ring_, [this] {
    log_.Warning("orderly shutdown took longer than %s; closing the connection",
                 absl::FormatDuration(kShutdownBudget));
    Finish(absl::OkStatus());
  });
  stop_reader_.impl = this;
  if (stop_fd_ >= 0) {
    io_uring_prep_read(ring_->NextSqe(&stop_reader_), stop_fd_, stop_reader_.buffer.data(),
                       stop_reader_.buffer.size(), 0);
    stop_read_inflight_ = true;
  }
  status_reader_.impl = this;
  ArmStatusReader();
  if (kernel_) {
    key_usage_timer_ = std::make_unique<uring::Timer>(*ring_, [this] { CheckKeyUsage(); });
    key_usage_timer_->Arm(kKeyUsageInterval);
  }
  engine_->Start();
  Apply(sstp_->Start());
  return absl::OkStatus();
}

void Session::Impl::Loop() {
  while (!finished_) {
    // What the last turn's completions (or the start) queued goes out as one
    // batch before the ring waits again.
    engine_->Flush();
    absl::StatusOr<int> n = ring_->RunOnce(1, std::nullopt);
    if (!n.ok()) {
      Finish(n.status());
      break;
    }
  }
}

void Session::Impl::Finish(absl::Status status) {
  if (finished_) return;
  finished_ = true;
  // The first cause wins; an orderly end after a failure keeps the failure.
  if (outcome_.status.ok()) outcome_.status = std::move(status);
}

void Session::Impl::RequestStop(absl::string_view why) {
  if (stopping_ || finished_) return;
  stopping_ = true;
  log_.Notice("disconnecting: %s", why);
  phase_ = "disconnecting";
  shutdown_timer_->Arm(kShutdownBudget);
  // PPP first (LCP Terminate), then SSTP's CALL_DISCONNECT when LCP is done.
  if (ppp_->phase() != ppp::Phase::kDead) {
    Apply(ppp_->Close("user request"));
  } else {
    Apply(sstp_->Disconnect());
  }
}

void Session::Impl::OnPppFrame(uint16_t protocol, absl::Span<const uint8_t> information,
                               bool /*had_address_control*/) {
  // MS-SSTP 3.2.7.2: PPP frames are processed only once the call exists.
  if (!sstp_->ppp_control_allowed()) {
    log_.Debug("dropped %s frame received before CALL_CONNECT_ACK", ppp::ProtocolName(protocol));
    return;
  }
  Apply(ppp_->OnFrame(protocol, information));
}

void Session::Impl::OnTlsRecord(uint8_t content_type, absl::Span<const uint8_t> body) {
  if (!kernel_) return;
  absl::Status ended = kernel_->OnRecord(content_type, body);
  if (ended.ok()) return;
  // close_notify, a fatal alert, a rekey this kernel cannot follow, or a
  // record that makes no sense: the TLS session is over either way.
  OnTransportClosed(ended);
  // After the peer's close_notify ours is still owed (RFC 8446 6.1).
  if (kernel_->peer_closed()) transport_failed_ = false;
}

void Session::Impl::CheckKeyUsage() {
  if (!kernel_ || finished_ || transport_failed_) return;
  if (absl::Status s = kernel_->CheckSendKeyUsage(); !s.ok()) {
    // Our AES-GCM key is worn out and this kernel cannot replace it: the
    // TLS session ends here, in order (our close_notify is still owed), and
    // reconnecting starts one with fresh keys.
    OnTransportClosed(s);
    transport_failed_ = false;
    return;
  }
  key_usage_timer_->Arm(kKeyUsageInterval);
}

void Session::Impl::OnTransportClosed(absl::Status reason) {
  transport_failed_ = true;
  log_.Info("connection closed: %s", std::string(reason.message()));
  // While stopping, the server closing the connection is the expected end.
  // While the call is being torn down (abort or disconnect in progress) the
  // SSTP state machine's reason is the real one; otherwise the transport's
  // reason is more precise than its "transport closed".
  const proto::CallState state = sstp_->state();
  const bool call_ending = state != proto::CallState::kClientCallDisconnected &&
                           state != proto::CallState::kClientConnectRequestSent &&
                           state != proto::CallState::kClientConnectAckReceived &&
                           state != proto::CallState::kClientCallConnected;
  if (!call_ending) Finish(stopping_ ? absl::OkStatus() : reason);
  Apply(sstp_->OnTransportClosed());
  Finish(stopping_ ? absl::OkStatus() : reason);
}

uring::Timer& Session::Impl::SstpTimer(proto::TimerId id) {
  std::unique_ptr<uring::Timer>& t = sstp_timers_[static_cast<int>(id)];
  if (!t) t = std::make_unique<uring::Timer>(*ring_, [this, id] { Apply(sstp_->OnTimer(id)); });
  return *t;
}

uring::Timer& Session::Impl::PppTimer(ppp::TimerId id) {
  std::unique_ptr<uring::Timer>& t = ppp_timers_[static_cast<int>(id)];
  if (!t) t = std::make_unique<uring::Timer>(*ring_, [this, id] { Apply(ppp_->OnTimer(id)); });
  return *t;
}

void Session::Impl::Apply(proto::Actions actions) {
  for (proto::Action& action : actions) {
    if (auto* a = std::get_if<proto::SendPacket>(&action)) {
      if (absl::Status s = engine_->SendSstp(a->bytes); !s.ok()) log_.Debug("%s", std::string(s.message()));
    } else if (auto* a = std::get_if<proto::StartTimer>(&action)) {
      SstpTimer(a->id).Arm(a->after);
    } else if (auto* a = std::get_if<proto::StopTimer>(&action)) {
      SstpTimer(a->id).Cancel();
    } else if (std::holds_alternative<proto::PppMayStart>(action)) {
      phase_ = "ppp";
      Apply(ppp_->Up());
    } else if (std::holds_alternative<proto::CallConnected>(action)) {
      call_connected_ = true;
      outcome_.was_connected = true;
      log_.Info("CALL_CONNECTED sent (crypto binding %s)",
                proto::HashProtocolName(*sstp_->negotiated_hash()));
      if (network_ready_ && !ConfigureNetworkOrFinish()) return;
    } else if (auto* a = std::get_if<proto::CallEnded>(&action)) {
      absl::Status reason = a->reason;
      // An orderly disconnect the user did not ask for is still a lost
      // tunnel: report it as a failure so that reconnect takes over.
      if (reason.ok() && a->by_peer && !stopping_) {
        reason = absl::UnavailableError("the server disconnected the call");
      }
      if (!reason.ok()) log_.Error("%s", std::string(reason.message()));
      Finish(reason);
    }
  }
}

void Session::Impl::Apply(ppp::ClientActions actions) {
  for (ppp::ClientAction& action : actions) {
    if (auto* a = std::get_if<ppp::SendFrame>(&action)) {
      if (sstp_->ppp_control_allowed()) {
        if (absl::Status s = engine_->SendPpp(a->protocol, a->information); !s.ok()) {
          log_.Debug("%s", std::string(s.message()));
        }
      }
      // Sent or not (PAP carries the password in the clear): wiped.
      if (a->holds_secret) WipeBytes(a->information.data(), a->information.size());
    } else if (auto* a = std::get_if<ppp::StartTimer>(&action)) {
      PppTimer(a->id).Arm(a->after);
    } else if (auto* a = std::get_if<ppp::StopTimer>(&action)) {
      PppTimer(a->id).Cancel();
    } else if (auto* a = std::get_if<ppp::Authenticated>(&action)) {
      auth_method_ = a->method ? std::string(ppp::AuthMethodName(*a->method)) : "none";
      log_.Notice("authenticated as %s (%s)", profile_.auth.user, auth_method_);
      proto::Hlak hlak;
      std::copy(a->hlak.data(), a->hlak.data() + 32, hlak.data());
      Apply(sstp_->OnPppAuthenticated(hlak));
    } else if (auto* a = std::get_if<ppp::Ipv4Up>(&action)) {
      ipv4_ = *a;
    } else if (auto* a = std::get_if<ppp::Ipv6Up>(&action)) {
      ipv6_ = *a;
    } else if (std::holds_alternative<ppp::NetworkReady>(action)) {
      network_ready_ = true;
      if (call_connected_ && !ConfigureNetworkOrFinish()) return;
    } else if (auto* a = std::get_if<ppp::LinkFailed>(&action)) {
      log_.Error("%s", std::string(a->reason.message()));
      outcome_.auth_failure = a->auth_failure;
      if (outcome_.status.ok()) outcome_.status = a->reason;
      stopping_ = true;
      shutdown_timer_->Arm(kShutdownBudget);
      Apply(sstp_->Disconnect());
    } else if (std::holds_alternative<ppp::Finished>(action)) {
      Apply(sstp_->Disconnect());
    }
  }
}

bool Session::Impl::ConfigureNetworkOrFinish() {
  absl::Status s = ConfigureNetwork();
  if (s.ok()) return true;
  outcome_.permission_denied = s.code() == absl::StatusCode::kPermissionDenied;
  Finish(std::move(s));
  return false;
}

absl::Status Session::Impl::ConfigureNetwork() {
  if (changes_) return absl::OkStatus();  // Already configured.
  phase_ = "configuring";
  ASSIGN_OR_RETURN(netlink::Rtnl rtnl, netlink::Rtnl::Open());
  rtnl_.emplace(std::move(rtnl));
  changes_ = std::make_unique<netlink::NetworkChanges>(&*rtnl_, log_);
  netlink::TunOptions tun_options;
  tun_options.offload = profile_.network.tun_offload;
  ASSIGN_OR_RETURN(netlink::Tun tun, netlink::CreateTun(profile_.network.interface, tun_options));
  tun_offload_ = !tun_options.offload  ? "off (tun-offload = no)"
                 : tun.offload_active ? "TSO and GRO"
                                      : "GRO only (the kernel refused TUNSETOFFLOAD)";
  const int ifindex = tun.ifindex;
  const int tun_fd = tun.fd.get();
  const std::string name = tun.name;
  RETURN_IF_ERROR(changes_->AdoptTun(std::move(tun)));
  // Never more than the server said it can receive (its LCP MRU), which
  // may be below the profile's mtu: larger frames it would drop.
  int mtu = profile_.network.mtu;
  if (ppp_->peer_mru() < mtu) {
    log_.Notice("interface MTU %d instead of the profile's %d: the server's MRU", ppp_->peer_mru(), mtu);
    mtu = ppp_->peer_mru();
  }
  RETURN_IF_ERROR(changes_->SetMtu(ifindex, static_cast<uint32_t>(mtu)));
  if (absl::Status s = changes_->DisableIpv6AutoLinkLocal(ifindex); !s.ok()) {
    // EAFNOSUPPORT: no IPv6 on this interface (ipv6.disable=1, or an MTU
    // below IPv6's 1280 with ipv6 = no): nothing to keep it from, and no
    // IPv6 to configure either.
    if (s.code() != absl::StatusCode::kUnimplemented) return s;
    if (ipv6_) {
      log_.Warning("IPv6 was negotiated, but %s has no IPv6 (%s): IPv4 only", name,
                   std::string(s.message()));
      ipv6_.reset();
    }
  }
  if (ipv4_) {
    netlink::AddressSpec spec;
    spec.ifindex = ifindex;
    spec.local = netlink::IpPrefix::Host(V4(ipv4_->local));
    if (ipv4_->peer) spec.peer = V4(*ipv4_->peer);
    RETURN_IF_ERROR(changes_->AddAddress(spec));
    for (const auto& d : {ipv4_->dns1, ipv4_->dns2}) {
      if (d) dns_.push_back(V4(*d).ToString());
    }
  }
  if (ipv6_) {
    netlink::AddressSpec spec;
    spec.ifindex = ifindex;
    spec.local = netlink::Ipv6LinkLocal(ipv6_->local);
    spec.no_dad = true;
    RETURN_IF_ERROR(changes_->AddAddress(spec));
  }
  RETURN_IF_ERROR(changes_->SetLinkUp(ifindex));
  std::vector<netlink::IpPrefix> routes;
  for (const config::IpPrefix& r : profile_.network.routes) {
    if ((r.family == AF_INET && !ipv4_) || (r.family == AF_INET6 && !ipv6_)) {
      log_.Warning("route %s skipped: %s was not negotiated", r.ToString(),
                   r.family == AF_INET ? "IPv4" : "IPv6");
      continue;
    }
    ASSIGN_OR_RETURN(netlink::IpPrefix prefix, netlink::IpPrefix::Parse(r.ToString()));
    routes.push_back(prefix);
  }
  // Before any route into the tunnel: if one would cover the server (the
  // default route, or a profile route such as 10.0.0.0/8 around a server at
  // 10.1.2.3), pin the server's own path first, or the tunnel would carry
  // its own TLS connection.
  absl::StatusOr<netlink::IpAddress> server = PeerAddress(socket_.get());
  if (!server.ok()) {
    log_.Warning("no host route to the server: %s", std::string(server.status().message()));
  } else if (profile_.network.default_route ||
             std::any_of(routes.begin(), routes.end(),
                         [&](const netlink::IpPrefix& p) { return p.Contains(*server); })) {
    RETURN_IF_ERROR(changes_->AddServerHostRoute(*server).status());
  }
  for (const netlink::IpPrefix& prefix : routes) {
    netlink::RouteSpec route;
    route.destination = prefix;
    route.oif = ifindex;
    RETURN_IF_ERROR(changes_->AddRoute(route));
  }
  if (profile_.network.default_route) {
    // The default route as two /1 halves, so the original default stays
    // untouched (the server's host route above is more specific).
    if (ipv4_) RETURN_IF_ERROR(changes_->AddSplitDefaultRoute(AF_INET, ifindex));
    if (ipv6_) RETURN_IF_ERROR(changes_->AddSplitDefaultRoute(AF_INET6, ifindex));
  }
  if (profile_.network.dns && !dns_.empty()) {
    dns_config_ = std::make_unique<DnsConfigurator>(log_);
    // A tunnel without the server's DNS still carries traffic: warn, go on.
    if (absl::Status s = dns_config_->Apply(name, dns_, profile_.network.default_route); !s.ok()) {
      log_.Warning("DNS not applied: %s", std::string(s.message()));
    }
  } else if (!dns_.empty()) {
    log_.Info("DNS servers offered: %s (not applied: dns = no)", absl::StrJoin(dns_, ", "));
  }
  RETURN_IF_ERROR(engine_->AttachTun(tun_fd, tun_options.offload));
  phase_ = "connected";
  connected_at_ = absl::Now();
  log_.Notice("connected: interface %s up%s%s", name,
              ipv4_ ? absl::StrCat(", IPv4 ", V4(ipv4_->local).ToString()) : "",
              ipv6_ ? absl::StrCat(", IPv6 ", netlink::Ipv6LinkLocal(ipv6_->local).ToString()) : "");
  return absl::OkStatus();
}

void Session::Impl::Teardown() {
  if (engine_) {
    engine_->Stop();
    for (int i = 0; i < 1000 && !engine_->stopped(); ++i) {
      if (!ring_->RunOnce(1, absl::Milliseconds(10)).ok()) break;
    }
  }
  for (auto* timers : {&sstp_timers_, &ppp_timers_}) {
    for (auto& [id, timer] : *timers) timer->Cancel();
  }
  if (shutdown_timer_) shutdown_timer_->Cancel();
  if (key_usage_timer_) key_usage_timer_->Cancel();
  if (ring_ && (stop_read_inflight_ || status_read_inflight_)) {
    if (stop_read_inflight_) io_uring_prep_cancel_fd(ring_->NextSqe(nullptr), stop_fd_, 0);
    if (status_read_inflight_) {
      io_uring_prep_cancel_fd(ring_->NextSqe(nullptr), status_request_fd_, 0);
    }
    for (int i = 0; i < 100 && (stop_read_inflight_ || status_read_inflight_); ++i) {
      if (!ring_->RunOnce(1, absl::Milliseconds(10)).ok()) break;
    }
  }
  if (tls_ && (kernel_ || codec_)) {
    SendGoodbye(socket_.get(), *tls_, kernel_.get(), transport_failed_, log_);
  }
  if (dns_config_) {  // Before the interface goes away.
    if (absl::Status s = dns_config_->Revert(); !s.ok()) log_.Error("%s", std::string(s.message()));
    dns_config_.reset();
  }
  if (changes_) {
    if (absl::Status s = changes_->Undo(); !s.ok()) log_.Error("%s", std::string(s.message()));
    changes_.reset();
  }
  engine_.reset();
  sstp_timers_.clear();
  ppp_timers_.clear();
  shutdown_timer_.reset();
  key_usage_timer_.reset();
  ring_.reset();
  phase_ = "down";
}

control::StatusSnapshot Session::Impl::status() const {
  control::StatusSnapshot s;
  s.profile = profile_.name;
  s.phase = phase_;
  s.server = absl::StrCat(profile_.server.host, ":", profile_.server.port);
  if (tls_) {
    s.tls_version = TlsVersionText(tls_->info().version);
    s.tls_cipher = tls_->info().cipher_name;
  }
  if (kernel_) {
    s.record_layer_tx = s.record_layer_rx = "kernel (software)";
    if (absl::StatusOr<KernelTls::RecordCount> n = kernel_->KernelRecords(); n.ok()) {
      s.ktls_tx_records = n->tx;
      s.ktls_rx_records = n->rx;
    }
    s.ktls_rekeys = kernel_->rekeys();
    if (absl::StatusOr<ktls::TlsStat> stat = ktls::ReadTlsStat(); stat.ok()) {
      // The kernel falls back to software silently, and the gauges count
      // every session of this network namespace: claim the NIC only when
      // this session is one it can take (TLS 1.2 AES-GCM, tls-hw-* on the
      // egress device) and the kernel reports a device-offloaded session.
      const bool offloadable = nic_ && tls_->info().version == tls::TlsVersion::kTls12 &&
                               tls_->info().cipher != tls::Cipher::kChacha20Poly1305;
      const std::string device = nic_ ? absl::StrCat("kernel (NIC ", nic_->interface, ")") : "";
      if (offloadable && nic_->tx_active && stat->curr_tx_device > 0) s.record_layer_tx = device;
      if (offloadable && nic_->rx_active && stat->curr_rx_device > 0) s.record_layer_rx = device;
      s.ktls_counters = {{"TlsCurrTxSw", stat->curr_tx_sw},
                         {"TlsCurrRxSw", stat->curr_rx_sw},
                         {"TlsCurrTxDevice", stat->curr_tx_device},
                         {"TlsCurrRxDevice", stat->curr_rx_device},
                         {"TlsDecryptError", stat->decrypt_error},
                         {"TlsRxNoPadViolation", stat->rx_no_pad_violation},
                         {"TlsDecryptRetry", stat->decrypt_retry}};
    }
  }
  if (nic_) {
    s.nic_offload = nic_->Describe();
    if (tls_ && (nic_->tx_capable || nic_->rx_capable)) {
      const bool fits = tls_->info().version == tls::TlsVersion::kTls12 &&
                        tls_->info().cipher != tls::Cipher::kChacha20Poly1305;
      absl::StrAppend(&s.nic_offload, fits ? "; the NIC can take this session"
                                           : "; this session (TLS 1.3 or ChaCha20) cannot be offloaded");
    }
  }
  if (codec_) {
    s.record_layer_tx = s.record_layer_rx = "user space (OpenSSL)";
    s.user_space_reason = user_space_reason_;
  }
  s.auth_method = auth_method_;
  s.interface = profile_.network.interface;
  if (ipv4_) s.addresses.push_back(V4(ipv4_->local).ToString());
  if (ipv6_) s.addresses.push_back(netlink::Ipv6LinkLocal(ipv6_->local).ToString());
  if (changes_) s.routes = changes_->Describe();
  s.dns = dns_;
  if (engine_) {
    const dataplane::Counters& c = engine_->counters();
    s.tx_packets = c.tx_packets;
    s.tx_bytes = c.tx_bytes;
    s.rx_packets = c.rx_packets;
    s.rx_bytes = c.rx_bytes;
    s.tx_super_packets = c.tx_super_packets;
    s.rx_super_packets = c.rx_super_packets;
  }
  s.tun_offload = tun_offload_;
  if (phase_ == "connected") s.uptime = absl::Now() - connected_at_;
  if (!outcome_.status.ok()) s.last_error = std::string(outcome_.status.message());
  return s;
}

}  // namespace sstp::session
