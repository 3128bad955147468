// The generic netlink / ethtool builders and parsers against hand-built
// messages: the kernel's shapes (HW as a value/mask pair listing every
// feature, ACTIVE as a list), absent names, and malformed attributes, which
// must give an error naming the attribute and never a crash.
#include "netlink/ethtool_messages.h"

#include <libmnl/libmnl.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::netlink {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint16_t kEthtoolFamily = 21;  // Any dynamic id.

genlmsghdr GenlHeaderOf(const nlmsghdr* message) {
  genlmsghdr genl;
  std::memcpy(&genl, mnl_nlmsg_get_payload(message), sizeof(genl));
  return genl;
}

// The attributes in [begin, end), in order (libmnl's mnl_attr_for_each
// macros don't compile as C++: they assign a void*).
std::vector<const nlattr*> AttributesIn(const void* begin, const void* end) {
  std::vector<const nlattr*> attrs;
  for (auto* attr = static_cast<const nlattr*>(begin);
       mnl_attr_ok(attr, static_cast<int>(static_cast<const char*>(end) -
                                          reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    attrs.push_back(attr);
  }
  return attrs;
}

// The top-level attributes after the genlmsghdr.
std::vector<const nlattr*> TopAttributes(const nlmsghdr* message) {
  return AttributesIn(mnl_nlmsg_get_payload_offset(message, GENL_HDRLEN),
                      mnl_nlmsg_get_payload_tail(message));
}

std::vector<const nlattr*> Nested(const nlattr* nest) {
  const char* payload = static_cast<const char*>(mnl_attr_get_payload(nest));
  return AttributesIn(payload, payload + mnl_attr_get_payload_len(nest));
}

void PutFlag(NetlinkMessage& message, uint16_t type) {
  static const uint8_t kNothing = 0;
  message.PutAttr(type, &kNothing, 0);
}

// One entry of a bit-by-bit bitset.
struct Bit {
  std::optional<std::string> name;
  bool value = false;
  uint32_t index = 0;
};

// A bitset as net/ethtool/bitset.c writes it: SIZE, then BITS { BIT { INDEX,
// NAME, [VALUE] } ... }, with NOMASK first for a plain list.
void PutBitset(NetlinkMessage& message, uint16_t type, const std::vector<Bit>& bits, bool nomask) {
  const size_t bitset = message.NestStart(type);
  if (nomask) PutFlag(message, ETHTOOL_A_BITSET_NOMASK);
  message.PutU32(ETHTOOL_A_BITSET_SIZE, 64);
  const size_t list = message.NestStart(ETHTOOL_A_BITSET_BITS);
  for (const Bit& bit : bits) {
    const size_t entry = message.NestStart(ETHTOOL_A_BITSET_BITS_BIT);
    message.PutU32(ETHTOOL_A_BITSET_BIT_INDEX, bit.index);
    if (bit.name) message.PutString(ETHTOOL_A_BITSET_BIT_NAME, *bit.name);
    if (bit.value) PutFlag(message, ETHTOOL_A_BITSET_BIT_VALUE);
    message.NestEnd(entry);
  }
  message.NestEnd(list);
  message.NestEnd(bitset);
}

NetlinkMessage ReplyStart(uint8_t cmd = ETHTOOL_MSG_FEATURES_GET_REPLY) {
  NetlinkMessage message(kEthtoolFamily, 0);
  genlmsghdr genl{};
  genl.cmd = cmd;
  genl.version = ETHTOOL_GENL_VERSION;
  message.PutStruct(genl);
  return message;
}

void PutHeader(NetlinkMessage& message, uint32_t ifindex, absl::string_view name) {
  const size_t header = message.NestStart(ETHTOOL_A_FEATURES_HEADER);
  message.PutU32(ETHTOOL_A_HEADER_DEV_INDEX, ifindex);
  message.PutString(ETHTOOL_A_HEADER_DEV_NAME, name);
  message.NestEnd(header);
}

// A reply shaped as the kernel sends it (net/ethtool/features.c): HW is a
// value/mask pair whose mask is every feature, so every name is listed and
// VALUE marks the device's hw_features; WANTED, ACTIVE and NOCHANGE are lists.
NetlinkMessage Reply(const std::vector<Bit>& hw, const std::vector<Bit>& active,
                     absl::string_view name = "eth0") {
  NetlinkMessage message = ReplyStart();
  PutHeader(message, 7, name);
  PutBitset(message, ETHTOOL_A_FEATURES_HW, hw, /*nomask=*/false);
  PutBitset(message, ETHTOOL_A_FEATURES_WANTED, active, /*nomask=*/true);
  PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, active, /*nomask=*/true);
  PutBitset(message, ETHTOOL_A_FEATURES_NOCHANGE, {}, /*nomask=*/true);
  EXPECT_TRUE(message.ok());
  return message;
}

Bit Named(absl::string_view name, bool value, uint32_t index) {
  return Bit{std::string(name), value, index};
}

// Every feature listed, as in HW; `on` ones with VALUE.
std::vector<Bit> HwBits(bool tx, bool rx, bool record) {
  return {Named("rx-checksum", true, 1), Named(kTlsTxOffloadFeature, tx, 56),
          Named(kTlsRxOffloadFeature, rx, 57), Named(kTlsRecordFeature, record, 55),
          Named("rx-gro-hw", false, 58)};
}

// A message in a buffer of its own, 4-byte aligned as in a receive buffer,
// that the test can damage.
struct Damaged {
  explicit Damaged(const NetlinkMessage& message) : words((message.bytes().size() + 3) / 4 + 1, 0) {
    std::memcpy(words.data(), message.bytes().data(), message.bytes().size());
  }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(words.data()); }
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(words.data()); }
  nlattr* attr(size_t offset) { return reinterpret_cast<nlattr*>(bytes() + offset); }
  std::vector<uint32_t> words;
};

