// Fuzzes the rtnetlink reply parsers (netlink/rtnl_messages.h) and the
// generic netlink / ethtool ones (netlink/ethtool_messages.h) with arbitrary
// datagrams, walked message by message as Rtnl walks what the kernel sends.
//
// Invariants: a route or address that parses, rebuilt as a request with the
// builders and parsed again, gives back the same fields (the builders and
// parsers agree on the layout); a features reply that parses names a valid
// device and describes itself.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "netlink/ethtool_messages.h"
#include "netlink/rtnl_messages.h"

namespace {

using sstp::netlink::AddressInfo;
using sstp::netlink::AddressSpec;
using sstp::netlink::NetlinkMessage;
using sstp::netlink::RouteInfo;
using sstp::netlink::RouteSpec;

void CheckRouteRoundTrip(const RouteInfo& route) {
  RouteSpec spec;
  spec.destination = route.destination;
  spec.gateway = route.gateway;
  spec.oif = route.oif;
  spec.metric = route.metric;
  spec.table = route.table;
  spec.protocol = route.protocol;
  spec.prefsrc = route.prefsrc;
  absl::StatusOr<NetlinkMessage> built = sstp::netlink::BuildRoute(RTM_NEWROUTE, spec);
  if (!built.ok()) return;  // E.g. host bits set, no oif and no gateway.
  absl::StatusOr<RouteInfo> again = sstp::netlink::ParseRouteMessage(built->header());
  if (!again.ok()) abort();
  if (!(again->destination == route.destination) || again->gateway != route.gateway ||
      again->prefsrc != route.prefsrc || again->oif != route.oif || again->metric != route.metric ||
      again->table != route.table || again->protocol != route.protocol) {
    abort();
  }
}

void CheckAddressRoundTrip(const AddressInfo& address) {
  AddressSpec spec;
  spec.ifindex = address.ifindex;
  spec.local = address.local;
  spec.peer = address.peer;
  absl::StatusOr<NetlinkMessage> built = sstp::netlink::BuildAddress(RTM_NEWADDR, spec);
  if (!built.ok()) return;  // E.g. ifindex 0.
  absl::StatusOr<AddressInfo> again = sstp::netlink::ParseAddressMessage(built->header());
  if (!again.ok()) abort();
  if (!(again->local == address.local) || again->peer != address.peer ||
      again->ifindex != address.ifindex) {
    abort();
  }
}

void CheckGenericNetlink(const nlmsghdr* message) {
  // Generic netlink types are dynamic (the controller's is RTM_NEWLINK's
  // number), so both parsers see every message; they check the command.
  (void)sstp::netlink::ParseFamilyId(message);
  absl::StatusOr<sstp::netlink::TlsOffloadFeatures> features =
      sstp::netlink::ParseFeaturesReply(message);
  if (!features.ok()) return;
  if (features->ifindex <= 0 || features->Describe().empty()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Netlink messages are 4-byte aligned in the receive buffer.
  std::vector<uint32_t> buffer((size + 3) / 4);
  if (size > 0) std::memcpy(buffer.data(), data, size);
  const uint8_t* next = reinterpret_cast<const uint8_t*>(buffer.data());
  size_t remaining = size;
  while (sstp::netlink::NetlinkMessageFits(reinterpret_cast<const nlmsghdr*>(next), remaining)) {
    const auto* message = reinterpret_cast<const nlmsghdr*>(next);
    switch (message->nlmsg_type) {
      case RTM_NEWROUTE:
        if (auto route = sstp::netlink::ParseRouteMessage(message); route.ok()) {
          CheckRouteRoundTrip(*route);
        }
        break;
      case RTM_NEWADDR:
        if (auto address = sstp::netlink::ParseAddressMessage(message); address.ok()) {
          CheckAddressRoundTrip(*address);
        }
        break;
      case RTM_NEWLINK:
        (void)sstp::netlink::ParseLinkMessage(message);
        break;
      case NLMSG_ERROR:
        (void)sstp::netlink::ParseErrorMessage(message);
        break;
      case NLMSG_DONE:
        (void)sstp::netlink::ParseDoneMessage(message);
        break;
      default:
        // Every parser must cope with any message type.
        (void)sstp::netlink::ParseRouteMessage(message);
        (void)sstp::netlink::ParseErrorMessage(message);
        break;
    }
    CheckGenericNetlink(message);
    const size_t step = std::min<size_t>(NLMSG_ALIGN(message->nlmsg_len), remaining);
    next += step;
    remaining -= step;
  }
  return 0;
}
