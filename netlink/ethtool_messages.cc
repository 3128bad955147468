#include "netlink/ethtool_messages.h"

#include <libmnl/libmnl.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::netlink {
namespace {

// --- Attribute walking --------------------------------------------------------

// Every attribute of one stream, in order, duplicates included (a bitset's
// ETHTOOL_A_BITSET_BITS_BIT repeats). Walked with libmnl, which stops
// silently at an attribute that does not fit; the caller then reports it.
struct AttributeList {
  std::vector<const nlattr*> attrs;
  const char* end = nullptr;  // One past the stream's last byte.
  size_t walked = 0;          // Bytes covered by whole attributes, padded.
  bool overran = false;       // An attribute ran past `end` (into padding).
};

int Collect(const nlattr* attr, void* data) {
  auto* list = static_cast<AttributeList*>(data);
  // libmnl 1.0.4's mnl_attr_parse() measures the stream up to the aligned
  // message length, so the last attribute may claim up to 3 bytes past
  // nlmsg_len; refuse it rather than read bytes that are not the message's.
  if (reinterpret_cast<const char*>(attr) + attr->nla_len > list->end) {
    list->overran = true;
    return MNL_CB_STOP;
  }
  list->attrs.push_back(attr);
  list->walked += MNL_ALIGN(attr->nla_len);
  return MNL_CB_OK;
}

absl::Status CheckWalk(const AttributeList& list, size_t size, absl::string_view what) {
  // The kernel pads every attribute and counts the padding in the enclosing
  // length (nla_put, nla_nest_end, nlmsg_end), so a byte left after the
  // whole attributes is the start of one that did not fit. (walked may pass
  // size by the last attribute's padding, which a sender may leave out.)
  if (list.overran || size > list.walked) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": truncated attribute at offset ", list.walked, " of ", size));
  }
  return absl::OkStatus();
}

// The attributes after `offset` bytes of the message's payload.
absl::StatusOr<std::vector<const nlattr*>> MessageAttributes(const nlmsghdr* message, size_t offset,
                                                             absl::string_view what) {
  const size_t payload = mnl_nlmsg_get_payload_len(message);
  if (offset > payload) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": payload of ", payload, " bytes < header of ", offset));
  }
  AttributeList list;
  list.end = reinterpret_cast<const char*>(message) + message->nlmsg_len;
  list.walked = offset;
  if (mnl_attr_parse(message, static_cast<unsigned>(offset), Collect, &list) == MNL_CB_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": attribute parse failed"));
  }
  RETURN_IF_ERROR(CheckWalk(list, payload, what));
  return std::move(list.attrs);
}

// The attributes inside `nest`, whose own extent the caller's walk checked.
absl::StatusOr<std::vector<const nlattr*>> NestedAttributes(const nlattr* nest,
                                                            absl::string_view what) {
  const size_t payload = mnl_attr_get_payload_len(nest);
  AttributeList list;
  list.end = static_cast<const char*>(mnl_attr_get_payload(nest)) + payload;
  if (mnl_attr_parse_nested(nest, Collect, &list) == MNL_CB_ERROR) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": attribute parse failed"));
  }
  RETURN_IF_ERROR(CheckWalk(list, payload, what));
  return std::move(list.attrs);
}

