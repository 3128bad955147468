// NetworkChanges: every change sstp-ktls makes to the host's network
// configuration, recorded so that teardown removes exactly those and nothing
// else (STYLE.md: "Remember what you configured; on teardown remove only
// that"; ARCHITECTURE.md lifecycle steps 6 and 8).
//
// - A change is recorded only once the kernel has acknowledged it. Something
//   that already existed is an error (the kernel's EEXIST, from
//   NLM_F_CREATE | NLM_F_EXCL), never adopted: it was not ours, so Undo()
//   must not remove it.
// - A no-op (MTU already at the value, link already up) is not recorded, so
//   Undo() does not "restore" a state someone else set.
// - Routes carry kRouteProtocolSstp and are deleted by a request that
//   matches destination, table, metric, interface, gateway and protocol, so
//   the kernel can only delete our route.
// - Undo() walks the record in reverse, continues past failures and returns
//   them all in one Status. A change that is already gone (ESRCH, ENODEV,
//   EADDRNOTAVAIL: e.g. the kernel dropped the routes of a vanished
//   interface) counts as undone. Undo() is idempotent and runs from the
//   destructor if the owner did not call it.
//
// Not thread-safe. `rtnl` must outlive this object and be bound in the
// network namespace where the changes are made.
#ifndef SSTP_KTLS_NETLINK_NETWORK_CHANGES_H_
#define SSTP_KTLS_NETLINK_NETWORK_CHANGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/log.h"
#include "netlink/ip_address.h"
#include "netlink/rtnl.h"
#include "netlink/rtnl_messages.h"
#include "netlink/tun.h"

namespace sstp::netlink {

class NetworkChanges {
 public:
  NetworkChanges(Rtnl* rtnl, Logger logger);
  // Undo() if anything is still recorded; failures are logged as errors.
  ~NetworkChanges();

  NetworkChanges(const NetworkChanges&) = delete;
  NetworkChanges& operator=(const NetworkChanges&) = delete;

  // Takes ownership of a TUN made by CreateTun. Undo() closes its fd, which
  // deletes the interface (it is not persistent). Adopt it first, so that it
  // is undone last, after the changes made on it. At most one TUN.
  absl::Status AdoptTun(Tun tun);
  // The adopted TUN (until Undo()), or nullptr. The data plane borrows its fd.
  const Tun* tun() const;

  // Sets the MTU; records the previous value unless it was already `mtu`.
  absl::Status SetMtu(int ifindex, uint32_t mtu);
  // Brings the link up; recorded (Undo: down) only if it was down.
  absl::Status SetLinkUp(int ifindex);
  // Stops the kernel from adding its own IPv6 link-local address when the
  // link comes up (IN6_ADDR_GEN_MODE_NONE), so that the TUN carries only
  // the address IPV6CP negotiated. Only on the adopted TUN: the setting dies
  // with the interface, so there is nothing to restore; on another
  // interface it would change someone else's configuration.
  absl::Status DisableIpv6AutoLinkLocal(int ifindex);
  // Adds the address (AlreadyExists if present: not adopted).
  absl::Status AddAddress(const AddressSpec& spec);
  // Adds the route (AlreadyExists if present: not adopted). The protocol is
  // forced to kRouteProtocolSstp.
  absl::Status AddRoute(RouteSpec spec);

  // Sends everything of `family` through `oif` without touching the default
  // route: two /1 routes (0.0.0.0/1 + 128.0.0.0/1, or ::/1 + 8000::/1).
  // Why not replace or out-metric the default route:
  //  - longest-prefix match makes /1 beat /0 whatever the metrics, so a
  //    DHCP/RA client that re-installs its default route does not pull
  //    traffic out of the tunnel;
  //  - the original default route stays exactly as it was, so there is
  //    nothing to restore, and if the daemon dies the /1 routes vanish with
  //    the TUN while the host's own routing is intact;
  //  - the server host route (AddServerHostRoute, a /32 or /128) is more
  //    specific than /1, so the tunnel's own TLS connection keeps using the
  //    original path.
  // Add the server host route first. If the second route fails, the first
  // stays recorded (Undo() removes it).
  absl::Status AddSplitDefaultRoute(int family, int oif, uint32_t metric = 0,
                                    uint32_t table = RT_TABLE_MAIN);

  // Pins the route to the VPN server to the path it takes now: looks up the
  // route to `server` (RTM_GETROUTE) and adds a host route via the same
  // gateway and interface, so routes into the tunnel don't capture the
  // tunnel's own packets. Call before any route into the tunnel. Returns the
  // route added, or nullopt when none is needed (the server is a local
  // address) or an identical host route already exists (left alone: not
  // ours). FailedPrecondition if the path already goes through the adopted
  // TUN.
  absl::StatusOr<std::optional<RouteSpec>> AddServerHostRoute(const IpAddress& server);

  // Removes everything recorded, newest first; see the file comment.
  absl::Status Undo();

  // Number of recorded changes.
  size_t size() const { return changes_.size(); }
  // One line per recorded change, oldest first ("route 0.0.0.0/1 dev
  // office0 metric 0"), for status output.
  std::vector<std::string> Describe() const;

 private:
  // The Tun itself lives in tun_ so that its address stays stable.
  struct TunChange {
    int ifindex;
    std::string name;
  };
  struct MtuChange {
    int ifindex;
    uint32_t previous;
    uint32_t mtu;
  };
  struct LinkUpChange {
    int ifindex;
  };
  struct AddressChange {
    AddressSpec spec;
  };
  struct RouteChange {
    RouteSpec spec;
  };
  using Change = std::variant<TunChange, MtuChange, LinkUpChange, AddressChange, RouteChange>;

  std::string DescribeChange(const Change& change) const;
  absl::Status UndoChange(Change& change);

  Rtnl* rtnl_;
  Logger logger_;
  std::optional<Tun> tun_;
  std::vector<Change> changes_;
};

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_NETWORK_CHANGES_H_
