// Whether the NIC that carries the connection to the VPN server can take
// the kernel TLS session (tls_device, "NIC TLS offload"): the egress device
// from the kernel's route lookup, then its features from the ethtool
// generic netlink family (Documentation/networking/ethtool-netlink.rst,
// FEATURES_GET). Read-only: nothing is configured.
//
// Errors read like Rtnl's ("<request>: <strerror> (errno N): <kernel's
// extended ack text>"), e.g.
//   ETHTOOL_MSG_FEATURES_GET #99: No such device (errno 19): no device matches ifindex
//
// Sockets are bound in the network namespace of the thread that opens them.
// Not thread-safe: one owner, one request at a time (blocking).
#ifndef SSTP_KTLS_NETLINK_ETHTOOL_H_
#define SSTP_KTLS_NETLINK_ETHTOOL_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netlink/ethtool_messages.h"
#include "netlink/ip_address.h"
#include "netlink/rtnl.h"

namespace sstp::netlink {

// The id (netlink message type) of the generic netlink family `name`, from
// the controller (CTRL_CMD_GETFAMILY) over `socket`, a NETLINK_GENERIC
// socket (Rtnl::OpenProtocol). Unavailable, reading "<name> netlink not
// available: ...", when the kernel has no such family (ENOENT); otherwise
// the controller's error, or InvalidArgument for a bad name or reply.
absl::StatusOr<uint16_t> ResolveGenlFamily(Rtnl& socket, absl::string_view name);

// A NETLINK_GENERIC socket with the ethtool family resolved.
class Ethtool {
 public:
  // Opens the socket and resolves the family "ethtool". Unavailable,
  // starting "ethtool netlink not available", when the kernel has no such
  // family (older than 5.6, or built without CONFIG_ETHTOOL_NETLINK);
  // otherwise the socket's or the controller's error.
  static absl::StatusOr<Ethtool> Open();

  Ethtool(Ethtool&&) noexcept = default;
  Ethtool& operator=(Ethtool&&) noexcept = default;

  // The family's netlink message type, as the controller assigned it.
  uint16_t family_id() const { return family_id_; }

  // The TLS offload features of device `ifindex` (ETHTOOL_MSG_FEATURES_GET).
  // InvalidArgument for ifindex <= 0; NotFound (ENODEV, with the kernel's
  // text) when no such device exists in the socket's namespace;
  // InvalidArgument naming the attribute for a malformed reply; Internal if
  // the kernel answers for another device or not at all.
  absl::StatusOr<TlsOffloadFeatures> GetTlsOffload(int ifindex);

 private:
  Ethtool(Rtnl socket, uint16_t family_id) : socket_(std::move(socket)), family_id_(family_id) {}

  Rtnl socket_;  // Opened with Rtnl::OpenProtocol(NETLINK_GENERIC).
  uint16_t family_id_ = 0;
};

// The device the kernel would send a packet to a destination through.
struct EgressInterface {
  int ifindex = 0;
  std::string name;
};

// The kernel's route lookup for `destination` (RTM_GETROUTE with RTA_DST,
// as `ip route get`; no packet is sent) and the chosen device's name
// (RTM_GETLINK). The lookup carries no mark, uid or source address, so
// policy rules that match on those are not applied. One of our own
// addresses resolves to `lo`. Errors: the kernel's (ENETUNREACH "Network is
// unreachable" when no route matches), NotFound if the route names no
// output device.
absl::StatusOr<EgressInterface> FindEgressInterface(Rtnl& rtnl, const IpAddress& destination);

// FindEgressInterface() then Ethtool::GetTlsOffload() on that device, with
// two short-lived sockets in the calling thread's namespace. Reports the
// device the route names: for a VLAN or bond, that device's own features
// (which the kernel derives from the lower devices). Errors as above,
// prefixed "NIC TLS offload towards <destination>: "; Unavailable when the
// kernel has no ethtool netlink.
absl::StatusOr<TlsOffloadFeatures> TlsOffloadTowards(const IpAddress& destination);

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_ETHTOOL_H_
