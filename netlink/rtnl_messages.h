// rtnetlink request builders and reply parsers, separate from the socket so
// that the byte layout is unit-tested without root (rtnl_messages_test.cc
// parses every builder's output back with libmnl).
//
// Builders return a NetlinkMessage whose header has type and flags set; the
// sequence number and NLM_F_REQUEST | NLM_F_ACK are added by Rtnl when it
// sends. Parsers take one message as the kernel sent it (header included),
// check the fixed header's length before copying it out, and validate each
// attribute's type and length (libmnl) before using it; unknown attributes
// are skipped, so a newer kernel's additions do not break parsing.
//
// rtnetlink(7), include/uapi/linux/rtnetlink.h, if_addr.h, if_link.h.
#ifndef SSTP_KTLS_NETLINK_RTNL_MESSAGES_H_
#define SSTP_KTLS_NETLINK_RTNL_MESSAGES_H_

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "netlink/ip_address.h"

namespace sstp::netlink {

// The rtm_protocol value that marks a route as ours. Values above
// RTPROT_STATIC are not interpreted by the kernel (rtnetlink.h); 83 is not in
// the kernel's list nor in iproute2's rt_protos, so `ip route show proto 83`
// lists exactly the routes sstp-ktls added, and a RTM_DELROUTE that carries it
// never matches a route someone else added with the same destination.
inline constexpr uint8_t kRouteProtocolSstp = 83;

// One netlink message being built, in a fixed, aligned buffer. Attribute
// puts are bounds-checked: one that does not fit poisons the message
// (ok() == false) and builders turn that into an error.
class NetlinkMessage {
 public:
  static constexpr size_t kCapacity = 1024;

  NetlinkMessage(uint16_t type, uint16_t flags);

  // Appends a fixed struct, 4-byte aligned: the family header (ifinfomsg,
  // ifaddrmsg, rtmsg...) right after the netlink header, or one inside a
  // nest (VETH_INFO_PEER starts with an ifinfomsg). Copied in, never cast.
  template <typename T>
  void PutStruct(const T& value) {
    PutRaw(&value, sizeof(value));
  }
  void PutRaw(const void* data, size_t size);
  void PutU8(uint16_t type, uint8_t value) { PutAttr(type, &value, sizeof(value)); }
  void PutU32(uint16_t type, uint32_t value) { PutAttr(type, &value, sizeof(value)); }
  // A NUL-terminated string attribute (NLA_STRING / NLA_NUL_STRING).
  void PutString(uint16_t type, absl::string_view value);
  void PutAddress(uint16_t type, const IpAddress& address) {
    PutAttr(type, address.bytes().data(), address.size());
  }
  void PutAttr(uint16_t type, const void* data, size_t size);
  // Nested attributes: NestEnd(NestStart(type)). The returned handle is the
  // nest's offset in the message.
  size_t NestStart(uint16_t type);
  void NestEnd(size_t nest);

  uint16_t type() const { return header()->nlmsg_type; }
  uint16_t flags() const { return header()->nlmsg_flags; }
  void set_flags(uint16_t flags) { mutable_header()->nlmsg_flags = flags; }
  void set_seq(uint32_t seq) { mutable_header()->nlmsg_seq = seq; }
  uint32_t seq() const { return header()->nlmsg_seq; }

  bool ok() const { return ok_; }
  // The whole message, nlmsghdr included.
  absl::Span<const uint8_t> bytes() const {
    return absl::MakeConstSpan(buffer_.data(), header()->nlmsg_len);
  }
  const nlmsghdr* header() const;
  nlmsghdr* mutable_header();

