#include "netlink/rtnl_messages.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::netlink {
namespace {

// --- Attribute parsing helpers ----------------------------------------------

// Attributes of one message by type; types above the table's size (newer
// kernels' additions) are skipped.
class AttributeTable {
 public:
  explicit AttributeTable(uint16_t max_type) : attrs_(max_type + 1, nullptr) {}

  // Parses the attributes after `offset` bytes of payload (the family
  // header). The stream is walked with libmnl's bounds checks: an attribute
  // whose length runs past the message ends the walk, and is reported.
  absl::Status Parse(const nlmsghdr* message, size_t offset, absl::string_view what) {
    const size_t payload = mnl_nlmsg_get_payload_len(message);
    if (offset > payload) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": payload of ", payload, " bytes < header of ", offset));
    }
    walked_ = offset;
    if (mnl_attr_parse(message, offset, &AttributeTable::Collect, this) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": attribute parse failed"));
    }
    // mnl_attr_parse stops silently at a truncated attribute; anything left
    // beyond alignment padding is a malformed message.
    if (payload > walked_ && payload - walked_ >= sizeof(nlattr)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": truncated attribute at payload offset ", walked_, " of ", payload));
    }
    return absl::OkStatus();
  }

  const nlattr* operator[](uint16_t type) const {
    return type < attrs_.size() ? attrs_[type] : nullptr;
  }

 private:
  static int Collect(const nlattr* attr, void* data) {
    auto* self = static_cast<AttributeTable*>(data);
    self->walked_ += MNL_ALIGN(mnl_attr_get_len(attr));
    const uint16_t type = mnl_attr_get_type(attr);
    if (type < self->attrs_.size()) self->attrs_[type] = attr;
    return MNL_CB_OK;
  }

  std::vector<const nlattr*> attrs_;
  size_t walked_ = 0;
};

absl::StatusOr<IpAddress> AddressAttr(const nlattr* attr, int family, absl::string_view name) {
  const size_t want = family == AF_INET ? 4 : 16;
  const size_t got = mnl_attr_get_payload_len(attr);
  if (got != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " of ", got, " bytes for ", FamilyName(family), " (want ", want, ")"));
  }
  return IpAddress::FromBytes(
      absl::MakeConstSpan(static_cast<const uint8_t*>(mnl_attr_get_payload(attr)), got));
}

absl::StatusOr<uint32_t> U32Attr(const nlattr* attr, absl::string_view name) {
  if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " of ", mnl_attr_get_payload_len(attr), " bytes (want 4)"));
  }
  return mnl_attr_get_u32(attr);
}

absl::StatusOr<std::string> StringAttr(const nlattr* attr, absl::string_view name) {
  if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a NUL-terminated string"));
  }
  return std::string(mnl_attr_get_str(attr));
}

// Copies the fixed family header out of the payload after checking its size.
template <typename T>
absl::StatusOr<T> FamilyHeader(const nlmsghdr* message) {
  if (message->nlmsg_len < NLMSG_HDRLEN) {
    return absl::InvalidArgumentError(
        absl::StrCat("netlink message length ", message->nlmsg_len, " < ", NLMSG_HDRLEN));
  }
  const size_t payload = mnl_nlmsg_get_payload_len(message);
  if (payload < sizeof(T)) {
    return absl::InvalidArgumentError(absl::StrCat(
        MessageTypeName(message->nlmsg_type), " payload of ", payload, " bytes < ", sizeof(T)));
  }
  T value;
  std::memcpy(&value, mnl_nlmsg_get_payload(message), sizeof(T));
  return value;
}

absl::Status CheckIpFamily(int family, absl::string_view what) {
  if (family == AF_INET || family == AF_INET6) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, ": unsupported address family ", family));
}

uint8_t AddressScope(const IpAddress& address) {
  // As iproute2 chooses by default: the kernel expects link scope for
  // link-local and host scope for loopback addresses.
  if (address.IsLoopback()) return RT_SCOPE_HOST;
  if (address.IsLinkLocal()) return RT_SCOPE_LINK;
  return RT_SCOPE_UNIVERSE;
}