std::string ErrorOf(const nlmsghdr* message) {
  absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(message);
  EXPECT_FALSE(features.ok());
  if (features.ok()) return "";
  EXPECT_EQ(features.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(features.status().message());
}

// --- nlctrl -------------------------------------------------------------------

TEST(GetFamilyTest, AsksTheControllerByName) {
  absl::StatusOr<NetlinkMessage> message = BuildGetFamily(ETHTOOL_GENL_NAME);
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->type(), GENL_ID_CTRL);
  EXPECT_EQ(message->flags(), 0);
  EXPECT_EQ(GenlHeaderOf(message->header()).cmd, CTRL_CMD_GETFAMILY);
  const std::vector<const nlattr*> attrs = TopAttributes(message->header());
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(mnl_attr_get_type(attrs[0]), CTRL_ATTR_FAMILY_NAME);
  EXPECT_EQ(mnl_attr_validate(attrs[0], MNL_TYPE_NUL_STRING), 0);
  EXPECT_STREQ(mnl_attr_get_str(attrs[0]), "ethtool");
}

TEST(GetFamilyTest, RejectsBadNames) {
  EXPECT_EQ(BuildGetFamily("").status().message(),
            "generic netlink family name \"\" must be 1..15 bytes");
  EXPECT_FALSE(BuildGetFamily("0123456789abcdef").ok());
  EXPECT_TRUE(BuildGetFamily("0123456789abcde").ok());
}

NetlinkMessage NewFamily(const void* id, size_t id_size) {
  NetlinkMessage message(GENL_ID_CTRL, 0);
  genlmsghdr genl{};
  genl.cmd = CTRL_CMD_NEWFAMILY;
  genl.version = 2;
  message.PutStruct(genl);
  message.PutString(CTRL_ATTR_FAMILY_NAME, "ethtool");
  if (id != nullptr) message.PutAttr(CTRL_ATTR_FAMILY_ID, id, id_size);
  message.PutU32(CTRL_ATTR_VERSION, 1);
  message.PutU32(CTRL_ATTR_MAXATTR, 10);
  return message;
}

TEST(ParseFamilyIdTest, ReadsTheId) {
  const uint16_t id = 21;
  absl::StatusOr<uint16_t> parsed = ParseFamilyId(NewFamily(&id, sizeof(id)).header());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, 21);
}