absl::Status CheckSize(const nlattr* attr, size_t want, absl::string_view name) {
  const size_t got = mnl_attr_get_payload_len(attr);
  if (got != want) {
    return absl::InvalidArgumentError(absl::StrCat(name, " of ", got, " bytes (want ", want, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> U32Attr(const nlattr* attr, absl::string_view name) {
  RETURN_IF_ERROR(CheckSize(attr, sizeof(uint32_t), name));
  return mnl_attr_get_u32(attr);
}

absl::StatusOr<std::string> StringAttr(const nlattr* attr, absl::string_view name) {
  if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not a NUL-terminated string"));
  }
  return std::string(mnl_attr_get_str(attr));
}

absl::StatusOr<genlmsghdr> GenlHeader(const nlmsghdr* message, absl::string_view what) {
  if (message->nlmsg_len < NLMSG_HDRLEN) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": netlink message length ", message->nlmsg_len, " < ", NLMSG_HDRLEN));
  }
  const size_t payload = mnl_nlmsg_get_payload_len(message);
  if (payload < sizeof(genlmsghdr)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": payload of ", payload, " bytes < genlmsghdr"));
  }
  genlmsghdr header;
  std::memcpy(&header, mnl_nlmsg_get_payload(message), sizeof(header));
  return header;
}

// --- Bitsets ------------------------------------------------------------------

// Names of the set bits of a bit-by-bit bitset (ethtool-netlink.rst, "Bit
// sets").
absl::StatusOr<std::set<std::string>> ParseBitset(const nlattr* bitset, absl::string_view what) {
  ASSIGN_OR_RETURN(const std::vector<const nlattr*> attrs, NestedAttributes(bitset, what));
  bool nomask = false;
  bool compact = false;
  const nlattr* bits = nullptr;
  for (const nlattr* attr : attrs) {
    switch (mnl_attr_get_type(attr)) {
      case ETHTOOL_A_BITSET_NOMASK:
        RETURN_IF_ERROR(Annotate(CheckSize(attr, 0, "ETHTOOL_A_BITSET_NOMASK"), what));
        nomask = true;
        break;
      case ETHTOOL_A_BITSET_SIZE:
        RETURN_IF_ERROR(Annotate(U32Attr(attr, "ETHTOOL_A_BITSET_SIZE").status(), what));
        break;
      case ETHTOOL_A_BITSET_BITS:
        bits = attr;
        break;
      case ETHTOOL_A_BITSET_VALUE:
      case ETHTOOL_A_BITSET_MASK:
        compact = true;
        break;
      default:
        break;
    }
  }
  std::set<std::string> set;
  if (bits == nullptr) {
    // Compact bitsets carry no names; we never ask for them
    // (ETHTOOL_FLAG_COMPACT_BITSETS), so one is a reply we can't read.
    if (compact) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": compact bitset, no bit names"));
    }
    return set;  // A bit list with no bits.
  }
  const std::string bits_what = absl::StrCat(what, ": ETHTOOL_A_BITSET_BITS");
  ASSIGN_OR_RETURN(const std::vector<const nlattr*> entries, NestedAttributes(bits, bits_what));
  int position = 0;
  for (const nlattr* entry : entries) {
    if (mnl_attr_get_type(entry) != ETHTOOL_A_BITSET_BITS_BIT) continue;
    const std::string bit_what =
        absl::StrCat(bits_what, ": ETHTOOL_A_BITSET_BITS_BIT ", position++);
    ASSIGN_OR_RETURN(const std::vector<const nlattr*> fields, NestedAttributes(entry, bit_what));
    std::optional<std::string> name;
    bool value = false;
    for (const nlattr* field : fields) {
      switch (mnl_attr_get_type(field)) {
        case ETHTOOL_A_BITSET_BIT_INDEX:
          RETURN_IF_ERROR(
              Annotate(U32Attr(field, "ETHTOOL_A_BITSET_BIT_INDEX").status(), bit_what));
          break;
        case ETHTOOL_A_BITSET_BIT_NAME: {
          absl::StatusOr<std::string> text = StringAttr(field, "ETHTOOL_A_BITSET_BIT_NAME");
          if (!text.ok()) return Annotate(text.status(), bit_what);
          name = *std::move(text);
          break;
        }
        case ETHTOOL_A_BITSET_BIT_VALUE:
          RETURN_IF_ERROR(Annotate(CheckSize(field, 0, "ETHTOOL_A_BITSET_BIT_VALUE"), bit_what));
          value = true;
          break;
        default:
          break;
      }
    }
    // A list (NOMASK) holds exactly the set bits and VALUE is not used; a
    // value/mask pair lists the mask, and VALUE marks the set ones.
    if (name && (nomask || value)) set.insert(*std::move(name));
  }
  return set;
}

