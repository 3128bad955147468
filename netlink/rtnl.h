// One NETLINK_ROUTE socket (libmnl) and the rtnetlink operations sstp-ktls
// needs: link lookup and state, addresses, routes, route lookup, dumps.
// OpenProtocol() gives the same request/ACK machinery on another netlink
// protocol (NETLINK_GENERIC, for ethtool.h).
//
// Every request carries NLM_F_ACK and a fresh sequence number; Rtnl reads
// until the kernel's ACK, error or NLMSG_DONE for that sequence number, so
// the socket never holds a stale reply for the next request. Errors read
// "<request>: <strerror> (errno N): <kernel's extended ack text>", e.g.
//   RTM_NEWROUTE 10.0.0.0/8 dev office0 metric 0: File exists (errno 17): ...
// (NETLINK_EXT_ACK is enabled; the kernel adds NLMSGERR_ATTR_MSG to many
// errors).
//
// The socket is bound in the network namespace of the thread that calls
// Open(), and stays there. Rtnl performs changes but does not remember them:
// NetworkChanges (network_changes.h) does, for teardown.
//
// Not thread-safe: one owner, one request at a time (blocking).
#ifndef SSTP_KTLS_NETLINK_RTNL_H_
#define SSTP_KTLS_NETLINK_RTNL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netlink/ip_address.h"
#include "netlink/rtnl_messages.h"

struct mnl_socket;

namespace sstp::netlink {

// What the kernel would do with a packet to one destination (RTM_GETROUTE).
struct RouteLookup {
  int oif = 0;
  std::optional<IpAddress> gateway;  // Absent when the destination is on-link.
  std::optional<IpAddress> prefsrc;
  uint32_t table = 0;
  uint8_t type = 0;  // RTN_UNICAST; RTN_LOCAL for one of our own addresses.
};

// The errno the kernel answered a request with (NLMSG_ERROR / NLMSG_DONE),
// if `status` came from one: lets callers tell EEXIST from ESRCH without
// parsing messages.
std::optional<int> KernelErrno(const absl::Status& status);

class Rtnl {
 public:
  // Called for each reply message of a request (not for ACK/ERROR/DONE).
  // An error is kept and returned by the request once the kernel's reply is
  // read to its end.
  using ReplyHandler = std::function<absl::Status(const nlmsghdr* message)>;

  // Opens and binds the socket; enables NETLINK_EXT_ACK and NETLINK_CAP_ACK
  // (errors don't echo the request back, only the TLVs).
  static absl::StatusOr<Rtnl> Open();
  // The same request/ACK machinery on another netlink protocol:
  // NETLINK_GENERIC for generic netlink families (ethtool.h). Only Execute()
  // makes sense on such a socket; the rtnetlink operations need
  // NETLINK_ROUTE.
  static absl::StatusOr<Rtnl> OpenProtocol(int protocol);

  Rtnl(Rtnl&&) noexcept;
  Rtnl& operator=(Rtnl&&) noexcept;
  ~Rtnl();

  // Index of the interface called `name`; NotFound naming it if none.
  absl::StatusOr<int> LinkIndex(absl::string_view name);
  absl::StatusOr<LinkInfo> GetLink(int ifindex);
  absl::Status SetMtu(int ifindex, uint32_t mtu);
  absl::Status SetLinkUp(int ifindex);
  absl::Status SetLinkDown(int ifindex);
  // IFLA_INET6_ADDR_GEN_MODE (IN6_ADDR_GEN_MODE_NONE = 1): with NONE the
  // kernel adds no automatic IPv6 link-local address when the link comes up.
  // A TUN (ARPHRD_NONE) otherwise gets a random one (addrconf.c), next to
  // the one IPV6CP negotiated.
  absl::Status SetIpv6AddrGenMode(int ifindex, uint8_t mode);

  // Adds exactly this address; AlreadyExists if it is there (never adopted).
  absl::Status AddAddress(const AddressSpec& spec);
  absl::Status DeleteAddress(const AddressSpec& spec);
  // Adds exactly this route; AlreadyExists if a route with the same
  // destination, table and metric is there (never replaced).
  absl::Status AddRoute(const RouteSpec& spec);
  // Deletes the route matching all of spec's fields, protocol included.
  absl::Status DeleteRoute(const RouteSpec& spec);

  // The route the kernel would pick for `destination` (no packet is sent).
  absl::StatusOr<RouteLookup> GetRoute(const IpAddress& destination);

  // Addresses of `family` (AF_UNSPEC: both) on `ifindex` (0: every link).
  absl::StatusOr<std::vector<AddressInfo>> ListAddresses(int ifindex, int family = AF_UNSPEC);
  // Routes of `family` (AF_INET or AF_INET6) in `table`.
  absl::StatusOr<std::vector<RouteInfo>> ListRoutes(int family, uint32_t table = RT_TABLE_MAIN);

  // Sends `request` (adding NLM_F_REQUEST | NLM_F_ACK and a sequence
  // number), passes each reply message to `on_reply` (may be empty), and
  // waits for the ACK / NLMSG_DONE. `what` names the request in errors.
  // For requests the operations above don't cover (tests create veth pairs
  // with it).
  absl::Status Execute(NetlinkMessage request, absl::string_view what,
                       const ReplyHandler& on_reply = nullptr);

  // "office0" if the interface exists, else "#5": for messages.
  static std::string InterfaceName(int ifindex);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* socket) const;
  };

  Rtnl(std::unique_ptr<mnl_socket, SocketCloser> socket, uint32_t portid, uint32_t seq);

  // Execute() with a lazily built description (a name lookup is only worth
  // it for an error); sets *dump_interrupted if the kernel flagged a reply
  // NLM_F_DUMP_INTR (the dump raced with a change and may be inconsistent).
  absl::Status Transact(NetlinkMessage request, const std::function<std::string()>& what,
                        const ReplyHandler& on_reply, bool* dump_interrupted);
  // A dump, repeated (after `reset`) while the kernel reports it interrupted.
  absl::Status Dump(const NetlinkMessage& request, absl::string_view what,
                    const std::function<void()>& reset, const ReplyHandler& on_reply);

  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_RTNL_H_
