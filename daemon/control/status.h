// What `sstp-ktls status` shows, and the board on which the session thread
// publishes it for the control thread.
#ifndef SSTP_KTLS_DAEMON_CONTROL_STATUS_H_
#define SSTP_KTLS_DAEMON_CONTROL_STATUS_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace sstp::control {

struct StatusSnapshot {
  std::string profile;
  std::string phase;          // connecting, tls, http, sstp, ppp, configuring,
                              // connected, disconnecting, reconnecting, down.
  std::string server;
  std::string tls_version;
  std::string tls_cipher;
  // Where each direction's TLS records are protected: "kernel (software)",
  // "kernel (NIC eth0)" or "user space (OpenSSL)"; with why user space
  // when the kernel was not used.
  std::string record_layer_tx;
  std::string record_layer_rx;
  std::string user_space_reason;
  // Kernel TLS only: records the kernel protected since the hand-over
  // (getsockopt rec_seq), rekeys followed, and the kernel's counters that
  // matter (/proc/net/tls_stat: TlsDecryptError, ...), machine-wide.
  uint64_t ktls_tx_records = 0, ktls_rx_records = 0, ktls_rekeys = 0;
  std::vector<std::pair<std::string, uint64_t>> ktls_counters;
  // Whether the NIC towards the server can take the TLS session (ethtool
  // tls-hw-* features), e.g. "eth0: no NIC TLS offload".
  std::string nic_offload;
  std::string auth_method;
  std::string interface;
  std::vector<std::string> addresses;
  std::vector<std::string> routes;
  std::vector<std::string> dns;
  uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
  // TUN offloads: "TSO and GRO", or why not ("off: tun-offload = no"); the
  // super-packets read and cut, and written after joining segments.
  std::string tun_offload;
  uint64_t tx_super_packets = 0, rx_super_packets = 0;
  absl::Duration uptime;
  std::string last_error;
};

std::string FormatStatus(const StatusSnapshot& s);
std::string FormatStatusJson(const StatusSnapshot& s);

// Thread-safe. The session publishes; readers wait for a fresh copy.
class StatusBoard {
 public:
  void Publish(StatusSnapshot snapshot);
  StatusSnapshot Latest() const;
  // Waits until something newer than `generation` is published, or the
  // timeout passes; returns the latest either way.
  StatusSnapshot WaitNewer(uint64_t generation, absl::Duration timeout) const;
  uint64_t generation() const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  StatusSnapshot snapshot_;
  uint64_t generation_ = 0;
};

}  // namespace sstp::control

#endif  // SSTP_KTLS_DAEMON_CONTROL_STATUS_H_
