// Fuzzes the PPP client (daemon/ppp/client.h) as a state machine: a profile
// chosen by the first octet, then a script of events (received frames of
// any protocol, timer expiries, Close, Down) decoded from the rest.
//
// Input: octet 0 = profile bits (0-3: allowed methods MS-CHAPv2,
// EAP-MSCHAPv2, CHAP-MD5, PAP, none set = all; 4: no IPv4; 5: no IPv6; 6:
// DNS; 7: LCP echo). Then records: op octet, and by op % 8:
//   0-4  a frame: protocol selector octet, 2-octet length, that many octets
//   5    the expiry of a timer (next octet % 6), running or stale
//   6    the expiry of the first running timer (drives retransmissions)
//   7    Close() if the next octet is even, Down() if odd
//
// Invariants checked (abort() on violation):
//   - StopTimer only for a timer that runs;
//   - every SendFrame has a valid Protocol, at most 4087 octets of
//     Information (what SSTP can carry), and is a well-formed packet whose
//     Length covers it exactly;
//   - at most one LinkFailed or Finished, nothing after it, and then the
//     client is finished and in the Dead phase; a failure's status is not
//     OK and auth_failure comes only with UNAUTHENTICATED / PERMISSION_DENIED;
//   - Authenticated at most once; Ipv4Up, Ipv6Up and NetworkReady only after
//     it; NetworkReady at most once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <set>
#include <variant>
#include <vector>

#include "base/random.h"
#include "daemon/ppp/client.h"
#include "daemon/ppp/frame.h"
#include "daemon/ppp/packet.h"

namespace sstp::ppp {
namespace {

void Check(bool condition) {
  if (!condition) abort();
}

constexpr uint16_t kProtocols[] = {
    kProtocolLcp,  kProtocolPap,  kProtocolChap,   kProtocolEap,
    kProtocolIpcp, kProtocolIpv6cp, kProtocolIpv4, kProtocolIpv6,
    kProtocolCcp,  kProtocolLqr,  kProtocolLcp,    kProtocolIpcp,
};
constexpr size_t kMaxInformation = 4091 - kFrameHeaderSize;

class Harness {
 public:
  explicit Harness(uint8_t profile) : random_(MakeRandom()) {
    ClientConfig config;
    config.user_name = "User";
    config.password = SecretString("clientPass");
    config.auth_methods.clear();
    constexpr AuthMethod kMethods[] = {AuthMethod::kMsChapV2,
                                       AuthMethod::kEapMsChapV2,
                                       AuthMethod::kChapMd5, AuthMethod::kPap};
    for (int i = 0; i < 4; ++i) {
      if (profile & (1 << i)) config.auth_methods.push_back(kMethods[i]);
    }
    if (config.auth_methods.empty()) {
      config.auth_methods.assign(std::begin(kMethods), std::end(kMethods));
    }
    config.want_ipv4 = !(profile & 0x10);
    config.want_ipv6 = !(profile & 0x20);
    if (!config.want_ipv4 && !config.want_ipv6) config.want_ipv4 = true;
    config.want_dns = profile & 0x40;
    config.echo_interval =
        (profile & 0x80) ? absl::Seconds(10) : absl::ZeroDuration();
    config.logger = Logger("fuzz");
    client_ = std::make_unique<PppClient>(std::move(config), random_);
  }

  PppClient& client() { return *client_; }
  const std::set<TimerId>& running() const { return running_; }
  // The timer expires: the caller's timer no longer runs.
  void Fire(TimerId id) {
    running_.erase(id);
    Run(client_->OnTimer(id));
  }

  void Run(ClientActions actions) {
    for (const ClientAction& action : actions) {
      Check(!terminal_);  // nothing after LinkFailed / Finished
      std::visit([this](const auto& a) { On(a); }, action);
    }
    if (terminal_) {
      Check(client_->finished());
      Check(client_->phase() == Phase::kDead);
    }
  }

 private:
  static std::vector<uint8_t> MakeRandom() {
    // The magic number 0x11223344 first, so that seeds can Ack our request.
    return {0x11, 0x22, 0x33, 0x44, 0x21, 0x40, 0x23, 0x24, 0x25, 0x5e,
            0x26, 0x2a, 0x28, 0x29, 0x5f, 0x2b, 0x3a, 0x33, 0x7c, 0x7e};
  }

  void On(const SendFrame& frame) {
    Check(IsValidProtocol(frame.protocol));
    Check(frame.information.size() <= kMaxInformation);
    absl::StatusOr<ControlPacket> packet = ParseControlPacket(frame.information);
    Check(packet.ok());
    Check(kControlHeaderSize + packet->data.size() == frame.information.size());
  }
  void On(const StartTimer& start) {
    Check(start.after > absl::ZeroDuration());
    running_.insert(start.id);
  }
  void On(const StopTimer& stop) { Check(running_.erase(stop.id) == 1); }
  void On(const Authenticated&) {
    Check(!authenticated_);
    authenticated_ = true;
  }
  void On(const Ipv4Up&) { Check(authenticated_); }
  void On(const Ipv6Up&) { Check(authenticated_); }
  void On(const NetworkReady&) {
    Check(authenticated_ && !network_ready_);
    network_ready_ = true;
  }
  void On(const LinkFailed& failed) {
    Check(!failed.reason.ok());
    if (failed.auth_failure) {
      Check(failed.reason.code() == absl::StatusCode::kUnauthenticated ||
            failed.reason.code() == absl::StatusCode::kPermissionDenied);
    }
    terminal_ = true;
  }
  void On(const Finished&) { terminal_ = true; }

  FixedRandom random_;
  std::unique_ptr<PppClient> client_;
  std::set<TimerId> running_;
  bool authenticated_ = false;
  bool network_ready_ = false;
  bool terminal_ = false;
};

}  // namespace
}  // namespace sstp::ppp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sstp::ppp;
  if (size == 0) return 0;
  Harness harness(data[0]);
  harness.Run(harness.client().Up());
  size_t pos = 1;
  auto next = [&](uint8_t* out) {
    if (pos >= size) return false;
    *out = data[pos++];
    return true;
  };
  uint8_t op = 0;
  while (next(&op)) {
    switch (op % 8) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4: {
        uint8_t selector = 0, hi = 0, lo = 0;
        if (!next(&selector) || !next(&hi) || !next(&lo)) return 0;
        size_t length = static_cast<size_t>(hi) << 8 | lo;
        length = std::min({length, size - pos, kMaxInformation});
        const uint16_t protocol =
            kProtocols[selector % (sizeof(kProtocols) / sizeof(kProtocols[0]))];
        harness.Run(harness.client().OnFrame(
            protocol, absl::MakeConstSpan(data + pos, length)));
        pos += length;
        break;
      }
      case 5: {
        uint8_t id = 0;
        if (!next(&id)) return 0;
        harness.Fire(static_cast<TimerId>(id % kNumTimerIds));
        break;
      }
      case 6:
        if (!harness.running().empty()) {
          harness.Fire(*harness.running().begin());
        }
        break;
      case 7: {
        uint8_t which = 0;
        if (!next(&which)) return 0;
        harness.Run(which % 2 == 0 ? harness.client().Close("fuzz")
                                   : harness.client().Down());
        break;
      }
    }
  }
  return 0;
}