 private:
  alignas(NLMSG_ALIGNTO) std::array<uint8_t, kCapacity> buffer_{};
  bool ok_ = true;
};

// True if a whole message starts at `message` within `remaining` bytes
// (header and nlmsg_len both fit). Used instead of libmnl 1.0.4's
// mnl_nlmsg_ok(), which casts nlmsg_len to int, so a length >= 2^31 passes
// and mnl_nlmsg_next() then jumps outside the buffer. Every parser below
// relies on the caller having checked this.
bool NetlinkMessageFits(const nlmsghdr* message, size_t remaining);

// Name of a netlink message type for messages: "RTM_NEWROUTE", "NLMSG_ERROR".
std::string MessageTypeName(uint16_t type);

// --- Requests ---------------------------------------------------------------

struct AddressSpec {
  int ifindex = 0;
  // The local address and its prefix length. For a point-to-point IPv4 link
  // with a peer this is e.g. 10.0.0.2/32.
  IpPrefix local;
  // Point-to-point peer (IFA_ADDRESS); without it IFA_ADDRESS = local, as
  // iproute2 sends it.
  std::optional<IpAddress> peer;
  // IPv6: skip duplicate address detection (IFA_F_NODAD). IPV6CP already
  // negotiated the interface identifier with the peer (RFC 5072 4.1).
  bool no_dad = false;
  // No prefix route for the address (IFA_F_NOPREFIXROUTE); the caller adds
  // the routes it wants.
  bool no_prefix_route = false;
};
// "10.0.0.2/32 peer 10.0.0.1 dev office0", for messages; without `dev` the
// interface reads "#5" (no name lookup here).
std::string DescribeAddress(const AddressSpec& spec, absl::string_view dev = {});

struct RouteSpec {
  IpPrefix destination;  // Must be masked (IpPrefix::IsMasked()).
  std::optional<IpAddress> gateway;
  int oif = 0;  // Output interface; 0 = none given.
  // RTA_PRIORITY. 0 for IPv6 means the kernel default (1024) on add, and
  // "any metric" on delete.
  uint32_t metric = 0;
  uint32_t table = RT_TABLE_MAIN;
  uint8_t protocol = kRouteProtocolSstp;
  std::optional<IpAddress> prefsrc;
};
// "10.0.0.0/8 via 192.0.2.1 dev office0 metric 0 [table N]".
std::string DescribeRoute(const RouteSpec& spec, absl::string_view dev = {});

// RTM_GETLINK for one link: by name (IFLA_IFNAME, at most IFNAMSIZ-1 bytes)
// or by index.
absl::StatusOr<NetlinkMessage> BuildGetLinkByName(absl::string_view name);
NetlinkMessage BuildGetLinkByIndex(int ifindex);
// RTM_SETLINK: changes an existing link only (ENODEV if it is gone).
NetlinkMessage BuildSetMtu(int ifindex, uint32_t mtu);
NetlinkMessage BuildSetLinkUp(int ifindex, bool up);
// IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE = mode } }.
NetlinkMessage BuildSetIpv6AddrGenMode(int ifindex, uint8_t mode);
// RTM_NEWADDR (NLM_F_CREATE | NLM_F_EXCL: an existing address is an error,
// never adopted) or RTM_DELADDR.
absl::StatusOr<NetlinkMessage> BuildAddress(uint16_t type, const AddressSpec& spec);
// RTM_NEWROUTE (NLM_F_CREATE | NLM_F_EXCL) or RTM_DELROUTE. A delete carries
// the same protocol, table, metric, oif and gateway, so the kernel deletes
// only a route that matches all of them.
absl::StatusOr<NetlinkMessage> BuildRoute(uint16_t type, const RouteSpec& spec);
// RTM_GETROUTE for one destination: the kernel answers with the route it
// would use (RTA_OIF, RTA_GATEWAY, RTA_PREFSRC).
NetlinkMessage BuildGetRoute(const IpAddress& destination);
// A dump request (NLM_F_DUMP) of RTM_GETLINK / RTM_GETADDR / RTM_GETROUTE
// for `family` (AF_UNSPEC = all).
NetlinkMessage BuildDump(uint16_t type, int family);

// --- Replies ----------------------------------------------------------------

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  uint32_t mtu = 0;
  uint32_t flags = 0;  // IFF_UP, IFF_POINTOPOINT, ...
  uint16_t type = 0;   // ARPHRD_*
  bool up() const;
};

struct AddressInfo {
  int ifindex = 0;
  IpPrefix local;
  std::optional<IpAddress> peer;  // Only when it differs from local.
  uint32_t flags = 0;             // IFA_F_*, from IFA_FLAGS when present.
  uint8_t scope = 0;
};

struct RouteInfo {
  IpPrefix destination;
  std::optional<IpAddress> gateway;
  std::optional<IpAddress> prefsrc;
  int oif = 0;
  uint32_t metric = 0;
  uint32_t table = 0;
  uint8_t protocol = 0;
  uint8_t type = 0;  // RTN_UNICAST, RTN_LOCAL, ...
  uint8_t scope = 0;
};

absl::StatusOr<LinkInfo> ParseLinkMessage(const nlmsghdr* message);
absl::StatusOr<AddressInfo> ParseAddressMessage(const nlmsghdr* message);
absl::StatusOr<RouteInfo> ParseRouteMessage(const nlmsghdr* message);

// What an NLMSG_ERROR (or an NLMSG_DONE that ends a failed dump) says.
struct NetlinkError {
  int error = 0;                                 // errno value, positive; 0 = success (ACK).
  uint32_t acked_seq = 0;                        // Sequence number of the request answered.
  std::string message;                           // NLMSGERR_ATTR_MSG, the extended ack text.
  std::optional<uint32_t> bad_attribute_offset;  // NLMSGERR_ATTR_OFFS.
};
absl::StatusOr<NetlinkError> ParseErrorMessage(const nlmsghdr* message);
// NLMSG_DONE: a dump's end; may carry an error (int) and extended ack TLVs.
absl::StatusOr<NetlinkError> ParseDoneMessage(const nlmsghdr* message);

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_RTNL_MESSAGES_H_