// Extended ack TLVs (NLMSGERR_ATTR_*) from `offset` bytes into the payload.
absl::Status ParseExtAck(const nlmsghdr* message, size_t offset, NetlinkError* out) {
  if (!(message->nlmsg_flags & NLM_F_ACK_TLVS)) return absl::OkStatus();
  AttributeTable table(NLMSGERR_ATTR_MAX);
  RETURN_IF_ERROR(table.Parse(message, offset, "extended ack"));
  if (const nlattr* msg = table[NLMSGERR_ATTR_MSG]) {
    ASSIGN_OR_RETURN(out->message, StringAttr(msg, "NLMSGERR_ATTR_MSG"));
  }
  if (const nlattr* offs = table[NLMSGERR_ATTR_OFFS]) {
    ASSIGN_OR_RETURN(out->bad_attribute_offset, U32Attr(offs, "NLMSGERR_ATTR_OFFS"));
  }
  return absl::OkStatus();
}

}  // namespace

// --- NetlinkMessage ----------------------------------------------------------

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags) {
  nlmsghdr* header = mnl_nlmsg_put_header(buffer_.data());
  header->nlmsg_type = type;
  header->nlmsg_flags = flags;
}

const nlmsghdr* NetlinkMessage::header() const {
  return reinterpret_cast<const nlmsghdr*>(buffer_.data());
}

nlmsghdr* NetlinkMessage::mutable_header() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }

void NetlinkMessage::PutRaw(const void* data, size_t size) {
  if (!ok_) return;
  if (header()->nlmsg_len + MNL_ALIGN(size) > kCapacity) {
    ok_ = false;
    return;
  }
  void* dest = mnl_nlmsg_put_extra_header(mutable_header(), size);
  std::memcpy(dest, data, size);
}

void NetlinkMessage::PutString(uint16_t type, absl::string_view value) {
  // The kernel's NLA_STRING policies accept a trailing NUL; iproute2 sends one.
  std::string copy(value);
  PutAttr(type, copy.c_str(), copy.size() + 1);
}

void NetlinkMessage::PutAttr(uint16_t type, const void* data, size_t size) {
  if (!ok_) return;
  if (!mnl_attr_put_check(mutable_header(), kCapacity, type, size, data)) ok_ = false;
}

size_t NetlinkMessage::NestStart(uint16_t type) {
  if (!ok_) return 0;
  nlattr* nest = mnl_attr_nest_start_check(mutable_header(), kCapacity, type);
  if (nest == nullptr) {
    ok_ = false;
    return 0;
  }
  return reinterpret_cast<uint8_t*>(nest) - buffer_.data();
}

void NetlinkMessage::NestEnd(size_t nest) {
  if (!ok_) return;
  mnl_attr_nest_end(mutable_header(), reinterpret_cast<nlattr*>(buffer_.data() + nest));
}

bool NetlinkMessageFits(const nlmsghdr* message, size_t remaining) {
  return remaining >= NLMSG_HDRLEN && message->nlmsg_len >= NLMSG_HDRLEN &&
         message->nlmsg_len <= remaining;
}

std::string MessageTypeName(uint16_t type) {
  switch (type) {
    case NLMSG_NOOP:
      return "NLMSG_NOOP";
    case NLMSG_ERROR:
      return "NLMSG_ERROR";
    case NLMSG_DONE:
      return "NLMSG_DONE";
    case NLMSG_OVERRUN:
      return "NLMSG_OVERRUN";
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_DELLINK:
      return "RTM_DELLINK";
    case RTM_GETLINK:
      return "RTM_GETLINK";
    case RTM_SETLINK:
      return "RTM_SETLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_DELADDR:
      return "RTM_DELADDR";
    case RTM_GETADDR:
      return "RTM_GETADDR";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    case RTM_DELROUTE:
      return "RTM_DELROUTE";
    case RTM_GETROUTE:
      return "RTM_GETROUTE";
    default:
      return absl::StrCat("netlink type ", type);
  }
}

// --- Builders ---------------------------------------------------------------