TEST(ParseFamilyIdTest, RejectsWhatIsNotAFamilyId) {
  EXPECT_EQ(ParseFamilyId(NewFamily(nullptr, 0).header()).status().message(),
            "CTRL_CMD_NEWFAMILY without CTRL_ATTR_FAMILY_ID");
  const uint32_t wide = 21;
  EXPECT_EQ(ParseFamilyId(NewFamily(&wide, sizeof(wide)).header()).status().message(),
            "CTRL_CMD_NEWFAMILY: CTRL_ATTR_FAMILY_ID of 4 bytes (want 2)");
  const uint16_t reserved = NLMSG_ERROR;
  EXPECT_EQ(ParseFamilyId(NewFamily(&reserved, sizeof(reserved)).header()).status().message(),
            "CTRL_CMD_NEWFAMILY: CTRL_ATTR_FAMILY_ID 2 < 16");
  // An ethtool reply is not a controller reply.
  EXPECT_EQ(std::string(ParseFamilyId(Reply({}, {}).header()).status().message()),
            absl::StrCat("expected CTRL_CMD_NEWFAMILY, got netlink type 21 command ",
                         ETHTOOL_MSG_FEATURES_GET_REPLY));
  // No room for the genlmsghdr.
  NetlinkMessage empty(GENL_ID_CTRL, 0);
  EXPECT_EQ(ParseFamilyId(empty.header()).status().message(),
            "CTRL_CMD_NEWFAMILY: payload of 0 bytes < genlmsghdr");
}

// --- FEATURES_GET -------------------------------------------------------------

TEST(FeaturesGetTest, NamesTheDeviceByIndexAndAsksForNames) {
  const NetlinkMessage message = BuildFeaturesGet(kEthtoolFamily, 7);
  EXPECT_EQ(message.type(), kEthtoolFamily);
  EXPECT_EQ(message.flags(), 0);  // Not a dump.
  const genlmsghdr genl = GenlHeaderOf(message.header());
  EXPECT_EQ(genl.cmd, ETHTOOL_MSG_FEATURES_GET);
  EXPECT_EQ(genl.version, ETHTOOL_GENL_VERSION);
  const std::vector<const nlattr*> attrs = TopAttributes(message.header());
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(mnl_attr_get_type(attrs[0]), ETHTOOL_A_FEATURES_HEADER);
  EXPECT_TRUE(attrs[0]->nla_type & NLA_F_NESTED);
  const std::vector<const nlattr*> header = Nested(attrs[0]);
  // Only the index: no ETHTOOL_A_HEADER_FLAGS, so no compact bitsets.
  ASSERT_EQ(header.size(), 1u);
  EXPECT_EQ(mnl_attr_get_type(header[0]), ETHTOOL_A_HEADER_DEV_INDEX);
  EXPECT_EQ(mnl_attr_validate(header[0], MNL_TYPE_U32), 0);
  EXPECT_EQ(mnl_attr_get_u32(header[0]), 7u);
}

TEST(ParseFeaturesReplyTest, TxOnRxCapableButOff) {
  const NetlinkMessage message =
      Reply(HwBits(/*tx=*/true, /*rx=*/true, /*record=*/false),
            {Named("rx-checksum", false, 1), Named(kTlsTxOffloadFeature, false, 56)});
  absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(message.header());
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_EQ(features->ifindex, 7);
  EXPECT_EQ(features->interface, "eth0");
  EXPECT_TRUE(features->tx_capable);
  EXPECT_TRUE(features->tx_active);  // Listed in a NOMASK list: set, no VALUE needed.
  EXPECT_TRUE(features->rx_capable);
  EXPECT_FALSE(features->rx_active);
  EXPECT_FALSE(features->record_capable);
  EXPECT_EQ(features->Describe(), "eth0: NIC TLS offload tx on, rx off");
}

TEST(ParseFeaturesReplyTest, BitsListedWithoutValueAreCapableOfNothing) {
  // veth: every TLS feature is named in HW's mask, none has VALUE.
  const NetlinkMessage message =
      Reply(HwBits(false, false, false), {Named("rx-checksum", false, 1)}, "veth0");
  absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(message.header());
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_FALSE(features->tx_capable);
  EXPECT_FALSE(features->tx_active);
  EXPECT_FALSE(features->rx_capable);
  EXPECT_FALSE(features->rx_active);
  EXPECT_FALSE(features->record_capable);
  EXPECT_FALSE(features->any_capable());
  EXPECT_EQ(features->Describe(), "veth0: no NIC TLS offload");
}

