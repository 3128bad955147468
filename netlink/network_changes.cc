#include "netlink/network_changes.h"

#include <linux/if_link.h>
#include <net/if.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"

namespace sstp::netlink {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// The kernel's answer when the thing to remove no longer exists: the route
// (ESRCH), the address (EADDRNOTAVAIL) or the whole interface (ENODEV). The
// kernel removes addresses and routes together with their interface, so
// these mean "already undone".
bool AlreadyGone(const absl::Status& status) {
  const std::optional<int> error = KernelErrno(status);
  return error && (*error == ESRCH || *error == ENODEV || *error == EADDRNOTAVAIL);
}

bool SameRoute(const RouteInfo& route, const RouteSpec& spec) {
  return route.destination == spec.destination && route.gateway == spec.gateway &&
         route.oif == spec.oif && route.table == spec.table;
}

}  // namespace

NetworkChanges::NetworkChanges(Rtnl* rtnl, Logger logger)
    : rtnl_(rtnl), logger_(std::move(logger)) {}

NetworkChanges::~NetworkChanges() {
  if (changes_.empty()) return;
  const absl::Status status = Undo();
  if (!status.ok()) logger_.Error("%s", status.message());
}

absl::Status NetworkChanges::AdoptTun(Tun tun) {
  if (tun_) {
    return absl::FailedPreconditionError(
        absl::StrCat("adopt TUN ", tun.name, ": already holding TUN ", tun_->name));
  }
  if (!tun.fd.valid() || tun.ifindex <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("adopt TUN ", tun.name, ": not an open TUN"));
  }
  // Constructed in place: a temporary variant trips a GCC 12
  // -Wmaybe-uninitialized false positive.
  changes_.emplace_back(std::in_place_type<TunChange>, TunChange{tun.ifindex, tun.name});
  logger_.Info("created TUN %s (ifindex %d)", tun.name, tun.ifindex);
  tun_ = std::move(tun);
  return absl::OkStatus();
}

const Tun* NetworkChanges::tun() const { return tun_ ? &*tun_ : nullptr; }

absl::Status NetworkChanges::SetMtu(int ifindex, uint32_t mtu) {
  ASSIGN_OR_RETURN(const LinkInfo link, rtnl_->GetLink(ifindex));
  if (link.mtu == mtu) return absl::OkStatus();
  RETURN_IF_ERROR(rtnl_->SetMtu(ifindex, mtu));
  changes_.emplace_back(std::in_place_type<MtuChange>, MtuChange{ifindex, link.mtu, mtu});
  logger_.Info("%s", DescribeChange(changes_.back()));
  return absl::OkStatus();
}

absl::Status NetworkChanges::SetLinkUp(int ifindex) {
  ASSIGN_OR_RETURN(const LinkInfo link, rtnl_->GetLink(ifindex));
  if (link.up()) return absl::OkStatus();
  RETURN_IF_ERROR(rtnl_->SetLinkUp(ifindex));
  changes_.emplace_back(std::in_place_type<LinkUpChange>, LinkUpChange{ifindex});
  logger_.Info("%s", DescribeChange(changes_.back()));
  return absl::OkStatus();
}

absl::Status NetworkChanges::DisableIpv6AutoLinkLocal(int ifindex) {
  if (!tun_ || tun_->ifindex != ifindex) {
    return absl::FailedPreconditionError(
        absl::StrCat("IPv6 address generation of ", Rtnl::InterfaceName(ifindex),
                     ": only changed on the TUN sstp-ktls created"));
  }
  return rtnl_->SetIpv6AddrGenMode(ifindex, IN6_ADDR_GEN_MODE_NONE);
}

absl::Status NetworkChanges::AddAddress(const AddressSpec& spec) {
  RETURN_IF_ERROR(rtnl_->AddAddress(spec));
  changes_.emplace_back(std::in_place_type<AddressChange>, AddressChange{spec});
  logger_.Info("%s", DescribeChange(changes_.back()));
  return absl::OkStatus();
}

absl::Status NetworkChanges::AddRoute(RouteSpec spec) {
  spec.protocol = kRouteProtocolSstp;
  RETURN_IF_ERROR(rtnl_->AddRoute(spec));
  changes_.emplace_back(std::in_place_type<RouteChange>, RouteChange{spec});
  logger_.Info("%s", DescribeChange(changes_.back()));
  return absl::OkStatus();
}