std::string DirectionState(bool capable, bool active) {
  if (active) return "on";
  return capable ? "off" : "unsupported";
}

}  // namespace

std::string TlsOffloadFeatures::Describe() const {
  std::string text = interface.empty() ? absl::StrCat("#", ifindex) : interface;
  if (!any_capable()) {
    absl::StrAppend(&text, ": no NIC TLS offload");
    if (record_capable) absl::StrAppend(&text, " (tls-hw-record capable)");
    return text;
  }
  absl::StrAppend(&text, ": NIC TLS offload tx ", DirectionState(tx_capable, tx_active), ", rx ",
                  DirectionState(rx_capable, rx_active));
  if (record_capable) absl::StrAppend(&text, ", tls-hw-record capable");
  return text;
}

// --- nlctrl -------------------------------------------------------------------

absl::StatusOr<NetlinkMessage> BuildGetFamily(absl::string_view name) {
  if (name.empty() || name.size() >= GENL_NAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("generic netlink family name \"", name,
                                                   "\" must be 1..", GENL_NAMSIZ - 1, " bytes"));
  }
  NetlinkMessage message(GENL_ID_CTRL, 0);
  genlmsghdr genl{};
  genl.cmd = CTRL_CMD_GETFAMILY;
  // The controller does not check the version (net/netlink/genetlink.c).
  genl.version = 1;
  message.PutStruct(genl);
  message.PutString(CTRL_ATTR_FAMILY_NAME, name);
  return message;
}

absl::StatusOr<uint16_t> ParseFamilyId(const nlmsghdr* message) {
  constexpr absl::string_view kWhat = "CTRL_CMD_NEWFAMILY";
  ASSIGN_OR_RETURN(const genlmsghdr genl, GenlHeader(message, kWhat));
  if (message->nlmsg_type != GENL_ID_CTRL || genl.cmd != CTRL_CMD_NEWFAMILY) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", kWhat, ", got netlink type ",
                                                   message->nlmsg_type, " command ",
                                                   static_cast<int>(genl.cmd)));
  }
  ASSIGN_OR_RETURN(const std::vector<const nlattr*> attrs,
                   MessageAttributes(message, GENL_HDRLEN, kWhat));
  std::optional<uint16_t> id;
  for (const nlattr* attr : attrs) {
    if (mnl_attr_get_type(attr) != CTRL_ATTR_FAMILY_ID) continue;
    RETURN_IF_ERROR(Annotate(CheckSize(attr, sizeof(uint16_t), "CTRL_ATTR_FAMILY_ID"), kWhat));
    id = mnl_attr_get_u16(attr);
  }
  if (!id) return absl::InvalidArgumentError(absl::StrCat(kWhat, " without CTRL_ATTR_FAMILY_ID"));
  if (*id < GENL_MIN_ID) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": CTRL_ATTR_FAMILY_ID ", *id, " < ", GENL_MIN_ID));
  }
  return *id;
}

// --- ethtool ------------------------------------------------------------------

NetlinkMessage BuildFeaturesGet(uint16_t family_id, int ifindex) {
  NetlinkMessage message(family_id, 0);
  genlmsghdr genl{};
  genl.cmd = ETHTOOL_MSG_FEATURES_GET;
  genl.version = ETHTOOL_GENL_VERSION;
  message.PutStruct(genl);
  const size_t header = message.NestStart(ETHTOOL_A_FEATURES_HEADER);
  message.PutU32(ETHTOOL_A_HEADER_DEV_INDEX, static_cast<uint32_t>(ifindex));
  message.NestEnd(header);
  return message;
}