TEST(ParseFeaturesReplyTest, RxOnlyAndRecord) {
  const NetlinkMessage message =
      Reply(HwBits(false, true, true), {Named(kTlsRxOffloadFeature, false, 57)});
  absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(message.header());
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_FALSE(features->tx_capable);
  EXPECT_TRUE(features->rx_capable);
  EXPECT_TRUE(features->rx_active);
  EXPECT_TRUE(features->record_capable);
  EXPECT_EQ(features->Describe(),
            "eth0: NIC TLS offload tx unsupported, rx on, tls-hw-record capable");
}

TEST(ParseFeaturesReplyTest, AbsentNamesMeanOff) {
  // Bits identified only by index (no ETHTOOL_A_BITSET_BIT_NAME) can't be
  // told apart without the string set: skipped, even with VALUE. A feature
  // this kernel does not know is simply not listed.
  Bit unnamed_tx{std::nullopt, true, 56};
  const NetlinkMessage message =
      Reply({Named("rx-checksum", true, 1), unnamed_tx}, {Bit{std::nullopt, false, 56}});
  absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(message.header());
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_FALSE(features->any_capable());
  EXPECT_FALSE(features->record_capable);
}

TEST(ParseFeaturesReplyTest, EmptyListAndMissingName) {
  // ACTIVE as a list without a BITS nest at all: nothing is on.
  NetlinkMessage message = ReplyStart();
  const size_t header = message.NestStart(ETHTOOL_A_FEATURES_HEADER);
  message.PutU32(ETHTOOL_A_HEADER_DEV_INDEX, 3);
  message.NestEnd(header);
  PutBitset(message, ETHTOOL_A_FEATURES_HW, HwBits(true, false, false), false);
  const size_t active = message.NestStart(ETHTOOL_A_FEATURES_ACTIVE);
  PutFlag(message, ETHTOOL_A_BITSET_NOMASK);
  message.NestEnd(active);
  absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(message.header());
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_TRUE(features->tx_capable);
  EXPECT_FALSE(features->tx_active);
  EXPECT_EQ(features->interface, "");
  EXPECT_EQ(features->Describe(), "#3: NIC TLS offload tx off, rx unsupported");
}

TEST(ParseFeaturesReplyTest, ActiveWithoutHwIsFixedOn) {
  TlsOffloadFeatures features;
  features.interface = "eth1";
  features.tx_active = true;
  EXPECT_TRUE(features.any_capable());
  EXPECT_EQ(features.Describe(), "eth1: NIC TLS offload tx on, rx unsupported");
  features = TlsOffloadFeatures{};
  features.interface = "chelsio0";
  features.record_capable = true;
  EXPECT_EQ(features.Describe(), "chelsio0: no NIC TLS offload (tls-hw-record capable)");
}

TEST(ParseFeaturesReplyTest, CompactBitsetIsRefused) {
  NetlinkMessage message = ReplyStart();
  PutHeader(message, 7, "eth0");
  const size_t hw = message.NestStart(ETHTOOL_A_FEATURES_HW);
  message.PutU32(ETHTOOL_A_BITSET_SIZE, 64);
  const uint32_t words[2] = {0xffffffff, 0x01000000};
  message.PutAttr(ETHTOOL_A_BITSET_VALUE, words, sizeof(words));
  message.PutAttr(ETHTOOL_A_BITSET_MASK, words, sizeof(words));
  message.NestEnd(hw);
  PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
  EXPECT_EQ(ErrorOf(message.header()),
            "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HW: compact bitset, no bit names");
}

TEST(ParseFeaturesReplyTest, MissingPartsAreNamed) {
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 7, "eth0");
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY without ETHTOOL_A_FEATURES_ACTIVE");
  }
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 7, "eth0");
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY without ETHTOOL_A_FEATURES_HW");
  }
  {
    NetlinkMessage message = ReplyStart();
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY without ETHTOOL_A_FEATURES_HEADER");
  }
  {
    NetlinkMessage message = ReplyStart();
    const size_t header = message.NestStart(ETHTOOL_A_FEATURES_HEADER);
    message.PutString(ETHTOOL_A_HEADER_DEV_NAME, "eth0");
    message.NestEnd(header);
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HEADER without "
              "ETHTOOL_A_HEADER_DEV_INDEX");
  }
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 0x80000000u, "eth0");
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HEADER: "
              "ETHTOOL_A_HEADER_DEV_INDEX 2147483648 out of range");
  }
}