std::string DescribeAddress(const AddressSpec& spec, absl::string_view dev) {
  std::string text = spec.local.ToString();
  if (spec.peer) absl::StrAppend(&text, " peer ", spec.peer->ToString());
  if (dev.empty()) {
    absl::StrAppend(&text, " dev #", spec.ifindex);
  } else {
    absl::StrAppend(&text, " dev ", dev);
  }
  return text;
}

std::string DescribeRoute(const RouteSpec& spec, absl::string_view dev) {
  std::string text = spec.destination.ToString();
  if (spec.gateway) absl::StrAppend(&text, " via ", spec.gateway->ToString());
  if (!dev.empty()) {
    absl::StrAppend(&text, " dev ", dev);
  } else if (spec.oif != 0) {
    absl::StrAppend(&text, " dev #", spec.oif);
  }
  absl::StrAppend(&text, " metric ", spec.metric);
  if (spec.table != RT_TABLE_MAIN) absl::StrAppend(&text, " table ", spec.table);
  return text;
}

absl::StatusOr<NetlinkMessage> BuildGetLinkByName(absl::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrCat("interface name \"", name, "\" must be 1..", IFNAMSIZ - 1, " bytes"));
  }
  NetlinkMessage message(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  message.PutStruct(ifi);
  message.PutString(IFLA_IFNAME, name);
  return message;
}

NetlinkMessage BuildGetLinkByIndex(int ifindex) {
  NetlinkMessage message(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  message.PutStruct(ifi);
  return message;
}

NetlinkMessage BuildSetMtu(int ifindex, uint32_t mtu) {
  NetlinkMessage message(RTM_SETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  message.PutStruct(ifi);
  message.PutU32(IFLA_MTU, mtu);
  return message;
}

NetlinkMessage BuildSetLinkUp(int ifindex, bool up) {
  NetlinkMessage message(RTM_SETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  // rtnetlink(7): only the bits set in ifi_change are changed.
  ifi.ifi_change = IFF_UP;
  ifi.ifi_flags = up ? IFF_UP : 0;
  message.PutStruct(ifi);
  return message;
}

NetlinkMessage BuildSetIpv6AddrGenMode(int ifindex, uint8_t mode) {
  NetlinkMessage message(RTM_SETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  message.PutStruct(ifi);
  const size_t af_spec = message.NestStart(IFLA_AF_SPEC);
  const size_t inet6 = message.NestStart(AF_INET6);
  message.PutU8(IFLA_INET6_ADDR_GEN_MODE, mode);
  message.NestEnd(inet6);
  message.NestEnd(af_spec);
  return message;
}

absl::StatusOr<NetlinkMessage> BuildAddress(uint16_t type, const AddressSpec& spec) {
  const std::string what = absl::StrCat(MessageTypeName(type), " ", DescribeAddress(spec));
  if (type != RTM_NEWADDR && type != RTM_DELADDR) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not an address request"));
  }
  if (spec.ifindex <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": no interface index"));
  }
  const IpAddress& local = spec.local.address;
  if (spec.local.length < 0 || spec.local.length > local.bits()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": prefix length ", spec.local.length, " out of range"));
  }
  if (spec.peer && spec.peer->family() != local.family()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": peer family differs from local"));
  }
  uint32_t flags = 0;
  if (spec.no_dad) flags |= IFA_F_NODAD;
  if (spec.no_prefix_route) flags |= IFA_F_NOPREFIXROUTE;

  NetlinkMessage message(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<uint8_t>(local.family());
  ifa.ifa_prefixlen = static_cast<uint8_t>(spec.local.length);
  // if_addr.h: ifa_flags holds the low 8 bits; IFA_FLAGS, when present,
  // supersedes it with all 32.
  ifa.ifa_flags = static_cast<uint8_t>(flags & 0xff);
  ifa.ifa_scope = AddressScope(local);
  ifa.ifa_index = static_cast<uint32_t>(spec.ifindex);
  message.PutStruct(ifa);
  message.PutAddress(IFA_LOCAL, local);
  // On a point-to-point link IFA_ADDRESS is the peer (if_addr.h); otherwise it
  // repeats the local address.
  message.PutAddress(IFA_ADDRESS, spec.peer ? *spec.peer : local);
  if (flags != 0) message.PutU32(IFA_FLAGS, flags);
  if (!message.ok()) return absl::InternalError(absl::StrCat(what, ": message too long"));
  return message;
}

