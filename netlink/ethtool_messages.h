// Generic netlink requests and reply parsers for the ethtool family, the part
// sstp-ktls needs: resolving the family id (nlctrl CTRL_CMD_GETFAMILY) and
// reading a device's TLS offload features (ETHTOOL_MSG_FEATURES_GET). Pure
// functions over message bytes, like rtnl_messages.h, so the layout is
// unit-tested without root (ethtool_messages_test.cc) and fuzzed
// (tests/fuzz/netlink_reply_fuzzer.cc).
//
// Parsers take one message as the kernel sent it (nlmsghdr included, the
// caller having checked NetlinkMessageFits()), check the genlmsghdr before
// copying it out, and validate every attribute's length and every nest's
// extent; a malformed message is an InvalidArgument error naming the
// attribute ("ETHTOOL_A_FEATURES_HW: ETHTOOL_A_BITSET_BITS: truncated
// attribute at offset 8 of 20"). Unknown attributes are skipped.
//
// Documentation/networking/ethtool-netlink.rst ("Bit sets", "FEATURES_GET"),
// include/uapi/linux/ethtool_netlink.h, include/uapi/linux/genetlink.h.
#ifndef SSTP_KTLS_NETLINK_ETHTOOL_MESSAGES_H_
#define SSTP_KTLS_NETLINK_ETHTOOL_MESSAGES_H_

#include <linux/netlink.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "netlink/rtnl_messages.h"

namespace sstp::netlink {

// Feature names as the kernel spells them (net/ethtool/common.c,
// netdev_features_strings): NETIF_F_HW_TLS_TX, NETIF_F_HW_TLS_RX and
// NETIF_F_HW_TLS_RECORD.
inline constexpr char kTlsTxOffloadFeature[] = "tls-hw-tx-offload";
inline constexpr char kTlsRxOffloadFeature[] = "tls-hw-rx-offload";
inline constexpr char kTlsRecordFeature[] = "tls-hw-record";

// What one network device can do for kernel TLS. "capable" is the device's
// hw_features (ETHTOOL_A_FEATURES_HW: the driver could turn it on), "active"
// its current features (ETHTOOL_A_FEATURES_ACTIVE). With tx active, a kTLS
// socket routed through the device may use TLS_HW (tls_device): mainline
// drivers offload TLS 1.2 with AES-GCM only, so a TLS 1.3 session stays in
// software (TLS_SW) even then. tls-hw-record is the other model (the NIC
// terminates whole records, a TOE), which kTLS sockets don't use.
struct TlsOffloadFeatures {
  int ifindex = 0;
  std::string interface;  // ETHTOOL_A_HEADER_DEV_NAME; "#N" when absent.
  bool tx_capable = false;
  bool tx_active = false;
  bool rx_capable = false;
  bool rx_active = false;
  bool record_capable = false;

  // True if the device can offload either direction, on or not. Active
  // counts too: a feature fixed on (NETIF_F_NEVER_CHANGE) is active without
  // being in hw_features.
  bool any_capable() const { return tx_capable || tx_active || rx_capable || rx_active; }

  // One line for logs: "eth0: NIC TLS offload tx on, rx off" (each
  // direction "on", "off" when capable but switched off, or "unsupported"),
  // ", record offload capable" appended when tls-hw-record is; and
  // "veth0: no NIC TLS offload" when nothing is.
  std::string Describe() const;
};

// --- nlctrl -------------------------------------------------------------------

// CTRL_CMD_GETFAMILY for `name` (GENL_ID_CTRL, CTRL_ATTR_FAMILY_NAME). The
// name must be 1..GENL_NAMSIZ-1 bytes, else InvalidArgument.
absl::StatusOr<NetlinkMessage> BuildGetFamily(absl::string_view name);

// The family id (CTRL_ATTR_FAMILY_ID, >= GENL_MIN_ID) from the controller's
// CTRL_CMD_NEWFAMILY reply. InvalidArgument if the message is not such a
// reply, lacks the id, or is malformed.
absl::StatusOr<uint16_t> ParseFamilyId(const nlmsghdr* message);

// --- ethtool ------------------------------------------------------------------

// ETHTOOL_MSG_FEATURES_GET for one device: nlmsg_type `family_id` (from
// ParseFamilyId), ETHTOOL_A_FEATURES_HEADER { ETHTOOL_A_HEADER_DEV_INDEX }.
// No ETHTOOL_A_HEADER_FLAGS: without ETHTOOL_FLAG_COMPACT_BITSETS the kernel
// answers with bit-by-bit bitsets that carry each bit's name.
NetlinkMessage BuildFeaturesGet(uint16_t family_id, int ifindex);

// The TLS features in an ETHTOOL_MSG_FEATURES_GET_REPLY (the message type,
// a dynamic family id, is the caller's to check). The reply must carry the
// header and both ETHTOOL_A_FEATURES_HW and ETHTOOL_A_FEATURES_ACTIVE in
// bit-by-bit form. A bitset with ETHTOOL_A_BITSET_NOMASK lists exactly its
// set bits; one without is a value/mask pair listing every bit of the mask,
// set where ETHTOOL_A_BITSET_BIT_VALUE is present (the kernel sends HW that
// way, with every feature it knows, and ACTIVE as a list). Bits without a
// name are skipped; a feature not listed is off. InvalidArgument, naming
// the attribute, for a wrong command, a missing or compact bitset, or any
// malformed attribute.
absl::StatusOr<TlsOffloadFeatures> ParseFeaturesReply(const nlmsghdr* message);

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_ETHTOOL_MESSAGES_H_