absl::Status NetworkChanges::AddSplitDefaultRoute(int family, int oif, uint32_t metric,
                                                  uint32_t table) {
  if (family != AF_INET && family != AF_INET6) {
    return absl::InvalidArgumentError(absl::StrCat("split default route: family ", family));
  }
  for (const IpPrefix& half : SplitDefaultPrefixes(family)) {
    RouteSpec spec;
    spec.destination = half;
    spec.oif = oif;
    spec.metric = metric;
    spec.table = table;
    RETURN_IF_ERROR(AddRoute(spec));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RouteSpec>> NetworkChanges::AddServerHostRoute(
    const IpAddress& server) {
  ASSIGN_OR_RETURN(const RouteLookup lookup, rtnl_->GetRoute(server));
  if (lookup.type == RTN_LOCAL) {
    // The local table always wins; a host route would change nothing.
    logger_.Info("server %s is a local address: no host route needed", server.ToString());
    return std::nullopt;
  }
  if (tun_ && lookup.oif == tun_->ifindex) {
    return absl::FailedPreconditionError(
        absl::StrCat("route to server ", server.ToString(), " already goes through ", tun_->name,
                     ": add the server host route before routing traffic into the tunnel"));
  }
  RouteSpec spec;
  spec.destination = IpPrefix::Host(server);
  spec.gateway = lookup.gateway;
  spec.oif = lookup.oif;
  const absl::Status added = AddRoute(spec);
  if (added.ok()) return spec;
  if (KernelErrno(added) != EEXIST) return added;
  // A host route to the server is already there. If it is the very path
  // the lookup found, traffic to the server is right already: use it, but
  // leave it out of the record, since it is not ours to remove.
  ASSIGN_OR_RETURN(const std::vector<RouteInfo> routes,
                   rtnl_->ListRoutes(server.family(), spec.table));
  for (const RouteInfo& route : routes) {
    if (SameRoute(route, spec)) {
      logger_.Notice("host route %s already exists (not ours; kept as is)",
                     DescribeRoute(spec, Rtnl::InterfaceName(spec.oif)));
      return std::nullopt;
    }
  }
  return added;
}

absl::Status NetworkChanges::Undo() {
  std::vector<std::string> failures;
  const size_t total = changes_.size();
  absl::StatusCode first_code = absl::StatusCode::kOk;
  while (!changes_.empty()) {
    // Popped before it is undone: a change whose undo failed is reported
    // once and not retried later, where it could hit a newer object that
    // someone else created with the same key.
    Change change = std::move(changes_.back());
    changes_.pop_back();
    const std::string description = DescribeChange(change);
    const absl::Status status = UndoChange(change);
    if (status.ok()) {
      logger_.Info("undone: %s", description);
    } else if (AlreadyGone(status)) {
      logger_.Info("undone: %s (already gone)", description);
    } else {
      logger_.Warning("undo failed: %s", status.message());
      if (first_code == absl::StatusCode::kOk) first_code = status.code();
      failures.emplace_back(status.message());
    }
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::Status(first_code, absl::StrCat("undo: ", failures.size(), " of ", total,
                                               " changes failed: ", absl::StrJoin(failures, "; ")));
}

absl::Status NetworkChanges::UndoChange(Change& change) {
  return std::visit(
      Overloaded{
          [&](TunChange& c) -> absl::Status {
            // Closing the last queue fd deletes a non-persistent TUN (and the
            // kernel drops its addresses and routes with it).
            if (tun_ && tun_->ifindex == c.ifindex) tun_.reset();
            const unsigned still = if_nametoindex(c.name.c_str());
            if (still == static_cast<unsigned>(c.ifindex)) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "TUN ", c.name, " still exists after closing its fd (another queue is open?)"));
            }
            return absl::OkStatus();
          },
          [&](MtuChange& c) { return rtnl_->SetMtu(c.ifindex, c.previous); },
          [&](LinkUpChange& c) { return rtnl_->SetLinkDown(c.ifindex); },
          [&](AddressChange& c) { return rtnl_->DeleteAddress(c.spec); },
          [&](RouteChange& c) { return rtnl_->DeleteRoute(c.spec); },
      },
      change);
}

std::string NetworkChanges::DescribeChange(const Change& change) const {
  return std::visit(
      Overloaded{
          [](const TunChange& c) {
            return absl::StrCat("tun ", c.name, " (ifindex ", c.ifindex, ")");
          },
          [](const MtuChange& c) {
            return absl::StrCat("mtu ", Rtnl::InterfaceName(c.ifindex), " ", c.previous, " -> ",
                                c.mtu);
          },
          [](const LinkUpChange& c) {
            return absl::StrCat("link ", Rtnl::InterfaceName(c.ifindex), " up");
          },
          [](const AddressChange& c) {
            return absl::StrCat("address ",
                                DescribeAddress(c.spec, Rtnl::InterfaceName(c.spec.ifindex)));
          },
          [](const RouteChange& c) {
            return absl::StrCat(
                "route ",
                DescribeRoute(c.spec, c.spec.oif > 0 ? Rtnl::InterfaceName(c.spec.oif) : ""));
          },
      },
      change);
}

std::vector<std::string> NetworkChanges::Describe() const {
  std::vector<std::string> lines;
  lines.reserve(changes_.size());
  for (const Change& change : changes_) lines.push_back(DescribeChange(change));
  return lines;
}

}  // namespace sstp::netlink