absl::StatusOr<NetlinkMessage> BuildRoute(uint16_t type, const RouteSpec& spec) {
  const std::string what = absl::StrCat(MessageTypeName(type), " ", DescribeRoute(spec));
  if (type != RTM_NEWROUTE && type != RTM_DELROUTE) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a route request"));
  }
  const int family = spec.destination.address.family();
  if (spec.destination.length < 0 || spec.destination.length > spec.destination.address.bits()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": prefix length ", spec.destination.length, " out of range"));
  }
  if (!spec.destination.IsMasked()) {
    return absl::InvalidArgumentError(absl::StrCat(what,
                                                   ": destination has host bits set (did you mean ",
                                                   spec.destination.Masked().ToString(), "?)"));
  }
  if (spec.gateway && spec.gateway->family() != family) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": gateway family differs from destination"));
  }
  if (spec.prefsrc && spec.prefsrc->family() != family) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": prefsrc family differs from destination"));
  }
  if (spec.oif < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": bad interface index"));
  }
  if (!spec.gateway && spec.oif == 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": needs a gateway or an interface"));
  }

  NetlinkMessage message(type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<uint8_t>(family);
  rtm.rtm_dst_len = static_cast<uint8_t>(spec.destination.length);
  // Tables >= 256 only fit in RTA_TABLE; rtm_table then says RT_TABLE_UNSPEC.
  rtm.rtm_table =
      spec.table < 256 ? static_cast<uint8_t>(spec.table) : static_cast<uint8_t>(RT_TABLE_UNSPEC);
  rtm.rtm_protocol = spec.protocol;
  // A route without a gateway is on-link (link scope), as iproute2 does.
  // The delete carries the same scope: the kernel matches it exactly.
  rtm.rtm_scope = spec.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm.rtm_type = RTN_UNICAST;
  message.PutStruct(rtm);
  message.PutU32(RTA_TABLE, spec.table);
  if (spec.destination.length > 0) message.PutAddress(RTA_DST, spec.destination.address);
  if (spec.gateway) message.PutAddress(RTA_GATEWAY, *spec.gateway);
  if (spec.oif > 0) message.PutU32(RTA_OIF, static_cast<uint32_t>(spec.oif));
  message.PutU32(RTA_PRIORITY, spec.metric);
  if (spec.prefsrc) message.PutAddress(RTA_PREFSRC, *spec.prefsrc);
  if (!message.ok()) return absl::InternalError(absl::StrCat(what, ": message too long"));
  return message;
}

NetlinkMessage BuildGetRoute(const IpAddress& destination) {
  NetlinkMessage message(RTM_GETROUTE, 0);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<uint8_t>(destination.family());
  rtm.rtm_dst_len = static_cast<uint8_t>(destination.bits());
  message.PutStruct(rtm);
  message.PutAddress(RTA_DST, destination);
  return message;
}

NetlinkMessage BuildDump(uint16_t type, int family) {
  NetlinkMessage message(type, NLM_F_DUMP);
  switch (type) {
    case RTM_GETLINK: {
      ifinfomsg ifi{};
      ifi.ifi_family = static_cast<uint8_t>(family);
      message.PutStruct(ifi);
      break;
    }
    case RTM_GETADDR: {
      ifaddrmsg ifa{};
      ifa.ifa_family = static_cast<uint8_t>(family);
      message.PutStruct(ifa);
      break;
    }
    default: {
      rtmsg rtm{};
      rtm.rtm_family = static_cast<uint8_t>(family);
      message.PutStruct(rtm);
      break;
    }
  }
  return message;
}

// --- Parsers ----------------------------------------------------------------

bool LinkInfo::up() const { return (flags & IFF_UP) != 0; }