absl::StatusOr<TlsOffloadFeatures> ParseFeaturesReply(const nlmsghdr* message) {
  constexpr absl::string_view kWhat = "ETHTOOL_MSG_FEATURES_GET_REPLY";
  ASSIGN_OR_RETURN(const genlmsghdr genl, GenlHeader(message, kWhat));
  if (genl.cmd != ETHTOOL_MSG_FEATURES_GET_REPLY) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", kWhat, ", got command ", static_cast<int>(genl.cmd)));
  }
  ASSIGN_OR_RETURN(const std::vector<const nlattr*> attrs,
                   MessageAttributes(message, GENL_HDRLEN, kWhat));
  const nlattr* header = nullptr;
  const nlattr* hw = nullptr;
  const nlattr* active = nullptr;
  for (const nlattr* attr : attrs) {
    switch (mnl_attr_get_type(attr)) {
      case ETHTOOL_A_FEATURES_HEADER:
        header = attr;
        break;
      case ETHTOOL_A_FEATURES_HW:
        hw = attr;
        break;
      case ETHTOOL_A_FEATURES_ACTIVE:
        active = attr;
        break;
      default:
        break;  // WANTED, NOCHANGE and newer kernels' additions.
    }
  }
  if (header == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " without ETHTOOL_A_FEATURES_HEADER"));
  }
  if (hw == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " without ETHTOOL_A_FEATURES_HW"));
  }
  if (active == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(kWhat, " without ETHTOOL_A_FEATURES_ACTIVE"));
  }

  TlsOffloadFeatures features;
  const std::string header_what = absl::StrCat(kWhat, ": ETHTOOL_A_FEATURES_HEADER");
  ASSIGN_OR_RETURN(const std::vector<const nlattr*> header_attrs,
                   NestedAttributes(header, header_what));
  std::optional<uint32_t> ifindex;
  for (const nlattr* attr : header_attrs) {
    switch (mnl_attr_get_type(attr)) {
      case ETHTOOL_A_HEADER_DEV_INDEX: {
        absl::StatusOr<uint32_t> value = U32Attr(attr, "ETHTOOL_A_HEADER_DEV_INDEX");
        if (!value.ok()) return Annotate(value.status(), header_what);
        ifindex = *value;
        break;
      }
      case ETHTOOL_A_HEADER_DEV_NAME: {
        absl::StatusOr<std::string> name = StringAttr(attr, "ETHTOOL_A_HEADER_DEV_NAME");
        if (!name.ok()) return Annotate(name.status(), header_what);
        features.interface = *std::move(name);
        break;
      }
      default:
        break;
    }
  }
  if (!ifindex) {
    return absl::InvalidArgumentError(
        absl::StrCat(header_what, " without ETHTOOL_A_HEADER_DEV_INDEX"));
  }
  // The kernel's ifindex is a positive int.
  if (*ifindex == 0 || *ifindex > static_cast<uint32_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat(header_what, ": ETHTOOL_A_HEADER_DEV_INDEX ", *ifindex, " out of range"));
  }
  features.ifindex = static_cast<int>(*ifindex);

  ASSIGN_OR_RETURN(const std::set<std::string> capable,
                   ParseBitset(hw, absl::StrCat(kWhat, ": ETHTOOL_A_FEATURES_HW")));
  ASSIGN_OR_RETURN(const std::set<std::string> on,
                   ParseBitset(active, absl::StrCat(kWhat, ": ETHTOOL_A_FEATURES_ACTIVE")));
  features.tx_capable = capable.count(kTlsTxOffloadFeature) != 0;
  features.rx_capable = capable.count(kTlsRxOffloadFeature) != 0;
  features.record_capable = capable.count(kTlsRecordFeature) != 0;
  features.tx_active = on.count(kTlsTxOffloadFeature) != 0;
  features.rx_active = on.count(kTlsRxOffloadFeature) != 0;
  return features;
}

}  // namespace sstp::netlink