TEST(ParseFeaturesReplyTest, WrongCommandOrTooShort) {
  EXPECT_EQ(ErrorOf(ReplyStart(ETHTOOL_MSG_LINKINFO_GET_REPLY).header()),
            absl::StrCat("expected ETHTOOL_MSG_FEATURES_GET_REPLY, got command ",
                         ETHTOOL_MSG_LINKINFO_GET_REPLY));
  NetlinkMessage short_message(kEthtoolFamily, 0);
  const uint16_t half = 0;
  short_message.PutRaw(&half, sizeof(half));                     // 2 bytes, padded to 4...
  short_message.mutable_header()->nlmsg_len = NLMSG_HDRLEN + 2;  // ...but only 2 count.
  EXPECT_EQ(ErrorOf(short_message.header()),
            "ETHTOOL_MSG_FEATURES_GET_REPLY: payload of 2 bytes < genlmsghdr");
}

TEST(ParseFeaturesReplyTest, MalformedAttributesAreNamed) {
  // A name without its NUL.
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 7, "eth0");
    const size_t hw = message.NestStart(ETHTOOL_A_FEATURES_HW);
    const size_t bits = message.NestStart(ETHTOOL_A_BITSET_BITS);
    const size_t bit = message.NestStart(ETHTOOL_A_BITSET_BITS_BIT);
    message.PutAttr(ETHTOOL_A_BITSET_BIT_NAME, "tls-hw-tx-offload", 17);
    message.NestEnd(bit);
    message.NestEnd(bits);
    message.NestEnd(hw);
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HW: ETHTOOL_A_BITSET_BITS: "
              "ETHTOOL_A_BITSET_BITS_BIT 0: ETHTOOL_A_BITSET_BIT_NAME is not a NUL-terminated "
              "string");
  }
  // A VALUE flag with a payload, in the second bit.
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 7, "eth0");
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    const size_t active = message.NestStart(ETHTOOL_A_FEATURES_ACTIVE);
    PutFlag(message, ETHTOOL_A_BITSET_NOMASK);
    const size_t bits = message.NestStart(ETHTOOL_A_BITSET_BITS);
    for (int i = 0; i < 2; ++i) {
      const size_t bit = message.NestStart(ETHTOOL_A_BITSET_BITS_BIT);
      message.PutString(ETHTOOL_A_BITSET_BIT_NAME, kTlsTxOffloadFeature);
      if (i == 1) message.PutU32(ETHTOOL_A_BITSET_BIT_VALUE, 1);
      message.NestEnd(bit);
    }
    message.NestEnd(bits);
    message.NestEnd(active);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_ACTIVE: "
              "ETHTOOL_A_BITSET_BITS: ETHTOOL_A_BITSET_BITS_BIT 1: "
              "ETHTOOL_A_BITSET_BIT_VALUE of 4 bytes (want 0)");
  }
  // A two-byte ifindex, a four-byte NOMASK, a two-byte index.
  {
    NetlinkMessage message = ReplyStart();
    const size_t header = message.NestStart(ETHTOOL_A_FEATURES_HEADER);
    const uint16_t index = 7;
    message.PutAttr(ETHTOOL_A_HEADER_DEV_INDEX, &index, sizeof(index));
    message.NestEnd(header);
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HEADER: "
              "ETHTOOL_A_HEADER_DEV_INDEX of 2 bytes (want 4)");
  }
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 7, "eth0");
    PutBitset(message, ETHTOOL_A_FEATURES_HW, {}, false);
    const size_t active = message.NestStart(ETHTOOL_A_FEATURES_ACTIVE);
    message.PutU32(ETHTOOL_A_BITSET_NOMASK, 1);
    message.NestEnd(active);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_ACTIVE: "
              "ETHTOOL_A_BITSET_NOMASK of 4 bytes (want 0)");
  }
  {
    NetlinkMessage message = ReplyStart();
    PutHeader(message, 7, "eth0");
    const size_t hw = message.NestStart(ETHTOOL_A_FEATURES_HW);
    const size_t bits = message.NestStart(ETHTOOL_A_BITSET_BITS);
    const size_t bit = message.NestStart(ETHTOOL_A_BITSET_BITS_BIT);
    const uint16_t index = 56;
    message.PutAttr(ETHTOOL_A_BITSET_BIT_INDEX, &index, sizeof(index));
    message.NestEnd(bit);
    message.NestEnd(bits);
    message.NestEnd(hw);
    PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {}, true);
    EXPECT_EQ(ErrorOf(message.header()),
              "ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HW: ETHTOOL_A_BITSET_BITS: "
              "ETHTOOL_A_BITSET_BITS_BIT 0: ETHTOOL_A_BITSET_BIT_INDEX of 2 bytes (want 4)");
  }
}