absl::StatusOr<LinkInfo> ParseLinkMessage(const nlmsghdr* message) {
  ASSIGN_OR_RETURN(const ifinfomsg ifi, FamilyHeader<ifinfomsg>(message));
  AttributeTable table(IFLA_MAX);
  RETURN_IF_ERROR(table.Parse(message, sizeof(ifinfomsg), "RTM_NEWLINK"));
  LinkInfo info;
  info.ifindex = ifi.ifi_index;
  info.flags = ifi.ifi_flags;
  info.type = ifi.ifi_type;
  if (const nlattr* attr = table[IFLA_IFNAME]) {
    ASSIGN_OR_RETURN(info.name, StringAttr(attr, "IFLA_IFNAME"));
  }
  if (const nlattr* attr = table[IFLA_MTU]) {
    ASSIGN_OR_RETURN(info.mtu, U32Attr(attr, "IFLA_MTU"));
  }
  return info;
}

absl::StatusOr<AddressInfo> ParseAddressMessage(const nlmsghdr* message) {
  ASSIGN_OR_RETURN(const ifaddrmsg ifa, FamilyHeader<ifaddrmsg>(message));
  RETURN_IF_ERROR(CheckIpFamily(ifa.ifa_family, "RTM_NEWADDR"));
  const int family = ifa.ifa_family;
  if (ifa.ifa_prefixlen > (family == AF_INET ? 32 : 128)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RTM_NEWADDR prefix length ", ifa.ifa_prefixlen, " for ", FamilyName(family)));
  }
  AttributeTable table(IFA_MAX);
  RETURN_IF_ERROR(table.Parse(message, sizeof(ifaddrmsg), "RTM_NEWADDR"));

  if (ifa.ifa_index > static_cast<uint32_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat("RTM_NEWADDR ifindex ", ifa.ifa_index, " out of range"));
  }
  AddressInfo info;
  info.ifindex = static_cast<int>(ifa.ifa_index);
  info.flags = ifa.ifa_flags;
  info.scope = ifa.ifa_scope;
  std::optional<IpAddress> local;
  std::optional<IpAddress> address;
  if (const nlattr* attr = table[IFA_LOCAL]) {
    ASSIGN_OR_RETURN(local, AddressAttr(attr, family, "IFA_LOCAL"));
  }
  if (const nlattr* attr = table[IFA_ADDRESS]) {
    ASSIGN_OR_RETURN(address, AddressAttr(attr, family, "IFA_ADDRESS"));
  }
  if (!local && !address) {
    return absl::InvalidArgumentError("RTM_NEWADDR without IFA_LOCAL or IFA_ADDRESS");
  }
  // if_addr.h: IFA_LOCAL is the local address when present; IFA_ADDRESS is
  // then the peer on a point-to-point link (equal to IFA_LOCAL otherwise).
  info.local = IpPrefix{local ? *local : *address, ifa.ifa_prefixlen};
  if (local && address && *address != *local) info.peer = *address;
  if (const nlattr* attr = table[IFA_FLAGS]) {
    ASSIGN_OR_RETURN(info.flags, U32Attr(attr, "IFA_FLAGS"));
  }
  return info;
}

absl::StatusOr<RouteInfo> ParseRouteMessage(const nlmsghdr* message) {
  ASSIGN_OR_RETURN(const rtmsg rtm, FamilyHeader<rtmsg>(message));
  const int family = rtm.rtm_family;
  RETURN_IF_ERROR(CheckIpFamily(family, "RTM_NEWROUTE"));
  const int bits = family == AF_INET ? 32 : 128;
  if (rtm.rtm_dst_len > bits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RTM_NEWROUTE prefix length ", rtm.rtm_dst_len, " > ", bits));
  }
  AttributeTable table(RTA_MAX);
  RETURN_IF_ERROR(table.Parse(message, sizeof(rtmsg), "RTM_NEWROUTE"));

  RouteInfo info;
  info.destination = IpPrefix{IpAddress::Any(family), rtm.rtm_dst_len};
  info.table = rtm.rtm_table;
  info.protocol = rtm.rtm_protocol;
  info.type = rtm.rtm_type;
  info.scope = rtm.rtm_scope;
  if (const nlattr* attr = table[RTA_DST]) {
    ASSIGN_OR_RETURN(info.destination.address, AddressAttr(attr, family, "RTA_DST"));
  }
  if (const nlattr* attr = table[RTA_GATEWAY]) {
    ASSIGN_OR_RETURN(info.gateway, AddressAttr(attr, family, "RTA_GATEWAY"));
  }
  if (const nlattr* attr = table[RTA_PREFSRC]) {
    ASSIGN_OR_RETURN(info.prefsrc, AddressAttr(attr, family, "RTA_PREFSRC"));
  }
  if (const nlattr* attr = table[RTA_OIF]) {
    ASSIGN_OR_RETURN(const uint32_t oif, U32Attr(attr, "RTA_OIF"));
    // The kernel's ifindex is a positive int.
    if (oif > static_cast<uint32_t>(INT32_MAX)) {
      return absl::InvalidArgumentError(absl::StrCat("RTA_OIF ", oif, " out of range"));
    }
    info.oif = static_cast<int>(oif);
  }
  if (const nlattr* attr = table[RTA_PRIORITY]) {
    ASSIGN_OR_RETURN(info.metric, U32Attr(attr, "RTA_PRIORITY"));
  }
  // RTA_TABLE carries tables >= 256, which rtm_table cannot.
  if (const nlattr* attr = table[RTA_TABLE]) {
    ASSIGN_OR_RETURN(info.table, U32Attr(attr, "RTA_TABLE"));
  }
  return info;
}

absl::StatusOr<NetlinkError> ParseErrorMessage(const nlmsghdr* message) {
  // netlink.h: struct nlmsgerr { int error; struct nlmsghdr msg; }, followed
  // by the rest of the request unless NLM_F_CAPPED, then the extended ack
  // TLVs if NLM_F_ACK_TLVS.
  ASSIGN_OR_RETURN(const nlmsgerr err, FamilyHeader<nlmsgerr>(message));
  NetlinkError out;
  // The kernel sends a negative errno (0 for an ACK).
  if (err.error > 0 || err.error < -4095) {
    return absl::InvalidArgumentError(absl::StrCat("NLMSG_ERROR with error ", err.error));
  }
  out.error = -err.error;
  out.acked_seq = err.msg.nlmsg_seq;
  size_t tlv_offset = sizeof(nlmsgerr);
  if (!(message->nlmsg_flags & NLM_F_CAPPED)) {
    // The echoed request starts at `msg`, sizeof(int) into the payload.
    if (err.msg.nlmsg_len < NLMSG_HDRLEN) {
      return absl::InvalidArgumentError(
          absl::StrCat("NLMSG_ERROR echoes a request of length ", err.msg.nlmsg_len));
    }
    tlv_offset = sizeof(int) + NLMSG_ALIGN(err.msg.nlmsg_len);
    if (tlv_offset > mnl_nlmsg_get_payload_len(message)) {
      return absl::InvalidArgumentError(
          absl::StrCat("NLMSG_ERROR echoes ", err.msg.nlmsg_len, " bytes but carries ",
                       mnl_nlmsg_get_payload_len(message) - sizeof(int)));
    }
  }
  RETURN_IF_ERROR(ParseExtAck(message, tlv_offset, &out));
  return out;
}

absl::StatusOr<NetlinkError> ParseDoneMessage(const nlmsghdr* message) {
  NetlinkError out;
  out.acked_seq = message->nlmsg_seq;
  // Older kernels may send NLMSG_DONE without the int.
  if (mnl_nlmsg_get_payload_len(message) < sizeof(int)) return out;
  ASSIGN_OR_RETURN(const int error, FamilyHeader<int>(message));
  if (error > 0 || error < -4095) {
    return absl::InvalidArgumentError(absl::StrCat("NLMSG_DONE with error ", error));
  }
  out.error = -error;
  RETURN_IF_ERROR(ParseExtAck(message, sizeof(int), &out));
  return out;
}

}  // namespace sstp::netlink