// The offset from the start of `message` of the first attribute of `type`
// inside the nest at offset `nest` (0: at the top level).
size_t OffsetOf(const NetlinkMessage& message, size_t nest, uint16_t type) {
  const uint8_t* base = message.bytes().data();
  const std::vector<const nlattr*> attrs =
      nest != 0 ? Nested(reinterpret_cast<const nlattr*>(base + nest))
                : TopAttributes(message.header());
  for (const nlattr* attr : attrs) {
    if (mnl_attr_get_type(attr) == type) return reinterpret_cast<const uint8_t*>(attr) - base;
  }
  ADD_FAILURE() << "no attribute " << type;
  return 0;
}

TEST(ParseFeaturesReplyTest, NestLongerThanItsParentIsTruncated) {
  const NetlinkMessage message = Reply(HwBits(true, false, false), {});
  Damaged damaged(message);
  const size_t hw = OffsetOf(message, 0, ETHTOOL_A_FEATURES_HW);
  const size_t bits = OffsetOf(message, hw, ETHTOOL_A_BITSET_BITS);
  // BITS claims 8 bytes more than HW holds.
  damaged.attr(bits)->nla_len += 8;
  EXPECT_THAT(ErrorOf(damaged.header()),
              StartsWith("ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HW: truncated "
                         "attribute at offset 8 of "));
  // An entry inside BITS that claims more than BITS holds.
  Damaged entry(message);
  const size_t first_bit = OffsetOf(message, bits, ETHTOOL_A_BITSET_BITS_BIT);
  entry.attr(first_bit)->nla_len = 0x7ff0;
  EXPECT_THAT(ErrorOf(entry.header()),
              StartsWith("ETHTOOL_MSG_FEATURES_GET_REPLY: ETHTOOL_A_FEATURES_HW: "
                         "ETHTOOL_A_BITSET_BITS: truncated attribute at offset 0 of "));
  // An attribute shorter than its own header.
  Damaged tiny(message);
  tiny.attr(first_bit)->nla_len = 2;
  EXPECT_THAT(ErrorOf(tiny.header()), HasSubstr("ETHTOOL_A_BITSET_BITS: truncated attribute"));
  // The top level: HW runs past the message.
  Damaged top(message);
  top.attr(hw)->nla_len = 0xfff0;
  EXPECT_THAT(ErrorOf(top.header()),
              StartsWith("ETHTOOL_MSG_FEATURES_GET_REPLY: truncated attribute at offset "));
}

TEST(ParseFeaturesReplyTest, EveryTruncationIsAnError) {
  // ACTIVE last, so that no cut leaves a shorter message that is whole.
  NetlinkMessage message = ReplyStart();
  PutHeader(message, 7, "eth0");
  PutBitset(message, ETHTOOL_A_FEATURES_HW, HwBits(true, true, true), false);
  PutBitset(message, ETHTOOL_A_FEATURES_ACTIVE, {Named(kTlsTxOffloadFeature, false, 56)}, true);
  ASSERT_TRUE(ParseFeaturesReply(message.header()).ok());
  const size_t size = message.bytes().size();
  for (size_t length = NLMSG_HDRLEN; length < size; ++length) {
    Damaged cut(message);
    cut.header()->nlmsg_len = static_cast<uint32_t>(length);
    // Clear what was cut, so a parser that reads past nlmsg_len sees zeros.
    std::memset(cut.bytes() + length, 0, cut.words.size() * 4 - length);
    absl::StatusOr<TlsOffloadFeatures> features = ParseFeaturesReply(cut.header());
    EXPECT_FALSE(features.ok()) << "cut at " << length << " of " << size;
    EXPECT_EQ(features.status().code(), absl::StatusCode::kInvalidArgument) << length;
  }
}

}  // namespace
}  // namespace sstp::netlink
